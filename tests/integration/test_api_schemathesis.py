"""Schemathesis against the live API, with the schema the live server serves.

A real server (``manage.py serve``, the model manager off: jobs queue and are never drawn, so
the run costs requests, not pictures) and a personal API token made in its database. The seeded
ids (a finished job, kept backgrounds, two public creations) go to schemathesis as dictionaries,
so most requests reach the views' real work instead of 404; the rest are random ids. Every
phase runs: the schema's examples, coverage (boundaries and wrong types), fuzzing, and stateful
sequences along the links schemathesis infers (create a job → read it, cancel it, keep…).

Checks: no 5xx, every answer's status documented, every body as its schema says. Bounded to
stay well under two minutes on two cores; the number of cases is printed.
``WEE_WAA_SCHEMATHESIS_EXAMPLES`` sets the examples per operation (default 15).
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.environment import UNDER_CI
from tests.live_server import running_server

pytestmark = pytest.mark.integration

EXAMPLES = int(os.environ.get("WEE_WAA_SCHEMATHESIS_EXAMPLES", "15"))
CHECKS = "not_a_server_error,status_code_conformance,response_schema_conformance"

# Run in the server's database by ``manage.py shell``: an account with a token, and things to
# point requests at. Prints one JSON line.
SEED = """
import json
from accounts.models import User
from accounts.tokens import token_create
from gallery import services as gallery
from gallery.models import Character
from tests.factories import drawn_backgrounds

me = User.objects.create_user("schemathesis")
other = User.objects.create_user("neighbour")
_token, raw = token_create(user=me, name="schemathesis")
mine = drawn_backgrounds(me, count=2)
theirs = drawn_backgrounds(other, count=1)
character = Character.objects.filter(is_active=True).order_by("id").first()
layers = [{"character": character.id, "x": 0.5, "y": 0.6, "scale": 0.5}]
own = gallery.creation_create(owner=me, background=mine[0], layers=layers, title="mine", visibility="public")
public = gallery.creation_create(owner=other, background=theirs[0], layers=layers, title="theirs", visibility="public")
print(json.dumps({
    "token": raw,
    "jobs": [mine[0].job_id],
    "images": [background.id for background in mine],
    "backgrounds": [mine[0].id],
    "creations": [own.id, public.id],
}))
"""

# Which request parts draw from the seeded ids, and how often (the rest is generated).
BINDINGS = {
    "path.job_id": "jobs",
    "path.creation_id": "creations",
    "body.background": "backgrounds",
    "body.image": "images",
}


def _config(seeds: dict[str, Any]) -> str:
    """A schemathesis.toml binding request parts to the seeded ids."""
    lines = [f"[dictionaries.{name}]\nvalues = {json.dumps(seeds[name])}\n" for name in sorted(set(BINDINGS.values()))]
    lines.append("[parameters]")
    lines += [f'"{key}" = {{ dictionary = "{name}", probability = 0.6 }}' for key, name in BINDINGS.items()]
    return "\n".join(lines) + "\n"


def _schemathesis() -> str:
    """The CLI installed next to this Python; a skip without it (which fails under CI)."""
    pytest.importorskip("schemathesis")
    command = Path(sys.executable).with_name("schemathesis")
    if not command.exists():
        pytest.skip(f"schemathesis is not installed next to {sys.executable}")
    return str(command)


def test_the_live_api_answers_as_its_schema_says(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    command = _schemathesis()
    seed = 1 if UNDER_CI else secrets.randbelow(2**31)  # CI draws the same cases every run
    report = tmp_path / "report.json"
    with running_server("tiny", extra_env={"WEE_WAA_MANAGER": "off"}, wait_for_model=False) as server:
        seeds = json.loads(server.manage("shell", "-c", SEED).strip().splitlines()[-1])
        config = tmp_path / "schemathesis.toml"
        config.write_text(_config(seeds))
        result = subprocess.run(
            [
                command,
                "--config-file",
                str(config),
                "run",
                f"{server.url}/api/v1/schema/?format=json",  # the live schema, as served
                "--checks",
                CHECKS,
                "--header",
                f"Authorization: Bearer {seeds['token']}",
                "--max-examples",
                str(EXAMPLES),
                "--seed",
                str(seed),
                # One worker: CPython 3.11's ast.parse is not thread-safe, and hypothesis parses
                # lambdas to describe them ("AST constructor recursion depth mismatch").
                "--workers",
                "1",
                "--request-timeout",
                "30",
                "--generation-database",
                "none",
                # No NUL in generated strings: the whole API refuses them with a 400 (the schema
                # says so once, on every operation); tests/test_fuzz_endpoints.py sends them.
                "--generation-allow-x00",
                "false",
                "--report",
                "json",
                "--report-json-path",
                str(report),
                "--no-color",
            ],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=300,
        )
    output = result.stdout + result.stderr
    assert report.exists(), output[-6000:]
    summary = json.loads(report.read_text())
    cases, operations = summary["test_cases"], summary["operations"]
    with capsys.disabled():
        print(
            f"\nschemathesis: {cases['generated']} test cases over {operations['tested']} operations "
            f"in {summary['running_time']:.0f} s (seed {seed}, {EXAMPLES} examples per operation)"
        )

    assert result.returncode == 0, output[-12000:]
    assert operations["tested"] == operations["total"] >= 16
    assert all(phase["status"] == "success" for phase in summary["phases"].values()), summary["phases"]
    assert cases["with_failures"] == 0 and cases["errored"] == 0
    assert cases["generated"] >= 300  # a run that tested almost nothing must not pass
