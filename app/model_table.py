"""The one table of Workers AI models: what each does, can do and costs, and the ids Cloudflare retired.

Pure data on the standard library only, so that both the gateway's catalog (`app/catalog.py`) and the
emulator (`app/emulator/models.py`) read it: the emulator may import data from the gateway, never the
reverse, and the two cannot drift apart.

Sources (checked 2026-12-07): Cloudflare's model pages, cloudflare/cloudflare-docs
`src/content/workers-ai-models/*.json` (context_window, function_calling, reasoning, vision,
require_workers_paid, price); the pricing page `workers-ai/platform/pricing.mdx` (LLM table, whisper,
melotts $0.0002 an audio minute, aura-1 $0.015 per 1k characters, flux-1-schnell per tile and step); the
partner model pages (phoenix-1.0 $0.0058 a 512x512 tile + $0.00011 a step, lucid-origin $0.007 + $0.00013);
the retirement list is the changelog of 2026-05-08 (shared/reference/workers-ai-api.md section 14.1).
A model whose price Cloudflare does not publish carries the gateway's estimate, marked `estimated=True`,
so the status page and /metrics can say so.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Task(StrEnum):
    """Workers AI task names, exactly as /ai/models/search spells them."""

    TEXT_GENERATION = "Text Generation"
    TEXT_EMBEDDINGS = "Text Embeddings"
    TEXT_TO_IMAGE = "Text-to-Image"
    SPEECH_RECOGNITION = "Automatic Speech Recognition"
    TRANSLATION = "Translation"
    TEXT_TO_SPEECH = "Text-to-Speech"
    IMAGE_TO_TEXT = "Image-to-Text"


class Unit(StrEnum):
    """What a model's `price_in` / `price_out` (USD) are per."""

    TOKENS = "per M tokens"  # price_in per million input tokens, price_out per million output tokens
    AUDIO_MINUTE = "per audio minute"  # price_in
    CHARACTERS = "per 1k characters"  # price_in, of the text spoken
    TILE_STEP = "per 512x512 tile, plus per step"  # price_in per output tile, price_out per step
    TILE_STEP_PRODUCT = "per 512x512 tile per step"  # price_in per input tile-step, price_out per output one
    IMAGE = "per image"  # price_in


@dataclass(frozen=True, slots=True)
class Model:
    """One Workers AI model as the gateway needs to know it."""

    id: str
    task: Task
    context_window: int = 0
    openai_shaped: bool = False  # answers {choices: [...]} rather than {response, tool_calls, usage}
    tools: bool = False
    json_mode: bool = False
    vision: bool = False  # accepts OpenAI content arrays with data-URI images
    reasoning: bool = False  # emits <think>...</think> inline or a reasoning field
    wide_ranges: bool = False  # top_p 0..2 and penalties 0..2 (mistral-small-3.1, llama-4-scout)
    short_tool_ids: bool = False  # tool_call_id must be 9 letters/digits (mistral-small-3.1, llama-4-scout)
    streams: bool = True  # False: answers JSON even when asked to stream (gpt-oss over /ai/run)
    responses_input: bool = False  # also takes the Responses `{input}` and answers `output[]` (gpt-oss)
    dimensions: int = 0  # embeddings
    price_in: float = 0.0  # USD, per `unit`
    price_out: float = 0.0
    description: str = ""
    extra: Mapping[str, object] = field(default_factory=dict)
    unit: Unit = Unit.TOKENS
    price_cached_in: float = 0.0  # USD per million cached input tokens (0: none published)
    estimated: bool = False  # Cloudflare publishes no price: price_* are the gateway's estimate
    paid_only: bool = False  # needs the Workers Paid plan (a free account gets 5035)
    replaces: str = ""  # set only on the stand-in the catalog answers for a retired id: that id

    @property
    def owned_by(self) -> str:
        return self.id.split("/")[1]


