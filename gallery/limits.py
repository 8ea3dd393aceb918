"""Limits on what one account may ask the server to draw and store.

A creation is rendered by the server, so its cost is ours: the layer count and the picture's
pixels are capped (``compositing`` enforces them while parsing), each user has a render rate,
only a few renders run at once per process, and each account stores a bounded number of
pictures. Each refusal is a :class:`LimitExceeded`, which knows nothing of HTTP frameworks: the
API's exception handler turns it into a response with its status and ``Retry-After``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from wee_waa.throttling import rate_limited

# Status codes as plain numbers: this module must not depend on DRF.
TOO_MANY_REQUESTS, SERVICE_UNAVAILABLE, CONFLICT = 429, 503, 409


class LimitExceeded(Exception):
    """A request refused by a limit: a message for people, the status to answer, and how many
    seconds to wait before trying again (None when waiting does not help)."""

    def __init__(self, message: str, *, status: int, retry_after: int | None = None, code: str = "limit") -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.retry_after = retry_after
        self.code = code


def render_rate_check(*, user_id: int) -> None:
    """Counts one render for the user; over the per-minute rate raises a 429 refusal."""
    limit = settings.WEE_WAA_RENDERS_PER_MINUTE
    wait = rate_limited(f"renders:{user_id}", limit=limit, window=60)
    if wait is not None:
        raise LimitExceeded(
            ngettext(
                "You are drawing pictures too fast: at most %(limit)d render a minute. "
                "Try again in %(seconds)d seconds.",
                "You are drawing pictures too fast: at most %(limit)d renders a minute. "
                "Try again in %(seconds)d seconds.",
                limit,
            )
            % {"limit": limit, "seconds": wait},
            status=TOO_MANY_REQUESTS,
            retry_after=wait,
            code="render_rate",
        )


def stored_pictures(*, user_id: int) -> int:
    """What counts towards the quota: the user's creations and their kept backgrounds."""
    from gallery.models import Creation
    from generation.models import Background

    kept = Background.objects.filter(job__owner_id=user_id, kept_at__isnull=False).count()
    return Creation.objects.filter(owner_id=user_id).count() + kept


def picture_quota_check(*, user_id: int) -> None:
    """Raises a 409 refusal when one more stored picture would pass the account's quota."""
    quota = settings.WEE_WAA_MAX_PICTURES_PER_USER
    if stored_pictures(user_id=user_id) >= quota:
        raise LimitExceeded(
            _(
                "Your account is full: it may store at most %(quota)d pictures (creations and kept "
                "backgrounds together). Make room in My pictures: delete creations or remove backgrounds you no "
                "longer need."
            )
            % {"quota": quota},
            status=CONFLICT,
            code="picture_quota",
        )


class _Slots:
    """A counting semaphore that remembers its size, so a changed setting takes effect."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.semaphore = threading.BoundedSemaphore(size)


_slots: _Slots | None = None
_slots_lock = threading.Lock()


def _current_slots() -> _Slots:
    global _slots
    size = settings.WEE_WAA_RENDER_CONCURRENCY
    with _slots_lock:
        if _slots is None or _slots.size != size:
            _slots = _Slots(size)
        return _slots


@contextmanager
def render_slot() -> Iterator[None]:
    """At most ``WEE_WAA_RENDER_CONCURRENCY`` renders at once in this process.

    Sync views run on the server's thread pool, so unbounded renders would take every thread
    and the CPU from all other requests. A render waits for a slot for at most
    ``WEE_WAA_RENDER_WAIT_SECONDS``, then gives up with a 503 that says to try again.
    """
    slots = _current_slots()
    wait = settings.WEE_WAA_RENDER_WAIT_SECONDS
    if not slots.semaphore.acquire(timeout=wait):
        retry = max(1, round(wait))
        raise LimitExceeded(
            _("The server is busy drawing other pictures. Try again in %(seconds)d seconds.") % {"seconds": retry},
            status=SERVICE_UNAVAILABLE,
            retry_after=retry,
            code="render_busy",
        )
    try:
        yield
    finally:
        slots.semaphore.release()
