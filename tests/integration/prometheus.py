"""A real Prometheus (Debian's ``/usr/bin/prometheus``) running ``deploy/prometheus``'s
configuration, pointed at live processes instead of compose's service names."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.live_server import ROOT, free_port

PROMETHEUS = os.environ.get("WEE_WAA_PROMETHEUS", "/usr/bin/prometheus")
PROMTOOL = os.environ.get("WEE_WAA_PROMTOOL", "/usr/bin/promtool")
DEPLOY = ROOT / "deploy" / "prometheus"


def binary(path: str) -> str:
    """A skip (a failure under CI=true) when Debian's prometheus package is missing."""
    if not Path(path).is_file():
        pytest.skip(f"{path} is not installed (apt-get install prometheus)")
    return path


def promtool(*args: str, cwd: Path = DEPLOY) -> subprocess.CompletedProcess[str]:
    return subprocess.run([binary(PROMTOOL), *args], cwd=cwd, capture_output=True, text=True, timeout=120)


def render_config(folder: Path, *, targets: dict[str, str], token: str, interval: str = "1s") -> Path:
    """deploy/prometheus/prometheus.yml with each job's target replaced (``targets`` by job
    name), the bearer token read from a file written here, and a fast scrape interval; the
    alert rules are the deploy folder's own. Returns the rendered file's path."""
    config: dict[str, Any] = yaml.safe_load((DEPLOY / "prometheus.yml").read_text())
    token_file = folder / "metrics_token"
    token_file.write_text(token)
    token_file.chmod(0o600)
    config["global"] |= {"scrape_interval": interval, "evaluation_interval": interval}
    config["rule_files"] = [str(DEPLOY / name) for name in config["rule_files"]]
    assert {job["job_name"] for job in config["scrape_configs"]} == set(targets), "a job without a target here"
    for job in config["scrape_configs"]:
        job["static_configs"] = [{"targets": [targets[job["job_name"]]]}]
        if "authorization" in job:
            job["authorization"]["credentials_file"] = str(token_file)
    path = folder / "prometheus.yml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


@dataclass
class Prometheus:
    url: str
    log: Path

    def api(self, path: str, **params: str) -> Any:
        url = f"{self.url}/api/v1/{path}"
        if params:
            url += "?" + urllib.parse.urlencode(params)
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - our own http:// server
            body = json.load(response)
        assert body["status"] == "success", body
        return body["data"]

    def query(self, expression: str) -> list[dict[str, Any]]:
        """An instant query's vector (an error answer fails the test with Prometheus' message)."""
        data = self.api("query", query=expression)
        return list(data["result"]) if data["resultType"] == "vector" else [{"value": data["result"]}]

    def value(self, expression: str) -> float | None:
        """The single sample ``expression`` gives, or None while there is none."""
        result = self.query(expression)
        return float(result[0]["value"][1]) if result else None

    def wait_for(self, expression: str, predicate: Any, timeout: float = 60.0) -> float:
        deadline = time.monotonic() + timeout
        while True:
            value = self.value(expression)
            if value is not None and predicate(value):
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"{expression} = {value} after {timeout:.0f} s\n{self.log.read_text()[-3000:]}")
            time.sleep(0.5)


@contextmanager
def running_prometheus(config: Path, folder: Path) -> Iterator[Prometheus]:
    port = free_port()
    log = folder / "prometheus.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [
                binary(PROMETHEUS),
                f"--config.file={config}",
                f"--storage.tsdb.path={folder / 'tsdb'}",
                f"--web.listen-address=127.0.0.1:{port}",
                "--web.enable-lifecycle",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    prometheus = Prometheus(url=f"http://127.0.0.1:{port}", log=log)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{prometheus.url}/-/ready", timeout=2) as response:  # noqa: S310
                    if response.status == 200:
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"Prometheus did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.2)
        yield prometheus
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        shutil.rmtree(folder / "tsdb", ignore_errors=True)
