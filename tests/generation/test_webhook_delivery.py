"""Webhook delivery: retried from the row with backoff, given up after the set number of
attempts, claimed so that two loops never send one delivery twice, bounded in time, and never
led to a private address by a changed DNS answer or a redirect."""

from __future__ import annotations

import datetime as dt
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.utils import timezone

from accounts.tokens import token_create, token_revoke
from generation import runtime, webhooks
from generation.adapters.store import DjangoJobStore
from generation.models import WebhookDelivery
from generation.webhook_delivery import BACKOFF_SECONDS, JITTER, WebhookDeliverer, backoff
from tests.factories import queue_job
from tests.generation.webhook_receiver import Receiver, verify


class Clock:
    """Time the tests move by hand: no test sleeps through a backoff. It starts a minute ahead
    of the wall clock, so the deliveries a test queues (due "now") are due to it."""

    def __init__(self) -> None:
        self.now = timezone.now() + dt.timedelta(minutes=1)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)


@pytest.fixture
def private_allowed(settings: Any) -> None:
    settings.WEE_WAA_WEBHOOK_ALLOW_PRIVATE = True


@pytest.fixture
def clock() -> Clock:
    return Clock()


def finished_job_delivery(owner: Any, url: str, *, name: str = "farm") -> WebhookDelivery:
    """A token job that failed, which queues its webhook (the real path, through the store)."""
    token, _raw = token_create(user=owner, name=name, webhook_url=url)
    job = queue_job(owner)
    job.api_token = token
    job.save(update_fields=["api_token"])
    DjangoJobStore().fail(job.id, "The model ran out of memory.")
    return WebhookDelivery.objects.select_related("token").get(job=job)


@pytest.mark.django_db
def test_a_receiver_answering_500_then_200_is_retried_with_backoff(
    alice: Any, private_allowed: None, clock: Clock
) -> None:
    with Receiver([500, 200], body="try later").running() as receiver:
        delivery = finished_job_delivery(alice, receiver.url)
        deliverer = WebhookDeliverer(clock=clock)

        assert deliverer.run_once() == 1
        delivery.refresh_from_db()
        assert (delivery.attempts, delivery.last_status, delivery.delivered_at) == (1, 500, None)
        assert delivery.last_response == "try later" and "500" in delivery.last_error
        wait = (delivery.next_attempt_at - clock.now).total_seconds()
        assert BACKOFF_SECONDS[0] * (1 - JITTER) <= wait <= BACKOFF_SECONDS[0] * (1 + JITTER)

        assert deliverer.run_once() == 0  # not due yet
        clock.advance(wait - 1)
        assert deliverer.run_once() == 0
        clock.advance(1)
        assert deliverer.run_once() == 1

    delivery.refresh_from_db()
    assert (delivery.attempts, delivery.last_status, delivery.delivered_at) == (2, 200, clock.now)
    assert delivery.last_error == ""
    first, second = receiver.received
    assert first.headers["X-WeeWaa-Delivery"] == second.headers["X-WeeWaa-Delivery"] == delivery.id
    assert first.json()["job"] == second.json()["job"]
    assert verify(delivery.token.webhook_secret, second.headers, second.body, max_age=3600)  # a fake clock
    assert deliverer.run_once() == 0  # delivered: never sent again


@pytest.mark.django_db
def test_it_gives_up_after_the_set_number_of_attempts(
    alice: Any, private_allowed: None, clock: Clock, settings: Any
) -> None:
    settings.WEE_WAA_WEBHOOK_MAX_ATTEMPTS = 4
    with Receiver([503]).running() as receiver:
        delivery = finished_job_delivery(alice, receiver.url)
        deliverer = WebhookDeliverer(clock=clock)
        waits = []
        for _ in range(10):
            deliverer.run_once()
            delivery.refresh_from_db()
            if delivery.gave_up_at:
                break
            waits.append((delivery.next_attempt_at - clock.now).total_seconds())
            clock.advance(3 * 3600)

    assert len(receiver.received) == 4
    assert (delivery.attempts, delivery.last_status, delivery.gave_up_at) == (4, 503, clock.now)
    assert waits == sorted(waits)  # each wait longer than the one before
    clock.advance(24 * 3600)
    assert deliverer.run_once() == 0


def test_backoff_grows_from_seconds_to_hours_with_jitter() -> None:
    lows = [backoff(n, rand=lambda: 0.0).total_seconds() for n in range(1, 8)]
    highs = [backoff(n, rand=lambda: 1.0).total_seconds() for n in range(1, 8)]

    assert lows == [s * (1 - JITTER) for s in (10, 60, 300, 1800, 7200, 7200, 7200)]
    assert highs == [s * (1 + JITTER) for s in (10, 60, 300, 1800, 7200, 7200, 7200)]


