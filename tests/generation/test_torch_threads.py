"""The drawing thread uses the CPU threads it is given, not every core: it shares them with the
web server's threads."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

from generation.manager.loader import DiffusersLoader, torch_threads


@pytest.fixture
def restore_threads() -> Iterator[None]:
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


@pytest.mark.parametrize(("requested", "cores", "expected"), [(0, 2, 1), (0, 1, 1), (0, 16, 8), (3, 16, 3), (4, 2, 4)])
def test_zero_means_half_the_cores_and_a_number_is_taken_as_it_is(requested: int, cores: int, expected: int) -> None:
    assert torch_threads(requested, cores) == expected


def test_loading_the_model_sets_torchs_threads_and_reports_them(model_cache: Path, restore_threads: None) -> None:
    torch.set_num_threads(2)

    _pipeline, status = DiffusersLoader(model="tiny", device="cpu", cache_dir=model_cache, threads=1).load()

    assert torch.get_num_threads() == 1
    assert status.extra["torch_threads"] == 1
