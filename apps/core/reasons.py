"""Reason codes -> human sentences, in the active language (gettext, EN/FR).

ml/ returns reasons as ``Reason(code, score, values)`` and never speaks a
language. They are stored as ``{"code", "score", "values"}`` (on reviews and
cases) and turned into sentences only when shown, through this one catalogue,
so the API, both webhooks, the admin and the portal say the same thing in the
reader's language. Every output has one shape: ``{"code", "score", "detail"}``.

Rows written before reasons carried values hold ready-made ``en``/``fr``
sentences; they are still rendered (in the closest language they have).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from django.utils import formats
from django.utils.translation import get_language, gettext, gettext_noop, ngettext

from ml.fusion import Reason

Values = Mapping[str, Any]


def _num(value: Any, places: int = 0) -> str:
    """A number written the reader's way ("2.9" in English, "2,9" in French)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    return formats.number_format(round(number, places), decimal_pos=places)


def _count(values: Values, key: str) -> int:
    try:
        return round(float(values.get(key, 0)))
    except (TypeError, ValueError):
        return 0


def _chance(log10p: Any) -> str:
    """A chance probability as "about 1 in 10^31" (never "1e-31")."""
    return gettext("about 1 in 10^%(power)s") % {"power": _count({"p": log10p}, "p")}


def _when(delay_days: Any) -> str:
    days = _count({"d": abs(float(delay_days or 0.0))}, "d")
    if float(delay_days or 0.0) >= 0:
        return ngettext("%(days)s day after the report", "%(days)s days after the report",
                        days) % {"days": days}
    return ngettext("%(days)s day before the report", "%(days)s days before the report",
                    days) % {"days": days}


_METHODS = {
    "email": lambda: gettext("e-mail address"),
    "booking_ref": lambda: gettext("booking reference"),
    "handle": lambda: gettext("reviewer handle"),
    "name": lambda: gettext("name"),
}

# Words for the behavioural features the anomaly ensemble explains.
_FEATURES = {
    "rating_deviation": lambda: gettext("distance from the establishment's usual rating"),
    "rating_extremity": lambda: gettext("extreme ratings"),
    "account_age_days": lambda: gettext("account age"),
    "reviewer_review_count": lambda: gettext("number of reviews"),
    "reviewer_establishment_count": lambda: gettext("number of establishments reviewed"),
    "reviewer_max_reviews_per_day": lambda: gettext("reviews written within 24 hours"),
    "first_review_of_account": lambda: gettext("first reviews of an account"),
    "establishment_review_count": lambda: gettext("size of the establishments reviewed"),
    "verified_stay": lambda: gettext("verified stays"),
    "email_shared_reviewers": lambda: gettext("accounts sharing the e-mail address"),
    "device_shared_reviewers": lambda: gettext("accounts sharing the device"),
    "ip_shared_reviewers": lambda: gettext("accounts sharing the IP address"),
    "ip24_shared_reviewers": lambda: gettext("accounts sharing the IP network"),
}


def _n(values: Values) -> dict:
    return {"count": _count(values, "value")}


def _scored(text: str) -> Callable[[Values], str]:
    """A sentence whose only value is a component's score in [0, 1] (``value``)."""
    return lambda v: gettext(text) % {"value": _num(v.get("value"), 2)}


def _pct(text: Callable[[], str]) -> Callable[[Values], str]:
    return lambda v: text() % {"pct": _num(v.get("pct"))}


def _anomaly_feature(v: Values) -> str:
    feature = str(v.get("feature", ""))
    words = _FEATURES.get(feature, lambda: feature.replace("_", " "))()
    if v.get("stat") == "max":
        text = gettext("Unusual %(feature)s (highest review): %(z)s robust standard deviations "
                       "from typical reviewers.")
    else:
        text = gettext("Unusual %(feature)s: %(z)s robust standard deviations from typical "
                       "reviewers.")
    return text % {"feature": words, "z": _num(v.get("z"), 1)}


