"""The tiny pipeline handed to managers that tests build themselves."""

from __future__ import annotations

from generation.manager.types import ModelStatus, Pipeline


class PreloadedLoader:
    """Hands the session's already-loaded tiny pipeline to each test's manager, so no test pays
    for building the model a second time."""

    model = "tiny"

    def __init__(self, loaded: tuple[Pipeline, ModelStatus]) -> None:
        self.loaded = loaded

    def load(self) -> tuple[Pipeline, ModelStatus]:
        return self.loaded
