"""deploy/grafana cannot rot: every metric a panel's PromQL names is in the app's real /metrics
answer (after a job drew, one failed and one was refused, so every labelled series and
histogram has samples), and every panel reads the data source Grafana is provisioned with.
Whether each query runs on a real Prometheus is tests/integration/test_prometheus.py's part."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from generation.manager.worker import ModelManager
from generation.metrics import PrometheusMetrics
from tests.factories import queue_job
from tests.integration.grafana import exported_samples, metric_names, panels, queries
from tests.live_server import ROOT

PROVISIONING = ROOT / "deploy" / "grafana" / "provisioning"


class BrokenPipeline:
    """Fails every call, as a pipeline whose scheduler fell over would."""

    name, device = "broken", "cpu"

    def text_windows(self, job: Any) -> int:
        return 1

    def generate(self, slots: Any, on_step: Any) -> Any:
        raise ValueError("the scheduler fell over")


@pytest.mark.django_db
def test_every_metric_the_dashboard_queries_is_exported_by_the_app(
    client: Any, alice: Any, bob: Any, alice_api: Any, manager: ModelManager, settings: Any
) -> None:
    assert isinstance(manager, ModelManager)
    manager.metrics = PrometheusMetrics()
    manager.load()  # reports the model (already in memory) through the real metrics
    manager.preview_every = 1
    settings.WEE_WAA_METRICS_TOKEN = ""
    settings.WEE_WAA_MAX_UNFINISHED_PER_USER = 1
    # A job drawn, one refused (alice has one unfinished already), one failed.
    assert alice_api.post("/api/v1/jobs/", {"prompt": "drawn"}, format="json").status_code == 201
    assert alice_api.post("/api/v1/jobs/", {"prompt": "refused"}, format="json").status_code == 429
    manager.run_once()
    manager.pipeline = BrokenPipeline()
    queue_job(bob)
    manager.run_once()
    client.get("/accounts/login/")  # django-prometheus' per-view metrics need a request

    exported = exported_samples(client.get("/metrics").content.decode())

    missing = {
        f"{query.panel} ({query.ref}): {name}"
        for query in queries()
        for name in metric_names(query.expr)
        if name not in exported
    }
    assert missing == set()
    assert all(metric_names(query.expr) for query in queries()), "a query that names no metric"


def test_the_metric_name_reader_skips_functions_labels_keywords_and_durations() -> None:
    expr = (
        'histogram_quantile(0.95, sum by (le, view) (rate(a_bucket{status="failed", x=~"b|c"}[$__rate_interval])))'
        " and on(instance) b_total offset 5m > 1e3 or max without (job) (c)"
    )

    assert metric_names(expr) == {"a_bucket", "b_total", "c"}


def test_every_panel_reads_the_provisioned_data_source_and_has_its_own_id() -> None:
    datasources = yaml.safe_load((PROVISIONING / "datasources" / "prometheus.yml").read_text())["datasources"]
    uid = datasources[0]["uid"]
    all_panels = list(panels())

    assert len({panel["id"] for panel in all_panels}) == len(all_panels)
    for panel in all_panels:
        if panel["type"] == "row":
            continue
        assert panel["datasource"] == {"type": "prometheus", "uid": uid}, panel["title"]
        assert all(target["datasource"]["uid"] == uid for target in panel["targets"]), panel["title"]


def test_the_dashboard_has_the_panels_operators_need() -> None:
    titles = {panel["title"] for panel in panels()}
    wanted = {
        "Queue depth",
        "Job wait (queued → claimed)",
        "Job duration (claimed → finished)",
        "Images per second",
        "Batch size (images per pipeline call)",
        "Pipeline seconds per image",
        "Failures by reason",
        "Websocket connections",
        "HTTP latency by view",
    }
    assert wanted <= titles
