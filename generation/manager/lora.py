"""Styles' LoRA adapters on the resident pipeline: loaded once, selected per call, evicted LRU.

Loading an adapter reads its file and wraps the UNet's layers (tens of milliseconds to seconds);
selecting an already loaded one only flips which LoRA layers count and with what weight, so the
cache keeps the most recently used adapters loaded and pays a load only for a style it has not
seen lately. The batch key holds the adapter and its weight, so one call uses one adapter.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from generation.manager.types import AdapterRef

logger = logging.getLogger(__name__)

DEFAULT_MAX_LOADED = 4

# (event, seconds): event is "load" (a file read into the pipeline), "switch" (the active adapter
# or weight set for one call) or "unload" (an evicted adapter removed).
AdapterTiming = Callable[[str, float], None]


@dataclass
class AdapterTimes:
    """What adapters have cost this worker so far; read by metrics and the bench."""

    loads: int = 0
    load_seconds: float = 0.0
    switches: int = 0
    switch_seconds: float = 0.0
    unloads: int = 0
    last_load_seconds: float = 0.0
    last_switch_seconds: float = 0.0
    evicted: list[str] = field(default_factory=list)


def _has_lora(module: Any) -> bool:
    return bool(getattr(module, "_hf_peft_config_loaded", False))


class AdapterCache:
    """The ``AdapterSwitch`` of a diffusers pipeline (``pipe``), keeping at most ``max_loaded``
    adapters loaded. Only the manager's worker thread calls it, like the pipeline itself."""

    def __init__(self, pipe: Any, max_loaded: int = DEFAULT_MAX_LOADED, on_timing: AdapterTiming | None = None) -> None:
        if max_loaded < 1:
            raise ValueError("max_loaded must be at least 1")
        self.pipe = pipe
        self.max_loaded = max_loaded
        self.on_timing = on_timing
        self.times = AdapterTimes()
        self._loaded: OrderedDict[str, AdapterRef] = OrderedDict()

    @property
    def loaded(self) -> list[str]:
        """Keys of the loaded adapters, least recently used first."""
        return list(self._loaded)

    def activate(self, adapter: AdapterRef | None) -> None:
        """Sets the pipeline's adapter state for the next call. Applied every call rather than
        remembered, so whatever else touched the UNet's adapters in between (a style training
        that shares the model) never leaks into a drawing."""
        if adapter is None:
            self._switch(self._disable_all)
            return
        if adapter.key in self._loaded:
            self._loaded.move_to_end(adapter.key)
        else:
            self._load(adapter)
        self._switch(lambda: self._select(adapter))

    def forget(self, key: str) -> None:
        """Unloads one adapter now (its style was deleted or its file replaced)."""
        if key in self._loaded:
            self._unload(key)

    def clear(self) -> None:
        for key in list(self._loaded):
            self._unload(key)

    def _select(self, adapter: AdapterRef) -> None:
        self.pipe.enable_lora()
        self.pipe.set_adapters([adapter.key], [adapter.weight])

    def _disable_all(self) -> None:
        for name in ("unet", "text_encoder"):
            module = getattr(self.pipe, name, None)
            if module is not None and _has_lora(module):
                module.disable_adapters() if name == "text_encoder" else module.disable_lora()

    def _switch(self, apply: Callable[[], None]) -> None:
        started = time.perf_counter()
        apply()
        seconds = time.perf_counter() - started
        self.times.switches += 1
        self.times.switch_seconds += seconds
        self.times.last_switch_seconds = seconds
        self._report("switch", seconds)

    def _load(self, adapter: AdapterRef) -> None:
        while len(self._loaded) >= self.max_loaded:
            self._unload(next(iter(self._loaded)))
        started = time.perf_counter()
        self.pipe.load_lora_weights(adapter.path, adapter_name=adapter.key)
        seconds = time.perf_counter() - started
        self._loaded[adapter.key] = adapter
        self.times.loads += 1
        self.times.load_seconds += seconds
        self.times.last_load_seconds = seconds
        logger.info("Loaded style adapter %s (%s) in %.3f s", adapter.name or adapter.key, adapter.key, seconds)
        self._report("load", seconds)

    def _unload(self, key: str) -> None:
        started = time.perf_counter()
        self.pipe.delete_adapters([key])
        del self._loaded[key]
        seconds = time.perf_counter() - started
        self.times.unloads += 1
        self.times.evicted.append(key)
        self._report("unload", seconds)

    def _report(self, event: str, seconds: float) -> None:
        if self.on_timing is not None:
            try:
                self.on_timing(event, seconds)
            except Exception:  # a metrics hiccup must not fail a drawing
                logger.exception("Adapter timing callback failed")
