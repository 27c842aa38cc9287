"""API v1: a partner lists its own webhook deliveries and re-drives the failed ones."""

from __future__ import annotations

import pytest
from django.utils import timezone

from apps.partners.models import WebhookAttempt, WebhookDelivery

pytestmark = pytest.mark.django_db
URL = "/api/v1/webhook-deliveries/"


def _delivery(partner, status=WebhookDelivery.Status.FAILED, event="case.opened",
              attempts=13) -> WebhookDelivery:
    delivery = WebhookDelivery.objects.create(
        partner=partner, event=event, dedupe_key=f"k-{WebhookDelivery.objects.count()}",
        payload={"id": 1}, status=status, attempts=attempts)
    return delivery


@pytest.fixture(autouse=True)
def _no_broker(monkeypatch):
    """Re-driving enqueues a delivery attempt after commit; nothing leaves the process."""
    from apps.partners import tasks

    sent: list[int] = []
    monkeypatch.setattr(tasks.deliver_webhook, "delay", sent.append)
    return sent


def test_a_partner_lists_its_own_deliveries(api, partner_api):
    mine = _delivery(partner_api.partner)
    ids = [d["id"] for d in api.get(URL).json()["results"]]
    assert ids == [mine.pk]


def test_a_partner_does_not_list_another_partners_deliveries(api, other_partner_api):
    _delivery(other_partner_api.partner)
    assert api.get(URL).json()["results"] == []


def test_the_list_filters_by_status(api, partner_api):
    failed = _delivery(partner_api.partner)
    _delivery(partner_api.partner, status=WebhookDelivery.Status.DELIVERED)
    ids = [d["id"] for d in api.get(URL, {"status": "failed"}).json()["results"]]
    assert ids == [failed.pk]


def test_the_list_is_cursor_paginated(api, partner_api):
    for _ in range(3):
        _delivery(partner_api.partner)
    body = api.get(URL, {"page_size": 2}).json()
    assert len(body["results"]) == 2 and "cursor=" in body["next"]


def test_a_delivery_shows_its_last_attempt(api, partner_api):
    delivery = _delivery(partner_api.partner)
    WebhookAttempt.objects.create(delivery=delivery, number=12, status_code=500, error="")
    WebhookAttempt.objects.create(delivery=delivery, number=13, error="deadline exceeded")
    last = api.get(f"{URL}{delivery.pk}/").json()["last_attempt"]
    assert (last["status_code"], last["error"]) == (None, "deadline exceeded")


def test_another_partners_delivery_answers_404(api, other_partner_api):
    theirs = _delivery(other_partner_api.partner)
    assert api.get(f"{URL}{theirs.pk}/").status_code == 404


def test_redeliver_makes_a_failed_delivery_pending_again(api, partner_api, _no_broker,
                                                         django_capture_on_commit_callbacks):
    delivery = _delivery(partner_api.partner)
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(f"{URL}{delivery.pk}/redeliver/")
    assert (response.status_code, response.json()["status"]) == (202, "pending")


def test_redeliver_enqueues_an_attempt_now(api, partner_api, _no_broker,
                                           django_capture_on_commit_callbacks):
    delivery = _delivery(partner_api.partner)
    with django_capture_on_commit_callbacks(execute=True):
        api.post(f"{URL}{delivery.pk}/redeliver/")
    delivery.refresh_from_db()
    assert _no_broker == [delivery.pk] and delivery.next_attempt_at <= timezone.now()


def test_another_partner_cannot_redeliver_a_delivery(api, other_partner_api):
    theirs = _delivery(other_partner_api.partner)
    assert api.post(f"{URL}{theirs.pk}/redeliver/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == WebhookDelivery.Status.FAILED


@pytest.mark.parametrize("status", [WebhookDelivery.Status.PENDING,
                                    WebhookDelivery.Status.DELIVERED])
def test_redeliver_refuses_a_delivery_that_has_not_failed(api, partner_api, status):
    delivery = _delivery(partner_api.partner, status=status)
    response = api.post(f"{URL}{delivery.pk}/redeliver/")
    assert (response.status_code, response.json()["error"]["code"]) == (409,
                                                                       "delivery_not_failed")


def test_redeliver_all_redrives_only_the_partners_failed_deliveries(api, partner_api,
                                                                    other_partner_api):
    failed = _delivery(partner_api.partner)
    delivered = _delivery(partner_api.partner, status=WebhookDelivery.Status.DELIVERED)
    theirs = _delivery(other_partner_api.partner)
    response = api.post(f"{URL}redeliver/")
    assert (response.status_code, response.json()) == (202, {"redriven": 1,
                                                             "remaining_failed": 0})
    statuses = dict(WebhookDelivery.objects.values_list("id", "status"))
    assert (statuses[failed.pk], statuses[delivered.pk], statuses[theirs.pk]) == (
        "pending", "delivered", "failed")


def test_redeliver_all_is_bounded_and_says_how_many_are_left(api, partner_api, monkeypatch):
    monkeypatch.setattr("apps.partners.services.REDELIVER_MAX", 2)
    for _ in range(3):
        _delivery(partner_api.partner)
    assert api.post(f"{URL}redeliver/").json() == {"redriven": 2, "remaining_failed": 1}


def test_the_endpoints_are_in_the_schema(api):
    schema = api.get("/api/v1/schema/", HTTP_ACCEPT="application/json").json()
    assert {"/api/v1/webhook-deliveries/", "/api/v1/webhook-deliveries/{id}/",
            "/api/v1/webhook-deliveries/{id}/redeliver/",
            "/api/v1/webhook-deliveries/redeliver/"} <= set(schema["paths"])