@dataclass(frozen=True, slots=True)
class Retired:
    """A model id Cloudflare no longer serves (it answers 5007 "No such model"), and what to use instead."""

    id: str
    retired_on: str  # ISO date
    replacement: str  # a live id of the table


def _tg(model_id: str, context: int, price: tuple[float, ...] = (0.0, 0.0), **caps: Any) -> Model:
    """A text-generation row; `price` is (in, out) or (in, out, cached in), USD per million tokens."""
    cached = price[2] if len(price) > 2 else 0.0
    return Model(
        model_id, Task.TEXT_GENERATION, context, price_in=price[0], price_out=price[1], price_cached_in=cached, **caps
    )


# The 2026 OpenAI-shaped chat models: tools, reasoning and JSON mode; streamed.
_CHAT_2026: dict[str, Any] = {"openai_shaped": True, "tools": True, "reasoning": True, "json_mode": True}
# Vision and tools, with wide sampling ranges and 9-character tool-call ids.
_MISTRAL3_STYLE: dict[str, Any] = {
    "tools": True,
    "json_mode": True,
    "vision": True,
    "wide_ranges": True,
    "short_tool_ids": True,
}
# Estimates for text models without a published price: the nearest published model of their size.
_SMALL = (0.027, 0.201)  # like llama-3.2-1b-instruct
_8B = (0.045, 0.384)  # like llama-3.1-8b-instruct-fp8-fast
# flux-1-schnell's default image (1024x1024: 4 tiles; 4 steps): the cheapest published diffusion price,
# the estimate for image models Cloudflare prices nowhere.
ESTIMATED_IMAGE_USD = 4 * 0.0000528 + 4 * 0.0001056

