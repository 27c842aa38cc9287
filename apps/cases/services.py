"""Cases: upsert by fingerprint and membership, moderator decisions and their
effects, assignment; every change goes through the append-only audit log."""

from __future__ import annotations

import hashlib
import statistics
import uuid
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from apps.core.exceptions import ApplicationError
from apps.core.reasons import reasons_payload
from apps.partners.models import Partner
from apps.partners.services import WebhookEvent, webhook_emit, webhooks_emit_many
from apps.reviews.models import Review
from apps.reviews.services import reviewers_flag, reviews_apply_decision

from .models import Appeal, Case, CaseEvent, CaseMember, DecisionLabel
from .selectors import case_reasons_seen_by, case_that_removed
from .signals import appeal_decided, case_decided


@dataclass(frozen=True)
class CaseFinding:
    """What a detector found, in database terms, ready to become a case."""

    kind: str
    member_keys: tuple[str, ...]  # what identifies the finding (e.g. reviewer ids)
    severity: float
    reasons: list[dict]
    summary: str = ""
    review_ids: tuple[int, ...] = ()
    reviewer_ids: tuple[int, ...] = ()
    establishment_ids: tuple[int, ...] = ()
    partner_ids: tuple[int, ...] = field(default=())
    # An incident (ring, bombing) whose reviews the one hold rule may hold. False:
    # the evidence is for a moderator only and the reviews stay published (a
    # burst that shared networks alone make suspect, ml/bursts.py).
    holds: bool = True


def case_fingerprint(kind: str, member_keys: Iterable[str]) -> str:
    material = kind + "|" + "|".join(sorted(set(member_keys)))
    return hashlib.sha256(material.encode()).hexdigest()


def case_payload(case: Case, *, partner: Partner | None = None, shared: bool = False) -> dict:
    """The body of ``case.opened``/``case.decided``; reasons in the one output shape,
    in the service's default language (a webhook has no reader). Sent to
    ``partner`` of a ``shared`` case (it has other partners too), it carries only
    the reasons that partner may read (``case_reasons_seen_by``)."""
    records = case.reasons
    if partner is not None and shared:
        records = case_reasons_seen_by(
            case_reasons=case.reasons, shared=True,
            own_review_reasons=case.reviews.filter(partner=partner)
            .values_list("risk_reasons", flat=True))
    with translation.override(settings.LANGUAGE_CODE):
        reasons = reasons_payload(records)
    return {
        "id": case.pk,
        "kind": case.kind,
        "status": case.status,
        "severity": round(case.severity, 4),
        "reasons": reasons,
    }


# --- Upsert ----------------------------------------------------------------------


class UpsertOutcome:
    OPENED = "opened"
    EXTENDED = "extended"
    REOPENED = "reopened"
    UNCHANGED = "unchanged"


@dataclass(frozen=True)
class CaseUpsert:
    case: Case
    outcome: str  # one of UpsertOutcome
    reviews_added: tuple[int, ...] = ()
    members_added: tuple[str, ...] = ()


def _overlapping_case_id(*, kind: str, keys: list[str]) -> int | None:
    """The case of this kind sharing the most member keys with ``keys`` (oldest on ties)."""
    row = (
        CaseMember.objects.filter(case__kind=kind, key__in=keys)
        .values("case_id")
        .annotate(shared=Count("id"))
        .order_by("-shared", "case_id")
        .first()
    )
    return row["case_id"] if row else None


def _add_members(pairs: list[tuple[Case, CaseFinding]]) -> None:
    """Add each finding's member keys, partners, establishments, reviews and
    reviewers to its case: one INSERT … ON CONFLICT DO NOTHING per table (a grown
    incident re-adds thousands of reviews it has; Django's ``add`` would first
    select them back, with a placeholder per id)."""
    CaseMember.objects.bulk_create(
        [CaseMember(case=c, key=k) for c, f in pairs for k in sorted(set(f.member_keys))],
        ignore_conflicts=True,
    )
    for relation, attribute in (("partners", "partner_ids"), ("establishments",
                                "establishment_ids"), ("reviews", "review_ids"),
                               ("reviewers", "reviewer_ids")):
        through = getattr(Case, relation).through
        column = getattr(Case, relation).field.m2m_reverse_field_name() + "_id"
        through.objects.bulk_create(
            [through(case_id=c.pk, **{column: i}) for c, f in pairs
             for i in sorted(set(getattr(f, attribute)))],
            ignore_conflicts=True, batch_size=5_000,
        )


def _announce_opened(case: Case, *, dedupe_suffix: str = "") -> None:
    """``case.opened`` to every partner of the case; a partner told once is not told again."""
    partners = list(case.partners.all())
    for partner in partners:
        webhook_emit(
            partner=partner,
            event="case.opened",
            data=case_payload(case, partner=partner, shared=len(partners) > 1),
            dedupe_key=f"case.opened:{case.pk}{dedupe_suffix}:{partner.pk}",
        )


@transaction.atomic
def case_upsert_outcome(*, finding: CaseFinding) -> CaseUpsert:
    """Open a case for a finding, or extend the case it continues (``_upsert``).

    One incident, one case: a per-reviewer finding about a member of an open
    ring or bombing case extends that case instead; and an open case absorbs
    the open cases that share its members (``_absorb_related``).
    """
    if finding.kind == Case.Kind.ANOMALOUS_REVIEWER:
        incident = _incident_of(finding, _open_incidents_of(list(finding.member_keys)))
        if incident is not None:
            finding = _joining(incident, [finding])
    return _upsert_and_absorb(finding)


@transaction.atomic
def _upsert_and_absorb(finding: CaseFinding) -> CaseUpsert:
    """``_upsert``, then an open case absorbs the open cases sharing its members."""
    result = _upsert(finding)
    if result.case.status == Case.Status.OPEN:
        _absorb_related(result.case, finding)
    return result


