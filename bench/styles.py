"""Style adapters and style training on the tiny model: what switching and training cost.

    python -m bench.styles [--images 24] [--steps 40] [--threads 1]

Prints adapter load and switch times, drawing speed (img/s) with one style versus three styles
mixed in the queue (a call per adapter, as the batch key demands), and training steps/s. No
Django: the manager's own pieces on the tiny pipeline, built into a temporary cache.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=24)
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--batch", type=int, default=4)
    args = parser.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    from generation.manager.lora import AdapterCache
    from generation.manager.pipelines import DiffusersPipeline
    from generation.manager.training import ALL_LAYERS, LoraTrainer, TrainingExample, TrainingSettings
    from generation.manager.types import AdapterRef, JobSpec, Slot
    from tests.generation.style_helpers import fresh_tiny, uniform_pictures

    work = Path(tempfile.mkdtemp(prefix="wee-waa-styles-bench-"))
    pipe = fresh_tiny(work / "models")
    colours = [(230, 200, 120), (120, 200, 230), (200, 120, 200)]
    adapters = []
    settings = TrainingSettings(steps=args.steps, rank=8, learning_rate=1e-2, resolution=64, batch_size=4,
                                checkpoint_every=10**9, target_modules=ALL_LAYERS)  # fmt: skip
    rates = []
    for index, colour in enumerate(colours):
        examples = [TrainingExample(picture, "wee style") for picture in uniform_pictures(colour)]
        trainer = LoraTrainer(pipe, examples, settings, work / f"train-{index}")
        trainer.prepare()
        started = time.perf_counter()
        trainer.run_steps()
        rates.append(args.steps / (time.perf_counter() - started))
        path = trainer.export(work / f"adapter-{index}")
        trainer.close()
        adapters.append(AdapterRef(key=f"style_{index}", path=str(path), sha256=str(index), weight=1.0))
    print(f"training: {statistics.median(rates):.1f} steps/s (64 px, batch 4, rank 8, all layers)")

    cache = AdapterCache(pipe, max_loaded=4)
    pipeline = DiffusersPipeline(pipe, "tiny", "cpu", adapters=cache)

    def job(number: int, adapter: AdapterRef) -> JobSpec:
        return JobSpec(id=f"j{number}", owner_id=1, prompt="wee style", negative_prompt="", seed=number,
                       steps=4, guidance_scale=0.0, width=64, height=64, count=1, adapter=adapter)  # fmt: skip

    def run(styles: int) -> float:
        jobs = [job(number, adapters[number % styles]) for number in range(args.images)]
        started = time.perf_counter()
        for adapter in adapters[:styles]:  # the queue's batches: one adapter per call
            mine = [spec for spec in jobs if spec.adapter == adapter]
            for start in range(0, len(mine), args.batch):
                pipeline.generate([Slot(spec, 0) for spec in mine[start : start + args.batch]], lambda *a: False)
        return args.images / (time.perf_counter() - started)

    run(3)  # loads all three
    loads = cache.times.load_seconds / max(cache.times.loads, 1)
    cache.times.switch_seconds, cache.times.switches = 0.0, 0
    one, three = run(1), run(3)
    switch = cache.times.switch_seconds / max(cache.times.switches, 1)
    print(f"adapter load: {loads * 1000:.1f} ms, switch: {switch * 1000:.2f} ms per call")
    print(f"drawing: {one:.1f} img/s with 1 style, {three:.1f} img/s with 3 styles mixed ({args.images} images)")


if __name__ == "__main__":
    main()
