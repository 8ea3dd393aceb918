"""A real nginx (Debian's ``/usr/sbin/nginx``) configured from ``deploy/nginx``'s templates,
rendered the way the nginx image renders them, in front of a live server.

The image runs ``envsubst`` over ``/etc/nginx/templates/**/*.template`` with
``NGINX_ENVSUBST_FILTER=^NGINX_`` and writes ``/etc/nginx/conf.d/``; here the same files land
in a temporary prefix whose ``nginx.conf`` mirrors the image's (``include conf.d/*.conf`` in
``http``), so ``include conf.d/wee-waa/site.conf`` resolves the same way in both.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.live_server import ROOT, free_port

NGINX = os.environ.get("WEE_WAA_NGINX", "/usr/sbin/nginx")
DEPLOY = ROOT / "deploy" / "nginx"
MIME_TYPES = Path("/etc/nginx/mime.types")
_NAME = re.compile(r"\$(?:\{(NGINX_[A-Za-z0-9_]*)\}|(NGINX_[A-Za-z0-9_]*))")


def nginx_binary() -> str:
    """The nginx to run; a skip (a failure under CI=true) when it is not installed."""
    if not Path(NGINX).is_file():
        pytest.skip(f"nginx is not installed at {NGINX} (apt-get install nginx)")
    return NGINX


def render(template: str, values: Mapping[str, str]) -> str:
    """``envsubst`` restricted to ``NGINX_*`` names, as the image runs it; nginx's own
    ``$variables`` stay. A name without a value is an error here (envsubst would leave it, and
    nginx would fail later with a less helpful message)."""

    def value(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        if name not in values:
            raise KeyError(f"{name} has no value")
        return values[name]

    return _NAME.sub(value, template)


def template_names() -> set[str]:
    """Every ``NGINX_*`` name the templates use (so compose.yaml's test can check it sets them)."""
    names: set[str] = set()
    for path in DEPLOY.rglob("*.template"):
        names.update(a or b for a, b in _NAME.findall(path.read_text()))
    return names


def main_conf(prefix: Path) -> str:
    """The image's nginx.conf, in a temporary prefix (pid, logs, temp files), in the foreground."""
    user = "user root;\n" if os.geteuid() == 0 else ""  # workers must read the test's 0700 folders
    temp = "\n".join(
        f"    {kind}_temp_path {prefix / 'temp' / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return f"""{user}daemon off;
worker_processes 1;
pid {prefix / "nginx.pid"};
error_log {prefix / "error.log"} notice;
events {{ worker_connections 512; }}
http {{
    include {MIME_TYPES};
    default_type application/octet-stream;
    access_log {prefix / "access.log"};
    sendfile on;
    keepalive_timeout 65;
{temp}
    include conf.d/*.conf;
}}
"""


@dataclass
class Nginx:
    url: str
    prefix: Path
    https_url: str | None
    process: subprocess.Popen[bytes] | None = None

    @property
    def conf(self) -> Path:
        return self.prefix / "nginx.conf"

    def command(self, *args: str) -> list[str]:
        return [
            nginx_binary(),
            "-p",
            str(self.prefix),
            "-c",
            str(self.conf),
            "-e",
            str(self.prefix / "error.log"),
            *args,
        ]

    def error_log(self) -> str:
        path = self.prefix / "error.log"
        return path.read_text()[-4000:] if path.exists() else ""


def configure(
    prefix: Path,
    *,
    upstream: str,
    static_root: Path,
    media_root: Path,
    tls: tuple[Path, Path] | None = None,
    https_redirect: bool = False,
) -> Nginx:
    """Renders the deploy templates into ``prefix`` for free ports; starts nothing."""
    port = free_port()
    values = {
        "NGINX_PORT": str(port),
        "NGINX_SERVER_NAME": "_",
        "NGINX_UPSTREAM": upstream,
        "NGINX_STATIC_ROOT": f"{static_root}/",
        "NGINX_MEDIA_ROOT": f"{media_root}/",
        "NGINX_HTTPS_REDIRECT": "on" if https_redirect else "off",
    }
    https_url = None
    if tls is not None:
        tls_port = free_port()
        values |= {"NGINX_TLS_PORT": str(tls_port), "NGINX_TLS_CERT": str(tls[0]), "NGINX_TLS_KEY": str(tls[1])}
        https_url = f"https://127.0.0.1:{tls_port}"
    for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (prefix / "temp" / kind).mkdir(parents=True, exist_ok=True)
    sources = list((DEPLOY / "templates").rglob("*.template"))
    if tls is not None:
        sources.append(DEPLOY / "tls" / "wee-waa-tls.conf.template")
    for source in sources:
        relative = (
            source.relative_to(DEPLOY / "tls")
            if source.parent.name == "tls"
            else source.relative_to(DEPLOY / "templates")
        )
        target = prefix / "conf.d" / str(relative).removesuffix(".template")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(render(source.read_text(), values))
    (prefix / "nginx.conf").write_text(main_conf(prefix))
    return Nginx(url=f"http://127.0.0.1:{port}", prefix=prefix, https_url=https_url)


def check_config(nginx: Nginx) -> subprocess.CompletedProcess[str]:
    """``nginx -t`` on the rendered configuration."""
    return subprocess.run(nginx.command("-t"), capture_output=True, text=True, timeout=30)


def _listening(url: str) -> bool:
    host, port = url.rsplit("/", 1)[-1].rsplit(":", 1)
    try:
        with socket.create_connection((host, int(port)), timeout=0.5):
            return True
    except OSError:
        return False


@contextmanager
def running(nginx: Nginx) -> Iterator[Nginx]:
    """nginx in the foreground as a child process; stopped gracefully (SIGQUIT) afterwards."""
    log = (nginx.prefix / "stderr.log").open("w")
    nginx.process = subprocess.Popen(nginx.command(), stdout=log, stderr=log)
    log.close()
    try:
        deadline = time.monotonic() + 20
        while not (_listening(nginx.url) and (nginx.https_url is None or _listening(nginx.https_url))):
            if nginx.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"nginx did not start:\n{nginx.error_log()}")
            time.sleep(0.05)
        yield nginx
    finally:
        if nginx.process.poll() is None:
            nginx.process.send_signal(signal.SIGQUIT)
            try:
                nginx.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                nginx.process.kill()
                nginx.process.wait(timeout=10)


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """A throwaway certificate for 127.0.0.1 made with the openssl command line."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is not installed (apt-get install openssl)")
    cert, key = folder / "fullchain.pem", folder / "privkey.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return cert, key