def _upsert(finding: CaseFinding) -> CaseUpsert:
    """Open a case for a finding, or extend the case it continues.

    The finding continues a case of the same kind with exactly its member keys
    (the fingerprint), or else the case sharing the most member keys with it:
    so re-running a detector never opens a twin and a grown ring extends its
    case. Members are only ever added. A decided case keeps its decision unless
    the finding brings new evidence (members or reviews it did not have); then
    it is reopened, with a "reopened" event.
    """
    keys = sorted(set(finding.member_keys))
    if not keys:
        raise ApplicationError("empty_finding", "A finding needs at least one member key.")
    fingerprint = case_fingerprint(finding.kind, keys)

    case = Case.objects.select_for_update(no_key=True).filter(fingerprint=fingerprint).first()
    exact = case is not None
    if case is None:
        overlapping = _overlapping_case_id(kind=finding.kind, keys=keys)
        if overlapping is not None:
            case = Case.objects.select_for_update(no_key=True).get(pk=overlapping)
    if case is None:
        case, opened = Case.objects.select_for_update(no_key=True).get_or_create(
            fingerprint=fingerprint,
            defaults={
                "kind": finding.kind,
                "severity": finding.severity,
                "reasons": finding.reasons,
                "summary": finding.summary[:300],
            },
        )
        if opened:
            _add_members([(case, finding)])
            CaseEvent.objects.create(
                case=case,
                action="opened",
                after={"severity": case.severity, "reviews": sorted(finding.review_ids),
                       "members": keys},
            )
            _announce_opened(case)
            return CaseUpsert(case, UpsertOutcome.OPENED, tuple(sorted(finding.review_ids)),
                              tuple(keys))
        exact = True  # a concurrent upsert opened it first

    # A case found by its fingerprint has these keys by definition (cases opened
    # before member keys were recorded have no CaseMember rows yet).
    known_keys = set(keys) if exact else set(case.member_keys.values_list("key", flat=True))
    new_keys = sorted(set(keys) - known_keys)
    new_reviews = sorted(set(finding.review_ids) - set(case.reviews.values_list("id", flat=True)))
    new_reviewers = set(finding.reviewer_ids) - set(case.reviewers.values_list("id", flat=True))
    new_evidence = bool(new_keys or new_reviews or new_reviewers)

    if case.status != Case.Status.OPEN:
        if not new_evidence:
            if exact:
                CaseMember.objects.bulk_create(
                    [CaseMember(case=case, key=key) for key in keys], ignore_conflicts=True
                )
            return CaseUpsert(case, UpsertOutcome.UNCHANGED)
        before = {
            "status": case.status,
            "severity": case.severity,
            "decided_at": case.decided_at.isoformat() if case.decided_at else None,
            "decided_by": case.decided_by_id,
            "decision_note": case.decision_note,
        }
        _add_members([(case, finding)])
        case.status = Case.Status.OPEN
        case.decided_at = case.decided_by = None
        case.decision_note = ""
        case.severity = max(case.severity, finding.severity)
        case.reasons = finding.reasons
        case.fingerprint = _grown_fingerprint(case, known_keys | set(keys))
        case.save()
        event = CaseEvent.objects.create(
            case=case,
            action="reopened",
            before=before,
            after={"status": case.status, "severity": case.severity,
                   "reviews_added": new_reviews, "members_added": new_keys},
            note="New evidence arrived after the decision.",
        )
        _announce_opened(case, dedupe_suffix=f":reopened-{event.pk}")
        return CaseUpsert(case, UpsertOutcome.REOPENED, tuple(new_reviews), tuple(new_keys))

    _add_members([(case, finding)])
    if not new_evidence and finding.severity <= case.severity:
        _announce_opened(case)  # only partners new to the case hear of it
        return CaseUpsert(case, UpsertOutcome.UNCHANGED)
    previous = {"severity": case.severity}
    case.severity = max(case.severity, finding.severity)
    case.reasons = finding.reasons
    if new_keys:
        case.fingerprint = _grown_fingerprint(case, known_keys | set(keys))
    case.save(update_fields=["severity", "reasons", "fingerprint", "updated_at"])
    CaseEvent.objects.create(
        case=case,
        action="extended",
        before=previous,
        after={"severity": case.severity, "reviews_added": new_reviews,
               "members_added": new_keys},
    )
    _announce_opened(case)
    return CaseUpsert(case, UpsertOutcome.EXTENDED, tuple(new_reviews), tuple(new_keys))


def case_upsert_many(*, findings: list[CaseFinding]) -> list[CaseUpsert]:
    """``case_upsert_outcome`` for many findings (a scoring batch's held reviews).

    The findings that touch no existing case (none of their member keys is in a
    case, no case has their fingerprint) are opened together, in a few
    statements; the others take the one-by-one path, which extends, reopens or
    merges exactly as ``case_upsert_outcome`` does. If a concurrent worker opens
    one of the new cases first (its fingerprint is taken), the findings are
    sorted again against what it committed and the still-new ones are opened
    together again (twice at most; then the rest go one by one).
    """
    known, fresh = _known_and_fresh(findings)
    opened: list[CaseUpsert] = []
    for attempt in range(OPEN_MANY_ATTEMPTS):
        if not fresh:
            break
        try:
            with transaction.atomic():
                opened = _open_many(fresh)
            fresh = {}
        except IntegrityError:
            if attempt + 1 == OPEN_MANY_ATTEMPTS:
                break
            taken, fresh = _known_and_fresh(list(fresh.values()))
            known += taken
    return opened + _upsert_one_by_one(known + list(fresh.values()))


#: Bulk opening attempts of ``case_upsert_many`` when concurrent workers open
#: some of the same cases first.
OPEN_MANY_ATTEMPTS = 3


