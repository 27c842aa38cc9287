"""API v1: reviews — bulk ingest, verdicts with reasons."""

from django.contrib.postgres.expressions import ArraySubquery
from django.db import connection
from django.db.models import OuterRef, Prefetch
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.cases.models import Appeal, Case
from apps.cases.services import MAX_STATEMENT, review_appeal_file
from apps.core.api import FieldsBuiltOnce, PartnerScopedViewSet
from apps.core.exceptions import ApplicationError
from apps.core.openapi import error_responses
from apps.core.payloads import validate_one_or_many
from apps.core.reasons import reasons_payload
from apps.core.validation import one_or_many_schema
from apps.detection.services import reviews_submit

from .filters import ReviewFilter
from .models import Review
from .schemas import MAX_BATCH, REVIEW_FIELDS
from .selectors import reviews_of_partner

RESULT_NAMES = {201: "created", 200: "unchanged", 409: "conflict"}


class RiskSerializer(serializers.Serializer):
    score = serializers.FloatField(allow_null=True)
    reasons = serializers.ListField(child=serializers.DictField())


class ReviewSerializer(FieldsBuiltOnce, serializers.ModelSerializer):
    establishment = serializers.CharField(source="establishment.external_id")
    reviewer = serializers.SerializerMethodField()
    risk = serializers.SerializerMethodField()
    cases = serializers.SerializerMethodField()

    class Meta:
        model = Review
        fields = (
            "external_id", "establishment", "reviewer", "rating", "title", "text", "language",
            "visit_date", "created_at", "received_at", "status", "risk", "cases",
        )

    @extend_schema_field({"type": "object", "properties": {
        "external_id": {"type": "string"}, "display_name": {"type": "string"}}})
    def get_reviewer(self, review: Review) -> dict:
        return {"external_id": review.reviewer.external_id, "display_name": review.reviewer.display_name}

    @extend_schema_field(RiskSerializer)
    def get_risk(self, review: Review) -> dict:
        return {"score": review.risk_score, "reasons": reasons_payload(review.risk_reasons)}

    @extend_schema_field({"type": "array", "items": {"type": "integer"}})
    def get_cases(self, review: Review) -> list[int]:
        # Given by a caller that knows them, or read with the review (``scoped``).
        known = self.context.get("case_ids", getattr(review, "case_ids", None))
        if known is not None:
            return sorted(known)
        return sorted(c.id for c in review.cases.all())


BULK_RESPONSE = {
    "type": "object",
    "properties": {
        "results": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "index": {"type": "integer"},
                    "external_id": {"type": "string"},
                    "status": {"type": "integer", "enum": [201, 200, 409]},
                    "result": {"type": "string", "enum": ["created", "unchanged", "conflict"]},
                    "error": {"type": "object", "nullable": True},
                },
            },
        },
        "created": {"type": "integer"},
        "unchanged": {"type": "integer"},
        "conflicts": {"type": "integer"},
    },
}

REVIEW_EXAMPLE = {
    "external_id": "rv-10293",
    "establishment": "htl-lyon-042",
    "reviewer": {
        "external_id": "u-8812", "display_name": "Marie L.", "email": "marie@example.org",
        "account_created_at": "2024-03-02T10:00:00Z", "ip": "203.0.113.7", "device_id": "a1b2c3",
    },
    "rating": 2,
    "title": "Chambre bruyante",
    "text": "La chambre donnait sur la rue et le bruit a duré toute la nuit.",
    "language": "fr",
    "visit_date": "2026-05-01",
    "booking_ref": "BK-55120",
    "created_at": "2026-05-03T08:12:00Z",
}


class AppealInputSerializer(serializers.Serializer):
    statement = serializers.CharField(
        max_length=MAX_STATEMENT,
        help_text="The author's words: why the review should be published again.")


class AppealSerializer(serializers.ModelSerializer):
    review = serializers.CharField(source="review.external_id")
    case = serializers.IntegerField(source="case_id")
    status = serializers.ChoiceField(
        choices=Appeal.Status.values,
        help_text="open, then upheld (the review stays removed) or overturned (published "
                  "again); the outcome also arrives as a `case.decided` webhook with `appeal`.")

    class Meta:
        model = Appeal
        fields = ("id", "review", "case", "status", "statement", "created_at", "decided_at")


class ReviewViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, PartnerScopedViewSet):
    serializer_class = ReviewSerializer
    lookup_field = "external_id"
    lookup_value_regex = r"[^/\x00-\x1f]+"  # no control characters (NUL cannot be queried)
    filterset_class = ReviewFilter

    model = Review

    def scoped(self, partner):
        reviews = reviews_of_partner(partner=partner)
        if self.detail and connection.vendor == "postgresql":
            # One review: its case ids in the same query, not a second one.
            return reviews.annotate(case_ids=ArraySubquery(
                Case.reviews.through.objects.filter(review_id=OuterRef("pk")).values("case_id")))
        return reviews.prefetch_related(Prefetch("cases", queryset=Case.objects.only("id")))

    @extend_schema(
        request={"application/json": one_or_many_schema(REVIEW_FIELDS, max_items=MAX_BATCH)},
        responses={
            201: ReviewSerializer,
            200: {"oneOf": [{"$ref": "#/components/schemas/Review"}, BULK_RESPONSE]},
            **error_responses(400, 401, 409, 413, 415),
        },
        examples=[OpenApiExample("One review", value=REVIEW_EXAMPLE, request_only=True)],
        description=(
            "Submit one review (answers 201 created, 200 if the same payload was already "
            "stored, 409 if a different payload was stored under the same external_id), or a "
            "list of up to 1,000. A list is validated as a whole (any invalid item: 400 and "
            "nothing stored) and then answers 200 with a result per item."
        ),
    )
    def create(self, request):
        items, many = validate_one_or_many(
            request.data, fields=REVIEW_FIELDS, max_items=MAX_BATCH, noun="review"
        )
        partner = request.user.partner
        results = reviews_submit(partner=partner, items=items)
        if not many:
            result = results[0]
            if result.status == 409:
                raise ApplicationError(
                    "review_conflict",
                    f"A different review is already stored under external_id {result.external_id!r}.",
                    status=409,
                )
            if result.review is not None:
                # Stored by this request: the row as inserted, in no case yet.
                body = ReviewSerializer(result.review, context={"case_ids": []}).data
            else:
                body = ReviewSerializer(self.get_queryset().get(id=result.review_id)).data
            return Response(body, status=result.status)
        body = []
        for r in results:
            item = {"index": r.index, "external_id": r.external_id, "status": r.status,
                    "result": RESULT_NAMES[r.status]}
            if r.status == 409:
                item["error"] = {"code": "review_conflict",
                                 "message": "A different review is stored under this external_id."}
            body.append(item)
        counts = {s: sum(1 for r in results if r.status == s) for s in RESULT_NAMES}
        return Response(
            {"results": body, "created": counts[201], "unchanged": counts[200],
             "conflicts": counts[409]},
            status=status.HTTP_200_OK,
        )

    @extend_schema(
        request=AppealInputSerializer,
        responses={201: AppealSerializer, **error_responses(
            400, 401, 404, 409, descriptions={
                409: "`appeal_exists` (the review was appealed already: once per review) or "
                     "`appeal_not_allowed` (the review was not removed by a moderator)."})},
        examples=[OpenApiExample("The author contests the removal", request_only=True,
                                 value={"statement": "I really stayed there (booking BK-55120) "
                                        "and never asked for a refund."})],
        description=(
            "The author of a review removed by a moderator's decision asks for it to be "
            "looked at again, once, with a statement. The case reopens for a senior "
            "moderator other than the one who decided; the outcome comes back as "
            "`case.decided` (with `appeal.outcome` upheld or overturned) and, when the "
            "review is published again, `review.status_changed`."
        ),
    )
    @action(detail=True, methods=["post"])
    def appeal(self, request, external_id=None):
        review = self.get_object()
        given = AppealInputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        appeal = review_appeal_file(review=review, statement=given.validated_data["statement"],
                                    partner=request.user.partner)
        return Response(AppealSerializer(appeal).data, status=status.HTTP_201_CREATED)
