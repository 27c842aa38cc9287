"""What a moderator sees on a case page: the reviews with their cues highlighted,
and per kind the picture that explains the finding (a ring, a burst, a threat)."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import timedelta

from django.apps import apps as django_apps
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _

from apps.core.reasons import reason_sentence
from apps.reviews.models import Review
from ml.text import extortion_cues

from . import charts
from .models import Case

MAX_REVIEWS_SHOWN = 200
MAX_RING_REVIEWERS = 40
MAX_RING_ESTABLISHMENTS = 30
MAX_RING_IDENTIFIERS = 24


# --- Text with cues ---------------------------------------------------------------


@dataclass(frozen=True)
class HighlightedText:
    html: SafeString
    cues: list[str]  # the moderator's sentences for each cue, in text order


def moderator_language() -> str:
    """"fr" when the admin speaks French to this moderator, else "en"."""
    return "fr" if (get_language() or "en").startswith("fr") else "en"


def cue_sentence(cue) -> str:
    return reason_sentence({"code": cue.code, "values": {"quote": cue.quote}})


def highlight_cues(text: str) -> HighlightedText:
    """The text, escaped, with every extortion cue (EN/FR) wrapped in <mark>."""
    text = text or ""
    cues = extortion_cues([text])[0]
    spans: list[list] = []
    for cue in sorted(cues, key=lambda c: c.span):
        start, end = cue.span
        if spans and start <= spans[-1][1]:
            spans[-1][1] = max(spans[-1][1], end)
            spans[-1][2].append(cue_sentence(cue))
        else:
            spans.append([start, end, [cue_sentence(cue)]])
    out, position = [], 0
    for start, end, sentences in spans:
        out.append(escape(text[position:start]))
        title = escape(" ".join(sentences))
        out.append(f'<mark class="rg-cue" title="{title}">{escape(text[start:end])}</mark>')
        position = end
    out.append(escape(text[position:]))
    return HighlightedText(mark_safe("".join(out)),  # noqa: S308 - escaped above
                           [cue_sentence(c) for c in cues])


# --- Rows -------------------------------------------------------------------------


@dataclass(frozen=True)
class ReviewRow:
    review: Review
    text: HighlightedText
    stars: str


def review_row(review: Review) -> ReviewRow:
    return ReviewRow(review=review, text=highlight_cues(review.text),
                     stars="★" * review.rating + "☆" * (5 - review.rating))


def reviewer_label(reviewer) -> str:
    return reviewer.display_name or reviewer.external_id


# --- Ring -------------------------------------------------------------------------


def ring_picture(case: Case) -> charts.RingPicture:
    rows = list(
        case.reviews.values_list(
            "reviewer_id", "reviewer__display_name", "reviewer__external_id",
            "reviewer__flagged", "reviewer__email_hash", "establishment_id",
            "establishment__name", "establishment__city", "device_hash", "ip_hash", "ip24_hash",
        )
    )
    per_reviewer = Counter(r[0] for r in rows)
    reviewers = [rid for rid, _ in per_reviewer.most_common()]
    shown = set(reviewers[:MAX_RING_REVIEWERS])
    users: dict[tuple[str, str], set[int]] = defaultdict(set)
    names, flagged, est_names, edges = {}, {}, {}, Counter()
    for (rid, handle, ext, is_flagged, email, eid, ename, city, device, ip, ip24) in rows:
        names[rid] = handle or ext
        flagged[rid] = is_flagged
        est_names[eid] = (ename, city)
        edges[(f"r{rid}", f"e{eid}")] += 1
        for kind, value in (("email", email), ("device", device), ("ip", ip), ("ip24", ip24)):
            if value:
                users[(kind, value)].add(rid)
    shared = sorted(
        ((kind, value, members) for (kind, value), members in users.items() if len(members) > 1),
        key=lambda item: (-len(item[2]), item[0], item[1]),
    )[:MAX_RING_IDENTIFIERS]
    kind_names = {"email": "email", "device": "device", "ip": "IP", "ip24": "IP /24"}
    identifiers = [
        charts.RingNode(key=f"{kind}:{value}", kind=kind,
                        label=f"{kind_names[kind]} ·{value[:6]}",
                        detail=f"{kind_names[kind]} shared by {len(members)} reviewers "
                               f"(keyed hash {value[:12]}…)")
        for kind, value, members in shared
    ]
    shares = [(f"{kind}:{value}", f"r{rid}") for kind, value, members in shared
              for rid in sorted(members) if rid in shown]
    est_counts = Counter(r[5] for r in rows)
    establishments = [eid for eid, _ in est_counts.most_common(MAX_RING_ESTABLISHMENTS)]
    return charts.RingPicture(
        identifiers=identifiers,
        reviewers=[charts.RingNode(key=f"r{rid}", label=names[rid], flagged=flagged[rid],
                                   detail=f"{names[rid]}: {per_reviewer[rid]} reviews in the case")
                   for rid in reviewers[:MAX_RING_REVIEWERS]],
        establishments=[charts.RingNode(key=f"e{eid}", label=est_names[eid][0],
                                        detail=f"{est_names[eid][0]} ({est_names[eid][1]})")
                        for eid in establishments],
        shares=shares,
        reviews=dict(edges),
        hidden_reviewers=max(0, len(reviewers) - MAX_RING_REVIEWERS),
    )


def ring_timeline(reviews: list[Review]) -> SafeString:
    per_reviewer = Counter(r.reviewer_id for r in reviews)
    order = [rid for rid, _ in per_reviewer.most_common(MAX_RING_REVIEWERS)]
    label_of = {}
    for review in reviews:
        if review.reviewer_id in order and review.reviewer_id not in label_of:
            label_of[review.reviewer_id] = _clip_unique(reviewer_label(review.reviewer),
                                                        review.reviewer_id, label_of)
    points = [
        charts.TimelinePoint(
            row=label_of[r.reviewer_id], at=r.created_at, rating=r.rating,
            label=f"{label_of[r.reviewer_id]} — {r.rating}★ {r.establishment.name}, "
                  f"{r.created_at:%d %b %Y %H:%M}",
        )
        for r in reviews if r.reviewer_id in label_of
    ]
    return charts.timeline_svg(points, rows=[label_of[rid] for rid in order])


def _clip_unique(label: str, rid: int, taken: dict) -> str:
    return label if label not in taken.values() else f"{label} #{rid}"


# --- Burst ------------------------------------------------------------------------


def burst_chart(case: Case, reviews: list[Review]) -> SafeString | None:
    establishment = case.establishments.order_by("id").first()
    dated = [r.created_at for r in reviews if r.establishment_id == getattr(establishment, "id", None)]
    if establishment is None or not dated:
        return None
    first, last = min(dated).date(), max(dated).date()
    start = first - timedelta(days=30)
    end = min(last + timedelta(days=14), max(last, timezone.now().date()))
    per_day: dict = defaultdict(lambda: [0, 0])
    for created, rating in Review.objects.filter(
        establishment=establishment,
        created_at__date__gte=start,
        created_at__date__lte=end,
    ).values_list("created_at", "rating"):
        per_day[created.date()][0 if rating <= 2 else 1] += 1
    days = [
        charts.DailyCounts(day=start + timedelta(days=i), negative=per_day[start + timedelta(days=i)][0],
                           other=per_day[start + timedelta(days=i)][1])
        for i in range((end - start).days + 1)
    ]
    return charts.burst_svg(days, burst_start=first, burst_end=last,
                            establishment=f"{establishment.name} ({establishment.city})")


# --- Extortion --------------------------------------------------------------------


@dataclass(frozen=True)
class EvidenceFile:
    name: str
    content_type: str
    size: int
    preview: str  # "image", "pdf" or "download"
    url: str  # opened through the admin, which logs each access


@dataclass(frozen=True)
class ThreatPair:
    report: object  # apps.reports ThreatReport
    message: HighlightedText
    reviews: list[ReviewRow] = field(default_factory=list)
    delays: list[str] = field(default_factory=list)  # per review: "posted 21 h after the threat"
    evidence: list[EvidenceFile] = field(default_factory=list)


def _evidence_files(case: Case, report) -> list[EvidenceFile]:
    return [
        EvidenceFile(name=e.original_name, content_type=e.content_type, size=e.size,
                     preview=e.preview,
                     url=reverse("admin:reports_threatevidence_file", args=[e.pk])
                     + f"?case={case.pk}")
        for e in report.evidence.all()
    ]


def _delay(threat_at, review_at) -> str:
    hours = (review_at - threat_at).total_seconds() / 3600
    after = hours >= 0
    hours = abs(hours)
    if hours < 48:
        n = round(hours)
        return (ngettext("posted %(n)s hour after the threat", "posted %(n)s hours after the threat",
                         n) if after else
                ngettext("posted %(n)s hour before the threat",
                         "posted %(n)s hours before the threat", n)) % {"n": n}
    n = round(hours / 24)
    return (ngettext("posted %(n)s day after the threat", "posted %(n)s days after the threat", n)
            if after else
            ngettext("posted %(n)s day before the threat", "posted %(n)s days before the threat",
                     n)) % {"n": n}


def threat_pairs(case: Case, rows: list[ReviewRow]) -> list[ThreatPair]:
    """Each threat report of the case beside the reviews it links to (reports app optional)."""
    if not django_apps.is_installed("apps.reports") or not hasattr(case, "threat_reports"):
        return []
    by_id = {row.review.id: row for row in rows}
    pairs = []
    reports = (case.threat_reports.select_related("establishment", "reporter")
               .prefetch_related("evidence").order_by("received_at"))
    for report in reports:
        linked = report.reviews.filter(id__in=by_id).values_list("id", flat=True)
        reviews = [by_id[i] for i in sorted(linked)]
        pairs.append(ThreatPair(
            report=report, message=highlight_cues(report.message_text), reviews=reviews,
            delays=[_delay(report.received_at, row.review.created_at) for row in reviews],
            evidence=_evidence_files(case, report),
        ))
    return pairs


# --- The page ---------------------------------------------------------------------


def decision_effects(case: Case) -> dict:
    statuses = Counter(case.reviews.values_list("status", flat=True))
    return {
        "confirm_removes": statuses["held"] + statuses["published"] + statuses["pending"],
        "confirm_flags": case.reviewers.filter(flagged=False).count(),
        "dismiss_publishes": statuses["held"],
        "statuses": dict(statuses),
    }


def case_evidence(case: Case) -> dict:
    """Template context for the case page."""
    queryset = case.reviews.select_related("reviewer", "establishment", "partner").order_by(
        "created_at", "id"
    )
    total = case.reviews.count()
    reviews = list(queryset[:MAX_REVIEWS_SHOWN])
    rows = [review_row(r) for r in reviews]
    context = {
        "reasons": [{**r, "sentence": reason_sentence(r)} for r in case.reasons],
        "rows": rows,
        "reviews_total": total,
        "reviews_hidden": max(0, total - len(rows)),
        "effects": decision_effects(case),
        "ring_svg": None,
        "timeline_svg": None,
        "burst_svg": None,
        "threats": [],
        "reviews_heading": _("Reviews"),
        "reviews_others": False,
    }
    if case.kind == Case.Kind.SOCK_PUPPET_RING:
        context["ring_svg"] = charts.ring_svg(ring_picture(case))
        context["timeline_svg"] = ring_timeline(reviews)
    elif case.kind == Case.Kind.REVIEW_BOMBING:
        context["burst_svg"] = burst_chart(case, reviews)
        context["timeline_svg"] = ring_timeline(reviews) if len(reviews) <= 60 else None
    elif case.kind == Case.Kind.EXTORTION:
        context["threats"] = threat_pairs(case, rows)
        beside = {row.review.id for pair in context["threats"] for row in pair.reviews}
        if beside:
            # Reviews already shown beside their threat are not repeated below.
            context["rows"] = [row for row in rows if row.review.id not in beside]
            context["reviews_heading"] = _("Other reviews of the case")
            context["reviews_others"] = True
    return context
