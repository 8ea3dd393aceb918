"""The Grafana dashboard's queries, read from deploy/grafana, for the tests that keep it honest:
its metric names must be ones the app exports (tests/test_grafana_dashboard.py), and each
query must run on a real Prometheus scraping the real app (tests/integration/test_prometheus.py)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from tests.live_server import ROOT

DASHBOARD = ROOT / "deploy" / "grafana" / "dashboards" / "wee-waa.json"
# Grafana's interval variables, as Grafana would fill them for a short range at a 1 s scrape.
GRAFANA_VARIABLES = {"$__rate_interval": "1m", "$__range": "5m", "$__interval": "15s"}
_KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless", "bool", "offset"}


@dataclass(frozen=True)
class Query:
    panel: str
    ref: str
    expr: str

    def for_prometheus(self) -> str:
        """The expression with Grafana's variables filled in, ready for /api/v1/query."""
        expr = self.expr
        for name, value in GRAFANA_VARIABLES.items():
            expr = expr.replace(name, value)
        return expr


def dashboard() -> dict[str, Any]:
    return dict(json.loads(DASHBOARD.read_text()))


def panels(board: dict[str, Any] | None = None) -> Iterator[dict[str, Any]]:
    """Every panel, those inside collapsed rows too."""
    for panel in (board or dashboard())["panels"]:
        yield panel
        yield from panel.get("panels", [])


def queries() -> list[Query]:
    return [
        Query(panel["title"], target["refId"], target["expr"])
        for panel in panels()
        for target in panel.get("targets", [])
    ]


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression selects: every identifier that is not a function or
    aggregation (followed by "("), a keyword, a label (inside {} or a by/without list), a
    duration or a number."""
    text = re.sub(r'"(?:\\.|[^"\\])*"', '""', expr)  # label values
    text = re.sub(r"\{[^}]*\}", "", text)  # label matchers
    text = re.sub(r"\[[^\]]*\]", "", text)  # ranges and subqueries
    text = re.sub(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", text)
    names = set()
    for match in re.finditer(r"(?<![\w.$])[A-Za-z_:][A-Za-z0-9_:]*", text):
        if text[match.end() :].lstrip().startswith("(") or match.group() in _KEYWORDS:
            continue
        names.add(match.group())
    return names


def exported_samples(exposition: str) -> set[str]:
    """The sample names in a /metrics answer (Prometheus' text format)."""
    return {
        re.split(r"[{\s]", line, maxsplit=1)[0] for line in exposition.splitlines() if line and not line.startswith("#")
    }