def _known_and_fresh(findings: list[CaseFinding]) -> tuple[list[CaseFinding],
                                                           dict[str, CaseFinding]]:
    """The findings that touch an existing case (a member key or the fingerprint),
    and the others by fingerprint (the first of a fingerprint; later ones are known)."""
    prints = [case_fingerprint(f.kind, f.member_keys) for f in findings]
    keys = {k for f in findings for k in f.member_keys}
    seen_keys = set(CaseMember.objects.filter(key__in=keys).values_list("key", flat=True))
    seen_prints = set(Case.objects.filter(fingerprint__in=prints)
                      .values_list("fingerprint", flat=True))
    fresh: dict[str, CaseFinding] = {}
    known: list[CaseFinding] = []
    for finding, fingerprint in zip(findings, prints, strict=True):
        if (fingerprint in seen_prints or fingerprint in fresh
                or seen_keys.intersection(finding.member_keys)):
            known.append(finding)
        else:
            fresh[fingerprint] = finding
    return known, fresh


def _upsert_one_by_one(findings: list[CaseFinding]) -> list[CaseUpsert]:
    """What ``case_upsert_outcome`` would make of each finding, one result per
    finding, with two folds: the per-reviewer findings about members of one open
    incident become one finding that extends it (a batch holding a hundred
    reviews of a bombing's accounts extends its case once, not once per review,
    each time re-reading all its members), and findings that continue open
    per-reviewer cases exactly are extended together (``_extend_open_exactly``)."""
    incidents = _open_incidents_of(
        [k for f in findings if f.kind == Case.Kind.ANOMALOUS_REVIEWER for k in f.member_keys])
    groups: dict[int, list[CaseFinding]] = {}
    alone: list[CaseFinding] = []
    for finding in findings:
        incident = _incident_of(finding, incidents)
        if incident is None:
            alone.append(finding)
        else:
            groups.setdefault(incident.pk, []).append(finding)
    results, alone = _extend_open_exactly(alone)
    # ``incidents`` already says these findings are about no open incident's member.
    results += [_upsert_and_absorb(f) for f in alone]
    cases = {c.pk: c for c in incidents.values()}
    for case_id, group in groups.items():
        result = _upsert_and_absorb(_joining(cases[case_id], group))
        results.extend([result] * len(group))
    return results


def _extend_open_exactly(findings: list[CaseFinding]) -> tuple[list[CaseUpsert],
                                                                list[CaseFinding]]:
    """The findings of a per-reviewer kind that continue an open case exactly (its
    fingerprint: the same kind and members), extended in a few statements for
    all of them: their reviews, reviewers, establishments and partners added, a
    higher severity kept with an "extended" event, new partners told. Returns
    (one result per such finding, the other findings for the one-by-one path).

    What ``_upsert`` and ``_absorb_related`` would do differently is left to
    them: findings of incident kinds, decided cases, and cases that other open
    cases of their kind share members with go one by one."""
    bulk_kinds = (Case.Kind.ANOMALOUS_REVIEWER, Case.Kind.EXTORTION)
    prints = {case_fingerprint(f.kind, f.member_keys): f for f in findings
              if f.kind in bulk_kinds}
    # Locked in id order: two batches extending the same cases never wait on each other
    # in opposite orders.
    cases = {c.fingerprint: c for c in Case.objects.select_for_update(no_key=True).filter(
        fingerprint__in=list(prints), status=Case.Status.OPEN).order_by("pk")}
    if cases:
        shared = _keys_in_other_open_cases(
            keys={k for p in cases for k in prints[p].member_keys}, kinds=bulk_kinds,
            besides={c.pk for c in cases.values()})
        cases = {p: c for p, c in cases.items() if not shared & set(prints[p].member_keys)}
    by_case: dict[int, list[CaseFinding]] = {}
    rest: list[CaseFinding] = []
    for finding in findings:
        case = cases.get(case_fingerprint(finding.kind, finding.member_keys)) \
            if finding.kind in bulk_kinds else None
        if case is None:
            rest.append(finding)
        else:
            by_case.setdefault(case.pk, []).append(finding)
    if not by_case:
        return [], rest
    case_of = {c.pk: c for c in cases.values()}
    pairs = [(case_of[pk], _folded(group)) for pk, group in by_case.items()]
    had = _m2m_ids(list(by_case), ("reviews", "reviewers", "partners"))
    _add_members(pairs)
    now = timezone.now()
    grown, events, results = [], [], []
    for case, finding in pairs:
        new_reviews = sorted(set(finding.review_ids) - had["reviews"].get(case.pk, set()))
        new_reviewers = set(finding.reviewer_ids) - had["reviewers"].get(case.pk, set())
        outcome, added = UpsertOutcome.UNCHANGED, ()
        if new_reviews or new_reviewers or finding.severity > case.severity:
            events.append(CaseEvent(case=case, action="extended",
                                    before={"severity": case.severity},
                                    after={"severity": max(case.severity, finding.severity),
                                           "reviews_added": new_reviews, "members_added": []}))
            case.severity = max(case.severity, finding.severity)
            case.reasons, case.updated_at = finding.reasons, now
            grown.append(case)
            outcome, added = UpsertOutcome.EXTENDED, tuple(new_reviews)
        results.extend([CaseUpsert(case, outcome, added)] * len(by_case[case.pk]))
    Case.objects.bulk_update(grown, ["severity", "reasons", "updated_at"])
    CaseEvent.objects.bulk_create(events)
    # Partners new to a case are told of it (the others were, when they joined).
    joined: list[tuple[int, int, bool]] = []  # (case id, partner id, shared)
    for case, finding in pairs:
        before = had["partners"].get(case.pk, set())
        after = before | set(finding.partner_ids)
        joined += [(case.pk, p, len(after) > 1) for p in sorted(after - before)]
    if joined:
        partners = Partner.objects.in_bulk({p for _, p, _ in joined})
        webhooks_emit_many(events=[
            WebhookEvent(partner=partners[p], event="case.opened",
                         data=case_payload(case_of[pk], partner=partners[p], shared=shared),
                         dedupe_key=f"case.opened:{pk}:{p}")
            for pk, p, shared in joined if p in partners
        ])
    return results, rest


