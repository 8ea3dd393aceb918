"""Personal API tokens: make, check and revoke them (the services and selectors of ``ApiToken``).

A raw token is ``wwt_`` and 40 URL-safe characters (240 random bits). It is shown once, when
made; the database keeps its SHA-256 digest, so a request is matched with one indexed lookup
and a copy of the database signs nobody in. The prefix (the first characters) is kept in
clear so people can tell their tokens apart in a list.

Callers: the token page (``accounts.views_tokens``), DRF (``accounts.authentication``), the
websocket (``accounts.ws_auth``), the admin, and the webhook sender (which reads
``webhook_url``/``webhook_secret``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
import secrets

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import ApiToken, User

logger = logging.getLogger(__name__)

TOKEN_PREFIX = "wwt_"  # noqa: S105 - a marker, not a secret
TOKEN_BODY_LENGTH = 40
PREFIX_SHOWN = len(TOKEN_PREFIX) + 8  # "wwt_" and 8 characters: enough to tell tokens apart
# Anything else is refused before the database is asked (and never hashed into a log).
TOKEN_PATTERN = re.compile(rf"{TOKEN_PREFIX}[A-Za-z0-9_-]{{{TOKEN_BODY_LENGTH}}}")
WEBHOOK_SECRET_PREFIX = "whsec_"  # noqa: S105 - a marker, not a secret
NAME_MAX_LENGTH = 80
WEBHOOK_URL_MAX_LENGTH = 500
# last_used_at is written at most this often per token: a busy script would otherwise turn
# every read into a write (and, on SQLite, queue them behind the model manager's writes).
LAST_USED_PRECISION = dt.timedelta(seconds=60)


def new_raw_token() -> str:
    """``wwt_`` and 40 characters from ``secrets`` (30 random bytes, URL-safe base64)."""
    return TOKEN_PREFIX + secrets.token_urlsafe(30)[:TOKEN_BODY_LENGTH]


def token_digest(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()


def _active(now: dt.datetime) -> Q:
    return Q(revoked_at__isnull=True) & (Q(expires_at__isnull=True) | Q(expires_at__gt=now))


def token_list(*, user: User) -> QuerySet[ApiToken]:
    """Every token of ``user``, revoked and expired ones too (the page shows their state)."""
    return ApiToken.objects.filter(user=user).order_by("-created_at", "id")


def token_get_for_owner(*, user: User, token_id: str) -> ApiToken | None:
    """The token ``token_id`` if it belongs to ``user``; None for anybody else's (a 404)."""
    return ApiToken.objects.filter(user=user, id=token_id).first()


def active_token_count(*, user: User) -> int:
    return ApiToken.objects.filter(_active(timezone.now()), user=user).count()


def _webhook_url_problem(url: str) -> str | None:
    """Why ``url`` cannot receive webhooks, or None: http(s) only, then the webhook sender's own
    check (``generation.webhooks.webhook_url_check``: it resolves the host and refuses private,
    local and reserved addresses), so the page refuses what the sender would never call."""
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError:
        return _("Enter a web address that starts with http:// or https://.")
    if len(url) > WEBHOOK_URL_MAX_LENGTH:
        return _("The web address is too long.")
    from generation.webhooks import webhook_url_check  # imported late: it loads generation's models

    try:
        webhook_url_check(url)
    except ValidationError as refused:
        return " ".join(refused.messages)
    return None


def token_validate(*, name: str, expires_at: dt.datetime | None, webhook_url: str) -> dict[str, list[str]]:
    """Problems with a new token's fields, by field name (empty when all is well)."""
    errors: dict[str, list[str]] = {}
    if not name.strip():
        errors["name"] = [_("Give the token a name, so you know later what uses it.")]
    elif len(name.strip()) > NAME_MAX_LENGTH:
        errors["name"] = [_("Use at most %(count)d characters.") % {"count": NAME_MAX_LENGTH}]
    if expires_at is not None and expires_at <= timezone.now():
        errors["expires_at"] = [_("Choose an expiry date in the future.")]
    if webhook_url:
        problem = _webhook_url_problem(webhook_url)
        if problem:
            errors["webhook_url"] = [problem]
    return errors


def token_create(
    *, user: User, name: str, expires_at: dt.datetime | None = None, webhook_url: str = ""
) -> tuple[ApiToken, str]:
    """Make a token for ``user``; returns the row and the raw token, which is never shown again.

    Raises ``ValidationError`` (by field) for a bad name, a past expiry, a webhook address that
    is not http(s), or when the user already has ``WEE_WAA_MAX_TOKENS_PER_USER`` active tokens.
    """
    webhook_url = webhook_url.strip()
    errors = token_validate(name=name, expires_at=expires_at, webhook_url=webhook_url)
    if errors:
        raise ValidationError(errors)
    raw = new_raw_token()
    with transaction.atomic():
        # The user's row is the lock: two forms sent at once cannot both take the last place.
        User.objects.select_for_update().filter(pk=user.pk).first()
        limit = settings.WEE_WAA_MAX_TOKENS_PER_USER
        if active_token_count(user=user) >= limit:
            message = ngettext(
                "You already have %(count)d active token. Revoke it first if you no longer use it.",
                "You already have %(count)d active tokens. Revoke one you no longer use first.",
                limit,
            )
            raise ValidationError(message % {"count": limit}, code="too_many_tokens")
        token = ApiToken.objects.create(
            user=user,
            name=name.strip(),
            prefix=raw[:PREFIX_SHOWN],
            digest=token_digest(raw),
            expires_at=expires_at,
            webhook_url=webhook_url,
            webhook_secret=WEBHOOK_SECRET_PREFIX + secrets.token_urlsafe(32) if webhook_url else "",
        )
    logger.info("API token %s made for user %s", token.id, user.pk)
    return token, raw


def token_revoke(*, token: ApiToken, by: User | None = None) -> None:
    """Revoke ``token`` (again is a no-op) and close the websockets it opened.

    Revoked tokens stay listed, with when and by whom, rather than being deleted: the owner
    and the moderators can see what a token was and when it stopped working.
    """
    now = timezone.now()
    revoked = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=now, revoked_by=by)
    token.refresh_from_db(fields=["revoked_at", "revoked_by"])
    if revoked:
        logger.info("API token %s revoked by user %s", token.pk, by.pk if by is not None else None)
        from accounts.ws_auth import close_token_sockets

        token_id = token.pk
        transaction.on_commit(lambda: close_token_sockets(token_id))


def token_authenticate(raw: str) -> ApiToken | None:
    """The active token whose raw form is ``raw``, with its user loaded; None when the token is
    malformed, unknown, revoked, expired, or its owner's account is banned (inactive).

    Marks the token used (at most once a minute, see ``LAST_USED_PRECISION``)."""
    if not isinstance(raw, str) or not TOKEN_PATTERN.fullmatch(raw):
        return None
    token = ApiToken.objects.select_related("user").filter(digest=token_digest(raw)).first()
    now = timezone.now()
    if token is None or not token.is_active_at(now) or not token.user.is_active:
        return None
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_PRECISION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


async def atoken_authenticate(raw: str) -> ApiToken | None:
    """``token_authenticate`` for the event loop (websockets): the ORM runs in a thread."""
    return await sync_to_async(token_authenticate, thread_sensitive=True)(raw)
