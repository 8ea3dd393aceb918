"""The model manager's core is plain Python: it imports and draws a batch with Django unconfigured.

It runs in a fresh interpreter, because this test process has long since set Django up.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = textwrap.dedent(
    """
    import sys
    from datetime import datetime, timezone

    import generation.manager
    from generation.manager import batch, control, fairness, load_errors, pipelines, preview, prompts, types, worker

    from generation.manager.types import JobSpec, ModelState, ModelStatus, StoredImage
    from generation.manager.worker import ModelManager


    class MemoryStore:
        '''Just enough of a job store to claim one job and keep what it drew, in memory.'''

        def __init__(self, spec):
            self.queue, self.done, self.closed = [spec], {}, 0

        def recover(self, max_attempts):
            return [], []

        def claim_batch(self, worker, max_images, lease_seconds):
            claimed, self.queue = self.queue, []
            return claimed

        def heartbeat(self, worker, job_ids, lease_seconds):
            return set(), set()

        def record_progress(self, worker, job_ids, progress):
            pass

        def succeed(self, spec, images, model_name, worker):
            self.done[spec.id] = images
            return [StoredImage(id=f"img{n}", url=f"/m/{n}.png", seed=spec.seed + n) for n in range(len(images))]

        def fail(self, job_id, reason, worker=None):
            raise AssertionError(reason)

        def cancel(self, job_id, worker):
            return False

        def release(self, job_id, worker):
            pass

        def abandon(self, worker, job_ids, max_attempts):
            pass

        def report_worker(self, worker, fields):
            pass

        def forget_worker(self, worker):
            pass

        def close(self):
            self.closed += 1


    class SolidPipeline:
        name, device = "solid", "cpu"

        def text_windows(self, job):
            return 1

        def generate(self, slots, on_step):
            from PIL import Image

            for step in (1, 2):
                on_step(step, 2, None)
            return [Image.new("RGB", (8, 8), "white") for _ in slots]


    class Loader:
        model = "solid"

        def load(self):
            return SolidPipeline(), ModelStatus(state=ModelState.READY, model="solid", device="cpu")


    class Events:
        def __init__(self):
            self.sent = []

        def publish(self, owner_id, event):
            self.sent.append((owner_id, event["type"]))


    spec = JobSpec(
        id="j1", owner_id=7, prompt="a hill", negative_prompt="", seed=5, steps=2, guidance_scale=0.0,
        width=8, height=8, count=2, created_at=datetime(2026, 1, 1, tzinfo=timezone.utc),
    )
    store, events = MemoryStore(spec), Events()
    manager = ModelManager(store=store, publisher=events, loader=Loader(), preview_every=0)
    manager.load()
    assert manager.run_once() is True
    assert len(store.done["j1"]) == 2, store.done
    kinds = [kind for _, kind in events.sent]
    assert kinds == ["job.snapshot", "job.progress", "job.progress", "job.finished"], kinds
    assert {owner for owner, _ in events.sent} == {7}
    leaked = sorted(name for name in sys.modules if name == "django" or name.startswith(("django.", "channels")))
    assert not leaked, leaked
    print("ok")
    """
)


def test_the_manager_core_imports_and_draws_a_batch_without_django() -> None:
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().endswith("ok")
