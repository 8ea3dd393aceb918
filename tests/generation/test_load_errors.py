"""When the configured model cannot load, the reason names the cause, not the last error's words."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from huggingface_hub.errors import GatedRepoError, LocalEntryNotFoundError, RepositoryNotFoundError

from generation.manager.load_errors import load_failure_reason
from generation.manager.loader import DiffusersLoader


def raised_chain(*errors: BaseException) -> BaseException:
    """``errors[0]`` raised from ``errors[1]`` raised from …, as diffusers and the hub client do."""
    caught: BaseException | None = None
    for error in reversed(errors):
        try:
            raise error from caught
        except BaseException as exc:  # noqa: BLE001 - building the chain
            caught = exc
    assert caught is not None
    return caught


def test_no_network_is_called_no_network_not_a_missing_model_index() -> None:
    chain = raised_chain(
        OSError("stabilityai/sd-turbo does not appear to have a file named model_index.json."),
        LocalEntryNotFoundError("cannot find the requested files in the local cache"),
        socket.gaierror(-2, "Name or service not known"),
    )

    reason = load_failure_reason("stabilityai/sd-turbo", chain, downloads=True)

    assert reason.startswith("No network")
    assert "model_index.json" not in reason


@pytest.mark.parametrize(
    ("kind", "expected"),
    [(RepositoryNotFoundError, "There is no model called"), (GatedRepoError, "is gated")],
)
def test_a_missing_or_gated_repository_says_so(kind: type[BaseException], expected: str) -> None:
    cause = kind.__new__(kind)  # the hub's errors want a live HTTP response to be built
    cause.args = ("401/404 Client Error",)
    chain = raised_chain(OSError("could not load"), cause)
    assert expected in load_failure_reason("someone/model", chain, downloads=True)


def test_with_downloads_off_a_model_not_in_the_cache_falls_back_to_the_demo_and_says_why(model_cache: Path) -> None:
    loader = DiffusersLoader(
        model="wee-waa-tests/not-cached", device="cpu", cache_dir=model_cache, allow_download=False
    )

    _pipeline, status = loader.load()

    assert status.demo is True
    assert status.error == (
        "wee-waa-tests/not-cached is not in the model cache (WEE_WAA_MODEL_CACHE), and downloads are off."
    )