_TEXT: tuple[Model, ...] = (
    # Native {response, tool_calls, usage} family.
    _tg("@cf/meta/llama-3.1-8b-instruct-fast", 128000, _8B, tools=True, json_mode=True, estimated=True),
    _tg("@cf/meta/llama-3.1-8b-instruct-fp8", 32000, (0.152, 0.287), json_mode=True),
    _tg("@cf/meta/llama-3.1-8b-instruct-fp8-fast", 128000, (0.045, 0.384), json_mode=True),
    _tg("@cf/meta/llama-3.1-70b-instruct-fp8-fast", 128000, (0.293, 2.253), json_mode=True),
    _tg("@cf/meta/llama-3.2-1b-instruct", 60000, (0.027, 0.201), json_mode=True),
    _tg("@cf/meta/llama-3.2-3b-instruct", 128000, (0.051, 0.335), json_mode=True),
    _tg("@cf/meta/llama-3.2-11b-vision-instruct", 128000, (0.049, 0.676), vision=True),
    _tg("@cf/meta/llama-3.3-70b-instruct-fp8-fast", 24000, (0.293, 2.253), tools=True, json_mode=True),
    _tg("@cf/meta/llama-4-scout-17b-16e-instruct", 131000, (0.27, 0.85), **_MISTRAL3_STYLE),
    _tg("@cf/mistralai/mistral-small-3.1-24b-instruct", 128000, (0.35, 0.56), **_MISTRAL3_STYLE),
    _tg("@cf/qwen/qwen2.5-coder-32b-instruct", 32768, (0.66, 1.0), json_mode=True),
    _tg("@hf/thebloke/deepseek-coder-6.7b-instruct-awq", 4096, _8B, json_mode=True, estimated=True),
    _tg("@hf/thebloke/mistral-7b-instruct-v0.1-awq", 4096, _8B, estimated=True),
    _tg("@cf/tinyllama/tinyllama-1.1b-chat-v1.0", 2048, _SMALL, estimated=True),
    _tg("@cf/qwen/qwen1.5-0.5b-chat", 32000, _SMALL, estimated=True),
    _tg("@cf/qwen/qwen1.5-1.8b-chat", 32000, _SMALL, estimated=True),
    _tg("@cf/qwen/qwen1.5-7b-chat-awq", 20000, _8B, estimated=True),
    _tg("@cf/qwen/qwen1.5-14b-chat-awq", 7500, _8B, estimated=True),
    _tg("@cf/deepseek-ai/deepseek-r1-distill-qwen-32b", 80000, (0.497, 4.881), reasoning=True, json_mode=True),
    _tg("@cf/qwen/qwq-32b", 24000, (0.66, 1.0), reasoning=True),
    # OpenAI-shaped {choices: [...]} family.
    _tg(
        "@cf/openai/gpt-oss-120b",
        128000,
        (0.35, 0.75),
        **_CHAT_2026,
        streams=False,
        responses_input=True,
    ),
    _tg("@cf/openai/gpt-oss-20b", 128000, (0.2, 0.3), **_CHAT_2026, streams=False, responses_input=True),
    _tg("@cf/qwen/qwen3-30b-a3b-fp8", 32768, (0.051, 0.335), **_CHAT_2026),
    _tg("@cf/google/gemma-4-26b-a4b-it", 256000, (0.10, 0.30), **_CHAT_2026, vision=True),
    _tg(
        "@cf/zai-org/glm-4.7-flash",
        131072,
        (0.0605, 0.4),
        **_CHAT_2026,
        description="Fast multilingual model for dialogue and multi-turn tool calling in 100+ languages.",
    ),
    # Workers Paid plan only since 2026-07-28 (`require_workers_paid`; a free account gets 5035).
    _tg("@cf/moonshotai/kimi-k2.6", 262144, (0.95, 4.0, 0.16), **_CHAT_2026, vision=True, paid_only=True),
    _tg("@cf/moonshotai/kimi-k2.7-code", 262144, (0.95, 4.0, 0.19), **_CHAT_2026, vision=True, paid_only=True),
    _tg("@cf/zai-org/glm-5.2", 262144, (1.4, 4.4, 0.26), **_CHAT_2026, paid_only=True),
    _tg("@cf/zai-org/glm-5.3", 1310720, (1.4, 4.4, 0.26), **_CHAT_2026, paid_only=True),
    _tg("@cf/zai-org/glm-5.3-flash", 1310720, (0.15, 0.5, 0.03), **_CHAT_2026, vision=True, paid_only=True),
    _tg("@cf/deepseek-ai/deepseek-v4-flash-0731", 1048576, (0.44, 1.32, 0.014), **_CHAT_2026, paid_only=True),
    _tg("@cf/deepseek-ai/deepseek-v4-pro-0813", 1048576, (1.32, 3.96, 0.044), **_CHAT_2026, paid_only=True),
)


def _embed(model_id: str, dims: int, window: int, price: float, *, estimated: bool = False) -> Model:
    return Model(
        model_id,
        Task.TEXT_EMBEDDINGS,
        window,
        dimensions=dims,
        price_in=price,
        estimated=estimated,
        description=f"Embedding model that transforms text into a {dims}-dimensional vector.",
    )


def _image(model_id: str, description: str, tile: float = 0.0, step: float = 0.0) -> Model:
    """An image model priced per tile and step, or (no price published) at the estimate per image."""
    if tile or step:
        return Model(
            model_id, Task.TEXT_TO_IMAGE, price_in=tile, price_out=step, unit=Unit.TILE_STEP, description=description
        )
    return Model(
        model_id,
        Task.TEXT_TO_IMAGE,
        price_in=ESTIMATED_IMAGE_USD,
        unit=Unit.IMAGE,
        estimated=True,
        description=description,
    )


def _media(model_id: str, task: Task, description: str, price: float, unit: Unit, **kw: Any) -> Model:
    return Model(model_id, task, price_in=price, unit=unit, description=description, **kw)


