"""What switching styles costs is visible in /metrics, and the server's loader is wired to report
it, with the adapter bound from the setting; the worker gets its style trainer."""

from __future__ import annotations

from typing import Any

from generation import runtime
from generation.manager.loader import DiffusersLoader
from generation.manager.training_runner import TrainingRunner
from generation.metrics import ADAPTER_SECONDS, adapter_timing


def test_the_servers_model_reports_adapter_timings_and_trains_styles(settings: Any) -> None:
    settings.WEE_WAA_MAX_LOADED_ADAPTERS = 3
    process = runtime.build_runtime(model="tiny")
    manager = process.manager
    assert manager is not None and isinstance(manager.loader, DiffusersLoader)

    assert manager.loader.on_adapter_timing is adapter_timing
    assert manager.loader.max_adapters == 3
    assert isinstance(manager.training, TrainingRunner) and manager.training.worker == manager.worker_id


def observed(event: str) -> float:
    """How many timings of ``event`` the histogram holds (read from the metric alone: the
    whole registry also runs collectors that query the database)."""
    for metric in ADAPTER_SECONDS.collect():
        for sample in metric.samples:
            if sample.name == "wee_waa_style_adapter_seconds_count" and sample.labels == {"event": event}:
                return float(sample.value)
    return 0.0


def test_adapter_timings_land_in_a_histogram_per_event() -> None:
    before = observed("switch")

    adapter_timing("switch", 0.004)

    assert observed("switch") == before + 1