def _folded(findings: list[CaseFinding]) -> CaseFinding:
    """Findings of one case as one: the union of what they name, the most severe's
    severity and reasons."""
    top = max(findings, key=lambda f: f.severity)

    def union(attr: str) -> tuple:
        return tuple(sorted({x for f in findings for x in getattr(f, attr)}))

    return replace(top, member_keys=union("member_keys"), review_ids=union("review_ids"),
                   reviewer_ids=union("reviewer_ids"),
                   establishment_ids=union("establishment_ids"),
                   partner_ids=union("partner_ids"))


def _m2m_ids(case_ids: list[int], relations: tuple[str, ...]) -> dict[str, dict[int, set[int]]]:
    """For each relation, each case's related ids: one query per relation."""
    out: dict[str, dict[int, set[int]]] = {}
    for relation in relations:
        through = getattr(Case, relation).through
        column = getattr(Case, relation).field.m2m_reverse_field_name() + "_id"
        ids: dict[int, set[int]] = {}
        for case_id, other in through.objects.filter(case_id__in=case_ids).values_list(
                "case_id", column):
            ids.setdefault(case_id, set()).add(other)
        out[relation] = ids
    return out


def _open_memberships(keys: Iterable[str], *, kinds: Iterable[str],
                      besides: Iterable[int] = ()) -> list[tuple[Case, str]]:
    """(case, key) for each of ``keys`` that is a member of an open case of
    ``kinds`` (cases in ``besides`` left out), in case id order.

    Two indexed reads, members by key and then their cases, rather than one join:
    with statistics older than the cases table (autovacuum off or behind, or a
    flood that opened thousands of cases since the last ANALYZE), the planner
    walked every open case of the kinds to probe its members: 0.1-0.17 s a
    scoring batch with 14,000 open cases, and 0.25-0.5 s a finding when a
    batch of a held flood grew its incidents one by one (bench/RESULTS.md,
    issue 14)."""
    keys = set(keys)
    if not keys:
        return []
    members = list(CaseMember.objects.filter(key__in=keys).exclude(case_id__in=set(besides))
                   .values_list("case_id", "key"))
    cases = Case.objects.filter(status=Case.Status.OPEN, kind__in=list(kinds)).in_bulk(
        {case_id for case_id, _ in members})
    return sorted(((cases[case_id], key) for case_id, key in members if case_id in cases),
                  key=lambda pair: pair[0].pk)


def _open_cases_with(keys: Iterable[str], *, kinds: Iterable[str],
                     besides: Iterable[int] = ()) -> list[Case]:
    """The open cases of ``kinds`` (not in ``besides``) that have any of ``keys``
    as a member, in id order (``_open_memberships``)."""
    return list({case.pk: case for case, _ in _open_memberships(keys, kinds=kinds,
                                                                  besides=besides)}.values())


def _keys_in_other_open_cases(*, keys: set[str], kinds: tuple[str, ...],
                              besides: set[int]) -> set[str]:
    """The ``keys`` that are members of an open case of ``kinds`` not in ``besides``."""
    return {key for _, key in _open_memberships(keys, kinds=kinds, besides=besides)}


def _open_incidents_of(keys: list[str]) -> dict[str, Case]:
    """For each member key, the open incident it belongs to (the most severe, then
    the oldest)."""
    incidents: dict[str, Case] = {}
    for case, key in sorted(_open_memberships(keys, kinds=INCIDENT_KINDS),
                            key=lambda pair: (-pair[0].severity, pair[0].pk)):
        incidents.setdefault(key, case)
    return incidents


def _incident_of(finding: CaseFinding, incidents: dict[str, Case]) -> Case | None:
    """The open incident a per-reviewer finding is about (the most severe, then the
    oldest, of those its member keys belong to), given ``_open_incidents_of``."""
    if finding.kind != Case.Kind.ANOMALOUS_REVIEWER:
        return None
    return min((incidents[k] for k in finding.member_keys if k in incidents),
               key=lambda c: (-c.severity, c.pk), default=None)


def _joining(incident: Case, findings: list[CaseFinding]) -> CaseFinding:
    """Per-reviewer findings about members of ``incident``, as one finding of it."""
    folded = _folded(findings)
    return replace(folded, kind=incident.kind,
                   member_keys=tuple(incident.member_keys.values_list("key", flat=True)),
                   severity=min(folded.severity, incident.severity),
                   reasons=incident.reasons)


def _open_many(findings: dict[str, CaseFinding]) -> list[CaseUpsert]:
    """Open a case per (fingerprint, finding), none of which touches an existing case."""
    cases = Case.objects.bulk_create([
        Case(fingerprint=fingerprint, kind=f.kind, severity=f.severity, reasons=f.reasons,
             summary=f.summary[:300])
        for fingerprint, f in findings.items()
    ])
    pairs = list(zip(cases, findings.values(), strict=True))
    _add_members(pairs)
    CaseEvent.objects.bulk_create([
        CaseEvent(case=c, action="opened",
                  after={"severity": c.severity, "reviews": sorted(f.review_ids),
                         "members": sorted(set(f.member_keys))})
        for c, f in pairs
    ])
    partners = Partner.objects.in_bulk({p for _, f in pairs for p in f.partner_ids})
    webhooks_emit_many(events=[
        WebhookEvent(partner=partners[p], event="case.opened",
                     data=case_payload(c, partner=partners[p], shared=len(set(f.partner_ids)) > 1),
                     dedupe_key=f"case.opened:{c.pk}:{p}")
        for c, f in pairs for p in sorted(set(f.partner_ids)) if p in partners
    ])
    return [CaseUpsert(c, UpsertOutcome.OPENED, tuple(sorted(f.review_ids)),
                       tuple(sorted(set(f.member_keys)))) for c, f in pairs]


