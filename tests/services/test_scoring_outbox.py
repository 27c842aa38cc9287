"""A web process gathers its scoring publishes: one task per window, not one per POST."""

from __future__ import annotations

import threading
import time

import pytest

from apps.detection.outbox import Outbox
from apps.reviews.models import Review
from tests.factories import EstablishmentFactory, review_payload

URL = "/api/v1/reviews/"


class Recorder:
    """A publish function that remembers its calls and can be told to fail."""

    def __init__(self, fail_times: int = 0) -> None:
        self.calls: list[tuple[list[int], list[str]]] = []
        self.fail_times = fail_times
        self.called = threading.Event()

    def __call__(self, ids: list[int], tags: list[str]) -> None:
        if self.fail_times:
            self.fail_times -= 1
            self.called.set()
            raise ConnectionError("broker down")
        self.calls.append((list(ids), list(tags)))
        self.called.set()

    def wait(self, seconds: float = 5.0) -> None:
        assert self.called.wait(seconds), "nothing was published"
        self.called.clear()


def test_ids_handed_over_within_the_window_go_out_in_one_publish():
    publish = Recorder()
    outbox = Outbox(publish, window_s=0.2, max_ids=1000)
    threads = [threading.Thread(target=outbox.add, args=([i], f"req-{i}")) for i in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    publish.wait()
    assert len(publish.calls) == 1
    ids, tags = publish.calls[0]
    assert sorted(ids) == [0, 1, 2, 3, 4] and sorted(tags) == [f"req-{i}" for i in range(5)]


def test_a_full_outbox_publishes_without_waiting_for_the_window():
    publish = Recorder()
    outbox = Outbox(publish, window_s=60.0, max_ids=3)
    started = time.monotonic()
    outbox.add([1, 2])
    outbox.add([3])
    publish.wait()
    assert time.monotonic() - started < 5.0
    assert publish.calls == [([1, 2, 3], ["", ""])]


def test_a_failed_publish_is_left_to_the_sweep_and_the_next_one_goes_out(caplog):
    publish = Recorder(fail_times=1)
    outbox = Outbox(publish, window_s=0.01, max_ids=1000)
    outbox.add([1])
    publish.wait()
    outbox.add([2])
    publish.wait()
    assert publish.calls == [([2], [""])]
    assert "left to the sweep" in caplog.text


def test_flush_publishes_what_waits_in_the_calling_thread():
    publish = Recorder()
    outbox = Outbox(publish, window_s=60.0, max_ids=1000)
    outbox._ids, outbox._tags = [7, 8], ["a"]  # waiting, the thread not started
    outbox.flush()
    assert publish.calls == [([7, 8], ["a"])]


@pytest.fixture
def posting(partner_api, settings, monkeypatch, django_capture_on_commit_callbacks):
    """Post single reviews with a publish window; returns (post, published ids lists)."""
    EstablishmentFactory(partner=partner_api.partner, external_id="htl-1")
    sent: list[list[int]] = []
    published = threading.Event()
    monkeypatch.setattr("apps.detection.tasks.score_reviews_task.delay",
                        lambda ids: (sent.append(ids), published.set()))

    def post(*external_ids: str, window_ms: int) -> threading.Event:
        settings.SCORING_PUBLISH_WINDOW_MS = window_ms
        with django_capture_on_commit_callbacks(execute=True):
            for n, external_id in enumerate(external_ids):
                response = partner_api.client.post(
                    URL, review_payload("htl-1", external_id=external_id), format="json",
                    HTTP_X_REQUEST_ID=f"req-{n}")
                assert response.status_code == 201
        return published

    return post, sent


def _ids(*external_ids: str) -> list[int]:
    return [Review.objects.get(external_id=e).id for e in external_ids]


@pytest.mark.django_db
def test_two_posts_within_the_window_publish_one_scoring_task(posting):
    post, sent = posting
    assert post("w-1", "w-2", window_ms=300).wait(5)
    assert len(sent) == 1 and sorted(sent[0]) == _ids("w-1", "w-2")


@pytest.mark.django_db
def test_with_no_window_each_post_publishes_at_once(posting):
    post, sent = posting
    post("now-1", window_ms=0)
    assert sent == [_ids("now-1")]


def test_a_gathered_publish_carries_every_request_id(monkeypatch):
    from apps.core.observability import current_request_id
    from apps.detection.services import _publish_gathered

    seen = []
    monkeypatch.setattr("apps.detection.services.scoring_enqueue",
                        lambda review_ids: seen.append((review_ids, current_request_id())))
    _publish_gathered([1, 2, 3], ["req-a", "req-b", "req-a", ""])
    assert seen == [([1, 2, 3], "req-a req-b")]
    assert current_request_id() == ""


@pytest.mark.django_db
def test_eager_tasks_are_published_at_once(posting, monkeypatch):
    from reviewguard.celery import app

    post, sent = posting
    monkeypatch.setitem(app.conf, "task_always_eager", True)
    post("eager-1", window_ms=300)
    assert sent == [_ids("eager-1")]
