"""``manage.py train_style``: train a style from a folder of pictures, in this process.

For people with a big GPU: the same run the admin's "Train a style" queues, trained here to the
end with the model loaded from ``WEE_WAA_MODEL``. A run stopped with Ctrl+C (or a crash) resumes
from its last checkpoint with ``--resume <run id>``.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.management.base import BaseCommand, CommandError, CommandParser

from generation.manager.loader import DiffusersLoader
from generation.manager.training_runner import TrainingRunner
from generation.models import StyleTraining
from generation.style_training import DjangoTrainingStore, style_training_create

PICTURES = {".png", ".jpg", ".jpeg", ".webp"}


class Command(BaseCommand):
    help = "Train a new style's LoRA adapter from a folder of pictures (10 to 200)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("folder", nargs="?", help="Pictures; a .txt file beside a picture is its caption.")
        parser.add_argument("--name", help="The new style's name.")
        parser.add_argument("--trigger-word", default="")
        parser.add_argument("--steps", type=int, default=500)
        parser.add_argument("--rank", type=int, default=4)
        parser.add_argument("--learning-rate", type=float, default=1e-4)
        parser.add_argument("--resolution", type=int, default=None)
        parser.add_argument("--layers", choices=["attention", "all"], default="attention")
        parser.add_argument("--resume", help="Continue this run (its id) from its last checkpoint.")
        parser.add_argument("--queue-only", action="store_true", help="Queue it for the workers instead.")

    def handle(self, *args: Any, **options: Any) -> None:
        run = self._resume(options["resume"]) if options["resume"] else self._create(options)
        self.stdout.write(f"Training {run.name} ({run.id}): {run.steps} steps")
        if options["queue_only"]:
            return
        pipeline, _status = DiffusersLoader(
            model=settings.WEE_WAA_MODEL, device=settings.WEE_WAA_DEVICE, cache_dir=settings.WEE_WAA_MODEL_CACHE,
            dtype=settings.WEE_WAA_DTYPE, threads=settings.WEE_WAA_TORCH_THREADS,
        ).load()  # fmt: skip
        runner = TrainingRunner(DjangoTrainingStore(), f"train_style-{run.id}", lease_seconds=600, report_seconds=2)
        started = time.monotonic()
        while runner.step_some(pipeline, budget_seconds=10):
            run.refresh_from_db()
            self.stdout.write(f"step {run.step}/{run.steps} loss {run.losses[-1] if run.losses else '-'}")
            if run.status != StyleTraining.Status.RUNNING:
                break
        run.refresh_from_db()
        self.stdout.write(f"{run.get_status_display()} in {time.monotonic() - started:.0f} s {run.error}")
        if run.result_id:
            self.stdout.write(f"New style (disabled): {run.result} ({run.result_id})")

    def _resume(self, run_id: str) -> StyleTraining:
        run = StyleTraining.objects.filter(pk=run_id).first()
        if run is None or run.status not in (StyleTraining.Status.QUEUED, StyleTraining.Status.RUNNING):
            raise CommandError("No unfinished training with that id.")
        StyleTraining.objects.filter(pk=run.pk).update(status=StyleTraining.Status.QUEUED, lease_expires_at=None)
        return run

    def _create(self, options: dict[str, Any]) -> StyleTraining:
        if not options["folder"] or not options["name"]:
            raise CommandError("Give a folder of pictures and --name (or --resume <run id>).")
        paths = sorted(path for path in Path(options["folder"]).iterdir() if path.suffix.lower() in PICTURES)
        handles = [path.open("rb") for path in paths]
        try:
            files = [File(handle, name=path.name) for handle, path in zip(handles, paths, strict=True)]
            for file, path in zip(files, paths, strict=True):
                file.size = path.stat().st_size
            captions = [path.with_suffix(".txt").read_text().strip() if path.with_suffix(".txt").exists() else ""
                        for path in paths]  # fmt: skip
            return style_training_create(
                name=options["name"], files=files, captions=captions, trigger_word=options["trigger_word"],
                steps=options["steps"], rank=options["rank"], learning_rate=options["learning_rate"],
                resolution=options["resolution"], layers=options["layers"],
            )  # fmt: skip
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from error
        finally:
            for handle in handles:
                handle.close()
