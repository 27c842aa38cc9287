"""Settle threat reports when a moderator decides their extortion case."""

from django.dispatch import receiver

from apps.cases.models import Case
from apps.cases.signals import case_decided

from .services import reports_settle


@receiver(case_decided, sender=Case, dispatch_uid="reports_settle_on_case_decided")
def settle_reports(sender, *, case: Case, decision: str, **kwargs) -> None:
    if case.kind == Case.Kind.EXTORTION:
        reports_settle(case=case, decision=decision)