#: Cases of these kinds are one incident each: the per-reviewer cases of their
#: members (opened when a member's review was held before the incident was
#: seen) join them.
INCIDENT_KINDS = (Case.Kind.SOCK_PUPPET_RING, Case.Kind.REVIEW_BOMBING)


def cases_merge(*, into: Case, cases: Iterable[Case], note: str) -> list[int]:
    """Merge open cases into ``into``: their reviews, reviewers, establishments,
    partners and member keys move over, they end ``merged`` (pointing at it),
    and both sides record a ``merged`` audit event. Returns the merged case ids.

    A few statements whatever the number of cases, moving ids only: an incident
    absorbing its members' per-reviewer cases one by one, through model
    instances, held the incident's case for minutes at a million reviews (and
    every scoring batch that needed it waited; bench/RESULTS.md, issue 14)."""
    wanted = sorted({case.pk for case in cases} - {into.pk})
    if not wanted:
        return []
    # Decided or already merged meanwhile: it keeps its own outcome.
    merged = list(Case.objects.select_for_update(no_key=True).filter(
        pk__in=wanted, status=Case.Status.OPEN).order_by("pk").values_list("pk", flat=True))
    if not merged:
        return []
    Case.objects.filter(pk__in=merged).update(
        status=Case.Status.MERGED, merged_into=into, updated_at=timezone.now())
    for relation in ("reviews", "reviewers", "establishments", "partners"):
        _links_copy(getattr(Case, relation).through, into=into.pk, sources=merged)
    CaseMember.objects.bulk_create(
        [CaseMember(case=into, key=key) for key in CaseMember.objects.filter(
            case_id__in=merged).values_list("key", flat=True).distinct()],
        ignore_conflicts=True, batch_size=2_000,
    )
    CaseEvent.objects.bulk_create(
        [CaseEvent(case_id=pk, action="merged", before={"status": Case.Status.OPEN},
                   after={"status": Case.Status.MERGED, "into": into.pk}, note=note)
         for pk in merged]
        + [CaseEvent(case=into, action="merged", after={"from": pk}, note=note) for pk in merged],
        batch_size=2_000,
    )
    severities = Case.objects.filter(pk__in=merged).values_list("severity", flat=True)
    into.severity = max([into.severity, *severities])
    into.save(update_fields=["severity", "updated_at"])
    return merged


def _links_copy(through, *, into: int, sources: list[int]) -> None:
    """The many-to-many links of the ``sources`` cases, given to case ``into`` too."""
    target = next(f.attname for f in through._meta.concrete_fields
                  if f.is_relation and f.related_model is not Case)
    values = through.objects.filter(case_id__in=sources).values_list(target, flat=True).distinct()
    through.objects.bulk_create([through(case_id=into, **{target: v}) for v in values],
                                ignore_conflicts=True, batch_size=2_000)


def _absorb_related(case: Case, finding: CaseFinding) -> None:
    """One incident, one case: open cases of the same kind sharing members, and open
    per-reviewer cases of an incident's members, join it."""
    same_kind = _open_cases_with(finding.member_keys, kinds=(case.kind,), besides=(case.pk,))
    cases_merge(into=case, cases=same_kind, note="Shares members with this case.")
    if case.kind in INCIDENT_KINDS and finding.reviewer_ids:
        per_reviewer = _open_cases_with([f"reviewer:{r}" for r in finding.reviewer_ids],
                                        kinds=(Case.Kind.ANOMALOUS_REVIEWER,))
        cases_merge(into=case, cases=per_reviewer,
                    note="The reviewer belongs to this incident.")


def _grown_fingerprint(case: Case, keys: set[str]) -> str:
    """The fingerprint of the grown member set, so the next identical run matches
    exactly; kept unchanged in the unlikely event another case holds it."""
    fingerprint = case_fingerprint(case.kind, keys)
    if Case.objects.filter(fingerprint=fingerprint).exclude(pk=case.pk).exists():
        return case.fingerprint
    return fingerprint


def case_upsert(*, finding: CaseFinding) -> tuple[Case, bool]:
    """``case_upsert_outcome`` for callers that only need (case, opened)."""
    result = case_upsert_outcome(finding=finding)
    return result.case, result.outcome == UpsertOutcome.OPENED


# --- Decisions -------------------------------------------------------------------


class Decision:
    CONFIRMED = Case.Status.CONFIRMED.value
    DISMISSED = Case.Status.DISMISSED.value
    ALL = (CONFIRMED, DISMISSED)


@dataclass(frozen=True)
class DecisionEffect:
    """What a decision does to the case's reviews and reviewers."""

    review_status: str  # the status the case's reviews move to ...
    from_statuses: tuple[str, ...]  # ... from any of these
    flags_reviewers: bool


# Confirming removes every review of the case that is still visible or waiting
# (a pending one would otherwise be published by the scorer later) and flags
# its reviewers; dismissing publishes what was held and leaves the rest as it is.
DECISION_EFFECTS: dict[str, DecisionEffect] = {
    Decision.CONFIRMED: DecisionEffect(
        Review.Status.REMOVED,
        (Review.Status.PENDING, Review.Status.HELD, Review.Status.PUBLISHED),
        flags_reviewers=True,
    ),
    Decision.DISMISSED: DecisionEffect(
        Review.Status.PUBLISHED, (Review.Status.HELD,), flags_reviewers=False
    ),
}


