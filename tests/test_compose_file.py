"""deploy/: compose.yaml, .env.example and the Dockerfile, checked without a Docker daemon.

No image can be built here (no daemon, and the docker CLI has no compose plugin), so these
tests check what can be checked: compose.yaml, interpolated from .env.example the way compose
does it, against the Compose Specification's own JSON Schema (tests/integration/
compose_spec.json, from compose-spec/compose-spec at 170098ba, Apache-2.0); the services,
health checks, volumes and GPU reservation the stack needs; that every setting it passes is
one the app reads; and that the files that must agree (nginx, Prometheus, Grafana, Dockerfile)
agree. The configurations themselves run for real in tests/integration/test_nginx.py and
test_prometheus.py.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from tests.integration.nginx import template_names
from tests.live_server import ROOT

DEPLOY = ROOT / "deploy"
SETTINGS = (ROOT / "wee_waa" / "settings.py").read_text()
SERVICES = {"nginx", "web", "worker", "db", "redis", "prometheus", "grafana", "minio"}
_VARIABLE = re.compile(r"\$(?:\$|\{(\w+)(?:(:?[-?])([^}]*))?\}|(\w+))")


def dotenv(path: Path) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if "=" in line and not line.startswith("#"))
    return {key.strip(): value.strip() for key, value in pairs}


def interpolate(text: str, env: dict[str, str]) -> str:
    """Compose's interpolation: $$, $VAR, ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error}."""

    def value(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name = match.group(1) or match.group(4)
        operator, argument = match.group(2), match.group(3)
        current = env.get(name)
        if operator in (":-", "-"):
            use_default = current is None or (operator == ":-" and current == "")
            return argument if use_default else str(current)
        if operator in (":?", "?") and (current is None or (operator == ":?" and current == "")):
            raise ValueError(f"{name}: {argument}")
        return current or ""

    return _VARIABLE.sub(value, text)


@pytest.fixture(scope="module")
def env() -> dict[str, str]:
    return dotenv(DEPLOY / ".env.example")


@pytest.fixture(scope="module")
def compose(env: dict[str, str]) -> dict[str, Any]:
    return dict(yaml.safe_load(interpolate((DEPLOY / "compose.yaml").read_text(), env)))


def test_compose_yaml_is_valid_against_the_compose_specification(compose: dict[str, Any]) -> None:
    validator = jsonschema.Draft7Validator(
        json.loads((ROOT / "tests" / "integration" / "compose_spec.json").read_text())
    )
    misspelt = {**compose, "services": {**compose["services"], "web": {**compose["services"]["web"], "helthcheck": {}}}}

    validator.validate(compose)
    assert not validator.is_valid(misspelt)  # the schema is strict enough to catch a typo


def test_compose_needs_nothing_that_env_example_does_not_give(env: dict[str, str]) -> None:
    text = (DEPLOY / "compose.yaml").read_text()
    required = {m.group(1) for m in _VARIABLE.finditer(text) if m.group(1) and m.group(2) in (None, ":?", "?")}

    assert required - set(env) == set()
    interpolate(text, env)  # no ${VAR:?...} left unset


def test_the_stack_has_every_service_and_each_long_running_one_a_health_check(compose: dict[str, Any]) -> None:
    services = compose["services"]

    assert set(services) >= SERVICES
    for name, service in services.items():
        if service.get("restart") == "no":
            continue  # a one-shot job (the bucket creator)
        assert service.get("healthcheck", {}).get("test"), f"{name} has no health check"
        assert service.get("restart") == "unless-stopped", name


def test_every_dependency_waits_for_health_and_every_named_volume_is_declared(compose: dict[str, Any]) -> None:
    declared = set(compose["volumes"])
    for name, service in compose["services"].items():
        for dependency, condition in service.get("depends_on", {}).items():
            assert dependency in compose["services"], (name, dependency)
            assert condition["condition"] in {"service_healthy", "service_completed_successfully"}, (name, dependency)
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            assert source.startswith(".") or source in declared, (name, volume)
    mounts = {name: [v.split(":")[1] for v in s.get("volumes", [])] for name, s in compose["services"].items()}
    assert "/var/lib/postgresql/data" in mounts["db"]
    assert {"/data", "/data/media"} <= set(mounts["web"]) and {"/data", "/data/media"} <= set(mounts["worker"])
    assert "/prometheus" in mounts["prometheus"] and "/var/lib/grafana" in mounts["grafana"]


def test_the_worker_reserves_a_gpu_and_runs_the_generation_worker(compose: dict[str, Any]) -> None:
    worker = compose["services"]["worker"]
    devices = worker["deploy"]["resources"]["reservations"]["devices"]

    assert devices == [{"driver": "nvidia", "count": 1, "capabilities": ["gpu"]}]
    assert worker["build"]["args"]["DEVICE"] == "cuda"
    assert worker["command"][:3] == ["generation_worker", "--metrics-port", "9108"]
    assert worker["depends_on"]["web"] == {"condition": "service_healthy"}  # web migrates first


def test_web_runs_daphne_without_a_manager_behind_the_proxy(compose: dict[str, Any]) -> None:
    web = compose["services"]["web"]
    site = (DEPLOY / "nginx" / "templates" / "wee-waa" / "site.conf.template").read_text()

    assert web["command"][0] == "serve" and web["build"]["args"]["DEVICE"] == "cpu"
    assert web["environment"]["WEE_WAA_MANAGER"] == "off"
    assert web["environment"]["WEE_WAA_BEHIND_PROXY"] == "true"
    prefix = web["environment"]["WEE_WAA_MEDIA_ACCEL_PREFIX"]
    assert re.search(rf"location {re.escape(prefix)} {{\s*internal;", site)
    assert {"web", "127.0.0.1"} <= set(web["environment"]["ALLOWED_HOSTS"].split(","))
    assert "ports" not in web and "ports" not in compose["services"]["worker"]  # only through nginx


def test_every_wee_waa_setting_the_stack_passes_is_one_the_app_reads(env: dict[str, str]) -> None:
    text = (DEPLOY / "compose.yaml").read_text() + (DEPLOY / ".env.example").read_text()
    used = set(re.findall(r"\bWEE_WAA_[A-Z0-9_]+\b", text))

    unknown = {name for name in used if f'"{name}"' not in SETTINGS}
    assert used and unknown == set()


def test_prometheus_scrapes_the_services_compose_runs(compose: dict[str, Any]) -> None:
    config = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    targets = {job["job_name"]: job["static_configs"][0]["targets"] for job in config["scrape_configs"]}

    assert targets == {"web": ["web:8000"], "worker": ["worker:9108"]}
    assert "8000" in compose["services"]["web"]["expose"] and "9108" in compose["services"]["worker"]["expose"]
    assert "./prometheus:/etc/prometheus:ro" in compose["services"]["prometheus"]["volumes"]


def test_grafana_loads_the_provisioned_dashboard_folder(compose: dict[str, Any]) -> None:
    provider = yaml.safe_load((DEPLOY / "grafana" / "provisioning" / "dashboards" / "wee-waa.yml").read_text())
    datasource = yaml.safe_load((DEPLOY / "grafana" / "provisioning" / "datasources" / "prometheus.yml").read_text())
    volumes = compose["services"]["grafana"]["volumes"]

    assert f"./grafana/dashboards:{provider['providers'][0]['options']['path']}:ro" in volumes
    assert "./grafana/provisioning:/etc/grafana/provisioning:ro" in volumes
    assert datasource["datasources"][0]["url"] == "http://prometheus:9090"


def dockerfile_stages() -> dict[str, str]:
    """Stage name → its text."""
    text = (DEPLOY / "Dockerfile").read_text()
    parts = re.split(r"^FROM ", text, flags=re.MULTILINE)[1:]
    return {re.search(r" AS (\S+)", part).group(1): part for part in parts}  # type: ignore[union-attr]


def test_the_dockerfile_builds_a_non_root_app_per_device_with_the_pinned_torch() -> None:
    text = (DEPLOY / "Dockerfile").read_text()
    stages = dockerfile_stages()
    torch_pin = next(
        line for line in (ROOT / "requirements.txt").read_text().splitlines() if line.startswith("torch==")
    )

    assert list(stages)[-1] == "app"  # the default target
    assert stages["app"].startswith("os-${DEVICE}") and stages["build"].startswith("os-${DEVICE}")
    assert "nvidia/cuda:12." in text and re.search(r"download\.pytorch\.org/whl/cu12\d\b", text)
    assert "ARG TORCH_INDEX_CPU=https://download.pytorch.org/whl/cpu" in text
    assert torch_pin == "torch==2.13.0"  # the build installs this line, from the index for DEVICE
    assert "grep -E '^torch==' /tmp/requirements.txt" in stages["build"]
    user = re.findall(r"^USER (\S+)", stages["app"], flags=re.MULTILINE)
    assert user == ["weewaa"]
    assert 'ENTRYPOINT ["python", "manage.py"]' in stages["app"]
    assert "manage.py collectstatic" in stages["static"]
    assert "COPY --from=static /static /srv/wee-waa/static" in stages["nginx"]


def test_the_nginx_image_sets_every_template_variable() -> None:
    nginx_stage = dockerfile_stages()["nginx"]

    assert {name for name in template_names() if f"{name}=" not in nginx_stage} == set()
    assert "NGINX_ENVSUBST_FILTER=^NGINX_" in nginx_stage


def test_the_build_context_leaves_out_local_state_and_secrets() -> None:
    ignored = set((DEPLOY / "Dockerfile.dockerignore").read_text().split())

    assert {".git", ".venv", ".data", "deploy/.env", "deploy/certs", "tests"} <= ignored
