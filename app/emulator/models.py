"""The emulator's model table: one row per model drives routing, validation and /ai/models/search.

The rows come from the gateway's own table (`app/model_table.py`, pure data: the emulator may read it, the
gateway never imports the emulator), so the two list the same live models with the same limits and prices;
a retired id is in neither, and is answered 5007 "No such model" as Cloudflare does. Only the quirks the
gateway has no field for (where a model puts its thinking, the shape of its tool calls, an agreement to
sign) are added here.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from app.model_table import MODELS as TABLE
from app.model_table import Model, Task, Unit

__all__ = ["MODELS", "TASK_IDS", "Content", "Family", "ModelSpec", "Reasoning", "Task", "ToolStyle", "neurons"]


TASK_IDS: dict[Task, tuple[str, str]] = {
    Task.TEXT_GENERATION: (
        "c329a1f9-323d-4e91-b2aa-582dd4188d34",
        "Family of generative text models, such as large language models (LLM), that can be adapted for a "
        "variety of natural language tasks.",
    ),
    Task.TEXT_EMBEDDINGS: (
        "0137cdcf-162a-4108-94f2-1ca59e8c65ee",
        "Feature extraction models transform raw data into numerical features that can be processed while "
        "preserving the information in the original dataset.",
    ),
    Task.TEXT_TO_IMAGE: (
        "3d6e1f35-341b-4915-a6c8-9a7142a9033a",
        "Generates images from input text. These models can be used to generate and modify images based on "
        "text prompts.",
    ),
    Task.SPEECH_RECOGNITION: (
        "dfce1c48-2a81-462e-a7fd-de97ce985207",
        "Automatic speech recognition (ASR) models convert a speech signal, typically an audio input, to text.",
    ),
    Task.TRANSLATION: (
        "f57d07cb-9087-487a-bbbf-bc3e17fecc4b",
        "Translation models convert a sequence of text from one language to another.",
    ),
    Task.TEXT_TO_SPEECH: (
        "b52660a1-9a95-4ab2-8b1d-f232be34604a",
        "Text-to-Speech (TTS) is the task of generating natural sounding speech given text input.",
    ),
    Task.IMAGE_TO_TEXT: (
        "882a91d1-c331-4eec-bdad-834c919942a8",
        "Image to text models output a text from a given image. Image captioning or optical character "
        "recognition can be considered as the most common applications of image to text.",
    ),
}


class Family(StrEnum):
    """How a text-generation model shapes its output."""

    NATIVE = "native"  # {response, tool_calls, usage}
    OPENAI = "openai"  # {id, object: chat.completion, choices, usage} inside the envelope


class Content(StrEnum):
    """Which `messages[].content` forms a text-generation model accepts."""

    STRING = "string"  # string only; arrays and null are schema errors (5006)
    MULTIMODAL = "multimodal"  # string, or parts of text and data-URI image_url
    TEXT_PARTS = "text_parts"  # string, or parts of text


class Reasoning(StrEnum):
    """Where a reasoning model puts its thinking."""

    NONE = "none"
    INLINE_NO_OPEN = "inline_no_open"  # "...</think>\n\nanswer" (deepseek-r1: the opening tag is missing)
    INLINE = "inline"  # "<think>\n...\n</think>\n\nanswer" (qwq-32b)
    REASONING_CONTENT = "reasoning_content"  # choices[0].message.reasoning_content
    REASONING = "reasoning"  # choices[0].message.reasoning (gemma-4)


class ToolStyle(StrEnum):
    """The shape of native `tool_calls` items."""

    LEGACY = "legacy"  # {name, arguments: object}
    SCOUT = "scout"  # {id, type: "function", function: {name, arguments: object}}


@dataclass(frozen=True)
class ModelSpec:
    """One model: its task and the limits and quirks the emulator reproduces."""

    name: str
    task: Task
    description: str = ""
    context_window: int = 0  # text generation: prompt tokens; embeddings: tokens per input text
    price: tuple[tuple[str, float], ...] = ()
    family: Family = Family.NATIVE
    content: Content = Content.STRING
    reasoning: Reasoning = Reasoning.NONE
    tool_style: ToolStyle = ToolStyle.LEGACY
    function_calling: bool = False
    wide_ranges: bool = False  # top_p 0..2, frequency/presence penalty 0..2 (mistral-small, llama-4-scout)
    tool_call_id_pattern: bool = False  # tool messages' tool_call_id must be [a-zA-Z0-9]{9}
    streams: bool = True  # False: stream:true still answers plain JSON (gpt-oss)
    responses_input: bool = False  # also takes `{input, reasoning}` and answers a Response object (gpt-oss)
    needs_agreement: bool = False  # llama-3.2-11b-vision: 5016 until the account sends {"prompt":"agree"}
    dims: int = 0
    pooling_in_output: bool = True
    paid_only: bool = False  # listed with `require_workers_paid`
    vision: bool = False  # listed with `vision`

    @property
    def uid(self) -> str:
        """A stable uuid for the listing, derived from the name."""
        return str(uuid.uuid5(uuid.NAMESPACE_URL, "workers-ai-emulator:" + self.name))

    @property
    def author(self) -> str:
        return self.name.split("/")[1]


# What the gateway's table has no field for, by model id.
_QUIRKS: dict[str, dict[str, Any]] = {
    "@cf/deepseek-ai/deepseek-r1-distill-qwen-32b": {"reasoning": Reasoning.INLINE_NO_OPEN},
    "@cf/qwen/qwq-32b": {"reasoning": Reasoning.INLINE},
    "@cf/google/gemma-4-26b-a4b-it": {"reasoning": Reasoning.REASONING},
    "@cf/meta/llama-4-scout-17b-16e-instruct": {"tool_style": ToolStyle.SCOUT},
    "@cf/meta/llama-3.2-11b-vision-instruct": {"needs_agreement": True, "tool_call_id_pattern": True},
    "@cf/google/embeddinggemma-300m": {"pooling_in_output": False},
}


def price_list(model: Model) -> tuple[tuple[str, float], ...]:
    """The model's price as Cloudflare's listing spells it; none for a price Cloudflare does not publish."""
    if model.estimated:
        return ()
    pairs: tuple[tuple[str, float], ...]
    if model.unit is Unit.TOKENS:
        pairs = (
            ("per M input tokens", model.price_in),
            ("per M output tokens", model.price_out),
            ("per M cached input tokens", model.price_cached_in),
        )
        return tuple((unit, price) for unit, price in pairs if price or unit == "per M input tokens")
    if model.unit is Unit.TILE_STEP:
        return (("per 512 by 512 tile", model.price_in), ("per step", model.price_out))
    if model.unit is Unit.TILE_STEP_PRODUCT:
        return (
            ("per input 512x512 tile, per step", model.price_in),
            ("per output 512x512 tile, per step", model.price_out),
        )
    return ((model.unit.value, model.price_in),)


def _spec(model: Model) -> ModelSpec:
    text = model.task is Task.TEXT_GENERATION
    reasoning = Reasoning.NONE
    if model.reasoning:
        reasoning = Reasoning.REASONING_CONTENT if model.openai_shaped else Reasoning.INLINE
    content = Content.STRING
    if model.vision:
        content = Content.MULTIMODAL
    elif model.openai_shaped:
        content = Content.TEXT_PARTS
    description = model.description
    if text and not description:
        description = f"{model.id.split('/')[-1]}: text generation served by the Workers AI emulator."
    fields: dict[str, Any] = {
        "family": Family.OPENAI if model.openai_shaped else Family.NATIVE,
        "content": content,
        "reasoning": reasoning,
        "function_calling": model.tools,
        "wide_ranges": model.wide_ranges,
        "tool_call_id_pattern": model.short_tool_ids,
        "streams": model.streams,
        "responses_input": model.responses_input,
        "dims": model.dimensions,
        "paid_only": model.paid_only,
        "vision": model.vision,
    }
    fields.update(_QUIRKS.get(model.id, {}))
    return ModelSpec(model.id, model.task, description, model.context_window, price_list(model), **fields)


MODELS: dict[str, ModelSpec] = {model.id: _spec(model) for model in TABLE}


def neurons(spec: ModelSpec, prompt_tokens: int, completion_tokens: int, cached_tokens: int = 0) -> float:
    """Neurons for a token count at the model's listed price ($0.011 per 1,000 neurons); cached prompt tokens
    at the cached price where the model lists one."""
    rates = dict(spec.price)
    prompt_rate = rates.get("per M input tokens", 0.0)
    cached_rate = rates.get("per M cached input tokens", prompt_rate)
    usd = (prompt_tokens - cached_tokens) * prompt_rate + cached_tokens * cached_rate
    usd += completion_tokens * rates.get("per M output tokens", 0.0)
    return usd / 1_000_000 / 0.011 * 1000