@pytest.mark.django_db
def test_a_claimed_delivery_is_not_claimed_again_until_its_claim_runs_out(
    alice: Any, private_allowed: None, clock: Clock
) -> None:
    delivery = finished_job_delivery(alice, "http://127.0.0.1:9/hook")
    first, second = WebhookDeliverer(clock=clock, timeout=10), WebhookDeliverer(clock=clock, timeout=10)

    assert first.claim() is not None
    assert second.claim() is None
    clock.advance(69)
    assert second.claim() is None
    clock.advance(2)  # the first loop died mid-send: its attempt counted, and the row is due again
    reclaimed = second.claim()

    assert reclaimed is not None and reclaimed.id == delivery.id and reclaimed.attempts == 2


@pytest.mark.django_db(transaction=True)
def test_two_deliverers_at_once_never_send_one_delivery_twice(alice: Any, private_allowed: None) -> None:
    with Receiver([200], delay=0.02).running() as receiver:
        deliveries = [finished_job_delivery(alice, receiver.url, name=f"farm {n}") for n in range(12)]
        start = threading.Barrier(2)
        counts: list[int] = []

        def deliver() -> None:
            try:
                start.wait()
                counts.append(WebhookDeliverer().run_once())
            finally:
                connection.close()

        threads = [threading.Thread(target=deliver) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)

    sent = sorted(post.headers["X-WeeWaa-Delivery"] for post in receiver.received)
    assert sent == sorted(delivery.id for delivery in deliveries)
    assert sum(counts) == 12
    assert WebhookDelivery.objects.filter(delivered_at__isnull=False, attempts=1).count() == 12


@pytest.mark.django_db
def test_a_receiver_that_does_not_answer_in_time_is_a_failed_attempt(
    alice: Any, private_allowed: None, clock: Clock
) -> None:
    with Receiver([200], delay=3).running() as receiver:
        delivery = finished_job_delivery(alice, receiver.url)
        started = time.monotonic()
        result = WebhookDeliverer(clock=clock, timeout=0.3).deliver(WebhookDeliverer(clock=clock).claim())  # type: ignore[arg-type]
        took = time.monotonic() - started

    assert took < 2
    assert not result.delivered and "No answer within 0.3 seconds" in result.error
    delivery.refresh_from_db()
    assert delivery.attempts == 1 and delivery.delivered_at is None and delivery.next_attempt_at > clock.now


@pytest.mark.django_db
def test_a_receiver_that_trickles_its_answer_is_cut_off_at_the_deadline(alice: Any, private_allowed: None) -> None:
    with Receiver(trickle=0.1).running() as receiver:
        finished_job_delivery(alice, receiver.url)
        deliverer = WebhookDeliverer(timeout=0.5)
        started = time.monotonic()
        result = deliverer.deliver(deliverer.claim())  # type: ignore[arg-type]
        took = time.monotonic() - started

    assert took < 2.5  # each byte came within the socket timeout; the deadline still held
    assert not result.delivered


@pytest.mark.django_db
def test_redirects_are_not_followed(alice: Any, private_allowed: None) -> None:
    with Receiver([302], location="http://169.254.169.254/latest/meta-data/").running() as receiver:
        delivery = finished_job_delivery(alice, receiver.url)
        WebhookDeliverer().run_once()

    assert len(receiver.received) == 1
    delivery.refresh_from_db()
    assert delivery.last_status == 302 and delivery.delivered_at is None
    assert "Redirects are not followed" in delivery.last_error


@pytest.mark.django_db
def test_only_the_start_of_a_receivers_answer_is_kept(alice: Any, private_allowed: None) -> None:
    with Receiver([500], body="x" * 5000).running() as receiver:
        delivery = finished_job_delivery(alice, receiver.url)
        WebhookDeliverer().run_once()

    delivery.refresh_from_db()
    assert len(delivery.last_response) == 500


