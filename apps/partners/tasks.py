"""Webhook delivery tasks: one attempt per run; failures come back by countdown.

Stable names (``webhooks.*``) so that settings can route them to a queue of
their own, apart from scoring.
"""

from celery import shared_task

from .models import WebhookDelivery
from .selectors import webhook_deliveries_due
from .services import webhook_attempt


@shared_task(name="webhooks.deliver", acks_late=True, ignore_result=True)
def deliver_webhook(delivery_id: int) -> None:
    delivery = webhook_attempt(delivery_id=delivery_id)
    if (
        delivery is not None
        and delivery.status == WebhookDelivery.Status.PENDING
        and delivery.next_attempt_at
    ):
        deliver_webhook.apply_async((delivery_id,), eta=delivery.next_attempt_at)


@shared_task(name="webhooks.sweep_due", ignore_result=True)
def sweep_due_webhooks() -> int:
    """Re-enqueue deliveries whose retry is due (their message may have been lost)."""
    ids = list(webhook_deliveries_due().values_list("id", flat=True)[:1000])
    for delivery_id in ids:
        deliver_webhook.delay(delivery_id)
    return len(ids)
