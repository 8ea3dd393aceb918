"""Webhooks: a job queued with an API token that has a webhook URL is announced, signed, to that
URL when it finishes, whichever way it finishes; URLs that reach private networks are refused."""

from __future__ import annotations

import hashlib
import hmac
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from PIL import Image
from rest_framework.test import APIClient

from accounts.models import ApiToken
from accounts.tokens import token_create, token_revoke
from generation import services, webhooks
from generation.adapters.store import DjangoJobStore
from generation.events import JobStatus
from generation.manager.types import JobLost
from generation.manager.worker import ModelManager
from generation.models import GenerationJob, WebhookDelivery
from generation.webhook_delivery import WebhookDeliverer
from generation.webhooks import webhook_url_check
from tests.factories import queue_job
from tests.generation.webhook_receiver import Receiver, verify

pytestmark = pytest.mark.django_db


@pytest.fixture
def private_allowed(settings: Any) -> None:
    settings.WEE_WAA_WEBHOOK_ALLOW_PRIVATE = True


@pytest.fixture
def receiver(private_allowed: None) -> Iterator[Receiver]:
    with Receiver().running() as running:
        yield running


def hooked_token(user: Any, url: str) -> tuple[ApiToken, str]:
    return token_create(user=user, name="render farm", webhook_url=url)


