"""Why a model could not be loaded, in words an admin can act on.

The exception diffusers raises is the last of a chain: "does not appear to have a file named
model_index.json" sits on top of the real cause (no network, no such repository, a gated one).
The studio and /healthz showed that top line, which sent people hunting for a missing file
when the machine simply had no network.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator

NETWORK_ERRORS = {
    "ConnectError",
    "ConnectTimeout",
    "ConnectionError",
    "NetworkError",
    "ProxyError",
    "ReadTimeout",
    "OfflineModeIsEnabled",
}


def causes(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _names(exc: BaseException) -> set[str]:
    return {cls.__name__ for cls in type(exc).__mro__}


def load_failure_reason(model: str, exc: BaseException, *, downloads: bool) -> str:
    chain = list(causes(exc))
    names = set().union(*(_names(link) for link in chain))
    if "GatedRepoError" in names:
        return f"{model} is gated on the Hugging Face hub: accept its licence there and set HF_TOKEN."
    if "RepositoryNotFoundError" in names:
        return f"There is no model called {model} on the Hugging Face hub (check WEE_WAA_MODEL)."
    if any(isinstance(link, socket.gaierror | ConnectionError | TimeoutError) for link in chain) or (
        names & NETWORK_ERRORS
    ):
        return f"No network: {model} could not be downloaded, and it is not in the model cache (WEE_WAA_MODEL_CACHE)."
    if "LocalEntryNotFoundError" in names or "EntryNotFoundError" in names:
        if not downloads:
            return f"{model} is not in the model cache (WEE_WAA_MODEL_CACHE), and downloads are off."
        return f"{model} is not a complete diffusers model: {str(chain[0]).strip()}"
    return f"{model} could not be loaded: {str(exc).strip() or type(exc).__name__}"
