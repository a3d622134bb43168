"""How many neurons a Workers AI call cost: `usage.neurons` when the upstream says, else the price table.

Workers AI bills in neurons at $0.011 per 1,000 (workers-ai-api.md section 11), so a price in USD per
million tokens is `usd / 0.011 * 1000` neurons per million. Text models are priced per token in and out
(the catalog's `price_in` / `price_out`); embeddings per input token; speech recognition per audio minute;
flux-1-schnell per 512x512 tile and per step. A model with no published price costs 0 here: its requests
are still counted, its neurons are not guessed.
"""

from __future__ import annotations

import math
from typing import Any

from app.catalog import Model, Task
from app.convert.text import estimate_tokens, prompt_chars, tokens_for_chars

USD_PER_NEURON = 0.011 / 1000
DAILY_FREE_NEURONS = 10_000.0
# flux-1-schnell: $0.0000528 per 512x512 tile, $0.0001056 per step (workers-ai-api.md section 11).
IMAGE_PRICES: dict[str, tuple[float, float]] = {"@cf/black-forest-labs/flux-1-schnell": (0.0000528, 0.0001056)}
FLUX_DEFAULT_STEPS = 4
# USD per million cached input tokens (prompt tokens Workers AI read from its prefix cache), from each model's
# page ("per M cached input tokens"; cloudflare-docs src/content/workers-ai-models/<model>.json, 2026-12).
# A model not listed bills cached tokens at its input price: no discount is assumed that is not published.
CACHED_INPUT_PRICES: dict[str, float] = {
    "@cf/moonshotai/kimi-k2.6": 0.16,
    "@cf/moonshotai/kimi-k2.7-code": 0.19,
    "@cf/zai-org/glm-5.2": 0.26,
}


def usd_to_neurons(usd: float) -> float:
    return usd / USD_PER_NEURON


def neurons_to_usd(neurons: float) -> float:
    return neurons * USD_PER_NEURON


def for_tokens(model: Model, prompt: int, completion: int, cached: int = 0) -> float:
    """`cached`: of the `prompt` tokens, those read from the prefix cache (billed at the cached rate)."""
    usd = model.price_in * (prompt - cached) + model.price_out * completion
    if cached:
        usd += CACHED_INPUT_PRICES.get(model.id, model.price_in) * cached
    return usd_to_neurons(usd / 1_000_000)


def reported(result: object) -> float | None:
    """`usage.neurons` when the answer carries it (newer models do)."""
    if isinstance(result, dict):
        usage = result.get("usage")
        if isinstance(usage, dict):
            value = usage.get("neurons")
            if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
                return float(value)
    return None


def token_usage(result: object) -> tuple[int, int, int] | None:
    """(prompt, completion, cached prompt) tokens from a native or OpenAI-shaped answer's `usage`."""
    if not isinstance(result, dict):
        return None
    usage = result.get("usage")
    if not isinstance(usage, dict):
        return None
    prompt, completion = usage.get("prompt_tokens", 0), usage.get("completion_tokens", 0)
    if isinstance(prompt, int) and isinstance(completion, int):
        return prompt, completion, cached_tokens(usage)
    return None


def cached_tokens(usage: dict[str, Any]) -> int:
    """`prompt_tokens_details.cached_tokens` (0 when absent)."""
    details = usage.get("prompt_tokens_details")
    cached = details.get("cached_tokens") if type(details) is dict else 0
    return cached if type(cached) is int and cached > 0 else 0


def of_call(model: Model, payload: Any, result: object) -> float:
    """Neurons one buffered call cost (`payload`: what was sent, a dict or raw bytes; `result`: the answer)."""
    task = model.task
    if type(result) is dict and (task is Task.TEXT_GENERATION or task is Task.IMAGE_TO_TEXT):
        # The answer to nearly every call, in one frame: a text answer with token usage and no neurons.
        usage = result.get("usage")
        if type(usage) is dict and "neurons" not in usage and "prompt_tokens_details" not in usage:
            prompt, completion = usage.get("prompt_tokens", 0), usage.get("completion_tokens", 0)
            if type(prompt) is int and type(completion) is int:
                return (model.price_in * prompt + model.price_out * completion) / 1_000_000 / USD_PER_NEURON
    given = reported(result)
    if given is not None:
        return given
    if task is Task.TEXT_GENERATION or task is Task.IMAGE_TO_TEXT:
        counted = token_usage(result)
        if counted is None:
            prompt = tokens_for_chars(prompt_chars(payload)) if isinstance(payload, dict) else 0
            text = result.get("response") if isinstance(result, dict) else None
            counted = (prompt, estimate_tokens(text) if isinstance(text, str) else 0, 0)
        return for_tokens(model, *counted)
    if task is Task.TEXT_EMBEDDINGS:
        counted = token_usage(result)
        return for_tokens(model, counted[0] if counted else _embedding_tokens(payload), 0)
    if task is Task.TRANSLATION:
        source = payload.get("text") if isinstance(payload, dict) else None
        target = result.get("translated_text") if isinstance(result, dict) else None
        return for_tokens(
            model,
            estimate_tokens(source) if isinstance(source, str) else 0,
            estimate_tokens(target) if isinstance(target, str) else 0,
        )
    if task is Task.TEXT_TO_IMAGE:
        return _image(model, payload)
    if task is Task.SPEECH_RECOGNITION:
        return usd_to_neurons(model.price_in * _audio_minutes(result))
    # Text-to-speech (aura-2: USD per 1,000 characters of text).
    text = payload.get("text") if isinstance(payload, dict) else None
    return usd_to_neurons(model.price_in * len(text) / 1000) if isinstance(text, str) else 0.0


def _embedding_tokens(payload: Any) -> int:
    texts = payload.get("text") if isinstance(payload, dict) else None
    if isinstance(texts, str):
        return estimate_tokens(texts)
    if isinstance(texts, list):
        return sum(estimate_tokens(text) for text in texts if isinstance(text, str))
    return 0


def _image(model: Model, payload: Any) -> float:
    prices = IMAGE_PRICES.get(model.id)
    if prices is None or not isinstance(payload, dict):
        return 0.0
    per_tile, per_step = prices
    width, height = payload.get("width", 1024), payload.get("height", 1024)
    steps = payload.get("steps", FLUX_DEFAULT_STEPS)
    if not all(isinstance(v, int) and v > 0 for v in (width, height, steps)):
        return 0.0
    tiles = math.ceil(width / 512) * math.ceil(height / 512)
    return usd_to_neurons(per_tile * tiles + per_step * steps)


def _audio_minutes(result: object) -> float:
    from app.convert.audio import transcript_of  # audio parsing only when an audio call is counted

    try:
        return transcript_of(result).duration / 60
    except Exception:  # an answer the audio path will reject anyway
        return 0.0
