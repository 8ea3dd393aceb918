"""The process's model manager: built from settings, started by the ASGI server or the worker.

Nothing here runs at import. ``start_in_process`` is called by ``wee_waa.asgi`` (the server)
so ``migrate``, ``check`` and test collection never load a model.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from django.conf import settings

from generation.manager.pipelines import DiffusersLoader
from generation.manager.publisher import ChannelLayerPublisher
from generation.manager.store import DjangoJobStore
from generation.manager.types import ModelStatus
from generation.manager.worker import ModelManager
from generation.metrics import PrometheusMetrics

logger = logging.getLogger(__name__)

_manager: ModelManager | None = None


def build_manager(*, model: str | None = None) -> ModelManager:
    from generation.queueing import announce_queue

    return ModelManager(
        store=DjangoJobStore(),
        publisher=ChannelLayerPublisher(),
        loader=DiffusersLoader(
            model=model or settings.WEE_WAA_MODEL,
            device=settings.WEE_WAA_DEVICE,
            cache_dir=settings.WEE_WAA_MODEL_CACHE,
            dtype=settings.WEE_WAA_DTYPE,
            compile=settings.WEE_WAA_COMPILE,
            preview_vae=settings.WEE_WAA_PREVIEW_VAE,
        ),
        metrics=PrometheusMetrics(),
        max_attempts=settings.WEE_WAA_MAX_ATTEMPTS,
        poll_seconds=settings.WEE_WAA_POLL_SECONDS,
        max_batch=settings.WEE_WAA_MAX_BATCH,
        lease_seconds=settings.WEE_WAA_LEASE_SECONDS,
        preview_every=settings.WEE_WAA_PREVIEW_EVERY,
        announcer=announce_queue,
    )


def start_in_process() -> ModelManager | None:
    """Start this process's manager unless ``WEE_WAA_MANAGER=off`` (a separate worker runs it)."""
    global _manager
    if settings.WEE_WAA_MANAGER == "off":
        logger.info("WEE_WAA_MANAGER=off: this process does not run generation jobs")
        return None
    if _manager is None:
        _manager = build_manager()
        _manager.start()
        # Before interpreter shutdown joins other threads: a manager still publishing then
        # would wait forever on executors that no longer take work.
        threading._register_atexit(stop_in_process)  # type: ignore[attr-defined]
    return _manager


def stop_in_process(timeout: float = 15.0) -> None:
    """Stop the worker thread; a job in the middle of drawing goes back to the queue."""
    if _manager is not None and _manager.alive:
        logger.info("Stopping the model manager")
        _manager.stop(timeout)


def current_manager() -> ModelManager | None:
    return _manager


def notify_new_job() -> None:
    if _manager is not None:
        _manager.notify()


def notify_cancel(job_id: str) -> None:
    """This process's manager stops the job at its next step; a manager in another process
    hears of it from the database within a fraction of a second."""
    if _manager is not None:
        _manager.cancel(job_id)


def manager_health(manager: ModelManager | None) -> dict[str, Any]:
    """What ``/healthz`` says about this process's manager thread."""
    if manager is None:
        return {"mode": settings.WEE_WAA_MANAGER, "alive": False}
    return {
        "mode": settings.WEE_WAA_MANAGER,
        "alive": manager.alive,
        "worker": manager.worker_id,
        "restarts": manager.restarts,
        "last_error": manager.last_error,
        "batch_limit": manager.batch_limit,
        "images_per_second": round(manager.images_per_second, 3),
    }


def model_status() -> ModelStatus:
    if _manager is None:
        state = "external" if settings.WEE_WAA_MANAGER == "off" else "stopped"
        return ModelStatus(state=state, requested_model=settings.WEE_WAA_MODEL)
    return _manager.status
