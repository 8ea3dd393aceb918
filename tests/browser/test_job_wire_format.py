"""The studio's one mapping from the wire to a job card (``jobUpdate`` in static/js/job-card.js)
reads only fields the server sends, and the editor's LayerStack keeps to the limits it is handed.

A past drift: the page read ``cancel_requested`` from snapshots that did not send it. Here the
mapping runs on what a real server sent during a real job (its API job and every websocket
message), and on payloads made by the server's own serializer and snapshot selector.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest
from django.core.serializers.json import DjangoJSONEncoder

from generation import selectors
from generation.api import JobOutputSerializer
from tests.browser.studio import JOB_TIMEOUT_MS, generate, sign_up

pytestmark = pytest.mark.browser


# Keeps every message the page's websockets receive, parsed, in arrival order.
RECORD_MESSAGES = """
window.__messages = [];
const NativeWebSocket = window.WebSocket;
window.WebSocket = class extends NativeWebSocket {
  constructor(...args) {
    super(...args);
    this.addEventListener("message", (event) => window.__messages.push(JSON.parse(event.data)));
  }
};
"""

# Calls jobUpdate on each payload through a Proxy that notes every field it reads.
READ_WITH_JOB_UPDATE = """async ([moduleUrl, payloads]) => {
    const { jobUpdate } = await import(moduleUrl);
    return payloads.map((payload) => {
        const read = new Set();
        const watched = new Proxy(payload, { get(target, key) { read.add(String(key)); return target[key]; } });
        const update = jobUpdate(watched);
        const undefinedKeys = update ? Object.keys(update).filter((key) => update[key] === undefined) : [];
        return { read: [...read], update, undefinedKeys };
    });
}"""


def job_updates(page: Any, module_url: str, payloads: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return list(page.evaluate(READ_WITH_JOB_UPDATE, [module_url, payloads]))


def test_job_update_reads_only_fields_the_server_sends(page: Any, live_server_url: str) -> None:
    page.context.add_init_script(RECORD_MESSAGES)
    sign_up(page, live_server_url)
    generate(page, "a small wire check", count=1, size=256, steps=2)
    page.locator(".job-card img.candidate").first.wait_for(timeout=JOB_TIMEOUT_MS)

    messages = page.evaluate("window.__messages")
    jobs = page.request.get(f"{live_server_url}/api/v1/jobs/").json()["results"]
    payloads = [*jobs, *messages]
    results = job_updates(page, f"{live_server_url}/static/js/job-card.js", payloads)

    for payload, result in zip(payloads, results, strict=True):
        kind = payload.get("type", "api job")
        assert set(result["read"]) <= set(payload), (kind, set(result["read"]) - set(payload))
        if kind in ("api job", "job.snapshot", "job.progress"):
            assert result["undefinedKeys"] == [], kind
    assert {"job.snapshot", "job.progress", "job.finished"} <= {message["type"] for message in messages}
    assert results[0]["update"]["status"] == "succeeded" and len(results[0]["update"]["images"]) == 1


class _Images(list[Any]):
    """A list the serializer iterates and the snapshot selector calls ``.all()`` on."""

    def all(self) -> _Images:
        return self


def _job(**fields: Any) -> SimpleNamespace:
    """A job with the attributes the API serializer and the snapshot selector read (no database:
    Playwright's event loop forbids the sync ORM in this thread)."""
    now = datetime.now(UTC)
    job = {
        "id": "job1",
        "status": "queued",
        "progress": 0.0,
        "error": "",
        "prompt": "a meadow",
        "style_id": None,
        "style": None,
        "seed": 7,
        "count": 2,
        "width": 256,
        "height": 256,
        "steps": 4,
        "model_name": "tiny",
        "created_at": now,
        "started_at": None,
        "finished_at": None,
        "images": _Images(),
        "cancel_requested": False,
        "kind": "draw",
        "source_image_id": None,
        "strength": None,
        "provenance": [],
    }
    job.update(fields)
    return SimpleNamespace(**job)


def _image(image_id: str, seed: int) -> SimpleNamespace:
    return SimpleNamespace(
        id=image_id, seed=seed, kept_at=None, image=SimpleNamespace(name=f"backgrounds/{image_id}.png")
    )


def _wire(payload: Any) -> dict[str, Any]:
    return dict(json.loads(json.dumps(payload, cls=DjangoJSONEncoder)))


def test_an_api_job_and_its_snapshot_give_a_card_the_same_state(page: Any, static_url: str) -> None:
    """Two spellings of one job's state (the API's "steps"; the snapshot's "total" and "step")
    must land on a card alike, or the card would jump when a snapshot follows an API read."""
    place = {"job_id": "job1", "position": 3, "eta_seconds": 12.5}
    cases = [
        (_job(), {"job1": (None, place)}),
        (_job(status="running", progress=0.5, cancel_requested=True), {}),
        (_job(status="succeeded", progress=1.0, images=_Images([_image("i1", 7), _image("i2", 8)])), {}),
        (_job(status="failed", progress=0.25, error="out of memory"), {}),
    ]
    page.goto(f"{static_url}/js/job-card.js")  # same origin, so the module can be imported
    for job, places in cases:
        api_job = _wire(JobOutputSerializer(job, context={"places": places}).data)
        snapshot = _wire(selectors.job_snapshot(job, places))  # type: ignore[arg-type]

        from_api, from_snapshot = (
            result["update"] for result in job_updates(page, "/js/job-card.js", [api_job, snapshot])
        )

        assert from_api == {**from_snapshot, "images": from_api["images"]}, job.status
        assert [image["id"] for image in from_api["images"]] == [image["id"] for image in from_snapshot["images"]]
    assert from_api["status"] == "failed" and from_api["step"] == 1 and from_api["error"] == "out of memory"


def test_the_layer_stack_keeps_to_the_limits_the_page_hands_it(page: Any, static_url: str) -> None:
    page.goto(f"{static_url}/js/compose-layers.js")
    result = page.evaluate(
        """async () => {
            const { LayerStack } = await import('/js/compose-layers.js');
            const stack = new LayerStack([], { maxLayers: 2, minScale: 0.1, maxScale: 1.5 });
            const character = { id: "c1", default_scale: 0.4 };
            const added = [stack.add(character), stack.add(character), stack.add(character)].map(Boolean);
            const layer = stack.layers[0];
            stack.scaleTo(layer, 0.01);
            const smallest = layer.scale;
            stack.scaleTo(layer, 9);
            return { added, count: stack.layers.length, canAdd: stack.canAdd, smallest, largest: layer.scale,
                     undoable: stack.history.length };
        }"""
    )

    assert result == {
        "added": [True, True, False],
        "count": 2,
        "canAdd": False,
        "smallest": 0.1,
        "largest": 1.5,
        "undoable": 2,  # the refused add left no empty undo step
    }
