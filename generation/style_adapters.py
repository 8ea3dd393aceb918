"""Checking an uploaded LoRA adapter by what it contains, before anything is stored or loaded.

Only safetensors: a pickle (``.ckpt``, ``.pt``, ``.bin``) runs code when loaded. The header is
a length and a JSON table of tensors; it is read alone, capped, and checked against the file's
size (a truncated file is refused), and every tensor name must be a LoRA weight of a layer the
base model has, with the layer's shape: an adapter made for another model (an SD 1.5 adapter
on SD-Turbo, say) would otherwise fail only when a user's drawing loads it.
"""

from __future__ import annotations

import hashlib
import json
import re
import struct
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

MAX_HEADER_BYTES = 16 * 1024 * 1024
DTYPE_BYTES = {"F16": 2, "BF16": 2, "F32": 4, "F64": 8}

# A LoRA weight's name → the layer it changes and which half it is, in the formats diffusers
# reads: its own (``lora.down``/``lora.up``), peft's (``lora_A``/``lora_B``) and kohya's.
_SUFFIX = re.compile(
    r"^(?P<layer>.+?)\.(?P<part>lora\.down|lora\.up|lora_A|lora_B|lora_down|lora_up|alpha|lora_magnitude_vector)"
    r"(?:\.[A-Za-z0-9_]+)?(?:\.weight)?$"
)
_INPUT_HALVES = {"lora.down", "lora_A", "lora_down"}  # shaped (rank, the layer's inputs, ...)
_OUTPUT_HALVES = {"lora.up", "lora_B", "lora_up"}  # shaped (the layer's outputs, rank, ...)
_COMPONENTS = {"unet": "unet", "text_encoder": "text_encoder", "lora_unet": "unet", "lora_te": "text_encoder"}


@dataclass(frozen=True)
class AdapterInfo:
    sha256: str
    size: int
    tensors: int
    components: tuple[str, ...]


def max_adapter_bytes() -> int:
    return settings.WEE_WAA_MAX_ADAPTER_MB * 1024 * 1024


def _refuse(message: Any, code: str, **params: Any) -> ValidationError:
    return ValidationError(message, code=code, params=params or None)


def _not_safetensors() -> ValidationError:
    return _refuse(
        _(
            "This is not a .safetensors file. Adapters saved with pickle (.ckpt, .pt, .bin) are refused: "
            "loading them can run code."
        ),
        "not_safetensors",
    )


def read_header(file: IO[bytes] | Any, size: int) -> dict[str, Any]:
    """The tensor table, checked to describe exactly the bytes that follow it."""
    file.seek(0)
    start = file.read(8)
    if len(start) < 8:
        raise _not_safetensors()
    (length,) = struct.unpack("<Q", start)
    if length < 2 or length > MAX_HEADER_BYTES or 8 + length > size:
        raise _not_safetensors()
    raw = file.read(length)
    file.seek(0)
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise _not_safetensors() from error
    if not isinstance(header, dict):
        raise _not_safetensors()
    header.pop("__metadata__", None)
    if not header:
        raise _refuse(_("The file holds no tensors."), "empty")
    spans = []
    for name, entry in header.items():
        try:
            dtype, shape, (begin, end) = entry["dtype"], entry["shape"], entry["data_offsets"]
            count = 1
            for dimension in shape:
                count *= int(dimension)
        except (KeyError, TypeError, ValueError) as error:
            raise _not_safetensors() from error
        if dtype not in DTYPE_BYTES:
            raise _refuse(
                _("The tensor %(name)s has an unsupported type (%(dtype)s)."), "dtype", name=name, dtype=dtype
            )
        if not (isinstance(begin, int) and isinstance(end, int)) or end - begin != count * DTYPE_BYTES[dtype]:
            raise _not_safetensors()
        spans.append((begin, end))
    spans.sort()
    position = 0
    for begin, end in spans:
        if begin != position:
            raise _not_safetensors()
        position = end
    if 8 + length + position != size:
        raise _refuse(_("The file is incomplete or damaged: its size does not match its contents."), "truncated")
    return header


def _layer_of(name: str) -> tuple[str, str, str] | None:
    """(component, layer, part) of a LoRA weight's name, or None if it is not one."""
    name = re.sub(r"\.processor\.(to_q|to_k|to_v)_lora\.", r".\1.lora.", name)  # diffusers' older format
    name = name.replace(".processor.to_out_lora.", ".to_out.0.lora.")
    match = _SUFFIX.match(name)
    if match is None:
        return None
    layer, part = match.group("layer"), match.group("part")
    for prefix, component in _COMPONENTS.items():
        separator = "_" if prefix.startswith("lora_") else "."
        if layer.startswith(prefix + separator):
            return component, layer[len(prefix) + 1 :], part
    return "unet", layer, part  # peft's own format for a bare UNet