@pytest.mark.django_db
def test_a_name_that_resolves_to_a_private_address_at_delivery_is_not_called(
    alice: Any, monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    """DNS rebinding: the name was public when the URL was saved, and points at this machine
    when the webhook is sent; the attempt re-checks and calls nothing."""
    with Receiver().running() as receiver:
        monkeypatch.setattr(webhooks, "resolve", lambda host, port: [(socket.AF_INET, ("93.184.216.34", port))])
        delivery = finished_job_delivery(alice, f"http://rebind.example.com:{receiver.port}/hook")
        monkeypatch.setattr(webhooks, "resolve", lambda host, port: [(socket.AF_INET, ("127.0.0.1", port))])

        WebhookDeliverer().run_once()

    assert receiver.received == []
    delivery.refresh_from_db()
    assert delivery.attempts == 1 and delivery.delivered_at is None and "127.0.0.1" in delivery.last_error


@pytest.mark.django_db
def test_the_attempt_connects_to_the_address_it_checked(
    alice: Any, private_allowed: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The name is resolved once per attempt, by the check; the connection goes to that address
    (this name means nothing to the system resolver) and the Host header keeps the name."""
    lookups: list[str] = []

    def resolve(host: str, port: int) -> list[Any]:
        lookups.append(host)
        return [(socket.AF_INET, ("127.0.0.1", port))]

    with Receiver().running() as receiver:
        monkeypatch.setattr(webhooks, "resolve", resolve)
        delivery = finished_job_delivery(alice, f"http://hooks.invalid:{receiver.port}/in")
        lookups.clear()
        WebhookDeliverer().run_once()

    assert lookups == ["hooks.invalid"]
    [post] = receiver.received
    assert post.headers["Host"] == f"hooks.invalid:{receiver.port}"
    delivery.refresh_from_db()
    assert delivery.delivered_at is not None


@pytest.mark.django_db
def test_a_revoked_tokens_queued_webhooks_stop(alice: Any, private_allowed: None) -> None:
    with Receiver().running() as receiver:
        delivery = finished_job_delivery(alice, receiver.url)
        token_revoke(token=delivery.token)
        WebhookDeliverer().run_once()

    assert receiver.received == []
    delivery.refresh_from_db()
    assert delivery.gave_up_at is not None and "revoked" in delivery.last_error


@pytest.mark.django_db
def test_a_sender_that_raises_costs_one_attempt_not_the_loop(alice: Any, private_allowed: None) -> None:
    finished_job_delivery(alice, "http://127.0.0.1:9/a", name="a")
    finished_job_delivery(alice, "http://127.0.0.1:9/b", name="b")

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("bug")

    assert WebhookDeliverer(send=broken).run_once() == 2
    assert set(WebhookDelivery.objects.values_list("attempts", "last_error")) == {(1, "RuntimeError: bug")}


@pytest.mark.django_db(transaction=True)
def test_the_runtime_thread_sends_a_webhook_soon_after_the_job_finishes(alice: Any, private_allowed: None) -> None:
    with Receiver().running() as receiver:
        token, _raw = token_create(user=alice, name="farm", webhook_url=receiver.url)
        job = queue_job(alice)
        job.api_token = token
        job.save(update_fields=["api_token"])
        process = runtime.Runtime(deliverer=WebhookDeliverer(poll_seconds=60))
        process.start()
        try:
            time.sleep(0.2)  # the thread's first pass found nothing; now it sleeps for a minute
            with transaction.atomic():
                DjangoJobStore().fail(job.id, "boom")
            deadline = time.monotonic() + 10
            while not receiver.received and time.monotonic() < deadline:
                time.sleep(0.05)
        finally:
            process.stop()

    assert len(receiver.received) == 1  # woken by the commit, not by its next poll
    assert process.deliverer is not None and not process.deliverer.alive


@pytest.mark.django_db
def test_the_command_sends_what_is_due_and_exits(alice: Any, private_allowed: None, capsys: Any) -> None:
    with Receiver().running() as receiver:
        delivery = finished_job_delivery(alice, receiver.url)
        call_command("deliver_webhooks", "--once")

    assert len(receiver.received) == 1
    assert "Webhook attempts made: 1" in capsys.readouterr().out
    delivery.refresh_from_db()
    assert delivery.delivered_at is not None


def test_the_command_refuses_a_zero_interval() -> None:
    with pytest.raises(CommandError, match="interval"):
        call_command("deliver_webhooks", "--interval", "0")


def test_server_runtimes_send_webhooks_unless_told_another_process_does(settings: Any) -> None:
    assert runtime.build_runtime(manager=False).deliverer is not None
    settings.WEE_WAA_WEBHOOK_THREAD = False
    assert runtime.build_runtime(manager=False).deliverer is None


@pytest.fixture(autouse=True)
def _no_delivery_thread_left(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    assert not [t for t in threading.enumerate() if t.name == "webhook-delivery" and t.is_alive()]