@dataclass(frozen=True)
class DecisionOutcome:
    case: Case
    decision: str
    event: CaseEvent
    reviews_moved: dict[int, tuple[str, str]]  # review id -> (before, after)
    reviewers_flagged: tuple[int, ...]


def _validate_decision(decision: str, note: str) -> str:
    if decision not in Decision.ALL:
        raise ApplicationError(
            "invalid_decision", f"A decision is one of {', '.join(Decision.ALL)}.",
            fields={"decision": [f"Unknown decision {decision!r}."]},
        )
    note = (note or "").strip()
    if not note:
        raise ApplicationError(
            "note_required", "Say why: a decision needs a note.",
            fields={"note": ["This field is required."]},
        )
    return note


def _validate_review_decisions(decision: str,
                               review_decisions: Mapping[int, str] | None) -> dict[int, str]:
    chosen = {int(k): v for k, v in (review_decisions or {}).items()}
    unknown = sorted({v for v in chosen.values() if v not in Decision.ALL})
    if unknown:
        raise ApplicationError("invalid_decision",
                               f"A review's decision is one of {', '.join(Decision.ALL)}.",
                               fields={"review_decisions": [f"Unknown decision {unknown[0]!r}."]})
    if decision == Decision.DISMISSED and Decision.CONFIRMED in chosen.values():
        raise ApplicationError(
            "invalid_decision", "A dismissed case cannot remove any review.",
            fields={"review_decisions": ["Confirm the case to remove some of its reviews."]})
    return chosen


def decision_features(case: Case, reviews: list[Review]) -> dict:
    """What the detectors saw, kept beside the label for later calibration."""
    ratings = [r.rating for r in reviews]
    risks = [r.risk_score for r in reviews if r.risk_score is not None]
    now = timezone.now()
    return {
        "severity": case.severity,
        "reasons": {r["code"]: r.get("score") for r in case.reasons},
        "n_reviews": len(reviews),
        "n_reviewers": case.reviewers.count(),
        "n_establishments": case.establishments.count(),
        "n_partners": case.partners.count(),
        "mean_rating": statistics.fmean(ratings) if ratings else None,
        "share_low_rating": sum(r <= 2 for r in ratings) / len(ratings) if ratings else None,
        "share_verified_stay": (
            sum(bool(r.booking_ref_hash) for r in reviews) / len(reviews) if reviews else None
        ),
        "mean_risk": statistics.fmean(risks) if risks else None,
        "max_risk": max(risks) if risks else None,
        "review_status": dict(Counter(r.status for r in reviews)),
        "hours_open": round((now - case.opened_at).total_seconds() / 3600, 2),
    }


def case_decide(*, case: Case, decision: str, actor, note: str,
                review_decisions: Mapping[int, str] | None = None) -> DecisionOutcome:
    """Confirm or dismiss an open case and apply it to its reviews and reviewers.

    Confirm: the case's reviews are removed and its reviewers flagged. Dismiss:
    its held reviews are published. Both record a CaseEvent (actor, before,
    after, note) and a DecisionLabel, tell every partner of the case
    (``case.decided``) and of each review that moved (``review.status_changed``),
    and send ``case_decided``. Raises ApplicationError: ``note_required``,
    ``invalid_decision``, ``case_already_decided`` (409; the status moves with a
    guarded UPDATE, so of two moderators deciding at once exactly one wins),
    ``case_under_appeal`` (409: an open appeal is decided by ``appeal_decide``).

    ``review_decisions`` (review id -> confirmed|dismissed) decides reviews one
    by one: each gets its own decision's effect (reviews not named follow
    ``decision``), only the confirmed ones' reviewers are flagged, and the case
    is confirmed when any review is, dismissed otherwise.
    """
    note = _validate_decision(decision, note)
    review_decisions = _validate_review_decisions(decision, review_decisions)
    effect = DECISION_EFFECTS[decision]
    if Appeal.objects.filter(case_id=case.pk, status=Appeal.Status.OPEN).exists():
        raise ApplicationError(
            "case_under_appeal",
            f"Case #{case.pk} is under appeal: a senior moderator decides the appeal.",
            status=409,
        )
    with transaction.atomic():
        now = timezone.now()
        moved = Case.objects.filter(pk=case.pk, status=Case.Status.OPEN).update(
            status=decision, decided_at=now, decided_by=actor, decision_note=note, updated_at=now
        )
        if not moved:
            current = Case.objects.filter(pk=case.pk).values_list("status", flat=True).first()
            raise ApplicationError(
                "case_already_decided",
                f"Case #{case.pk} is already {current or 'gone'}; it cannot be decided again.",
                status=409,
            )
        case.refresh_from_db()
        reviews = list(case.reviews.select_related("partner").order_by("id"))
        features = decision_features(case, reviews)
        per_review = {r.id: (review_decisions or {}).get(r.id, decision) for r in reviews}
        flagged: list[int] = []
        if effect.flags_reviewers:
            if review_decisions:
                reviewer_ids = {r.reviewer_id for r in reviews
                                if per_review[r.id] == Decision.CONFIRMED}
            else:
                reviewer_ids = set(case.reviewers.values_list("id", flat=True))
                reviewer_ids |= {r.reviewer_id for r in reviews}
            flagged = reviewers_flag(reviewer_ids=reviewer_ids)
        # A doubled call stops at the guarded UPDATE above, so a fresh token per
        # decision is enough to tell partners of each move exactly once.
        token = uuid.uuid4().hex
        moved: dict[int, tuple[str, str]] = {}
        for each in Decision.ALL:
            ids = [rid for rid, chosen in per_review.items() if chosen == each]
            if ids:
                moved.update(reviews_apply_decision(
                    review_ids=ids, status=DECISION_EFFECTS[each].review_status,
                    allowed_from=DECISION_EFFECTS[each].from_statuses, case_id=case.pk,
                    decision_token=token,
                ))
        after = {"status": decision,
                 "reviews": {str(k): v[1] for k, v in sorted(moved.items())},
                 "reviewers_flagged": flagged}
        if review_decisions:
            after["review_decisions"] = {str(k): v for k, v in sorted(per_review.items())}
        event = CaseEvent.objects.create(
            case=case,
            actor=actor,
            action=decision,
            before={"status": Case.Status.OPEN,
                    "reviews": {str(k): v[0] for k, v in sorted(moved.items())}},
            after=after,
            note=note,
        )
        DecisionLabel.objects.create(
            case=case, kind=case.kind, label=decision, features=features, decided_by=actor
        )

        # One decision, one event id: the dedupe keys make a retried or doubled
        # call emit nothing more (and a later decision of a reopened case is new).
        partners = list(case.partners.all())
        for partner in partners:
            webhook_emit(
                partner=partner,
                event="case.decided",
                data={**case_payload(case, partner=partner, shared=len(partners) > 1),
                      "decision": decision,
                      "decided_at": now.isoformat()},
                dedupe_key=f"case.decided:{case.pk}:{event.pk}:{partner.pk}",
            )
        case_decided.send(sender=Case, case=case, decision=decision, actor=actor, note=note)

    return DecisionOutcome(
        case=case,
        decision=decision,
        event=event,
        reviews_moved=moved,
        reviewers_flagged=tuple(flagged),
    )