def bearer_client(raw: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def queue_with_token(raw: str) -> GenerationJob:
    response = bearer_client(raw).post(
        "/api/v1/jobs/", {"prompt": "a lighthouse", "width": 64, "height": 64, "steps": 2}, format="json"
    )
    assert response.status_code == 201, response.content
    return GenerationJob.objects.get(id=response.json()["id"])


def deliver_all() -> None:
    WebhookDeliverer().run_once()


def test_a_token_job_that_succeeds_sends_one_signed_post_whose_body_matches(
    alice: Any, receiver: Receiver, manager: ModelManager, settings: Any
) -> None:
    settings.WEE_WAA_PUBLIC_URL = "https://studio.example.com"
    token, raw = hooked_token(alice, receiver.url)
    job = queue_with_token(raw)
    assert job.api_token == token

    manager.run_once()
    deliver_all()

    [post] = receiver.received
    job.refresh_from_db()
    delivery = WebhookDelivery.objects.get(job=job)
    assert post.path == "/hooks/wee-waa?source=test"
    assert post.headers["Content-Type"] == "application/json"
    assert post.headers["User-Agent"].startswith("Wee-Waa-Webhook/")
    assert post.headers["X-WeeWaa-Delivery"] == delivery.id
    assert verify(token.webhook_secret, post.headers, post.body)
    assert not verify("whsec_someone-else", post.headers, post.body)
    body = post.json()
    image = job.images.get()
    assert body["type"] == "job.finished"
    assert body["job"] == {
        "id": job.id,
        "status": "succeeded",
        "error": "",
        "images": [{"id": image.id, "url": f"https://studio.example.com/media/{image.image.name}", "seed": image.seed}],
        "created_at": job.created_at.isoformat().replace("+00:00", "Z"),
        "finished_at": job.finished_at.isoformat().replace("+00:00", "Z"),
    }
    assert body["sent_at"].endswith("Z")
    assert delivery.delivered_at is not None and delivery.attempts == 1 and delivery.last_status == 200


def test_a_failed_token_job_sends_its_error(alice: Any, receiver: Receiver) -> None:
    token, raw = hooked_token(alice, receiver.url)
    job = queue_with_token(raw)

    DjangoJobStore().fail(job.id, "The model ran out of memory.")
    deliver_all()

    [post] = receiver.received
    assert verify(token.webhook_secret, post.headers, post.body)
    assert post.json()["job"] | {"created_at": None, "finished_at": None} == {
        "id": job.id,
        "status": "failed",
        "error": "The model ran out of memory.",
        "images": [],
        "created_at": None,
        "finished_at": None,
    }


def test_a_queued_token_job_cancelled_through_the_api_sends_cancelled(alice: Any, receiver: Receiver) -> None:
    _token, raw = hooked_token(alice, receiver.url)
    job = queue_with_token(raw)

    assert bearer_client(raw).post(f"/api/v1/jobs/{job.id}/cancel/").status_code == 200
    deliver_all()

    [post] = receiver.received
    assert (post.json()["job"]["id"], post.json()["job"]["status"]) == (job.id, "cancelled")


def test_a_running_token_job_stopped_by_its_worker_sends_cancelled(alice: Any, private_allowed: None) -> None:
    token, raw = hooked_token(alice, "http://127.0.0.1:9/hook")
    job = queue_with_token(raw)
    store = DjangoJobStore()
    store.claim_batch("host:1:a", max_images=4, lease_seconds=30)
    services.job_cancel(job=job)
    assert not WebhookDelivery.objects.exists()  # only asked to stop: not finished yet

    assert store.cancel(job.id, "host:1:a")

    delivery = WebhookDelivery.objects.get()
    assert (delivery.job_id, delivery.token, delivery.url) == (job.id, token, "http://127.0.0.1:9/hook")
    assert delivery.payload["job"]["status"] == "cancelled"


@pytest.mark.parametrize(("cancel_requested", "status"), [(False, "failed"), (True, "cancelled")])
def test_jobs_that_recovery_fails_or_cancels_are_announced(
    alice: Any, private_allowed: None, cancel_requested: bool, status: str
) -> None:
    _token, raw = hooked_token(alice, "http://127.0.0.1:9/hook")
    job = queue_with_token(raw)
    GenerationJob.objects.filter(id=job.id).update(
        status=JobStatus.RUNNING, attempts=3, worker="gone:1:x", cancel_requested=cancel_requested
    )

    DjangoJobStore().recover(max_attempts=3)

    assert WebhookDelivery.objects.get().payload["job"]["status"] == status


def test_a_job_requeued_by_recovery_is_not_announced(alice: Any, private_allowed: None) -> None:
    _token, raw = hooked_token(alice, "http://127.0.0.1:9/hook")
    job = queue_with_token(raw)
    GenerationJob.objects.filter(id=job.id).update(status=JobStatus.RUNNING, attempts=1, worker="gone:1:x")

    DjangoJobStore().recover(max_attempts=3)

    assert GenerationJob.objects.get(id=job.id).status == JobStatus.QUEUED
    assert not WebhookDelivery.objects.exists()


def test_a_finish_that_does_not_commit_leaves_no_delivery(alice: Any, private_allowed: None) -> None:
    _token, raw = hooked_token(alice, "http://127.0.0.1:9/hook")
    job = queue_with_token(raw)
    store = DjangoJobStore()
    [spec] = store.claim_batch("host:1:a", max_images=4, lease_seconds=30)
    GenerationJob.objects.filter(id=job.id).update(cancel_requested=True)

    with pytest.raises(JobLost):
        store.succeed(spec, [Image.new("RGB", (64, 64))], "tiny", "host:1:a")

    assert not WebhookDelivery.objects.exists()


def test_a_job_finished_twice_is_announced_once(alice: Any, private_allowed: None) -> None:
    _token, raw = hooked_token(alice, "http://127.0.0.1:9/hook")
    job = queue_with_token(raw)
    store = DjangoJobStore()

    store.fail(job.id, "first")
    store.fail(job.id, "second")

    assert WebhookDelivery.objects.count() == 1


def test_studio_jobs_send_no_webhook(alice: Any, alice_api: APIClient, receiver: Receiver, manager: Any) -> None:
    hooked_token(alice, receiver.url)  # the user has a hooked token, but the studio does not use it
    response = alice_api.post(
        "/api/v1/jobs/", {"prompt": "a barn", "width": 64, "height": 64, "steps": 2}, format="json"
    )
    assert response.status_code == 201
    queue_job(alice)

    manager.run_once()
    deliver_all()

    assert GenerationJob.objects.filter(status=JobStatus.SUCCEEDED).count() == 2
    assert not GenerationJob.objects.filter(api_token__isnull=False).exists()
    assert not WebhookDelivery.objects.exists() and receiver.received == []


def test_a_token_without_a_webhook_url_sends_nothing(alice: Any, manager: Any) -> None:
    _token, raw = token_create(user=alice, name="no hook")
    job = queue_with_token(raw)

    manager.run_once()

    assert GenerationJob.objects.get(id=job.id).status == JobStatus.SUCCEEDED
    assert not WebhookDelivery.objects.exists()


def test_a_revoked_tokens_jobs_are_not_announced(alice: Any, private_allowed: None) -> None:
    token, raw = hooked_token(alice, "http://127.0.0.1:9/hook")
    job = queue_with_token(raw)
    token_revoke(token=token)

    DjangoJobStore().fail(job.id, "boom")

    assert not WebhookDelivery.objects.exists()


def test_the_signature_is_the_hmac_of_the_timestamp_and_the_body() -> None:
    signature = webhooks.webhook_signature("whsec_test", 1700000000, b'{"a":1}')
    headers = {"X-WeeWaa-Timestamp": "1700000000", "X-WeeWaa-Signature": signature}

    expected = hmac.new(b"whsec_test", b'1700000000.{"a":1}', hashlib.sha256).hexdigest()
    assert signature == f"sha256={expected}"
    assert verify("whsec_test", headers, b'{"a":1}', max_age=10**10)
    assert not verify("whsec_test", headers, b'{"a":2}', max_age=10**10)
    assert not verify("whsec_test", {**headers, "X-WeeWaa-Timestamp": "1700000001"}, b'{"a":1}', max_age=10**10)


# --- Which URLs we call -------------------------------------------------------------------

REFUSED = [
    ("http://127.0.0.1/hook", "private"),
    ("http://127.1.2.3:8080/hook", "private"),
    ("http://10.0.0.5/hook", "private"),
    ("http://172.16.3.4/hook", "private"),
    ("http://192.168.1.1/hook", "private"),
    ("http://169.254.169.254/latest/meta-data/", "private"),
    ("http://100.64.0.1/", "private"),
    ("http://0.0.0.0/", "private"),
    ("http://224.0.0.1/", "private"),
    ("http://[::1]/hook", "private"),
    ("http://[::]/hook", "private"),
    ("http://[::ffff:127.0.0.1]/hook", "private"),
    ("http://[::ffff:169.254.169.254]/hook", "private"),
    ("http://[fe80::1]/hook", "private"),
    ("http://[fd00::1]/hook", "private"),
    ("http://[2002:7f00:1::1]/hook", "private"),  # 6to4 wrapping 127.0.0.1
    ("http://[64:ff9b::7f00:1]/hook", "private"),  # NAT64 wrapping 127.0.0.1
    ("http://localhost:8000/hook", "private"),
    ("ftp://93.184.216.34/hook", "scheme"),
    ("file:///etc/passwd", "scheme"),
    ("gopher://93.184.216.34/", "scheme"),
    ("http://user:pass@93.184.216.34/hook", "credentials"),
    ("https://token@93.184.216.34/hook", "credentials"),
    ("http:///hook", "host"),
    ("http://93.184.216.34:99999/hook", "invalid"),
    ("http://93.184.216.34/a\r\nX-Injected: 1", "invalid"),
    ("http://a..b.example.com/hook", "invalid"),
]


@pytest.mark.parametrize(("url", "code"), REFUSED)
def test_urls_reaching_private_networks_or_other_schemes_are_refused(url: str, code: str) -> None:
    with pytest.raises(ValidationError) as refused:
        webhook_url_check(url)

    assert refused.value.code == code
    assert refused.value.messages[0]  # a sentence for the tokens page


def test_the_refusal_names_the_address_and_says_why() -> None:
    with pytest.raises(ValidationError) as refused:
        webhook_url_check("http://localhost:8000/hook")

    message = refused.value.messages[0]
    assert "localhost" in message and "public internet" in message


def test_public_addresses_are_accepted() -> None:
    webhook_url_check("https://93.184.216.34/hooks")
    webhook_url_check("http://[2606:2800:220:1:248:1893:25c8:1946]:8443/hooks")


def test_a_name_with_one_private_address_among_public_ones_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        webhooks,
        "resolve",
        lambda host, port: [(socket.AF_INET, ("93.184.216.34", port)), (socket.AF_INET, ("10.0.0.7", port))],
    )

    with pytest.raises(ValidationError, match=r"10\.0\.0\.7"):
        webhook_url_check("https://hooks.example.com/in")


