"""Prompts longer than the text encoder reads at once (77 CLIP tokens) are encoded in chunks.

A CLIP text encoder sees 77 tokens: a start token, 75 of the prompt and an end token. Diffusers
cuts the rest with a log line nobody reads, so "Springfield at sunset, … , snowy street" lost
its snow. Like the peer studios (AUTOMATIC1111, ComfyUI), each prompt is split into windows of
75 tokens, every window is encoded on its own with its start and end tokens, and the windows'
embeddings are joined along the sequence axis; the UNet's cross-attention takes any length.
Prompts that fit are left to diffusers untouched, so their pictures do not change.
"""

from __future__ import annotations

from typing import Any

WINDOW = 75  # prompt tokens per chunk: 77 minus the start and end tokens


def can_chunk(pipe: Any) -> bool:
    """One CLIP tokenizer and text encoder (SD 1.x/2.x, SD-Turbo). SDXL-style pipelines with a
    second encoder and pooled embeddings keep diffusers' own (truncating) encoding."""
    return (
        getattr(pipe, "tokenizer", None) is not None
        and getattr(pipe, "text_encoder", None) is not None
        and getattr(pipe, "tokenizer_2", None) is None
    )


def prompt_tokens(tokenizer: Any, text: str) -> list[int]:
    # verbose=False: the "longer than the maximum sequence length" warning is the point here.
    return list(tokenizer(text, add_special_tokens=False, truncation=False, verbose=False).input_ids)


def prompt_windows(pipe: Any, texts: list[str]) -> int:
    """Windows the longest of ``texts`` fills; 1 for a pipeline that cannot chunk."""
    if not can_chunk(pipe):
        return 1
    return max(1, *(-(-len(prompt_tokens(pipe.tokenizer, text)) // WINDOW) for text in texts))


def _windows(tokenizer: Any, text: str, count: int) -> list[list[int]]:
    """``count`` rows of 77 ids: the prompt's windows, then empty ones ("") so every prompt in
    the call, negatives included, has the same length."""
    ids = prompt_tokens(tokenizer, text)
    chunks = [ids[start : start + WINDOW] for start in range(0, len(ids), WINDOW)] or [[]]
    chunks += [[]] * (count - len(chunks))
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    rows = []
    for chunk in chunks:
        row = [tokenizer.bos_token_id, *chunk, tokenizer.eos_token_id]
        rows.append(row + [pad] * (WINDOW + 2 - len(row)))
    return rows


def encode_chunked(pipe: Any, prompts: list[str], negatives: list[str] | None) -> tuple[Any, Any | None]:
    """Embeddings for ``prompt_embeds`` (and ``negative_prompt_embeds`` when given): shape
    (images, windows * 77, width), one window count for the whole call."""
    import torch

    tokenizer, encoder = pipe.tokenizer, pipe.text_encoder
    texts = prompts + (negatives or [])
    windows = prompt_windows(pipe, texts)
    rows = [row for text in texts for row in _windows(tokenizer, text, windows)]
    ids = torch.tensor(rows, dtype=torch.long, device=encoder.device)
    with torch.inference_mode():
        hidden = encoder(ids)[0]  # (texts * windows, 77, width)
    hidden = hidden.to(dtype=encoder.dtype).reshape(len(texts), windows * (WINDOW + 2), hidden.shape[-1])
    positive = hidden[: len(prompts)]
    negative = hidden[len(prompts) :] if negatives is not None else None
    return positive, negative