@dataclass(frozen=True)
class BulkDecision:
    decided: tuple[DecisionOutcome, ...]
    skipped: tuple[int, ...]  # ids of cases that were no longer open


def cases_decide_bulk(*, cases: Iterable[Case], decision: str, actor, note: str) -> BulkDecision:
    """Decide many cases with one note; each case in its own transaction.

    Cases already decided (perhaps by someone else meanwhile) are skipped and
    reported, not an error: the rest still apply.
    """
    note = _validate_decision(decision, note)
    decided: list[DecisionOutcome] = []
    skipped: list[int] = []
    for case in cases:
        try:
            decided.append(case_decide(case=case, decision=decision, actor=actor, note=note))
        except ApplicationError as exc:
            if exc.code != "case_already_decided":
                raise
            skipped.append(case.pk)
    return BulkDecision(tuple(decided), tuple(skipped))


# --- Assignment ------------------------------------------------------------------


@transaction.atomic
def case_assign(*, case: Case, assignee, actor) -> bool:
    """Assign an open case to ``assignee`` (None: unassign). True if it changed."""
    case = Case.objects.select_for_update(no_key=True).get(pk=case.pk)
    if case.status != Case.Status.OPEN:
        raise ApplicationError(
            "case_already_decided", f"Case #{case.pk} is {case.status}; only open cases are assigned.",
            status=409,
        )
    new_id = assignee.pk if assignee is not None else None
    if case.assigned_to_id == new_id:
        return False
    before = {"assigned_to": case.assigned_to_id}
    case.assigned_to = assignee
    case.save(update_fields=["assigned_to", "updated_at"])
    CaseEvent.objects.create(
        case=case, actor=actor, action="assigned", before=before, after={"assigned_to": new_id}
    )
    return True


# --- Appeals and per-review decisions (issue 12) ------------------------------------
#
# An appeal asks for a decision to be looked at again, once per subject (a removed
# review, a dismissed report). Filing reopens the case; a senior moderator who did
# not take the decision upholds or overturns it. Per-review decisions go through
# ``case_decide(review_decisions=...)`` above.

MAX_STATEMENT = 5000

#: The case status each kind of appeal contests.
APPEALABLE_STATUS = {
    Appeal.Kind.REVIEW_REMOVED: Case.Status.CONFIRMED,
    Appeal.Kind.REPORT_DISMISSED: Case.Status.DISMISSED,
}


def _clean_statement(statement: str) -> str:
    statement = (statement or "").strip()
    if not statement:
        raise ApplicationError("validation_error", _("Say why the decision is wrong."),
                               fields={"statement": [_("This field is required.")]})
    if len(statement) > MAX_STATEMENT:
        raise ApplicationError(
            "validation_error", _("The statement is too long."),
            fields={"statement": [_("At most %(n)s characters.") % {"n": MAX_STATEMENT}]})
    return statement


@transaction.atomic
def appeal_file(*, case: Case, kind: str, subject: str, statement: str,
                review: Review | None = None, partner=None, filed_by=None) -> Appeal:
    """File the one appeal of ``subject`` against the case's decision and reopen the case.

    Raises ApplicationError: ``validation_error`` (empty or long statement),
    ``appeal_exists`` (409: this subject was appealed already),
    ``appeal_not_allowed`` (409: the case's decision is not the one this kind
    of appeal contests). A second appeal on a case already reopened by one
    joins it.
    """
    statement = _clean_statement(statement)
    case = Case.objects.select_for_update(no_key=True).get(pk=case.pk)
    if Appeal.objects.filter(subject=subject).exists():
        raise ApplicationError("appeal_exists", _("This decision was already appealed."),
                               status=409)
    pending = Appeal.objects.filter(case=case, status=Appeal.Status.OPEN).first()
    contested = pending.previous_status if pending else case.status
    if contested != APPEALABLE_STATUS[kind]:
        raise ApplicationError("appeal_not_allowed",
                               _("There is no decision of this kind to appeal."), status=409)
    appeal = Appeal.objects.create(
        case=case, kind=kind, subject=subject, review=review, partner=partner,
        filed_by=filed_by, statement=statement, previous_status=contested,
        previous_decided_by=pending.previous_decided_by if pending else case.decided_by,
    )
    before = {"status": case.status, "decided_by": case.decided_by_id}
    if case.status != Case.Status.OPEN:
        case.status = Case.Status.OPEN
        case.assigned_to = None
        case.save(update_fields=["status", "assigned_to", "updated_at"])
    CaseEvent.objects.create(
        case=case, actor=filed_by, action="appealed", before=before,
        after={"status": case.status, "appeal": appeal.pk, "kind": kind, "subject": subject},
        note=statement[:2000],
    )
    return appeal


