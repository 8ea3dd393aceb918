"""This process's generation runtime: one publisher, one queue announcer, (unless
``WEE_WAA_MANAGER=off``) one model manager and (unless ``WEE_WAA_WEBHOOK_THREAD=false``) one
webhook delivery thread, built once and stopped once.

Nothing here runs at import, so ``migrate``, ``check`` and test collection never load a model.
The ASGI server builds and starts the runtime at startup (``wee_waa.asgi``: the lifespan
protocol, or daphne's reactor start) with its running loop, and stops it at shutdown;
``generation_worker`` and tests build theirs explicitly. Code that only publishes (services in
a management command, a test without a server) gets a runtime without a manager on first use.
"""

from __future__ import annotations

import asyncio
import atexit
import logging
import threading
from typing import Any

from django.conf import settings

from generation.adapters.publisher import ChannelLayerPublisher, bind_server_loop
from generation.adapters.store import DjangoJobStore
from generation.manager.loader import DiffusersLoader
from generation.manager.training_runner import TrainingRunner
from generation.manager.types import EventPublisher, ModelState, ModelStatus
from generation.manager.worker import ModelManager, new_worker_id
from generation.metrics import PrometheusMetrics, adapter_timing
from generation.queueing import QueueAnnouncer
from generation.sockets import is_watched
from generation.style_training import DjangoTrainingStore
from generation.webhook_delivery import WebhookDeliverer

logger = logging.getLogger(__name__)


