"""Sampling parameters: OpenAI names and ranges -> what a Workers AI model accepts."""

from __future__ import annotations

from typing import Any

from app.catalog import Model
from app.protocol.openai import SamplingParams

SEED_MAX = 9_999_999_999
MIN_OUTPUT_TOKENS = 16


def _clamp(value: float, low: float, high: float) -> float:
    return min(max(value, low), high)


def max_tokens_for(model: Model, requested: int | None, default: int, prompt_tokens: int) -> int:
    """The client's limit or the gateway default (Workers AI's own default is only 256), kept inside the
    context window so a long prompt plus a default budget does not fail upstream."""
    tokens = requested or default
    if model.context_window:
        room = model.context_window - prompt_tokens - 8
        tokens = min(tokens, max(room, MIN_OUTPUT_TOKENS))
    return max(tokens, 1)


def sampling(params: SamplingParams, model: Model) -> dict[str, Any]:
    """Temperature, top_p, top_k, seed and penalties, clamped to the model's ranges."""
    out: dict[str, Any] = {}
    if model.openai_shaped:  # vLLM-style models take OpenAI's ranges as they are
        for name in (
            "temperature",
            "top_p",
            "top_k",
            "seed",
            "frequency_penalty",
            "presence_penalty",
            "repetition_penalty",
        ):
            value = getattr(params, name)
            if value is not None:
                out[name] = value
        return out
    penalty_low = 0.0 if model.wide_ranges else -2.0
    if params.temperature is not None:
        out["temperature"] = _clamp(params.temperature, 0.0, 5.0)
    if params.top_p is not None:
        out["top_p"] = _clamp(params.top_p, 0.001, 2.0 if model.wide_ranges else 1.0)
    if params.top_k is not None:
        out["top_k"] = int(_clamp(params.top_k, 1, 50))
    if params.seed is not None:
        out["seed"] = int(_clamp(params.seed, 1, SEED_MAX))
    if params.repetition_penalty is not None:
        out["repetition_penalty"] = _clamp(params.repetition_penalty, 0.0, 2.0)
    if params.frequency_penalty is not None:
        out["frequency_penalty"] = _clamp(params.frequency_penalty, penalty_low, 2.0)
    if params.presence_penalty is not None:
        out["presence_penalty"] = _clamp(params.presence_penalty, penalty_low, 2.0)
    return out


def stop_sequences(stop: str | list[str] | None) -> tuple[str, ...]:
    if stop is None:
        return ()
    items = [stop] if isinstance(stop, str) else stop
    return tuple(item for item in items if item)
