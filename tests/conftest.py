"""Shared fixtures: users alice and bob, API clients, and the tiny pipeline built once.

Only fixtures and hooks live here; helpers that tests import live in ``tests/clients.py``,
``tests/factories.py``, ``tests/pipelines.py`` and ``tests/environment.py``.

The tiny pipeline goes through the real path: built from configs, saved with
``save_pretrained`` into a temporary folder, loaded back with ``from_pretrained``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from generation.adapters.store import DjangoJobStore
from generation.manager.loader import DiffusersLoader
from generation.manager.types import ModelStatus, Pipeline
from generation.manager.worker import ModelManager
from tests.clients import api_client_for
from tests.doubles import RecordingPublisher
from tests.environment import UNDER_CI
from tests.pipelines import PreloadedLoader


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Iterator[None]:
    """Under CI every service is present, so a skip only hides a broken setup: fail it."""
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if UNDER_CI and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.longrepr = f"Skipped under CI=true, which counts as a failure: {reason}"


@pytest.fixture(autouse=True)
def _media_in_tmp(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _quick_password_hashes(settings: Any) -> None:
    """Hashing at production strength takes most of a second per user on a busy 2-core machine,
    and most tests make two or three users. Tests about hashing set their own hasher."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _english_unless_asked() -> Iterator[None]:
    """A request in Korean leaves Korean active in this thread; the next test starts in English."""
    from django.utils import translation

    translation.activate("en")
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _empty_cache() -> Iterator[None]:
    """Rate limits count in the cache: each test starts with none used."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _fresh_throughput_reading(monkeypatch: pytest.MonkeyPatch) -> None:
    """The workers' rate is cached for a moment per process; each test reads its own rows."""
    from generation import queueing

    monkeypatch.setattr(queueing, "_rate_cache", (float("-inf"), 0.0))


@pytest.fixture(scope="session")
def model_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("models")


@pytest.fixture(scope="session")
def tiny_loaded(model_cache: Path) -> tuple[Pipeline, ModelStatus]:
    return DiffusersLoader(model="tiny", device="cpu", cache_dir=model_cache).load()


@pytest.fixture
def publisher() -> RecordingPublisher:
    return RecordingPublisher()


@pytest.fixture
def manager(tiny_loaded: tuple[Pipeline, ModelStatus], publisher: RecordingPublisher) -> ModelManager:
    # Previews off: most tests read the exact event sequence; tests of previews turn them on.
    manager = ModelManager(
        store=DjangoJobStore(), publisher=publisher, loader=PreloadedLoader(tiny_loaded), preview_every=0
    )
    manager.load()
    return manager


@pytest.fixture
def alice(db: None) -> User:
    return User.objects.create_user("alice", "alice@example.com", "correct horse battery")


@pytest.fixture
def bob(db: None) -> User:
    return User.objects.create_user("bob", "bob@example.com", "correct horse battery")


@pytest.fixture
def alice_api(alice: User) -> APIClient:
    return api_client_for(alice)


@pytest.fixture
def bob_api(bob: User) -> APIClient:
    return api_client_for(bob)
