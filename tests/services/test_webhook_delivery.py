"""Webhook delivery against a real HTTP endpoint on 127.0.0.1: signed, retried, recorded."""

from __future__ import annotations

import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.utils import timezone

from apps.cases.services import case_decide
from apps.partners.models import WebhookDelivery
from apps.partners.services import SIGNATURE_HEADER, verify_signature, webhook_attempt
from tests.factories import PartnerFactory
from tests.factories_cases import moderator, ring_case

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _local_endpoints_allowed(settings):
    """The endpoints here are plain http on 127.0.0.1, as in local development."""
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = True


class Endpoint:
    """A partner's endpoint that answers 503 to the first ``failures`` requests."""

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.received: list[tuple[dict[str, str], bytes]] = []
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                endpoint.received.append((dict(self.headers), body))
                failing = len(endpoint.received) <= endpoint.failures
                self.send_response(503 if failing else 204)
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Endpoint:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


def _attempt_when_due(delivery: WebhookDelivery) -> WebhookDelivery:
    """One attempt, as the retry task makes it once the backoff has elapsed."""
    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
    return webhook_attempt(delivery_id=delivery.pk)


def _decided_delivery(url: str) -> WebhookDelivery:
    partner = PartnerFactory(webhook_url=url, webhook_secret="whsec-test-secret")
    case = ring_case(partner=partner, members=1, establishments=1)
    case_decide(case=case, decision="confirmed", actor=moderator(), note="Ring.")
    return WebhookDelivery.objects.get(event="case.decided")


def test_delivered_body_carries_a_verifiable_signature():
    with Endpoint() as endpoint:
        delivery = _decided_delivery(endpoint.url)
        webhook_attempt(delivery_id=delivery.pk)
    headers, body = endpoint.received[0]
    assert verify_signature(secret="whsec-test-secret", body=body, header=headers[SIGNATURE_HEADER])


def test_signature_does_not_verify_with_another_secret():
    with Endpoint() as endpoint:
        delivery = _decided_delivery(endpoint.url)
        webhook_attempt(delivery_id=delivery.pk)
    headers, body = endpoint.received[0]
    assert not verify_signature(secret="someone-else", body=body, header=headers[SIGNATURE_HEADER])


def test_failing_endpoint_is_retried_until_it_succeeds():
    with Endpoint(failures=2) as endpoint:
        delivery = _decided_delivery(endpoint.url)
        states = [_attempt_when_due(delivery).status for _ in range(3)]
    assert states == ["pending", "pending", "delivered"]
    assert len(endpoint.received) == 3


def test_every_attempt_is_recorded():
    with Endpoint(failures=1) as endpoint:
        delivery = _decided_delivery(endpoint.url)
        _attempt_when_due(delivery)
        _attempt_when_due(delivery)
    attempts = list(delivery.attempt_log.values_list("number", "status_code", "error"))
    assert attempts == [(1, 503, "HTTP 503"), (2, 204, "")]


def test_failed_attempt_schedules_a_retry():
    with Endpoint(failures=1) as endpoint:
        delivery = _decided_delivery(endpoint.url)
        after = webhook_attempt(delivery_id=delivery.pk)
    assert (after.status, after.attempts) == ("pending", 1)
    assert after.next_attempt_at is not None


def test_retry_is_not_made_before_it_is_due():
    with Endpoint(failures=1) as endpoint:
        delivery = _decided_delivery(endpoint.url)
        webhook_attempt(delivery_id=delivery.pk)
        later = timezone.now() + timedelta(hours=1)
        WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=later)
        early = webhook_attempt(delivery_id=delivery.pk)
    assert (early.attempts, len(endpoint.received)) == (1, 1)


def test_delivered_event_is_not_sent_again():
    with Endpoint() as endpoint:
        delivery = _decided_delivery(endpoint.url)
        _attempt_when_due(delivery)
        _attempt_when_due(delivery)
    assert len(endpoint.received) == 1


@pytest.mark.django_db
def test_a_delivery_whose_row_is_gone_is_dropped_quietly():
    from apps.partners.tasks import deliver_webhook

    assert deliver_webhook(987_654_321) is None
