"""The threat-report payload of API v1, declared once: it validates and documents."""

from apps.core.validation import Field

from .models import ThreatReport

MAX_MESSAGE = 10_000

GUEST_FIELDS = (
    Field("name", required=False, default="", max_length=200, example="Jean Dupont",
          description="The guest's name as the owner knows it (kept in clear)."),
    Field("email", "email", required=False, default="", max_length=254,
          description="Stored only as a keyed hash.", example="jean.dupont@example.org"),
    Field("booking_ref", required=False, default="", max_length=100,
          description="Stored only as a keyed hash.", example="BK-55120"),
    Field("reviewer_handle", required=False, default="", max_length=100,
          description="The guest's public name on the partner's site. Stored only as a keyed hash.",
          example="jdupont75"),
)

REPORT_FIELDS = (
    Field("establishment", max_length=100, description="The establishment's external_id.",
          example="htl-lyon-042"),
    Field("guest", "object", fields=GUEST_FIELDS,
          description="At least one of name, email, booking_ref or reviewer_handle."),
    Field("channel", choices=tuple(ThreatReport.Channel.values), example="email"),
    Field("message_text", max_length=MAX_MESSAGE,
          description="The threat as received (or as the owner remembers it).",
          example="Refund my stay or I will post a 1-star review everywhere."),
    Field("demand", choices=tuple(ThreatReport.Demand.values), example="refund"),
    Field("received_at", "date-time", description="When the owner received the threat.",
          example="2026-05-02T19:40:00Z"),
)
