"""Webhook attempts under hostile receivers: a total deadline, no redirects, long
retries ending in a visible `failed` state, re-drive, and public https URLs only.

Receivers are real HTTP servers on 127.0.0.1 (so these tests allow private URLs,
as local development does, except where the URL check itself is tested).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.utils import timezone

from apps.core.exceptions import ApplicationError
from apps.partners.models import WebhookDelivery
from apps.partners.services import partner_create, webhook_attempt, webhook_redeliver
from apps.partners.tasks import deliver_webhook, sweep_due_webhooks
from apps.partners.webhooks import UrlRefused, resolve_webhook_url
from tests.factories import PartnerFactory
from tests.factories_cases import UserFactory, moderator, senior_moderator

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _local_development(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = True
    settings.WEBHOOK_TIMEOUT_SECONDS = 1.5
    settings.WEBHOOK_RETRY_SCHEDULE = [60, 120]


class Receiver:
    """A local HTTP server whose every POST is answered by ``respond(handler)``."""

    def __init__(self, respond: Callable[[BaseHTTPRequestHandler], None]) -> None:
        self.hits = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                receiver.hits += 1
                self.rfile.read(int(self.headers["Content-Length"]))
                respond(self)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def __enter__(self) -> Receiver:
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


def answer(status: int, **headers: str) -> Callable[[BaseHTTPRequestHandler], None]:
    def respond(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(status)
        for name, value in headers.items():
            handler.send_header(name, value)
        handler.end_headers()

    return respond


def slow_drip(handler: BaseHTTPRequestHandler) -> None:
    """One byte of a status line every 0.3 s, for up to a minute."""
    try:
        for byte in b"HTTP/1.1 200 OK\r\n" * 20:
            handler.wfile.write(bytes([byte]))
            handler.wfile.flush()
            time.sleep(0.3)
    except OSError:
        pass  # the client hung up, as it should


def _delivery(url: str) -> WebhookDelivery:
    partner = PartnerFactory(webhook_url=url, webhook_secret="whsec-test")
    return WebhookDelivery.objects.create(
        partner=partner, event="case.opened", dedupe_key=f"test:{partner.pk}",
        payload={"event": "case.opened", "data": {}}, next_attempt_at=timezone.now(),
    )


def _when_due(delivery: WebhookDelivery) -> WebhookDelivery:
    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
    return webhook_attempt(delivery_id=delivery.pk)


# --- deadline and redirects ---------------------------------------------------------


def test_a_slow_drip_receiver_is_cut_off_at_the_total_deadline():
    with Receiver(slow_drip) as receiver:
        started = time.monotonic()
        webhook_attempt(delivery_id=_delivery(receiver.url).pk)
        elapsed = time.monotonic() - started
    assert elapsed < 3.0


def test_an_attempt_cut_off_at_the_deadline_is_recorded():
    with Receiver(slow_drip) as receiver:
        delivery = _delivery(receiver.url)
        webhook_attempt(delivery_id=delivery.pk)
    attempt = delivery.attempt_log.get()
    assert attempt.error.startswith("deadline exceeded")


def test_a_delivery_cut_off_at_the_deadline_is_retried_later():
    with Receiver(slow_drip) as receiver:
        after = webhook_attempt(delivery_id=_delivery(receiver.url).pk)
    assert after.status == "pending"
    assert after.next_attempt_at > timezone.now() + timedelta(seconds=50)


def test_a_redirect_is_not_followed():
    with Receiver(answer(204)) as target, Receiver(answer(302, Location=target.url)) as hop:
        webhook_attempt(delivery_id=_delivery(hop.url).pk)
    assert (hop.hits, target.hits) == (1, 0)


def test_a_redirect_counts_as_a_failed_attempt():
    with Receiver(answer(307, Location="https://elsewhere.example/")) as hop:
        delivery = _delivery(hop.url)
        after = webhook_attempt(delivery_id=delivery.pk)
    assert after.status == "pending"
    assert "redirects are not followed" in delivery.attempt_log.get().error


# --- retry schedule, failed state, re-drive ------------------------------------------


def test_the_first_retry_waits_the_first_delay_of_the_schedule():
    with Receiver(answer(503)) as receiver:
        after = webhook_attempt(delivery_id=_delivery(receiver.url).pk)
    wait = (after.next_attempt_at - timezone.now()).total_seconds()
    assert 55 <= wait <= 66  # 60 s plus at most 10% jitter


def test_a_delivery_is_failed_after_the_last_retry_of_the_schedule():
    with Receiver(answer(503)) as receiver:
        delivery = _delivery(receiver.url)
        states = [_when_due(delivery).status for _ in range(3)]
    assert states == ["pending", "pending", "failed"]


def test_the_default_schedule_keeps_retrying_for_hours():
    from reviewguard import settings as project_settings

    assert sum(project_settings.WEBHOOK_RETRY_SCHEDULE) >= 12 * 3600
    assert max(project_settings.WEBHOOK_RETRY_SCHEDULE) <= 6 * 3600


def _failed(url: str) -> WebhookDelivery:
    delivery = _delivery(url)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status=WebhookDelivery.Status.FAILED, attempts=3, next_attempt_at=None
    )
    return delivery


def test_redeliver_makes_a_failed_delivery_due_now():
    delivery = _failed("http://127.0.0.1:9/hooks")
    assert webhook_redeliver(delivery_ids=[delivery.pk]) == 1
    delivery.refresh_from_db()
    assert delivery.status == "pending"
    assert delivery.next_attempt_at <= timezone.now()


def test_a_redriven_delivery_is_delivered_when_the_receiver_is_back():
    with Receiver(answer(204)) as receiver:
        delivery = _failed(receiver.url)
        webhook_redeliver(delivery_ids=[delivery.pk])
        after = webhook_attempt(delivery_id=delivery.pk)
    assert (after.status, after.attempts) == ("delivered", 4)


def test_a_redriven_delivery_gets_the_whole_schedule_again():
    with Receiver(answer(503)) as receiver:
        delivery = _failed(receiver.url)
        webhook_redeliver(delivery_ids=[delivery.pk])
        states = [_when_due(delivery).status for _ in range(3)]
    assert states == ["pending", "pending", "failed"]


def test_redeliver_leaves_delivered_deliveries_alone():
    delivery = _delivery("http://127.0.0.1:9/hooks")
    WebhookDelivery.objects.filter(pk=delivery.pk).update(status=WebhookDelivery.Status.DELIVERED)
    assert webhook_redeliver(delivery_ids=[delivery.pk]) == 0


def _admin_redrive(user, delivery: WebhookDelivery):
    client = Client()
    client.force_login(user)
    return client.post("/admin/partners/webhookdelivery/", {
        "action": "redeliver", "_selected_action": [delivery.pk],
    })


def test_the_admin_action_redrives_for_a_user_with_the_permission():
    user = UserFactory()
    user.user_permissions.add(*Permission.objects.filter(
        codename__in=["view_webhookdelivery", "redeliver_webhookdelivery"]))
    delivery = _failed("http://127.0.0.1:9/hooks")
    _admin_redrive(user, delivery)
    delivery.refresh_from_db()
    assert delivery.status == "pending"


def test_the_admin_action_does_nothing_without_the_permission():
    user = UserFactory()
    user.user_permissions.add(Permission.objects.get(codename="view_webhookdelivery"))
    delivery = _failed("http://127.0.0.1:9/hooks")
    _admin_redrive(user, delivery)
    delivery.refresh_from_db()
    assert delivery.status == "failed"


def test_a_senior_moderator_redrives_through_the_admin_action_by_the_migrations_grant():
    delivery = _failed("http://127.0.0.1:9/hooks")
    _admin_redrive(senior_moderator(), delivery)
    delivery.refresh_from_db()
    assert delivery.status == "pending"


def test_a_moderator_without_the_grant_cannot_redrive_through_the_admin():
    delivery = _failed("http://127.0.0.1:9/hooks")
    _admin_redrive(moderator(), delivery)
    delivery.refresh_from_db()
    assert delivery.status == "failed"


def test_the_redeliver_grant_migration_is_reversible():
    import importlib

    from django.apps import apps as django_apps
    from django.contrib.auth.models import Group

    migration = importlib.import_module("apps.cases.migrations.0009_redeliver_webhook_permission")
    senior_moderator()  # the groups, with every grant
    migration.revoke_redeliver(django_apps, None)
    codenames = set(Group.objects.get(name="Senior moderators")
                    .permissions.values_list("codename", flat=True))
    assert "redeliver_webhookdelivery" not in codenames and "view_webhookdelivery" in codenames


# --- task names ----------------------------------------------------------------------


def test_delivery_tasks_have_stable_names():
    assert (deliver_webhook.name, sweep_due_webhooks.name) == (
        "webhooks.deliver", "webhooks.sweep_due")


# --- URL checks (production rules) ---------------------------------------------------


@pytest.mark.parametrize("url", [
    "https://127.0.0.1/hooks",
    "https://localhost/hooks",
    "https://[::1]/hooks",
    "https://[::ffff:127.0.0.1]/hooks",
    "https://169.254.169.254/latest/meta-data",
    "https://10.1.2.3/hooks",
    "https://192.168.0.10/hooks",
    "https://172.16.5.4/hooks",
    "https://100.64.0.1/hooks",
    "https://0.0.0.0/hooks",
    "http://93.184.216.34/hooks",
    "https://user:pw@93.184.216.34/hooks",
    "ftp://93.184.216.34/hooks",
])
def test_non_public_or_plain_http_webhook_urls_are_refused_in_production(settings, url):
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = False
    with pytest.raises(UrlRefused):
        resolve_webhook_url(url)


def test_a_public_https_webhook_url_is_accepted_in_production(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = False
    assert resolve_webhook_url("https://93.184.216.34/hooks")[2] == ["93.184.216.34"]


def test_a_loopback_webhook_url_is_accepted_when_private_urls_are_allowed():
    assert resolve_webhook_url("http://127.0.0.1:8080/hooks")[0] == "127.0.0.1"


def test_creating_a_partner_with_a_private_webhook_url_is_refused(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = False
    with pytest.raises(ApplicationError) as error:
        partner_create(name="acme", webhook_url="https://10.0.0.7/hooks")
    assert error.value.code == "invalid_webhook_url"


def test_a_stored_url_that_is_no_longer_allowed_is_not_called(settings):
    with Receiver(answer(204)) as receiver:
        delivery = _delivery(receiver.url)
        settings.WEBHOOK_ALLOW_PRIVATE_URLS = False
        webhook_attempt(delivery_id=delivery.pk)
    assert receiver.hits == 0
    assert delivery.attempt_log.get().error.startswith("refused")