_OTHER: tuple[Model, ...] = (
    _embed("@cf/baai/bge-small-en-v1.5", 384, 512, 0.020),
    _embed("@cf/baai/bge-base-en-v1.5", 768, 512, 0.067),
    _embed("@cf/baai/bge-large-en-v1.5", 1024, 512, 0.204),
    _embed("@cf/baai/bge-m3", 1024, 60000, 0.0118),
    _embed("@cf/google/embeddinggemma-300m", 768, 2048, 0.0118, estimated=True),  # estimate: like bge-m3
    _embed("@cf/qwen/qwen3-embedding-0.6b", 1024, 8192, 0.0118, estimated=True),
    _image("@cf/black-forest-labs/flux-1-schnell", "12B rectified flow transformer.", 0.0000528, 0.0001056),
    _image("@cf/stabilityai/stable-diffusion-xl-base-1.0", "Diffusion text-to-image model."),
    _image("@cf/bytedance/stable-diffusion-xl-lightning", "Fast SDXL (returns JPEG)."),
    _image("@cf/lykon/dreamshaper-8-lcm", "Stable Diffusion fine-tune, photorealism."),
    _image("@cf/runwayml/stable-diffusion-v1-5-img2img", "Image-to-image generation."),
    _image("@cf/runwayml/stable-diffusion-v1-5-inpainting", "Masked image inpainting."),
    Model(
        "@cf/black-forest-labs/flux-2-dev",
        Task.TEXT_TO_IMAGE,
        price_in=0.000413,
        price_out=0.000825,
        unit=Unit.TILE_STEP_PRODUCT,
        description="FLUX.2 [dev], multi-reference (multipart).",
    ),
    _image("@cf/black-forest-labs/flux-2-klein-4b", "FLUX.2 [klein] 4B (multipart)."),
    _image("@cf/black-forest-labs/flux-2-klein-9b", "FLUX.2 [klein] 9B (multipart)."),
    _image("@cf/leonardo/lucid-origin", "Leonardo Lucid Origin (base64 JPEG in JSON).", 0.007, 0.00013),
    _image("@cf/leonardo/phoenix-1.0", "Leonardo Phoenix 1.0 (raw JPEG).", 0.0058, 0.00011),
    _media(
        "@cf/openai/whisper",
        Task.SPEECH_RECOGNITION,
        "General-purpose speech recognition model.",
        0.0005,
        Unit.AUDIO_MINUTE,
    ),
    _media(
        "@cf/openai/whisper-tiny-en",
        Task.SPEECH_RECOGNITION,
        "Tiny English-only Whisper.",
        0.0005,  # estimate: like whisper
        Unit.AUDIO_MINUTE,
        estimated=True,
    ),
    _media(
        "@cf/openai/whisper-large-v3-turbo",
        Task.SPEECH_RECOGNITION,
        "Whisper large-v3, pruned for speed.",
        0.00051,
        Unit.AUDIO_MINUTE,
    ),
    _media(
        "@cf/deepgram/nova-3",
        Task.SPEECH_RECOGNITION,
        "Transcribe audio using Deepgram's speech-to-text model.",
        0.0052,
        Unit.AUDIO_MINUTE,
    ),
    Model(
        "@cf/meta/m2m100-1.2b",
        Task.TRANSLATION,
        price_in=0.342,
        price_out=0.342,
        description="Multilingual translation model.",
    ),
    Model(
        "@cf/ai4bharat/indictrans2-en-indic-1B",
        Task.TRANSLATION,
        price_in=0.342,  # estimate: like m2m100
        price_out=0.342,
        estimated=True,
        description="Translation from English to 22 Indic languages.",
    ),
    _media(
        "@cf/myshell-ai/melotts",
        Task.TEXT_TO_SPEECH,
        "Multi-lingual text-to-speech model.",
        0.0002,
        Unit.AUDIO_MINUTE,
    ),
    _media(
        "@cf/deepgram/aura-1",
        Task.TEXT_TO_SPEECH,
        "Context-aware text-to-speech model.",
        0.015,
        Unit.CHARACTERS,
    ),
    _media(
        "@cf/deepgram/aura-2-en",
        Task.TEXT_TO_SPEECH,
        "Aura-2 context-aware TTS (English).",
        0.03,
        Unit.CHARACTERS,
    ),
    _media(
        "@cf/deepgram/aura-2-es",
        Task.TEXT_TO_SPEECH,
        "Aura-2 context-aware TTS (Spanish).",
        0.03,
        Unit.CHARACTERS,
    ),
    Model(
        "@cf/llava-hf/llava-1.5-7b-hf",
        Task.IMAGE_TO_TEXT,
        price_in=0.049,  # estimate: like llama-3.2-11b-vision-instruct
        price_out=0.676,
        estimated=True,
        description="Multimodal chatbot (image captioning).",
    ),
)

