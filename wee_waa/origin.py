"""The websocket origin check: the page's full origin (scheme, host, port) must be ours.

Channels' ``AllowedHostsOriginValidator`` compares host names only, so a page served from
``http://localhost:9999`` (another local app, a dev server an attacker controls) could open a
socket to the studio on ``:8000`` with the user's cookies. This compares the Origin header with
the origin the browser used to reach us — the request's Host header (itself checked against
``ALLOWED_HOSTS``) and its scheme (``wss`` → ``https``; behind a proxy, ``X-Forwarded-Proto``
when ``SECURE_PROXY_SSL_HEADER`` is set) — or with an entry of ``CSRF_TRUSTED_ORIGINS``, the same
list Django's CSRF check trusts for forms.

A handshake with no Origin header at all is let through: browsers always send one on a
websocket handshake, so its absence means a non-browser client (a script, the soak benchmark),
which cannot ride on a victim's cookies; the consumer still requires a valid session or API token. An
``Origin: null`` (sandboxed frame, ``file:``) is refused.
"""

from __future__ import annotations

from typing import Any, NamedTuple
from urllib.parse import urlsplit

from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.http.request import split_domain_port, validate_host

DEFAULT_PORTS = {"http": 80, "https": 443}


class Origin(NamedTuple):
    scheme: str
    host: str
    port: int


def parse_origin(value: str) -> Origin | None:
    """``scheme://host[:port]`` with nothing else, normalised; None for anything odd."""
    try:
        parts = urlsplit(value.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname or parts.path not in ("", "/"):
        return None
    if parts.username is not None or parts.query or parts.fragment:
        return None
    return Origin(scheme, parts.hostname.lower(), port if port is not None else DEFAULT_PORTS[scheme])


def _headers(scope: dict[str, Any]) -> dict[bytes, bytes]:
    """Last value wins, like a server that reads one header; names are lower case in ASGI."""
    return {name.lower(): value for name, value in scope.get("headers", [])}


def server_origin(scope: dict[str, Any]) -> Origin | None:
    """The origin the client addressed: scheme from the connection (or trusted proxy), Host."""
    headers = _headers(scope)
    scheme = "https" if scope.get("scheme") in ("wss", "https") else "http"
    proxy_header = settings.SECURE_PROXY_SSL_HEADER
    if proxy_header:
        name, secure_value = proxy_header
        header = name.removeprefix("HTTP_").replace("_", "-").lower().encode("latin1")
        forwarded = headers.get(header)
        if forwarded is not None:
            proto = forwarded.decode("latin1").split(",")[0].strip().lower()
            scheme = "https" if proto == secure_value.lower() else "http"
    host = headers.get(b"host", b"").decode("latin1")
    domain, _port = split_domain_port(host)
    if not domain or not validate_host(domain, settings.ALLOWED_HOSTS):
        return None
    return parse_origin(f"{scheme}://{host}")


def _trusted(origin: Origin) -> bool:
    for entry in settings.CSRF_TRUSTED_ORIGINS:
        wildcard = "://*." in entry
        trusted = parse_origin(entry.replace("://*.", "://", 1))
        if trusted is None or (origin.scheme, origin.port) != (trusted.scheme, trusted.port):
            continue
        if origin.host == trusted.host or (wildcard and origin.host.endswith("." + trusted.host)):
            return True
    return False


def origin_allowed(scope: dict[str, Any]) -> bool:
    raw = _headers(scope).get(b"origin")
    if raw is None:
        return True  # not a browser; the session still has to be valid
    origin = parse_origin(raw.decode("latin1"))
    if origin is None:
        return False
    return origin == server_origin(scope) or _trusted(origin)


class SameOriginValidator:
    """ASGI middleware: refuse the handshake (403) unless ``origin_allowed``."""

    def __init__(self, application: Any) -> None:
        self.application = application

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        if scope["type"] != "websocket":
            raise ValueError("SameOriginValidator only guards websockets")
        if origin_allowed(scope):
            return await self.application(scope, receive, send)
        return await WebsocketDenier()(scope, receive, send)