def _model_configs(model: str) -> dict[str, tuple[str, dict[str, Any]]]:
    """The base model's UNet and text encoder configs, read without loading weights."""
    from generation.manager import sdturbo
    from generation.manager.tiny import TINY_MODEL_NAME, ensure_tiny_pipeline

    if model in (sdturbo.SD_TURBO_RANDOM_NAME, "stabilityai/sd-turbo"):
        return {"unet": ("unet", sdturbo.UNET_CONFIG), "text_encoder": ("clip", sdturbo.TEXT_ENCODER_CONFIG)}
    if model == TINY_MODEL_NAME:
        folder = ensure_tiny_pipeline(Path(settings.WEE_WAA_MODEL_CACHE))
    elif Path(model).is_dir():
        folder = Path(model)
    else:
        from huggingface_hub import snapshot_download

        folder = Path(snapshot_download(model, allow_patterns=["*/config.json"], local_files_only=True))
    return {
        "unet": ("unet", json.loads((folder / "unet" / "config.json").read_text())),
        "text_encoder": ("clip", json.loads((folder / "text_encoder" / "config.json").read_text())),
    }


@lru_cache(maxsize=4)
def model_layers(model: str) -> dict[str, dict[str, tuple[int, ...]]]:
    """Per component, the name of every layer an adapter may change → its weight's shape.
    Built on the meta device: the shapes without the memory."""
    import torch
    from diffusers import UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel

    layers: dict[str, dict[str, tuple[int, ...]]] = {}
    for component, (kind, config) in _model_configs(model).items():
        with torch.device("meta"):
            if kind == "unet":
                clean = {key: value for key, value in config.items() if not key.startswith("_")}
                module = UNet2DConditionModel.from_config(clean)
            else:
                module = CLIPTextModel(CLIPTextConfig(**config))
        layers[component] = {
            name: tuple(child.weight.shape)
            for name, child in module.named_modules()
            if isinstance(child, torch.nn.Linear | torch.nn.Conv2d)
        }
    return layers


def check_layers(header: dict[str, Any], model: str) -> tuple[str, ...]:
    """Raises unless every tensor is a LoRA weight of one of ``model``'s layers, shaped to fit."""
    try:
        layers = model_layers(model)
    except Exception as error:
        raise _refuse(
            _("The adapter cannot be checked: the base model %(model)s is not available on this server."),
            "no_model",
            model=model,
        ) from error
    flattened = {component: {name.replace(".", "_"): name for name in names} for component, names in layers.items()}
    unknown: list[str] = []
    components: set[str] = set()
    for name, entry in header.items():
        found = _layer_of(name)
        if found is None:
            unknown.append(name)
            continue
        component, layer, part = found
        known = layers[component]
        layer = layer if layer in known else flattened[component].get(layer, layer)  # kohya's underscores
        if layer not in known:
            unknown.append(name)
            continue
        components.add(component)
        shape, expected = tuple(entry["shape"]), known[layer]
        if part in _INPUT_HALVES:
            fits = shape[1:2] == expected[1:2]
        elif part in _OUTPUT_HALVES:
            fits = shape[:1] == expected[:1]
        else:
            fits = True
        if not fits:
            raise _refuse(
                _("The adapter was made for another model: %(name)s does not fit %(model)s's layer (%(shape)s)."),
                "wrong_shape",
                name=name,
                model=model,
                shape="×".join(str(value) for value in expected),  # noqa: RUF001 - the sign users read
            )
    if unknown:
        raise _refuse(
            _(
                "The adapter was made for another model: %(count)s of its tensors match no layer of "
                "%(model)s (e.g. %(name)s)."
            ),
            "wrong_modules",
            count=len(unknown),
            model=model,
            name=unknown[0],
        )
    return tuple(sorted(components))


def validate_adapter_upload(file: IO[bytes] | Any, *, model: str, file_name: str | None = None) -> AdapterInfo:
    """What the adapter is, or a ``ValidationError`` saying what is wrong with it. The file is
    left rewound; nothing is written anywhere."""
    name = file_name if file_name is not None else str(getattr(file, "name", ""))
    if not name.lower().endswith(".safetensors"):
        raise _not_safetensors()
    size = getattr(file, "size", None)
    if size is None:
        file.seek(0, 2)
        size = file.tell()
        file.seek(0)
    limit = max_adapter_bytes()
    if size > limit:
        raise _refuse(
            _("The adapter is too big: at most %(megabytes)s MB."), "too_big", megabytes=limit // (1024 * 1024)
        )
    header = read_header(file, size)
    components = check_layers(header, model)
    return AdapterInfo(sha256=file_sha256(file), size=size, tensors=len(header), components=components)


def file_sha256(file: IO[bytes] | Any) -> str:
    digest = hashlib.sha256()
    file.seek(0)
    for chunk in iter(lambda: file.read(1 << 20), b""):
        digest.update(chunk)
    file.seek(0)
    return digest.hexdigest()