#: code -> sentence in the active language, from the reason's values.
SENTENCES: dict[str, Callable[[Values], str]] = {
    # Per-review behavioural signals (ml/fusion.py); ``value`` is the raw signal.
    "new_account": lambda v: gettext(
        "The account was %(days)s days old when the review was written."
    ) % {"days": _num(v.get("value"), 1)},
    "first_review": lambda v: gettext("This is the first review written from this account."),
    "rating_deviation": lambda v: gettext(
        "The rating is %(stars)s stars away from the average of the establishment's other "
        "reviews."
    ) % {"stars": _num(v.get("value"), 1)},
    "review_burst": lambda v: ngettext(
        "The reviewer wrote %(count)s review within 24 hours.",
        "The reviewer wrote %(count)s reviews within 24 hours.",
        _count(v, "value"),
    ) % {"count": _count(v, "value")},
    "unverified_stay": lambda v: gettext("No booking reference was given for this review."),
    "shared_email": lambda v: ngettext(
        "The e-mail address is shared with %(count)s other reviewer account.",
        "The e-mail address is shared with %(count)s other reviewer accounts.",
        _count(v, "value"),
    ) % _n(v),
    "shared_device": lambda v: ngettext(
        "The device is shared with %(count)s other reviewer account.",
        "The device is shared with %(count)s other reviewer accounts.",
        _count(v, "value"),
    ) % _n(v),
    "shared_ip": lambda v: ngettext(
        "The IP address is shared with %(count)s other reviewer account.",
        "The IP address is shared with %(count)s other reviewer accounts.",
        _count(v, "value"),
    ) % _n(v),
    "shared_ip24": lambda v: ngettext(
        "The IP network (/24) is shared with %(count)s other reviewer account.",
        "The IP network (/24) is shared with %(count)s other reviewer accounts.",
        _count(v, "value"),
    ) % _n(v),
    # Components fused through ``extra`` (``value`` is a score in [0, 1]).
    "extortion_report": _scored(gettext_noop(
        "The review is linked to a threat report filed by the establishment (strength %(value)s)."
    )),
    "extortion_text": _scored(gettext_noop(
        "The text contains demand-and-threat language (strength %(value)s)."
    )),
    "near_duplicate_text": _scored(gettext_noop(
        "The text nearly duplicates another reviewer's review (similarity %(value)s)."
    )),
    "ring_member": _scored(gettext_noop(
        "The reviewer belongs to a suspected ring of coordinated accounts (strength %(value)s)."
    )),
    "review_bombing": _scored(gettext_noop(
        "The review is part of a coordinated burst against the establishment "
        "(strength %(value)s)."
    )),
    "anomaly_rank": _scored(gettext_noop(
        "The reviewer's behaviour is unusual compared with other reviewers (rank %(value)s)."
    )),
    # Bursts (ml/bursts.py).
    "burst_detected": lambda v: (ngettext(
        "%(count)s positive review within %(window)s days, against a usual %(expected)s "
        "(chance probability %(chance)s).",
        "%(count)s positive reviews within %(window)s days, against a usual %(expected)s "
        "(chance probability %(chance)s).",
        _count(v, "count"),
    ) if v.get("positive") else ngettext(
        "%(count)s negative review within %(window)s days, against a usual %(expected)s "
        "(chance probability %(chance)s).",
        "%(count)s negative reviews within %(window)s days, against a usual %(expected)s "
        "(chance probability %(chance)s).",
        _count(v, "count"),
    )) % {"count": _count(v, "count"), "window": _num(v.get("window")),
          "expected": _num(v.get("expected"), 2), "chance": _chance(v.get("log10p"))},
    "burst_new_accounts": lambda v: gettext(
        "%(pct)s%% of the burst's accounts were less than %(days)s days old."
    ) % {"pct": _num(v.get("pct")), "days": _num(v.get("days"))},
    "burst_unverified": _pct(lambda: gettext("%(pct)s%% of the burst's reviews have no "
                                             "verified stay.")),
    "burst_shared_infrastructure": _pct(lambda: gettext(
        "%(pct)s%% of the burst's accounts share an e-mail address, a device or an IP network "
        "with another of them.")),
    "burst_similar_text": _pct(lambda: gettext(
        "%(pct)s%% of the burst's reviews nearly duplicate another review of the burst.")),
    "burst_one_shot_accounts": _pct(lambda: gettext(
        "%(pct)s%% of the burst's accounts wrote no other review.")),
    "burst_organic": lambda v: gettext(
        "The burst comes mostly from established reviewers with diverse texts: genuine "
        "enthusiasm, shown as information, not as fraud.") if v.get("positive") else gettext(
        "The burst comes mostly from established reviewers with diverse texts: organic "
        "outrage, shown as information, not as fraud."),
    "burst_suspected": lambda v: ngettext(
        "%(members)s account of the burst, without a review on the platform %(days)s days "
        "earlier, shares a network or device that the establishment's other guests do not "
        "use, with nothing else coordinated: left published for a moderator to check.",
        "%(members)s accounts of the burst, without a review on the platform %(days)s days "
        "earlier, share networks or devices that the establishment's other guests do not "
        "use, with nothing else coordinated: left published for a moderator to check.",
        _count(v, "members"),
    ) % {"members": _count(v, "members"), "days": _num(v.get("days"))},
    # Rings (ml/rings.py).
    "ring_shared_email": lambda v: gettext(
        "%(members)s member accounts share an e-mail address with another member."
    ) % {"members": _count(v, "members")},
    "ring_shared_device": lambda v: gettext(
        "%(members)s member accounts share a device with another member."
    ) % {"members": _count(v, "members")},
    "ring_shared_ip": lambda v: gettext(
        "%(members)s member accounts share an IP address or an IP network (/24) with another "
        "member."
    ) % {"members": _count(v, "members")},
    "ring_lockstep": lambda v: gettext(
        "%(pairs)s pairs of members reviewed the same establishments within %(window)s days of "
        "each other (up to %(most)s establishments; chance probability %(chance)s)."
    ) % {"pairs": _count(v, "pairs"), "window": _num(v.get("window")),
         "most": _count(v, "most"), "chance": _chance(v.get("log10p"))},
    "ring_near_duplicate_text": lambda v: gettext(
        "%(pairs)s pairs of members wrote near-identical review texts."
    ) % {"pairs": _count(v, "pairs")},
    "ring_dense_block": lambda v: gettext(
        "The %(members)s members wrote %(reviews)s reviews of the same %(establishments)s "
        "establishments, %(lift)s times what chance predicts for accounts this active."
    ) % {"members": _count(v, "members"), "reviews": _count(v, "reviews"),
         "establishments": _count(v, "establishments"), "lift": _num(v.get("lift"))},
    "ring_new_accounts": lambda v: gettext(
        "%(new)s of the %(members)s accounts were less than %(days)s days old at their first "
        "review."
    ) % {"new": _count(v, "new"), "members": _count(v, "members"), "days": _num(v.get("days"))},
    # Extortion (ml/extortion.py).
    "report_identity_match": lambda v: gettext(
        "The reviewer is the guest named in a threat report (matched by %(methods)s); the review "
        "was written %(when)s."
    ) % {"methods": ", ".join(_METHODS.get(m, lambda m=m: m)() for m in v.get("methods", ())),
         "when": _when(v.get("delay_days"))},
    "report_name_match": lambda v: gettext(
        "The reviewer's name resembles the guest named in a threat report (%(similarity)s/100); "
        "the review was written %(when)s."
    ) % {"similarity": _num(v.get("similarity")), "when": _when(v.get("delay_days"))},
    "low_rating_after_demand": lambda v: ngettext(
        "The review gives %(rating)s star after the establishment turned down a demand.",
        "The review gives %(rating)s stars after the establishment turned down a demand.",
        _count(v, "rating"),
    ) % {"rating": _count(v, "rating")},
    "threat_in_report": lambda v: gettext(
        "The reported message contains demand-and-threat language."),
    "threat_in_review": lambda v: gettext(
        "The review itself contains demand-and-threat language."),
    "audience_in_review": lambda v: gettext(
        "The review brandishes the writer's audience as leverage."),
    "serial_extortionist": lambda v: ngettext(
        "The same guest was reported for threats by %(establishments)s establishments "
        "(%(partners)s partner).",
        "The same guest was reported for threats by %(establishments)s establishments "
        "(%(partners)s partners).",
        _count(v, "partners"),
    ) % {"establishments": _count(v, "establishments"), "partners": _count(v, "partners")},
    "low_credibility_report": lambda v: gettext(
        "The report comes from an owner whose past reports were mostly dismissed (credibility "
        "%(credibility)s); it holds nothing on its own."
    ) % {"credibility": _num(v.get("credibility"), 2)},
    # Why a review linked to a threat report was, or was not, held (ml/extortion.py).
    "held_threat_in_review": lambda v: gettext(
        "Held: the review itself demands or threatens, whatever the report says."),
    "held_corroborated_report": lambda v: gettext(
        "Held: evidence the owner cannot make up corroborates the report (corroboration "
        "%(value)s)."
    ) % {"value": _num(v.get("corroboration"), 2)},
    "not_held_uncorroborated_report": lambda v: gettext(
        "Not held: nothing but the owner's word supports the report; a moderator will look "
        "at the case."),
    "not_held_discredited_owner": lambda v: gettext(
        "Not held: this owner's reports keep being dismissed (credibility %(value)s)."
    ) % {"value": _num(v.get("credibility"), 2)},
    "not_held_rating": lambda v: gettext(
        "Not held: the linked review's rating is not low enough to be the threatened one."),
    "not_held_weak_link": lambda v: gettext(
        "Not held: the link between the report and the review is too weak."),
    "review_threat": lambda v: gettext("The review itself demands or threatens."),
    "serial_guest": lambda v: gettext("Other establishments reported the same guest."),
    "owner_track_record": lambda v: gettext(
        "Moderators confirmed this owner's earlier reports."),
    "identity_and_timing": lambda v: gettext(
        "The reported guest's identifiers match exactly and the review came days after the "
        "threat."),
    "name_and_timing": lambda v: gettext(
        "The reported guest's name matches almost exactly and the review came days after "
        "the threat."),
    "stay_not_verified": lambda v: gettext(
        "The report names a booking, and the guest's review carries none."),
    "account_after_threat": lambda v: gettext(
        "The reviewer's account was created after the reported threat."),
    # Extortion cues in a text (ml/text.py); ``quote`` is the matched words.
    "demand_with_threat": lambda v: gettext(
        "A demand followed by a threat of a bad review if it is not met: “%(quote)s”."
    ) % {"quote": v.get("quote", "")},
    "conditional_threat": lambda v: gettext(
        "A bad review is made conditional on compensation: “%(quote)s”."
    ) % {"quote": v.get("quote", "")},
    "review_as_leverage": lambda v: gettext(
        "Removing or changing the review is offered in exchange for compensation: “%(quote)s”."
    ) % {"quote": v.get("quote", "")},
    "audience_leverage": lambda v: gettext(
        "The writer uses the size of their audience as leverage: “%(quote)s”."
    ) % {"quote": v.get("quote", "")},
}