class Runtime:
    """The collaborators one process shares: services publish through the same publisher the
    manager uses, so there is one place where failed sends are seen and one queue announcer
    that knows what each user was last told."""

    def __init__(
        self,
        *,
        publisher: EventPublisher | None = None,
        announcer: QueueAnnouncer | None = None,
        manager: ModelManager | None = None,
        deliverer: WebhookDeliverer | None = None,
    ) -> None:
        self.publisher = publisher = publisher or ChannelLayerPublisher()
        self.announcer = announcer or QueueAnnouncer(publisher)
        self.manager = manager
        self.deliverer = deliverer  # the webhook delivery thread, if this process sends them
        self._lock = threading.Lock()
        self.stand_in = False  # built on first use where no server or worker built one
        self.started = False
        self.stopped = False

    def start(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        """``loop``: the server's running loop, where events are handed to the channel layer."""
        if loop is not None:
            bind_server_loop(loop)
        with self._lock:
            if self.started:
                return
            self.started = True
        if self.manager is not None:
            self.manager.start()
        if self.deliverer is not None:
            self.deliverer.start()

    def stop(self, timeout: float = 15.0) -> None:
        """A job in the middle of drawing goes back to the queue; its last events still go out.
        Safe to call more than once (lifespan shutdown, then the serve command's ``finally``)."""
        with self._lock:
            if self.stopped:
                return
            self.stopped = True
        if self.manager is not None and self.manager.alive:
            logger.info("Stopping the model manager")
            self.manager.stop(timeout)
        if self.deliverer is not None:
            self.deliverer.stop(timeout)
        if isinstance(self.publisher, ChannelLayerPublisher):  # the last events still go out
            self.publisher.flush()


def build_runtime(*, model: str | None = None, manager: bool = True) -> Runtime:
    """``manager=False``: publish only (a web process with ``WEE_WAA_MANAGER=off``)."""
    publisher = ChannelLayerPublisher()
    announcer = QueueAnnouncer(publisher)
    deliverer = WebhookDeliverer() if settings.WEE_WAA_WEBHOOK_THREAD else None
    if not manager:
        return Runtime(publisher=publisher, announcer=announcer, deliverer=deliverer)
    worker_id = new_worker_id()
    return Runtime(
        publisher=publisher,
        announcer=announcer,
        deliverer=deliverer,
        manager=ModelManager(
            store=DjangoJobStore(),
            publisher=publisher,
            loader=DiffusersLoader(
                model=model or settings.WEE_WAA_MODEL,
                device=settings.WEE_WAA_DEVICE,
                cache_dir=settings.WEE_WAA_MODEL_CACHE,
                dtype=settings.WEE_WAA_DTYPE,
                compile=settings.WEE_WAA_COMPILE,
                threads=settings.WEE_WAA_TORCH_THREADS,
                preview_vae=settings.WEE_WAA_PREVIEW_VAE,
                compile_mode=settings.WEE_WAA_COMPILE_MODE,
                warmup_sizes=tuple(settings.WEE_WAA_WARMUP_SIZES),
                buckets=settings.WEE_WAA_BUCKETS,
                max_batch=settings.WEE_WAA_MAX_BATCH,
                final_decoder=settings.WEE_WAA_FINAL_DECODER,
                inpaint_model=settings.WEE_WAA_INPAINT_MODEL,
                max_adapters=settings.WEE_WAA_MAX_LOADED_ADAPTERS,
                on_adapter_timing=adapter_timing,
            ),
            metrics=PrometheusMetrics(),
            max_attempts=settings.WEE_WAA_MAX_ATTEMPTS,
            poll_seconds=settings.WEE_WAA_POLL_SECONDS,
            max_batch=settings.WEE_WAA_MAX_BATCH,
            lease_seconds=settings.WEE_WAA_LEASE_SECONDS,
            preview_every=settings.WEE_WAA_PREVIEW_EVERY,
            announcer=announcer,
            result_workers=settings.WEE_WAA_RESULT_WORKERS,
            claim_wait=settings.WEE_WAA_CLAIM_WAIT_MS / 1000,
            watching=is_watched,
            worker_id=worker_id,
            training=TrainingRunner(DjangoTrainingStore(), worker_id, lease_seconds=settings.WEE_WAA_LEASE_SECONDS),
        ),
    )


_current: Runtime | None = None
_current_lock = threading.Lock()


def install(runtime: Runtime | None) -> Runtime | None:
    """Make ``runtime`` this process's; returns the one it replaces (tests put that back)."""
    global _current
    with _current_lock:
        previous, _current = _current, runtime
    return previous


def current() -> Runtime:
    """This process's runtime; a publish-only one if no server or worker built one."""
    global _current
    with _current_lock:
        if _current is None:
            _current = build_runtime(manager=False)
            _current.stand_in = True
        return _current


def start_server_runtime(loop: asyncio.AbstractEventLoop | None) -> Runtime:
    """Called once by the ASGI server at startup, on its loop. Idempotent. A runtime installed
    explicitly (tests, an embedding program) is the one started."""
    global _current
    with _current_lock:
        runtime = _current
        if runtime is None or runtime.stand_in or runtime.stopped:
            in_process = settings.WEE_WAA_MANAGER != "off"
            if not in_process:
                logger.info("WEE_WAA_MANAGER=off: this process does not run generation jobs")
            runtime = _current = build_runtime(manager=in_process)
    runtime.start(loop)
    logger.info("The generation runtime started (model manager: %s)", "on" if runtime.manager else "off")
    return runtime


def stop_server_runtime(timeout: float = 15.0) -> None:
    """Called at server shutdown; the runtime stays installed (stopped) for late callers."""
    with _current_lock:
        runtime = _current
    if runtime is not None:
        runtime.stop(timeout)
    bind_server_loop(None)


def stop_at_exit() -> None:
    """The last resort for a server that announces neither startup nor shutdown."""
    atexit.register(stop_server_runtime)


def current_manager() -> ModelManager | None:
    return _current.manager if _current is not None else None


def notify_new_job() -> None:
    manager = current_manager()
    if manager is not None:
        manager.notify()


def notify_cancel(job_id: str) -> None:
    """This process's manager stops the job at its next step; a manager in another process
    hears of it from the database within a fraction of a second."""
    manager = current_manager()
    if manager is not None:
        manager.cancel(job_id)


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
        "claim_wait_ms": round(manager.claimer.wait_seconds * 1000),
        "result_workers": manager.result_workers,
    }


def model_status() -> ModelStatus:
    manager = current_manager()
    if manager is None:
        state = ModelState.EXTERNAL if settings.WEE_WAA_MANAGER == "off" else ModelState.STOPPED
        return ModelStatus(state=state, requested_model=settings.WEE_WAA_MODEL)
    return manager.status
