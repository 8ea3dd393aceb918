"""Webhooks: a signed ``job.finished`` POST to the URL of the API token that queued the job.

The protocol lives here: which URLs we will call (``webhook_url_check``), the body and its
signature, the row written when a job finishes (``webhook_enqueue``) and one attempt to send
it (``webhook_send``). Retrying, claiming and the loop are ``generation.webhook_delivery``.

Calling a URL a user typed is a server-side request forgery risk: the URL could name the
cloud's metadata service, a database on the private network or this server's own admin port.
So a URL must resolve only to public addresses, checked when the URL is saved and again at
every attempt (a name's DNS answer can change between the two: "DNS rebinding"), and the
attempt connects to the very addresses it checked, never resolving the name a second time.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import hmac
import http.client
import ipaddress
import json
import socket
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from gallery.media import media_url
from generation.models import GenerationJob, WebhookDelivery

if TYPE_CHECKING:
    from accounts.models import ApiToken

EVENT_JOB_FINISHED = "job.finished"
USER_AGENT = "Wee-Waa-Webhook/1"
RESPONSE_KEPT = 500  # characters of a receiver's answer kept for the owner to read
SIGNATURE_PREFIX = "sha256="

# Set when a delivery is enqueued (after the commit): this process's delivery thread looks at
# once instead of at its next poll.
wake = threading.Event()

SockAddr = tuple[Any, ...]


@dataclass(frozen=True)
class WebhookTarget:
    """A checked URL: where to connect (the checked addresses, in the resolver's order) and
    what to ask for there."""

    scheme: str
    host: str
    port: int
    path: str
    addresses: tuple[tuple[int, SockAddr], ...]


def resolve(host: str, port: int) -> list[tuple[int, SockAddr]]:
    """Every address ``host`` resolves to, as (family, sockaddr). A module function so tests
    can stand in a resolver that answers differently the second time."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    seen: list[tuple[int, SockAddr]] = []
    for family, _type, _proto, _name, sockaddr in infos:
        if (family, sockaddr) not in seen:
            seen.append((family, tuple(sockaddr)))
    return seen


def address_refused(address: str) -> bool:
    """True for any address that is not plainly on the public internet: loopback, private,
    link-local (the cloud metadata service), shared (CGNAT), multicast, reserved, unspecified.
    IPv6 forms that carry an IPv4 address (mapped ``::ffff:a.b.c.d``, 6to4, Teredo) are judged
    by the IPv4 address they carry, so ``::ffff:127.0.0.1`` is loopback too."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # a scoped IPv6 address: fe80::1%eth0
    candidates: list[ipaddress.IPv4Address | ipaddress.IPv6Address] = [ip]
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = [ip.ipv4_mapped, ip.sixtofour, ip.teredo[1] if ip.teredo else None]
        candidates += [inner for inner in embedded if inner is not None]
    return any(
        not candidate.is_global
        or candidate.is_loopback
        or candidate.is_private
        or candidate.is_link_local
        or candidate.is_multicast
        or candidate.is_reserved  # in IPv6 also NAT64's 64:ff9b::/96, which can wrap 127.0.0.1
        or candidate.is_unspecified
        for candidate in candidates
    )


def webhook_target(url: str) -> WebhookTarget:
    """Parse, resolve and check ``url``; raises ``ValidationError`` with a message for people."""
    url = url.strip()
    try:
        if any(ord(char) < 33 or ord(char) == 127 for char in url):  # spaces, newlines: header injection
            raise ValueError(url)
        parts = urlsplit(url)
        port = parts.port
        host = (parts.hostname or "").encode("idna").decode("ascii")  # bücher.example → xn--bcher-kva.example
    except (ValueError, UnicodeError):
        raise ValidationError(_("This is not a valid web address."), code="invalid") from None
    scheme = parts.scheme.lower()
    if scheme not in {"http", "https"}:
        raise ValidationError(_("Use an http:// or https:// address for the webhook."), code="scheme")
    if parts.username is not None or parts.password is not None:
        raise ValidationError(
            _("Leave the user name and password out of the webhook address: every request is signed instead."),
            code="credentials",
        )
    if not host:
        raise ValidationError(_("The webhook address needs a host name."), code="host")
    port = port or (443 if scheme == "https" else 80)
    try:
        addresses = resolve(host, port)
    except OSError:
        addresses = []
    if not addresses:
        raise ValidationError(
            _("The host name %(host)s could not be found.") % {"host": host},
            code="unresolved",
        )
    if not settings.WEE_WAA_WEBHOOK_ALLOW_PRIVATE:
        for _family, sockaddr in addresses:
            if address_refused(str(sockaddr[0])):
                raise ValidationError(
                    _(
                        "%(host)s points to a private, local or reserved network address (%(address)s). "
                        "Webhooks are only sent to addresses on the public internet."
                    )
                    % {"host": host, "address": sockaddr[0]},
                    code="private",
                )
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return WebhookTarget(scheme=scheme, host=host, port=port, path=path, addresses=tuple(addresses))


def webhook_url_check(url: str) -> None:
    """What the tokens page calls before saving a webhook URL."""
    webhook_target(url)


def webhook_signature(secret: str, timestamp: int, body: bytes) -> str:
    """``sha256=`` and the hex HMAC-SHA256 of ``"{timestamp}.{body}"``: the timestamp is
    signed too, so a receiver that refuses old timestamps cannot be sent a replay."""
    message = f"{timestamp}.".encode() + body
    return SIGNATURE_PREFIX + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def _iso(moment: dt.datetime | None) -> str | None:
    """UTC, ISO 8601 with a ``Z``, as the REST API writes times."""
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z") if moment else None


def absolute_url(path: str) -> str:
    """A receiver is another program: it needs the whole URL, and there is no request to take
    the host from when a job finishes, so ``WEE_WAA_PUBLIC_URL`` names it."""
    return f"{settings.WEE_WAA_PUBLIC_URL}{path}" if path.startswith("/") else path


def job_finished_payload(job: GenerationJob) -> dict[str, Any]:
    """The body, less ``sent_at`` (each attempt adds its own). Read inside the transaction that
    finished the job, so it names exactly the images that transaction stored."""
    return {
        "type": EVENT_JOB_FINISHED,
        "job": {
            "id": job.id,
            "status": job.status,
            "error": job.error,
            "images": [
                {"id": image.id, "url": absolute_url(media_url(image.image.name)), "seed": image.seed}
                for image in job.images.order_by("index")
            ],
            "created_at": _iso(job.created_at),
            "finished_at": _iso(job.finished_at),
        },
    }


def webhook_enqueue(job_id: str) -> WebhookDelivery | None:
    """Called by every path that finishes a job, inside the transaction that finishes it: the
    delivery row commits with the job's final status or not at all, and the sending (which can
    take minutes of retries) happens later, from the row, in whichever process claims it."""
    job = (
        GenerationJob.objects.select_related("api_token")
        .filter(id=job_id, api_token__isnull=False)
        .exclude(api_token__webhook_url="")
        .first()
    )
    token = job.api_token if job is not None else None
    if job is None or token is None or token.revoked_at is not None:
        return None
    delivery = WebhookDelivery.objects.create(
        job=job, token=token, url=token.webhook_url, payload=job_finished_payload(job), next_attempt_at=timezone.now()
    )
    transaction.on_commit(wake.set)
    return delivery


@dataclass(frozen=True)
class SendResult:
    status: int | None  # the HTTP status, None when no answer came
    error: str  # empty when delivered
    response: str  # the start of the answer's body

    @property
    def delivered(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def _pinned_connection(addresses: tuple[tuple[int, SockAddr], ...], expired: threading.Event) -> Any:
    """A stand-in for ``socket.create_connection`` that ignores the host name it is given and
    tries the checked addresses in turn (an IPv4-only receiver named ``localhost`` still works).
    TLS still uses the host name for SNI and certificate checks."""

    def connect(_address: Any, timeout: float | None = None, source_address: Any = None) -> socket.socket:
        error: OSError | None = None
        for family, sockaddr in addresses:
            sock = socket.socket(family, socket.SOCK_STREAM)
            try:
                sock.settimeout(timeout)
                sock.connect(sockaddr)
                if expired.is_set():  # the deadline passed while connecting: too late to begin
                    raise TimeoutError
                return sock
            except OSError as failure:
                sock.close()
                error = failure
        raise error or OSError("no address to connect to")

    return connect


def _abort(conn: http.client.HTTPConnection, expired: threading.Event) -> None:
    """The deadline for the whole exchange passed: a receiver that trickles its answer a byte
    at a time would otherwise hold the attempt forever, one socket timeout after another."""
    expired.set()
    sock = conn.sock
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


def webhook_send(delivery: WebhookDelivery, *, secret: str, now: dt.datetime, timeout: float) -> SendResult:
    """One POST; never raises for anything the network or the receiver does. Redirects are not
    followed (a 3xx is a failed attempt): following one would reach an unchecked address."""
    try:
        target = webhook_target(delivery.url)
    except ValidationError as refused:
        return SendResult(status=None, error=" ".join(refused.messages), response="")
    body = json.dumps({**delivery.payload, "sent_at": _iso(now)}, separators=(",", ":")).encode()
    timestamp = int(now.timestamp())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-WeeWaa-Timestamp": str(timestamp),
        "X-WeeWaa-Signature": webhook_signature(secret, timestamp, body),
        "X-WeeWaa-Delivery": delivery.id,
    }
    connection_class = http.client.HTTPSConnection if target.scheme == "https" else http.client.HTTPConnection
    conn = connection_class(target.host, target.port, timeout=timeout)
    expired = threading.Event()
    conn._create_connection = _pinned_connection(target.addresses, expired)  # type: ignore[attr-defined]
    deadline = threading.Timer(timeout, _abort, args=(conn, expired))
    deadline.daemon = True
    deadline.start()
    try:
        conn.request("POST", target.path, body=body, headers=headers)
        answer = conn.getresponse()
        text = answer.read(RESPONSE_KEPT * 4).decode("utf-8", "replace")[:RESPONSE_KEPT]
        if expired.is_set():  # cut off mid-answer: what was read may look complete, but is not
            raise TimeoutError
        error = (
            ""
            if 200 <= answer.status < 300
            else _("The receiver answered HTTP %(status)d.") % {"status": answer.status}
        )
        if 300 <= answer.status < 400:
            error += " " + _("Redirects are not followed; use the final address.")
        return SendResult(status=answer.status, error=error, response=text)
    except (OSError, ValueError, http.client.HTTPException) as failure:
        if expired.is_set() or isinstance(failure, TimeoutError):
            message = _("No answer within %(seconds)g seconds.") % {"seconds": timeout}
        else:
            message = _("Could not deliver: %(reason)s") % {"reason": str(failure) or type(failure).__name__}
        return SendResult(status=None, error=message[:RESPONSE_KEPT], response="")
    finally:
        deadline.cancel()
        conn.close()


def token_secret(token: ApiToken | None) -> str | None:
    """The secret to sign with, or None when the token is gone or revoked (its webhooks stop)."""
    if token is None or token.revoked_at is not None or not token.webhook_secret:
        return None
    return str(token.webhook_secret)