def _language() -> str:
    return "fr" if (get_language() or "en").startswith("fr") else "en"


def reason_sentence(record: Mapping[str, Any]) -> str:
    """The sentence of one stored reason, in the active language."""
    code = str(record.get("code", ""))
    values = record.get("values")
    if values is None and ("en" in record or "fr" in record):  # written before values existed
        return record.get(_language()) or record.get("en") or code
    values = values or {}
    sentence = SENTENCES.get(code)
    if sentence is None and code.startswith("anomaly_") and "feature" in values:
        sentence = _anomaly_feature
    if sentence is None:
        return gettext("Detector “%(name)s” flagged this (strength %(value)s).") % {
            "name": code, "value": _num(record.get("score", 0.0), 2)}
    try:
        return sentence(values)
    except (KeyError, TypeError, ValueError):  # a malformed stored value never breaks a page
        return code


def reason_record(reason: Reason) -> dict:
    """How a reason is stored: ``{"code", "score", "values"}`` (JSON-safe)."""
    return {"code": reason.code, "score": round(float(reason.score), 4),
            "values": _json_safe(reason.values)}


def reason_records(reasons: Iterable[Reason]) -> list[dict]:
    return [reason_record(r) for r in reasons]


def reasons_payload(records: Iterable[Mapping[str, Any]]) -> list[dict]:
    """The one output shape of reasons (API and webhooks), in the active language."""
    return [
        {"code": r.get("code", ""), "score": r.get("score"), "detail": reason_sentence(r)}
        for r in records
    ]


def merge_reason_records(*lists: Iterable[Mapping[str, Any]]) -> list[dict]:
    """One record per code, in order of first appearance (give the lists in order
    of importance, each strongest first); a later, stronger record of a code
    replaces the earlier one in place."""
    merged: dict[str, dict] = {}
    for records in lists:
        for r in records:
            code = r["code"]
            if code not in merged or (r.get("score") or 0) > (merged[code].get("score") or 0):
                merged[code] = dict(r)
    return list(merged.values())


def _json_safe(values: Mapping[str, Any]) -> dict:
    out: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, (list, tuple)):
            out[key] = [_json_safe({"v": v})["v"] for v in value]
        elif hasattr(value, "item"):  # numpy scalars
            out[key] = value.item()
        else:
            out[key] = value
        if isinstance(out[key], float):
            out[key] = round(out[key], 4)
    return out
