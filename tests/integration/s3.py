"""A real S3-compatible server for the storage tests: moto's standalone server (``moto[server]``)
in a subprocess on a free port, one fresh bucket per test, and the settings the app computes
for it (read from ``wee_waa.settings`` in a subprocess, so the tests use the real settings path).

What moto does not check (moto 5.2.5, read in its source and tried): presigned URLs are served
after they expire and whatever their signature, and object ACLs are recorded but not enforced.
So the tests check the signature themselves (``presigned_signature_holds``, as S3 does) and
what the app asks of S3 (the URL's lifetime, no ACL on uploads)."""

from __future__ import annotations

import hashlib
import hmac
import http.cookiejar
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import Message
from pathlib import Path
from typing import IO, Any

import boto3

from tests.live_server import free_port

ROOT = Path(__file__).resolve().parents[2]
START_DEADLINE = 30.0
# Fixed, fake credentials: moto accepts any; the app reads them the way boto3 always does.
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "wee-waa-test-key",
    "AWS_SECRET_ACCESS_KEY": "wee-waa-test-secret",
    "AWS_DEFAULT_REGION": "us-east-1",
    # A developer's own ~/.aws files must not change what the tests see.
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
}


class MotoUnavailable(RuntimeError):
    """moto's server could not be started here (not installed, or it died on start)."""


@dataclass
class MotoS3:
    endpoint: str
    process: subprocess.Popen[bytes]

    def client(self) -> Any:
        return boto3.client("s3", endpoint_url=self.endpoint, **_boto_arguments())

    def new_bucket(self) -> str:
        name = f"wee-waa-{secrets.token_hex(4)}"
        self.client().create_bucket(Bucket=name)
        return name

    def keys(self, bucket: str, prefix: str = "") -> set[str]:
        pages = self.client().get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        return {item["Key"] for page in pages for item in page.get("Contents", [])}

    def body(self, bucket: str, key: str) -> bytes:
        return bytes(self.client().get_object(Bucket=bucket, Key=key)["Body"].read())

    def app_env(self, bucket: str, *, expire: int) -> dict[str, str]:
        """The environment a Wee-Waa process needs to keep its files in ``bucket``."""
        return {
            **CREDENTIALS,
            "WEE_WAA_S3_BUCKET": bucket,
            "WEE_WAA_S3_ENDPOINT_URL": self.endpoint,
            "WEE_WAA_S3_URL_EXPIRE": str(expire),
        }


def _boto_arguments() -> dict[str, str]:
    return {
        "aws_access_key_id": CREDENTIALS["AWS_ACCESS_KEY_ID"],
        "aws_secret_access_key": CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        "region_name": CREDENTIALS["AWS_DEFAULT_REGION"],
    }


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without our settings or the developer's AWS profile."""
    base = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("WEE_WAA_", "AWS_")) and key not in {"DJANGO_SETTINGS_MODULE"}
    }
    return {**base, **extra}


@contextmanager
def moto_server() -> Iterator[MotoS3]:
    """moto's standalone server, answering on 127.0.0.1; stopped afterwards. Its log goes to a
    file (a pipe nobody reads would fill up and stall it: it logs every request)."""
    port = free_port()
    with tempfile.TemporaryFile() as log:
        try:
            process = subprocess.Popen(
                [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        except OSError as exc:
            raise MotoUnavailable(f"moto's server did not start: {exc}") from exc
        server = MotoS3(endpoint=f"http://127.0.0.1:{port}", process=process)
        try:
            _wait_until_up(server, log)
            yield server
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


def _wait_until_up(server: MotoS3, log: IO[bytes]) -> None:
    deadline = time.monotonic() + START_DEADLINE
    while True:
        try:
            server.client().list_buckets()
            return
        except Exception as exc:
            if server.process.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                raise MotoUnavailable(
                    f"moto's server did not answer ({exc}); is moto[server] installed?\n"
                    + log.read().decode(errors="replace")[-2000:]
                ) from exc
            time.sleep(0.1)


def app_settings(env: dict[str, str], *names: str) -> dict[str, Any]:
    """Settings exactly as ``wee_waa/settings.py`` computes them from ``env`` (JSON-able ones)."""
    script = (
        "import json, sys; from django.conf import settings; "
        "print(json.dumps({name: getattr(settings, name) for name in sys.argv[1:]}, default=str))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, *names],
        cwd=ROOT,
        env=clean_env(DJANGO_SETTINGS_MODULE="wee_waa.settings", **env),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return dict(json.loads(result.stdout))


@dataclass
class Answer:
    status: int
    headers: Message
    body: bytes

    @property
    def location(self) -> str:
        return self.headers.get("Location", "")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def fetch(url: str, cookies: http.cookiejar.CookieJar | None = None) -> Answer:
    """One GET, redirects not followed (a 302 comes back as itself); ``cookies``: whose session."""
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(cookies), _NoRedirect())
    try:
        with opener.open(url, timeout=30) as response:
            return Answer(response.status, response.headers, response.read())
    except urllib.error.HTTPError as answer:
        return Answer(answer.code, answer.headers, answer.read())


def signed_query(url: str) -> dict[str, str]:
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))


def presigned_signature_holds(url: str, secret_key: str = CREDENTIALS["AWS_SECRET_ACCESS_KEY"]) -> bool:
    """Checks a presigned GET URL's SigV4 signature the way S3 does (moto does not): every
    query parameter is signed, so its lifetime (``X-Amz-Expires``) cannot be stretched."""
    parts = urllib.parse.urlsplit(url)
    query = signed_query(url)
    signature = query.pop("X-Amz-Signature", "")

    def encode(text: str) -> str:
        return urllib.parse.quote(text, safe="-_.~")

    canonical_query = "&".join(f"{encode(key)}={encode(value)}" for key, value in sorted(query.items()))
    canonical_request = "\n".join(
        ["GET", parts.path, canonical_query, f"host:{parts.netloc}", "", "host", "UNSIGNED-PAYLOAD"]
    )
    _access_key, scope = query["X-Amz-Credential"].split("/", 1)
    to_sign = "\n".join(
        ["AWS4-HMAC-SHA256", query["X-Amz-Date"], scope, hashlib.sha256(canonical_request.encode()).hexdigest()]
    )
    key = f"AWS4{secret_key}".encode()
    for part in scope.split("/"):  # date, region, service, "aws4_request"
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return hmac.compare_digest(hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest(), signature)
