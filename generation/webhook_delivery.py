"""Sending webhooks from their rows: claim one due delivery, send it, write down how it went.

The database is the queue, as for jobs: a delivery is claimed with a conditional UPDATE
(``filter(id=…, next_attempt_at=<as read>).update(…)`` changes one row or none), so two loops,
in one process or many, never send the same attempt twice. A claim moves ``next_attempt_at``
past the attempt's deadline: if the process dies mid-send, the row is due again after that and
another loop retries it. Receivers should still treat ``X-WeeWaa-Delivery`` as an idempotency
key: a crash between their 2xx and our write means one more send, as with any webhook.

Two loops run this class: a thread in each server and ``generation_worker`` process (started
and stopped by ``generation.runtime``), and ``manage.py deliver_webhooks`` for deployments that
keep outbound calls on their own workers (``WEE_WAA_WEBHOOK_THREAD=false`` in the others).
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import threading
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.db import close_old_connections, connection
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from generation import webhooks
from generation.models import WebhookDelivery
from generation.webhooks import SendResult, token_secret

logger = logging.getLogger(__name__)

# Seconds to wait after the 1st, 2nd, … failed attempt; the last one repeats.
BACKOFF_SECONDS = (10, 60, 300, 1800, 7200)
JITTER = 0.2  # ± this share of the wait, so receivers that failed together are not retried together
CLAIM_GRACE = timedelta(seconds=60)  # beyond the attempt's own timeout, before a claim runs out
CLAIM_TRIES = 5
ERROR_KEPT = 1000

Clock = Callable[[], dt.datetime]
Sender = Callable[..., SendResult]


def backoff(attempts: int, *, rand: Callable[[], float] = random.random) -> timedelta:
    """How long after failed attempt number ``attempts`` (1-based) the next one is due."""
    base = BACKOFF_SECONDS[min(max(attempts, 1), len(BACKOFF_SECONDS)) - 1]
    return timedelta(seconds=base * (1 + JITTER * (2 * rand() - 1)))


class WebhookDeliverer:
    """One delivery loop. ``clock`` and ``send`` are collaborators so tests can move time on
    and count sends without sleeping; each step (``claim``, ``deliver``, ``run_once``) is a
    method tests call directly."""

    def __init__(
        self,
        *,
        clock: Clock = timezone.now,
        send: Sender = webhooks.webhook_send,
        poll_seconds: float = 5.0,
        max_attempts: int | None = None,
        timeout: float | None = None,
    ) -> None:
        self.clock = clock
        self.send = send
        self.poll_seconds = poll_seconds
        self.max_attempts = max_attempts or settings.WEE_WAA_WEBHOOK_MAX_ATTEMPTS
        self.timeout = timeout or settings.WEE_WAA_WEBHOOK_TIMEOUT_SECONDS
        self.stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def claim(self) -> WebhookDelivery | None:
        """The most overdue delivery, now ours (its attempt counted), or None when nothing is
        due. Losing a race to another loop just moves on to the next due row."""
        for _try in range(CLAIM_TRIES):
            now = self.clock()
            due = (
                WebhookDelivery.objects.filter(
                    delivered_at__isnull=True, gave_up_at__isnull=True, next_attempt_at__lte=now
                )
                .order_by("next_attempt_at", "id")
                .values_list("id", "next_attempt_at")
                .first()
            )
            if due is None:
                return None
            delivery_id, due_at = due
            claimed = WebhookDelivery.objects.filter(
                id=delivery_id, next_attempt_at=due_at, delivered_at__isnull=True, gave_up_at__isnull=True
            ).update(
                attempts=F("attempts") + 1,
                next_attempt_at=now + timedelta(seconds=self.timeout) + CLAIM_GRACE,
            )
            if claimed:
                return WebhookDelivery.objects.select_related("token").get(id=delivery_id)
        return None

    def deliver(self, delivery: WebhookDelivery) -> SendResult:
        """Send a claimed delivery once and record the outcome: delivered, retry later, or give
        up (after ``max_attempts``, or at once when its token was revoked or deleted)."""
        secret = token_secret(delivery.token)
        if secret is None:
            result = SendResult(
                status=None, error=_("The API token was revoked or deleted, so its webhooks stop."), response=""
            )
        else:
            try:
                result = self.send(delivery, secret=secret, now=self.clock(), timeout=self.timeout)
            except Exception as failure:  # one bad row must not stop the loop
                logger.exception("Webhook delivery %s failed unexpectedly", delivery.id)
                result = SendResult(status=None, error=f"{type(failure).__name__}: {failure}", response="")
        self.record(delivery, result, final=secret is None)
        return result

    def record(self, delivery: WebhookDelivery, result: SendResult, *, final: bool = False) -> None:
        now = self.clock()
        fields: dict[str, object] = {
            "last_status": result.status,
            "last_error": result.error[:ERROR_KEPT],
            "last_response": result.response[: webhooks.RESPONSE_KEPT],
        }
        if result.delivered:
            fields["delivered_at"] = now
        elif final or delivery.attempts >= self.max_attempts:
            fields["gave_up_at"] = now
            logger.warning("Gave up on webhook delivery %s after %d attempts", delivery.id, delivery.attempts)
        else:
            fields["next_attempt_at"] = now + backoff(delivery.attempts)
        WebhookDelivery.objects.filter(id=delivery.id, delivered_at__isnull=True, gave_up_at__isnull=True).update(
            **fields
        )

    def run_once(self) -> int:
        """Send every delivery that is due, one claim at a time (a claim covers one attempt,
        so its lease need only outlast one timeout). Returns how many attempts were made."""
        attempted = 0
        while not self.stopping.is_set():
            delivery = self.claim()
            if delivery is None:
                break
            self.deliver(delivery)
            attempted += 1
        return attempted

    def run_forever(self) -> None:
        """Until ``stop``: a pass, then sleep until the next poll or until a delivery is queued
        in this process. A database blip costs one pass, not the loop."""
        try:
            while not self.stopping.is_set():
                close_old_connections()
                try:
                    self.run_once()
                except Exception:
                    logger.exception("The webhook delivery loop failed; trying again shortly")
                webhooks.wake.wait(self.poll_seconds)
                webhooks.wake.clear()
        finally:
            connection.close()

    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self.stopping.clear()
        self._thread = threading.Thread(target=self.run_forever, name="webhook-delivery", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 15.0) -> None:
        """An attempt under way finishes (it is bounded by the timeout); no new one starts."""
        self.stopping.set()
        webhooks.wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()
