"""Settle threat reports when a moderator decides their extortion case."""

from django.dispatch import receiver

from apps.cases.models import Appeal, Case
from apps.cases.signals import appeal_decided, case_decided

from .services import report_appeal_settle, reports_settle


@receiver(case_decided, sender=Case, dispatch_uid="reports_settle_on_case_decided")
def settle_reports(sender, *, case: Case, decision: str, **kwargs) -> None:
    if case.kind == Case.Kind.EXTORTION:
        reports_settle(case=case, decision=decision)


@receiver(appeal_decided, sender=Appeal, dispatch_uid="reports_settle_on_appeal_decided")
def settle_appealed_report(sender, *, appeal: Appeal, outcome: str, **kwargs) -> None:
    if appeal.kind == Appeal.Kind.REPORT_DISMISSED:
        report_appeal_settle(appeal=appeal, outcome=outcome)
