"""The generation suite passes on a real PostgreSQL server, not only on SQLite."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.integration


def test_the_generation_suite_passes_on_postgresql(postgres_url: str) -> None:
    env = {**os.environ, "DATABASE_URL": postgres_url}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "tests/generation",
            "tests/gallery",
            "tests/accounts",
            "tests/test_fuzz_endpoints.py",
            "-q",
            "-p",
            "no:cacheprovider",
            "--create-db",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )

    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert " passed" in result.stdout.splitlines()[-1]
