"""deploy/prometheus, checked by promtool and run by a real Prometheus against the real app.

The stack mirrors compose.yaml: a web process (``manage.py serve``, ``WEE_WAA_MANAGER=off``,
``/metrics`` behind ``WEE_WAA_METRICS_TOKEN``) and a ``generation_worker`` with
``--metrics-port`` on the same database, scraped every second by Prometheus running the
deploy configuration with only the targets and the token file's path changed.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from tests.integration import grafana
from tests.integration.prometheus import DEPLOY, Prometheus, promtool, render_config, running_prometheus
from tests.live_server import ROOT, Client, Server, free_port, running_server

pytestmark = pytest.mark.integration

METRICS_TOKEN = "prometheus-test-token"
ALERTS = {
    "WeeWaaManagerDown",
    "WeeWaaWebDown",
    "WeeWaaQueueGrowing",
    "WeeWaaJobsFailing",
    "WeeWaaSlowStart",
    "WeeWaaNoImagesDrawn",
}
# Panels whose series exist once one job has drawn (failures and refusals need a failure).
QUIET_PANELS = {"Failures by reason", "Jobs submitted, finished and refused"}


def test_promtool_accepts_the_shipped_configuration(tmp_path: Path) -> None:
    syntax = promtool("check", "config", "--syntax-only", "prometheus.yml")
    # The full check also opens the token file and the rules: render them where they exist.
    rendered = render_config(tmp_path, targets={"web": "web:8000", "worker": "worker:9108"}, token="t")
    full = promtool("check", "config", str(rendered))

    assert syntax.returncode == 0, syntax.stdout + syntax.stderr
    assert full.returncode == 0, full.stdout + full.stderr
    assert "SUCCESS: 6 rules found" in full.stdout


def test_promtool_accepts_the_alert_rules() -> None:
    result = promtool("check", "rules", "alerts.yml")

    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 6 rules found" in result.stdout


def test_the_alert_rules_pass_their_unit_tests() -> None:
    result = promtool("test", "rules", "alerts.test.yml")

    assert result.returncode == 0, result.stdout + result.stderr
    tested = set(re.findall(r"alertname: (\w+)", (DEPLOY / "alerts.test.yml").read_text()))
    assert tested == ALERTS  # every alert has a story


@dataclass
class Stack:
    web: Server
    worker_metrics: str
    prometheus: Prometheus
    client: Client


def start_worker(server: Server, port: int, log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "manage.py", "generation_worker", "--metrics-port", str(port)],
            cwd=ROOT,
            env={**server.env, "WEE_WAA_POLL_SECONDS": "0.2", "WEE_WAA_DEVICE": "cpu"},
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def wait_until_ready(worker: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 180
    while not re.search(r"^Model \S+: ready$", log.read_text(errors="replace"), re.MULTILINE):
        assert worker.poll() is None and time.monotonic() < deadline, log.read_text(errors="replace")[-3000:]
        time.sleep(0.2)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    promtool("--version")  # skip before starting servers when Prometheus is missing
    folder = tmp_path_factory.mktemp("prometheus-stack")
    env = {"WEE_WAA_MANAGER": "off", "WEE_WAA_METRICS_TOKEN": METRICS_TOKEN}
    (folder / "data").mkdir()
    with running_server(extra_env=env, data=folder / "data", wait_for_model=False) as web:
        port = free_port()
        log = folder / "worker.log"
        worker = start_worker(web, port, log)
        try:
            wait_until_ready(worker, log)
            targets = {"web": web.url.removeprefix("http://"), "worker": f"127.0.0.1:{port}"}
            config = render_config(folder, targets=targets, token=METRICS_TOKEN)
            with running_prometheus(config, folder) as prometheus:
                client = Client(web.url)
                client.sign_up()
                yield Stack(web, f"http://127.0.0.1:{port}/metrics", prometheus, client)
        finally:
            worker.terminate()
            worker.wait(timeout=60)


def draw_one(client: Client) -> None:
    job = client.create_job({"prompt": "counted by prometheus", "count": 1, "width": 64, "height": 64, "steps": 2})
    deadline = time.monotonic() + 120
    while job["status"] != "succeeded":
        assert job["status"] in {"queued", "running"} and time.monotonic() < deadline, job
        time.sleep(0.2)
        job = client.api("GET", f"/api/v1/jobs/{job['id']}/")


def test_prometheus_scrapes_web_with_the_token_and_the_worker_and_counts_a_finished_job(stack: Stack) -> None:
    prometheus = stack.prometheus
    prometheus.wait_for('up{job="web"}', lambda up: up == 1)
    prometheus.wait_for('up{job="worker"}', lambda up: up == 1)
    before = prometheus.value('sum(wee_waa_generation_jobs_finished_total{status="succeeded"})') or 0.0

    draw_one(stack.client)

    finished = prometheus.wait_for(
        'sum(wee_waa_generation_jobs_finished_total{job="worker", status="succeeded"})', lambda n: n >= before + 1
    )
    submitted = prometheus.wait_for('sum(wee_waa_generation_jobs_submitted_total{job="web"})', lambda n: n >= 1)
    assert finished >= 1 and submitted >= 1
    # The token is what let Prometheus in: the web process refuses a scrape without it.
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"{stack.web.url}/metrics", timeout=5)  # noqa: S310
    assert refused.value.code == 401


def test_the_alert_rules_load_and_evaluate_on_real_data(stack: Stack) -> None:
    deadline = time.monotonic() + 30
    while True:
        rules = [rule for group in stack.prometheus.api("rules")["groups"] for rule in group["rules"]]
        if rules and all(rule.get("lastEvaluation", "").startswith("2") for rule in rules):
            break
        assert time.monotonic() < deadline, rules
        time.sleep(0.5)

    assert {rule["name"] for rule in rules} == ALERTS
    assert {rule["name"]: rule["health"] for rule in rules} == dict.fromkeys(ALERTS, "ok")
    firing = {alert["labels"]["alertname"] for alert in stack.prometheus.api("alerts")["alerts"]}
    assert "WeeWaaManagerDown" not in firing and "WeeWaaWebDown" not in firing


def test_every_dashboard_query_runs_on_prometheus_and_finds_data(stack: Stack) -> None:
    stack.prometheus.wait_for('up{job="worker"}', lambda up: up == 1)
    draw_one(stack.client)
    time.sleep(3)  # a few more scrapes, so rates over the last minute see the job

    empty = []
    for query in grafana.queries():
        result = stack.prometheus.query(query.for_prometheus())  # a PromQL error fails here
        if not result and query.panel not in QUIET_PANELS:
            empty.append(f"{query.panel} ({query.ref}): {query.expr}")

    assert empty == []


def test_compose_mounts_the_token_prometheus_reads() -> None:
    config = yaml.safe_load((DEPLOY / "prometheus.yml").read_text())
    compose = yaml.safe_load((ROOT / "deploy" / "compose.yaml").read_text())
    web_job = next(job for job in config["scrape_configs"] if job["job_name"] == "web")
    secret = os.path.basename(web_job["authorization"]["credentials_file"])

    assert web_job["authorization"]["credentials_file"] == f"/run/secrets/{secret}"
    assert secret in compose["services"]["prometheus"]["secrets"]
    assert compose["secrets"][secret] == {"environment": "WEE_WAA_METRICS_TOKEN"}
