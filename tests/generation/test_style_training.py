"""Training a style for real on the tiny model: the loss falls, pictures move toward the
training set's colours, a run yields to waiting jobs, cancels, and resumes after a crash."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy
import pytest
import torch
from django.core.files.uploadedfile import SimpleUploadedFile

from generation.manager.training import LoraTrainer, TrainingExample, checkpoints
from generation.manager.training_runner import TrainingRunner
from generation.models import Style, StyleTraining
from generation.style_training import DjangoTrainingStore, style_training_cancel, style_training_create
from tests.generation.style_helpers import LIGHT, fresh_tiny, mean_colour, quick_settings, uniform_pictures

REPO = Path(__file__).resolve().parents[2]


def draw(pipe: Any) -> Any:
    generator = torch.Generator().manual_seed(3)
    return pipe(
        "wee style", num_inference_steps=4, guidance_scale=0.0, width=64, height=64, generator=generator
    ).images[0]


def test_training_lowers_the_loss_and_moves_pictures_toward_the_training_colours(
    model_cache: Path, tmp_path: Path
) -> None:
    """The tiny model's UNet has random weights and its attention alone cannot carry a colour,
    so this trains the "all layers" preset; its VAE reconstructs, so colours follow latents."""
    pipe = fresh_tiny(model_cache)
    examples = [TrainingExample(picture, "wee style") for picture in uniform_pictures(LIGHT)]
    trainer = LoraTrainer(pipe, examples, quick_settings(steps=240), tmp_path)
    base = mean_colour(draw(pipe))
    loss_before = trainer.evaluation_loss()

    assert trainer.run_steps() == "done"

    loss_after = trainer.evaluation_loss()
    trainer.attach()
    styled = mean_colour(draw(pipe))
    trainer.detach()
    unchanged = mean_colour(draw(pipe))  # the training adapter is off between slices
    trainer.close()
    target = numpy.array(LIGHT, dtype=float)
    assert loss_after < 0.5 * loss_before
    assert numpy.abs(styled - target).mean() < 0.75 * numpy.abs(base - target).mean()
    assert numpy.allclose(unchanged, base)


CRASHING_RUN = """
import os, signal, sys
from pathlib import Path
import torch
torch.set_num_threads(1)
sys.path.insert(0, {repo!r})
from generation.manager.training import LoraTrainer, TrainingExample
from tests.generation.style_helpers import LIGHT, fresh_tiny, quick_settings, uniform_pictures
pipe = fresh_tiny(Path({cache!r}))
examples = [TrainingExample(p, "wee style") for p in uniform_pictures(LIGHT)]
trainer = LoraTrainer(pipe, examples, quick_settings(steps=30, checkpoint_every=5), Path({folder!r}))
def on_step(step, total, loss):
    if step == 12:
        os.kill(os.getpid(), signal.SIGKILL)  # a crash, mid-run, between checkpoints
    return False
trainer.run_steps(on_step=on_step)
"""


def test_a_run_killed_mid_way_resumes_from_its_last_checkpoint_in_a_new_process(
    model_cache: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "killed"
    script = CRASHING_RUN.format(repo=str(REPO), cache=str(model_cache), folder=str(folder))
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    crashed = subprocess.run([sys.executable, "-c", script], env=env, cwd=REPO, capture_output=True, timeout=300)
    assert crashed.returncode == -9, crashed.stderr.decode()[-2000:]
    assert [path.name for path in checkpoints(folder)] == ["checkpoint-5", "checkpoint-10"]

    pipe = fresh_tiny(model_cache)
    examples = [TrainingExample(picture, "wee style") for picture in uniform_pictures(LIGHT)]
    resumed = LoraTrainer(pipe, examples, quick_settings(steps=30, checkpoint_every=5), folder)
    resumed.prepare()
    assert resumed.state.step == 10
    resumed.run_steps()
    resumed.close()
    straight = LoraTrainer(pipe, examples, quick_settings(steps=30, checkpoint_every=5), tmp_path / "straight")
    straight.run_steps()
    straight.close()

    assert len(resumed.state.losses) == 30
    assert numpy.allclose(resumed.state.losses, straight.state.losses, atol=1e-4)


def png(colour: tuple[int, int, int], index: int) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    uniform_pictures(colour, count=1, seed=index)[0].save(buffer, format="PNG")
    return SimpleUploadedFile(f"p{index}.png", buffer.getvalue(), content_type="image/png")


@pytest.fixture
def tiny_site(settings: Any, model_cache: Path) -> None:
    settings.WEE_WAA_MODEL = "tiny"
    settings.WEE_WAA_MODEL_CACHE = model_cache
    settings.WEE_WAA_STYLE_CHECKPOINT_EVERY = 2


@pytest.mark.django_db
def test_a_queued_run_yields_to_waiting_jobs_and_ends_as_a_new_disabled_style(
    tiny_site: None, model_cache: Path
) -> None:
    run = style_training_create(
        name="Sunny", trigger_word="wee", files=[png(LIGHT, i) for i in range(10)], captions=["", "a sunny wall"],
        steps=4, resolution=64, learning_rate=1e-3,
    )  # fmt: skip
    assert run.images.first().caption == "Sunny, wee"  # type: ignore[union-attr]
    runner = TrainingRunner(DjangoTrainingStore(), "worker-1", report_seconds=0)
    pipe = fresh_tiny(model_cache)

    assert runner.step_some(pipe, budget_seconds=60, jobs_waiting=lambda: True) is True
    run.refresh_from_db()
    assert (run.status, run.step, len(run.losses)) == (StyleTraining.Status.RUNNING, 1, 1)

    while runner.step_some(pipe, budget_seconds=60):
        pass

    run.refresh_from_db()
    assert run.status == StyleTraining.Status.SUCCEEDED
    style = Style.objects.get(pk=run.result_id)
    assert not style.is_active and style.preview and style.prompt_template == "{prompt}, wee"
    assert style.adapter_snapshot()["sha256"] == style.lora_sha256
    assert not Path(run.checkpoint_path).exists()
    assert "wee_training" not in getattr(pipe.unet, "peft_config", {})


@pytest.mark.django_db
def test_cancelling_a_running_training_stops_it_and_makes_no_style(tiny_site: None, model_cache: Path) -> None:
    run = style_training_create(name="Sunny", files=[png(LIGHT, i) for i in range(10)], steps=50, resolution=64)
    runner = TrainingRunner(DjangoTrainingStore(), "worker-1", report_seconds=0)
    pipe = fresh_tiny(model_cache)
    runner.step_some(pipe, budget_seconds=60, jobs_waiting=lambda: True)

    style_training_cancel(run)
    runner.step_some(pipe, budget_seconds=60)

    run.refresh_from_db()
    assert run.status == StyleTraining.Status.CANCELLED
    assert not runner.busy and run.result_id is None and not Style.objects.filter(name="Sunny").exists()
    assert not Path(run.checkpoint_path).exists()


@pytest.mark.django_db
def test_nine_pictures_are_refused_and_nothing_is_queued(tiny_site: None) -> None:
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="between 10 and 200"):
        style_training_create(name="Sunny", files=[png(LIGHT, i) for i in range(9)], steps=5)
    assert not StyleTraining.objects.exists()
