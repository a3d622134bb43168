"""How many neurons a Workers AI call cost: `usage.neurons` when the upstream says, else the price table.

Workers AI bills in neurons at $0.011 per 1,000 (workers-ai-api.md section 11), so a price in USD per
million tokens is `usd / 0.011 * 1000` neurons per million. Text models are priced per token in and out
(the catalog's `price_in` / `price_out`); embeddings per input token; speech recognition per audio minute;
speech per 1,000 characters (aura) or per audio minute (melotts, its minutes estimated from the text);
images per 512x512 tile and per step, per tile-step (flux-2-dev), or per image. Where Cloudflare publishes
no price the catalog carries an estimate (`Model.estimated`), counted the same way and reported apart.
"""

from __future__ import annotations

import math
from typing import Any

import orjson

from app.catalog import Model, Task, Unit
from app.convert.images import image_model
from app.convert.text import estimate_tokens, prompt_chars, tokens_for_chars

USD_PER_NEURON = 0.011 / 1000
DAILY_FREE_NEURONS = 10_000.0
FLUX_DEFAULT_STEPS = 4
# Steps a model runs when the request names none (their schemas' defaults; flux-1-schnell's is 4).
DEFAULT_STEPS: dict[str, int] = {
    "@cf/leonardo/phoenix-1.0": 25,
    "@cf/leonardo/lucid-origin": 25,
    "@cf/black-forest-labs/flux-2-dev": 25,
}
SPOKEN_CHARS_PER_MINUTE = 900  # about 150 words a minute: melotts is priced per minute of audio it makes


def usd_to_neurons(usd: float) -> float:
    return usd / USD_PER_NEURON


def neurons_to_usd(neurons: float) -> float:
    return neurons * USD_PER_NEURON


def for_tokens(model: Model, prompt: int, completion: int, cached: int = 0) -> float:
    """`cached`: of the `prompt` tokens, those read from the prefix cache (billed at the cached rate)."""
    usd = model.price_in * (prompt - cached) + model.price_out * completion
    if cached:
        usd += (model.price_cached_in or model.price_in) * cached  # no discount assumed where none is published
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


def stream_usage(tail: list[bytes]) -> float | tuple[int, int, int] | None:
    """What a stream's last events say it cost (Workers AI sends usage last): neurons when reported, else
    (prompt, completion, cached) tokens; None when none of them carries a usage."""
    for event in reversed(tail):
        if b'"usage"' in event:
            try:
                found = orjson.loads(event)
            except orjson.JSONDecodeError:
                continue
            given = reported(found)
            if given is not None:
                return given
            counted = token_usage(found)
            if counted is not None:
                return counted
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
    # Text-to-speech: aura per 1,000 characters of text, melotts per minute of speech.
    text = payload.get("text") or payload.get("prompt") if isinstance(payload, dict) else None
    if not isinstance(text, str):
        return 0.0
    per = SPOKEN_CHARS_PER_MINUTE if model.unit is Unit.AUDIO_MINUTE else 1000
    return usd_to_neurons(model.price_in * len(text) / per)


def _embedding_tokens(payload: Any) -> int:
    texts = payload.get("text") if isinstance(payload, dict) else None
    if isinstance(texts, str):
        return estimate_tokens(texts)
    if isinstance(texts, list):
        return sum(estimate_tokens(text) for text in texts if isinstance(text, str))
    return 0


def _image(model: Model, payload: Any) -> float:
    """One image: by its 512x512 tiles and steps, as the request asked (else the model's defaults)."""
    if model.unit is Unit.IMAGE:
        return usd_to_neurons(model.price_in)
    shape = image_model(model.id)
    form = payload if isinstance(payload, dict) else {}  # FLUX.2's multipart body: the defaults
    width, height = form.get("width", shape.fixed_size[0]), form.get("height", shape.fixed_size[1])
    steps = form.get(shape.steps_field, DEFAULT_STEPS.get(model.id, FLUX_DEFAULT_STEPS))
    if not all(isinstance(v, int) and v > 0 for v in (width, height, steps)):
        return 0.0
    tiles = math.ceil(width / 512) * math.ceil(height / 512)
    if model.unit is Unit.TILE_STEP_PRODUCT:  # per output tile per step (reference images not counted)
        return usd_to_neurons(model.price_out * tiles * steps)
    if model.unit is Unit.TILE_STEP:
        return usd_to_neurons(model.price_in * tiles + model.price_out * steps)
    return 0.0


def _audio_minutes(result: object) -> float:
    from app.convert.audio import transcript_of  # audio parsing only when an audio call is counted

    try:
        return transcript_of(result).duration / 60
    except Exception:  # an answer the audio path will reject anyway
        return 0.0
