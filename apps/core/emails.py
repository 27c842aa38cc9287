"""Transactional e-mail: rendered from templates in the recipient's language, sent by a task.

A message is described by JSON-safe values (address, template name, context,
language) so that it can travel to a worker; ``email_schedule`` hands it over
after the surrounding transaction commits, so nobody is told of something that
was rolled back. Each template name ``X`` has ``X_subject.txt`` and ``X.txt``.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import translation

logger = logging.getLogger(__name__)


def email_render(*, template: str, context: dict, language: str) -> tuple[str, str]:
    """(subject, body) of a message in ``language``."""
    context = {**context, "base_url": settings.PUBLIC_BASE_URL}
    with translation.override(language):
        subject = render_to_string(f"{template}_subject.txt", context)
        body = render_to_string(f"{template}.txt", context)
    return " ".join(subject.split()), body


def email_send(*, to: str, template: str, context: dict, language: str) -> None:
    """Render and send one message now, through the configured e-mail backend."""
    subject, body = email_render(template=template, context=context, language=language)
    EmailMultiAlternatives(subject=subject, body=body, to=[to],
                           from_email=settings.DEFAULT_FROM_EMAIL).send()


def email_schedule(*, to: str, template: str, context: dict, language: str) -> None:
    """Send after commit, through the ``emails.send`` task."""

    def enqueue() -> None:
        from .tasks import email_send_task

        try:
            email_send_task.delay(to, template, context, language)
        except Exception:
            logger.warning("broker unavailable; e-mail %s to %s not sent", template, to,
                           exc_info=True)

    transaction.on_commit(enqueue, robust=True)