MODELS: tuple[Model, ...] = _TEXT + _OTHER

_LLAMA_8B = "@cf/meta/llama-3.1-8b-instruct-fast"
_GLM = "@cf/zai-org/glm-4.7-flash"
_GEMMA = "@cf/google/gemma-4-26b-a4b-it"
_MISTRAL = "@cf/mistralai/mistral-small-3.1-24b-instruct"
# Cloudflare's changelog of 2026-05-08: retired on 2026-05-30 (VERBATIM ids). The replacement is the nearest
# live model of the same family and task, else one Cloudflare recommends (glm-4.7-flash, gemma-4, kimi-k2.6).
RETIRED: tuple[Retired, ...] = tuple(
    Retired(model_id, "2026-05-30", replacement)
    for model_id, replacement in (
        ("@cf/moonshotai/kimi-k2.5", "@cf/moonshotai/kimi-k2.6"),  # Cloudflare aliases it so itself
        ("@hf/meta-llama/meta-llama-3-8b-instruct", _LLAMA_8B),
        ("@cf/meta/llama-3-8b-instruct", _LLAMA_8B),
        ("@cf/meta/llama-3-8b-instruct-awq", _LLAMA_8B),
        ("@cf/meta/llama-3.1-8b-instruct", _LLAMA_8B),
        ("@cf/meta/llama-3.1-8b-instruct-awq", _LLAMA_8B),
        ("@cf/meta/llama-3.1-70b-instruct", "@cf/meta/llama-3.3-70b-instruct-fp8-fast"),
        ("@cf/meta/llama-2-7b-chat-int8", _LLAMA_8B),
        ("@cf/meta/llama-2-7b-chat-fp16", _LLAMA_8B),
        ("@cf/mistral/mistral-7b-instruct-v0.1", _MISTRAL),
        ("@hf/mistral/mistral-7b-instruct-v0.2", _MISTRAL),
        ("@hf/google/gemma-7b-it", _GEMMA),
        ("@cf/google/gemma-3-12b-it", _GEMMA),
        ("@hf/nousresearch/hermes-2-pro-mistral-7b", _GLM),
        ("@cf/microsoft/phi-2", _GLM),
        ("@cf/defog/sqlcoder-7b-2", "@cf/qwen/qwen2.5-coder-32b-instruct"),
        ("@cf/unum/uform-gen2-qwen-500m", _GEMMA),  # image captioning: a vision chat model
        ("@cf/facebook/bart-large-cnn", _GLM),  # summarization: a chat model
    )
)

# Workers AI's asynchronous batch queue (`?queueRequest=true`, beta): the models its docs list
# (cloudflare-docs workers-ai/features/batch-api/index.mdx). Submits and polls must stay under QUEUE_MAX_BYTES.
QUEUE_MODELS: frozenset[str] = frozenset(
    {
        "@cf/meta/llama-3.3-70b-instruct-fp8-fast",
        "@cf/baai/bge-small-en-v1.5",
        "@cf/baai/bge-base-en-v1.5",
        "@cf/baai/bge-large-en-v1.5",
        "@cf/baai/bge-m3",
        "@cf/meta/m2m100-1.2b",
    }
)
QUEUE_MAX_BYTES = 10_000_000  # "Ensure that the total payload is under 10 MB."
