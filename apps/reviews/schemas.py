"""The review payload of API v1, declared once: it validates and documents."""

from apps.core.validation import Field

MAX_BATCH = 1000
MAX_TEXT = 10_000

REVIEWER_FIELDS = (
    Field("external_id", max_length=100, description="The reviewer's id on the partner's site."),
    Field("display_name", required=False, default="", max_length=100, example="Marie L."),
    Field("email", "email", required=False, default="", max_length=254,
          description="Stored only as a keyed hash."),
    Field("account_created_at", "date-time", required=False),
    Field("ip", "ip", required=False, default="", max_length=45,
          description="Stored only as keyed hashes of the address and of its /24."),
    Field("device_id", required=False, default="", max_length=200,
          description="Stored only as a keyed hash."),
)

REVIEW_FIELDS = (
    Field("external_id", max_length=100, example="rv-10293"),
    Field("establishment", max_length=100, description="The establishment's external_id."),
    Field("reviewer", "object", fields=REVIEWER_FIELDS),
    Field("rating", "integer", minimum=1, maximum=5),
    Field("title", required=False, default="", max_length=200),
    Field("text", max_length=MAX_TEXT, allow_blank=True),
    Field("language", required=False, default="", pattern=r"[a-z]{2}",
          pattern_message="Must be a two-letter ISO 639-1 code such as en or fr.",
          description="Detected from the text when absent."),
    Field("visit_date", "date", required=False),
    Field("booking_ref", required=False, default="", max_length=100,
          description="Stored only as a keyed hash."),
    Field("created_at", "date-time", description="When the guest wrote the review."),
    Field("historical", "boolean", required=False, default=False,
          description="Part of a backfill of past reviews: scored in bulk by the batch path, "
          "without a webhook per review. Not part of the review's identity."),
)
