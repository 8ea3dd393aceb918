"""What the test run knows about where it runs."""

from __future__ import annotations

import os

# Under CI every service is present: a skip there hides a broken setup (tests/conftest.py fails
# it), and property tests draw the same cases on every run.
UNDER_CI = os.environ.get("CI", "").lower() == "true"