def test_an_international_host_name_is_looked_up_in_its_ascii_form(monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[str] = []

    def resolve(host: str, port: int) -> list[Any]:
        asked.append(host)
        return [(socket.AF_INET, ("93.184.216.34", port))]

    monkeypatch.setattr(webhooks, "resolve", resolve)

    webhook_url_check("https://bücher.example/hook")

    assert asked == ["xn--bcher-kva.example"]


def test_an_unknown_host_is_refused_with_a_clear_message(monkeypatch: pytest.MonkeyPatch) -> None:
    def unknown(host: str, port: int) -> list[Any]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(webhooks, "resolve", unknown)

    with pytest.raises(ValidationError, match="could not be found") as refused:
        webhook_url_check("https://no-such-host.example.com/in")
    assert refused.value.code == "unresolved"


def test_private_addresses_are_allowed_when_the_setting_says_so(private_allowed: None) -> None:
    webhook_url_check("http://127.0.0.1:8080/hook")
    webhook_url_check("http://localhost/hook")
    webhook_url_check("http://[::1]/hook")
    with pytest.raises(ValidationError):
        webhook_url_check("ftp://127.0.0.1/hook")  # the scheme and credentials rules still hold


def test_webhook_payload_times_are_utc_with_a_z(alice: Any) -> None:
    job = queue_job(alice)
    GenerationJob.objects.filter(id=job.id).update(status=JobStatus.FAILED, finished_at=timezone.now())
    job.refresh_from_db()

    payload = webhooks.job_finished_payload(job)

    assert payload["job"]["created_at"].endswith("Z") and payload["job"]["finished_at"].endswith("Z")