def review_appeal_file(*, review: Review, statement: str, partner) -> Appeal:
    """The author of a removed review appeals (relayed by the review's partner)."""
    case = case_that_removed(review=review)
    if case is None:
        raise ApplicationError("appeal_not_allowed",
                               _("Only a review removed by a moderator's decision may be "
                                 "appealed."), status=409)
    return appeal_file(case=case, kind=Appeal.Kind.REVIEW_REMOVED, subject=f"review:{review.pk}",
                       statement=statement, review=review, partner=partner)


class AppealOutcome:
    UPHELD = Appeal.Status.UPHELD.value
    OVERTURNED = Appeal.Status.OVERTURNED.value
    ALL = (UPHELD, OVERTURNED)


def can_decide_appeal(*, appeal: Appeal, user) -> bool:
    """A senior moderator who did not take the decision under appeal."""
    return (user.has_perm("cases.decide_appeal")
            and appeal.previous_decided_by_id != user.pk)


def appeal_decide(*, appeal: Appeal, actor, outcome: str, note: str) -> Appeal:
    """Uphold or overturn an appeal and apply it.

    Overturning a removed review publishes it again; overturning a dismissed
    report confirms the case (its reviews removed, reviewers flagged). Once no
    appeal of the case is left open the case takes its final status, a
    CaseEvent records it, every partner hears ``case.decided`` again (with the
    appeal's outcome) and ``appeal_decided`` is sent. Raises ApplicationError:
    ``invalid_decision``, ``note_required``, ``appeal_not_yours`` (403: a senior
    moderator other than the decider), ``appeal_already_decided`` (409).
    """
    if outcome not in AppealOutcome.ALL:
        raise ApplicationError("invalid_decision",
                               f"An appeal outcome is one of {', '.join(AppealOutcome.ALL)}.")
    note = (note or "").strip()
    if not note:
        raise ApplicationError("note_required", "Say why: a decision needs a note.",
                               fields={"note": ["This field is required."]})
    if not can_decide_appeal(appeal=appeal, user=actor):
        raise ApplicationError(
            "appeal_not_yours",
            "An appeal is decided by a senior moderator other than the one who decided.",
            status=403)
    with transaction.atomic():
        now = timezone.now()
        claimed = Appeal.objects.filter(pk=appeal.pk, status=Appeal.Status.OPEN).update(
            status=outcome, decided_at=now, decided_by=actor, decision_note=note)
        if not claimed:
            raise ApplicationError("appeal_already_decided",
                                   f"Appeal #{appeal.pk} is already decided.", status=409)
        appeal.refresh_from_db()
        case = Case.objects.select_for_update(no_key=True).get(pk=appeal.case_id)
        final_status, moved, flagged = appeal.previous_status, {}, []
        if outcome == AppealOutcome.OVERTURNED:
            final_status, moved, flagged = _overturn(appeal, case)
        before = {"status": case.status, "appeal": appeal.pk}
        if not Appeal.objects.filter(case=case, status=Appeal.Status.OPEN).exists():
            case.status, case.decided_at, case.decided_by = final_status, now, actor
            case.decision_note = note
            case.save(update_fields=["status", "decided_at", "decided_by", "decision_note",
                                     "updated_at"])
        event = CaseEvent.objects.create(
            case=case, actor=actor, action=f"appeal_{outcome}", before=before,
            after={"status": case.status, "outcome": outcome,
                   "reviews": {str(k): v[1] for k, v in sorted(moved.items())},
                   "reviewers_flagged": flagged},
            note=note,
        )
        appeal_summary = {"id": appeal.pk, "kind": appeal.kind, "outcome": outcome,
                          "review": appeal.review.external_id if appeal.review_id else None}
        partners = list(case.partners.all())
        for partner in partners:
            webhook_emit(
                partner=partner, event="case.decided",
                data={**case_payload(case, partner=partner, shared=len(partners) > 1),
                      "decision": case.status,
                      "decided_at": now.isoformat(), "appeal": appeal_summary},
                dedupe_key=f"case.decided:{case.pk}:{event.pk}:{partner.pk}",
            )
        appeal_decided.send(sender=Appeal, appeal=appeal, case=case, outcome=outcome)
    return appeal


def _overturn(appeal: Appeal, case: Case) -> tuple[str, dict, list[int]]:
    """Apply an overturned appeal: (the case's final status, reviews moved, flagged)."""
    token = uuid.uuid4().hex
    if appeal.kind == Appeal.Kind.REVIEW_REMOVED:
        moved = reviews_apply_decision(
            review_ids=[appeal.review_id], status=Review.Status.PUBLISHED,
            allowed_from=(Review.Status.REMOVED,), case_id=case.pk, decision_token=token)
        return appeal.previous_status, moved, []
    effect = DECISION_EFFECTS[Decision.CONFIRMED]
    # The calibration set learns the corrected decision, not only the first one.
    DecisionLabel.objects.create(
        case=case, kind=case.kind, label=Decision.CONFIRMED, decided_by=appeal.decided_by,
        features=decision_features(case, list(case.reviews.order_by("id"))))
    reviews = list(case.reviews.values_list("id", "reviewer_id"))
    flagged = reviewers_flag(reviewer_ids={reviewer for _rid, reviewer in reviews})
    moved = reviews_apply_decision(
        review_ids=[rid for rid, _reviewer in reviews], status=effect.review_status,
        allowed_from=effect.from_statuses, case_id=case.pk, decision_token=token)
    return Case.Status.CONFIRMED, moved, flagged
