"""Threat reports <-> reviews: linkage, the extortion signal, and extortion cases.

Linkage runs both ways in time: a new report is matched against the reviews
already written at its establishment (``reports_link``), and reviews being
scored against the live reports of their establishments
(``reports_link_reviews``). Both end in the same place: ml/extortion.py links,
groups the reports of one guest across establishments and partners, weighs
each report by its owner's record, and says which links are sufficient
evidence. A sufficient link becomes the ``extortion_report`` component of the
review's one risk (apps/detection/policy.py decides the hold, never removal),
and every guest gets one extortion case, however many establishments they
threatened.

Reviews still being scored are ``deferred``: linkage returns their signal and
the scorer folds it into the verdict, so a review goes pending -> held once,
with one webhook, instead of pending -> published -> held.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field, replace
from datetime import timedelta

import numpy as np
from django.db import transaction

from apps.cases.models import Case
from apps.cases.services import CaseFinding, case_upsert
from apps.core.reasons import merge_reason_records, reason_records
from apps.reports.models import ThreatReport
from apps.reports.selectors import (
    LIVE,
    live_report_ids_near,
    owner_decided_counts,
    reviews_cleared_by_moderator,
    threat_report_family,
)
from apps.reports.services import (
    LinkRecord,
    handle_hash,
    report_link_mark_held,
    report_links_save,
    reports_attach_case,
    reports_mark_linked,
)
from apps.reviews.selectors import review_time_windows, review_verdict_state, reviewer_identities
from ml.extortion import (
    METHOD_BITS,
    Links,
    ReviewGuests,
    ThreatReports,
    link_reports_to_reviews,
    owner_credibility,
    score_extortion,
    serial_extortionists,
)

from .loader import ReviewFrame, Where, code_of, read_reviews, scoped_code
from .policy import component_record, hold_on_new_evidence

logger = logging.getLogger(__name__)

#: A review is linked when written this many days before ... after the report.
LINK_DAYS_BEFORE = 7.0
LINK_DAYS_AFTER = 30.0
#: Linked reviews at or below this rating go into the guest's case for a moderator
#: (a higher one only when the evidence is sufficient on its own).
CASE_MAX_RATING = 3
#: Severity of a serial-extortion case that has no review yet.
SERIAL_ONLY_SEVERITY = 0.6
#: A name match this close (0-100) at the report's own establishment and time
#: tells who the author is, like an identifier (it may join the guest's reports).
NAME_IDENTITY_SCORE = 95.0


@dataclass(frozen=True)
class ReportSignal:
    """What a sufficient report link adds to a review being scored."""

    component: float  # the ``extortion_report`` fusion component, in [0, 1]
    reasons: list[dict]  # stored reason records of the link
    report_id: int


@dataclass(frozen=True)
class LinkOutcome:
    reports: int = 0  # reports considered (the whole family of the guest)
    links: int = 0  # report-review links found
    held: int = 0  # reviews moved to held by this run (deferred ones excluded)
    cases: tuple[int, ...] = ()  # extortion cases opened or extended
    signals: dict[int, ReportSignal] = field(default_factory=dict)  # deferred review id ->


def reports_link_reviews(*, review_ids: list[int],
                         deferred: Collection[int] = ()) -> LinkOutcome:
    """Match reviews against the live reports of their establishments."""
    # A review written at t links to reports received in [t - AFTER, t + BEFORE].
    windows = [
        (est, first - timedelta(days=LINK_DAYS_AFTER), last + timedelta(days=LINK_DAYS_BEFORE))
        for est, first, last in review_time_windows(ids=review_ids)
    ]
    report_ids = live_report_ids_near(windows=windows)
    if not report_ids:
        return LinkOutcome()
    return reports_link(report_ids=report_ids, deferred=deferred)


def reports_link(*, report_ids: list[int], deferred: Collection[int] = ()) -> LinkOutcome:
    """Link reports (and the rest of each guest's reports) to reviews; hold and open cases.

    Idempotent: links are upserted, holds are guarded transitions, and a
    guest's case is found again by its member keys (the guest's reports), so a
    re-run changes nothing. Dismissed reports take no part.
    """
    seen_emails: set[str] = set()
    for _ in range(3):
        reports = threat_report_family(report_ids=report_ids, emails=seen_emails,
                                       identity_score=NAME_IDENTITY_SCORE)
        if not reports:
            return LinkOutcome()
        inputs = _linkage_inputs(reports)
        # The reviews found may reveal the guest's e-mail (a report that gave only a
        # booking reference): then the guest's reports elsewhere join, and we link again.
        identity = _identity_links(inputs.links)
        found = {inputs.email_hash(int(rev)) for rev in inputs.links.review[identity]} - {""}
        if found <= seen_emails:
            break
        seen_emails |= found
    links, frame, report_cols = inputs.links, inputs.frame, inputs.reports
    # Same rule as the family: identifiers group a guest's reports, names alone do not.
    # A report known by name only takes the e-mail of the author its name matched.
    resolved = report_cols.email.copy()
    for k in np.flatnonzero(identity).tolist():
        rep = int(links.report[k])
        if resolved[rep] < 0:
            resolved[rep] = frame.columns.email[int(links.review[k])]
    serial = serial_extortionists(
        replace(report_cols, email=resolved), links=links, reviews=frame.columns,
        join_on_name=False,
    )
    confirmed, dismissed = owner_decided_counts(reports=reports)
    credibility = owner_credibility(np.asarray(confirmed, dtype=np.float64),
                                    np.asarray(dismissed, dtype=np.float64))
    scores = score_extortion(
        report_cols, frame.columns, links, credibility=credibility, serial=serial,
        guests=inputs.guests,
    )
    with transaction.atomic():
        outcome = _apply(reports, inputs, serial, scores, credibility, set(deferred))
    logger.info(
        "linked %d report(s): %d link(s), %d review(s) held, cases %s",
        outcome.reports, outcome.links, outcome.held, list(outcome.cases),
    )
    return outcome


# --------------------------------------------------------------------------- #
# Inputs


@dataclass(frozen=True)
class _Inputs:
    frame: ReviewFrame  # candidate reviews
    reports: ThreatReports
    links: Links
    identities: dict[int, tuple[str, str, str]]  # reviewer id -> (name, external id, email)
    guests: ReviewGuests

    def email_hash(self, row: int) -> str:
        return self.identities.get(int(self.frame.columns.reviewer[row]), ("", "", ""))[2]


def _epoch(values: Iterable) -> np.ndarray:
    return np.array([v.timestamp() for v in values], dtype=np.float64)


def _candidates(reports: list[ThreatReport]) -> ReviewFrame:
    """Reviews of the reports' establishments written inside any report's window."""
    spans: dict[int, list] = {}
    for r in reports:
        lo = r.received_at - timedelta(days=LINK_DAYS_BEFORE)
        hi = r.received_at + timedelta(days=LINK_DAYS_AFTER)
        span = spans.setdefault(r.establishment_id, [lo, hi])
        span[0], span[1] = min(span[0], lo), max(span[1], hi)
    frame = read_reviews(where=Where(
        establishments=sorted(spans),
        created_after=min(lo for lo, _ in spans.values()),
        created_before=max(hi for _, hi in spans.values()),
    ))
    cols = frame.columns
    keep = np.zeros(len(frame), dtype=bool)
    for est, (lo, hi) in spans.items():
        keep |= ((cols.establishment == est) & (cols.created_at >= lo.timestamp())
                 & (cols.created_at <= hi.timestamp()))
    return frame.take(keep)


def _linkage_inputs(reports: list[ThreatReport]) -> _Inputs:
    """Candidate reviews, and the columns ml/extortion.py links them with.

    Identifiers are the loader's codes on both sides, so a report's hashed
    e-mail and a reviewer's meet on the same integer. Handles are names on one
    partner's site: the same handle elsewhere is someone else, so their codes
    are scoped to the partner.
    """
    frame = _candidates(reports)
    identities = reviewer_identities(ids=np.unique(frame.columns.reviewer).tolist())
    report_cols = ThreatReports(
        establishment=np.array([r.establishment_id for r in reports], dtype=np.int64),
        received_at=_epoch(r.received_at for r in reports),
        # When the owner filed it: a threat dated before a review but reported
        # only after the review appeared is not corroborated by that review.
        filed_at=_epoch(r.created_at for r in reports),
        owner=np.array([r.reporter_id or -r.establishment_id for r in reports], dtype=np.int64),
        email=np.array([code_of(r.guest_email_hash) for r in reports], dtype=np.int64),
        booking_ref=np.array([code_of(r.guest_booking_ref_hash) for r in reports],
                             dtype=np.int64),
        handle=np.array([scoped_code(r.partner_id, r.guest_handle_hash) for r in reports],
                        dtype=np.int64),
        name=[r.guest_name for r in reports],
        partner=np.array([r.partner_id for r in reports], dtype=np.int64),
        message_text=[r.message_text for r in reports],
    )
    people = [identities.get(int(rid), ("", "", "")) for rid in frame.columns.reviewer]
    guests = ReviewGuests(
        booking_ref=frame.booking_ref,
        name=[name for name, _, _ in people],
        handle=np.array(
            [scoped_code(int(partner), handle_hash(name or external))
             for (name, external, _), partner in zip(people, frame.partner_ids, strict=True)],
            dtype=np.int64,
        ),
    )
    links = link_reports_to_reviews(
        report_cols, frame.columns, guests=guests,
        days_after=LINK_DAYS_AFTER, days_before=LINK_DAYS_BEFORE,
    )
    return _Inputs(frame, report_cols, links, identities, guests)


def _identity_links(links: Links) -> np.ndarray:
    """Links that say who the author is: exact identifiers, or a near-certain name."""
    exact = (links.method & ~METHOD_BITS["name"]) != 0
    return exact | (np.nan_to_num(links.name_score) >= NAME_IDENTITY_SCORE)


# --------------------------------------------------------------------------- #
# Applying what was found


def _why(scores, rev: int) -> list[dict]:
    """A linked review's reasons: the link's, then why it was or was not held
    (the decision and the corroboration that fired, ml/extortion.py)."""
    decision = reason_records((scores.hold_reasons or [[]] * (rev + 1))[rev])
    for record in decision:
        record["values"].pop("report", None)  # a row index of this run, meaningless later
    return merge_reason_records(reason_records(scores.reasons[rev]), decision)


def _serial_reason(establishments: int, partners: int, score: float) -> dict:
    return {"code": "serial_extortionist", "score": round(score, 4),
            "values": {"establishments": establishments, "partners": partners}}


def _low_credibility_reason(credibility: float) -> dict:
    return {"code": "low_credibility_report", "score": round(1 - credibility, 4),
            "values": {"credibility": round(credibility, 4)}}


def _apply(reports, inputs: _Inputs, serial, scores, credibility,
           deferred: set[int]) -> LinkOutcome:
    frame, links = inputs.frame, inputs.links
    cols = frame.columns
    review_id = frame.review_ids
    live_mask = np.array([r.status in LIVE for r in reports], dtype=bool)
    cleared = reviews_cleared_by_moderator(review_ids=review_id.tolist())

    # 1. Links (dismissed reports are not in the family: they keep their history).
    link_rows: dict[int, list[int]] = defaultdict(list)  # report row -> link indices
    records = []
    for k in range(len(links)):
        rep, rev = int(links.report[k]), int(links.review[k])
        if not live_mask[rep]:
            continue
        link_rows[rep].append(k)
        name_score = None if np.isnan(links.name_score[k]) else float(links.name_score[k])
        records.append(LinkRecord(
            report_id=reports[rep].id, review_id=int(review_id[rev]),
            methods=",".join(links.methods(k)), name_score=name_score,
            strength=round(float(scores.link_score[k]), 4),
        ))
    report_links_save(links=records)

    # 2. One group per guest: a serial group, or a lone report.
    groups: dict[tuple, list[int]] = defaultdict(list)
    for i in range(len(reports)):
        g = int(serial.group[i])
        groups[("serial", g) if g >= 0 else ("report", i)].append(i)

    held_total = 0
    case_ids: list[int] = []
    signals: dict[int, ReportSignal] = {}
    low_credibility = credibility < 0.5
    for members in groups.values():
        live = [i for i in members if live_mask[i]]
        if not live:
            continue
        is_serial = int(serial.group[members[0]]) >= 0
        # Reviews linked to this guest's live reports that a moderator should see,
        # and those whose link is sufficient evidence for the hold rule.
        in_case: dict[int, None] = {}
        sufficient: list[int] = []
        for i in live:
            for k in link_rows.get(i, []):
                rev = int(links.review[k])
                if cols.rating[rev] > CASE_MAX_RATING and not scores.hold[rev]:
                    continue
                in_case[rev] = None
                best = int(scores.best_report[rev])
                if (scores.hold[rev] and best in live and int(review_id[rev]) not in cleared
                        and rev not in sufficient):
                    sufficient.append(rev)
        if not in_case and not is_serial:
            continue
        reasons = merge_reason_records(*[_why(scores, rev) for rev in in_case])
        if is_serial:
            i0 = members[0]
            reasons = merge_reason_records(reasons, [_serial_reason(
                int(serial.establishments[i0]), int(serial.partners[i0]),
                max([float(scores.score[rev]) for rev in in_case], default=SERIAL_ONLY_SEVERITY),
            )])
        if any(low_credibility[i] for i in live) and not any(
            r["code"] == "low_credibility_report" for r in reasons
        ):
            reasons.append(_low_credibility_reason(min(float(credibility[i]) for i in live)))
        severity = max([float(scores.score[rev]) for rev in in_case],
                       default=SERIAL_ONLY_SEVERITY if is_serial else 0.0)
        group_reports = [reports[i] for i in members]
        finding = CaseFinding(
            kind=Case.Kind.EXTORTION,
            # Every (non-dismissed) report of the guest: a report joining later shares
            # keys with the guest's case, so case_upsert extends it, or reopens it if a
            # moderator already decided it, instead of opening a twin.
            member_keys=tuple(f"threat_report:{r.id}" for r in group_reports),
            severity=round(severity, 4),
            reasons=reasons,
            summary=_summary(group_reports, len(in_case), is_serial),
            review_ids=tuple(int(review_id[rev]) for rev in in_case),
            reviewer_ids=tuple(sorted({int(cols.reviewer[rev]) for rev in in_case})),
            establishment_ids=tuple(sorted(
                {r.establishment_id for r in group_reports}
                | {int(cols.establishment[rev]) for rev in in_case})),
            partner_ids=tuple(sorted(
                {r.partner_id for r in group_reports}
                | {int(frame.partner_ids[rev]) for rev in in_case})),
        )
        case, _ = case_upsert(finding=finding)
        case_ids.append(case.id)
        reports_attach_case(report_ids=[reports[i].id for i in live], case=case)
        held_total += _decide(sufficient, inputs, reports, scores, deferred, signals)
    reports_mark_linked(
        linked_ids=[reports[i].id for i in link_rows],
        checked_ids=[r.id for r, u in zip(reports, live_mask, strict=True) if u],
    )
    return LinkOutcome(
        reports=len(reports),
        links=sum(len(v) for v in link_rows.values()),
        held=held_total,
        cases=tuple(dict.fromkeys(case_ids)),
        signals=signals,
    )


def _decide(sufficient: list[int], inputs: _Inputs, reports, scores, deferred: set[int],
            signals: dict[int, ReportSignal]) -> int:
    """Give each sufficiently linked review its ``extortion_report`` component.

    A review being scored gets it as a signal for its verdict; a review already
    scored is decided again by the one hold rule with the component added.
    Returns how many reviews this held.
    """
    ids = [int(inputs.frame.review_ids[rev]) for rev in sufficient]
    state = review_verdict_state(ids=[i for i in ids if i not in deferred])
    held = 0
    for rev, rid in zip(sufficient, ids, strict=True):
        report = reports[int(scores.best_report[rev])]
        reasons = _why(scores, rev)
        if rid in deferred:
            signals[rid] = ReportSignal(component=1.0, reasons=reasons, report_id=report.id)
            continue
        if rid not in state:
            continue
        partner, stored = state[rid]
        if hold_on_new_evidence(
            review_id=rid, partner=partner, stored=stored, component="extortion_report",
            reasons=merge_reason_records(reasons, [component_record("extortion_report")]),
        ):
            held += 1
            report_link_mark_held(report_id=report.id, review_id=rid)
    return held


def _summary(group_reports: list[ThreatReport], n_reviews: int, is_serial: bool) -> str:
    n_est = len({r.establishment_id for r in group_reports})
    if is_serial:
        return (f"Serial extortion: one guest reported by {n_est} establishments; "
                f"{n_reviews} review(s) linked")[:300]
    return f"Threat report #{group_reports[0].id}: {n_reviews} review(s) by the reported guest"[:300]
