"""Known Workers AI models: task, capabilities, limits and prices; OpenAI-name aliases; model-id checks."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from app.errors import InvalidRequest, ModelNotFound


class Task(StrEnum):
    TEXT_GENERATION = "Text Generation"
    TEXT_EMBEDDINGS = "Text Embeddings"
    TEXT_TO_IMAGE = "Text-to-Image"
    SPEECH_RECOGNITION = "Automatic Speech Recognition"
    TRANSLATION = "Translation"
    TEXT_TO_SPEECH = "Text-to-Speech"
    IMAGE_TO_TEXT = "Image-to-Text"


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
    price_in: float = 0.0  # USD per million input tokens (or per unit for media models)
    price_out: float = 0.0
    description: str = ""
    extra: Mapping[str, object] = field(default_factory=dict)

    @property
    def owned_by(self) -> str:
        return self.id.split("/")[1]


def _tg(model_id: str, context: int, price: tuple[float, float] = (0.0, 0.0), **caps: Any) -> Model:
    return Model(model_id, Task.TEXT_GENERATION, context, price_in=price[0], price_out=price[1], **caps)


_MODELS: tuple[Model, ...] = (
    # Text generation, native {response, tool_calls, usage} family.
    _tg("@cf/meta/llama-3.1-8b-instruct", 7968, (0.282, 0.827), tools=True, json_mode=True),
    _tg("@cf/meta/llama-3.1-8b-instruct-fp8", 32000, (0.152, 0.287), json_mode=True),
    _tg("@cf/meta/llama-3.1-8b-instruct-awq", 8192, (0.123, 0.266), json_mode=True),
    _tg("@cf/meta/llama-3.1-8b-instruct-fp8-fast", 128000, (0.045, 0.384), json_mode=True),
    _tg("@cf/meta/llama-3.1-70b-instruct-fp8-fast", 128000, (0.293, 2.253), json_mode=True),
    _tg("@cf/meta/llama-3-8b-instruct", 7968, (0.282, 0.827), json_mode=True),
    _tg("@cf/meta/llama-3-8b-instruct-awq", 8192, (0.123, 0.266)),
    _tg("@cf/meta/llama-3.2-1b-instruct", 60000, (0.027, 0.201), json_mode=True),
    _tg("@cf/meta/llama-3.2-3b-instruct", 128000, (0.051, 0.335), json_mode=True),
    _tg("@cf/meta/llama-3.2-11b-vision-instruct", 128000, (0.049, 0.676), vision=True),
    _tg("@cf/meta/llama-3.3-70b-instruct-fp8-fast", 24000, (0.293, 2.253), tools=True, json_mode=True),
    _tg("@cf/meta/llama-2-7b-chat-fp16", 4096, (0.556, 6.667)),
    _tg(
        "@cf/meta/llama-4-scout-17b-16e-instruct",
        131000,
        (0.27, 0.85),
        tools=True,
        json_mode=True,
        vision=True,
        wide_ranges=True,
        short_tool_ids=True,
    ),
    _tg("@cf/mistral/mistral-7b-instruct-v0.1", 2824, (0.110, 0.190)),
    _tg(
        "@cf/mistralai/mistral-small-3.1-24b-instruct",
        128000,
        (0.35, 0.56),
        tools=True,
        json_mode=True,
        vision=True,
        wide_ranges=True,
        short_tool_ids=True,
    ),
    _tg("@hf/nousresearch/hermes-2-pro-mistral-7b", 24000, tools=True, json_mode=True),
    _tg("@hf/google/gemma-7b-it", 8192),
    _tg("@cf/google/gemma-3-12b-it", 80000, (0.345, 0.556), vision=True),
    _tg("@cf/qwen/qwen2.5-coder-32b-instruct", 32768, (0.66, 1.0), json_mode=True),
    _tg("@hf/thebloke/deepseek-coder-6.7b-instruct-awq", 4096, json_mode=True),
    _tg("@hf/thebloke/mistral-7b-instruct-v0.1-awq", 4096),
    _tg("@hf/mistral/mistral-7b-instruct-v0.2", 3072),
    _tg("@cf/microsoft/phi-2", 2048),
    _tg("@cf/tinyllama/tinyllama-1.1b-chat-v1.0", 2048),
    _tg("@cf/qwen/qwen1.5-0.5b-chat", 32000),
    _tg("@cf/qwen/qwen1.5-1.8b-chat", 32000),
    _tg("@cf/qwen/qwen1.5-7b-chat-awq", 20000),
    _tg("@cf/qwen/qwen1.5-14b-chat-awq", 7500),
    _tg("@cf/deepseek-ai/deepseek-r1-distill-qwen-32b", 80000, (0.497, 4.881), reasoning=True, json_mode=True),
    _tg("@cf/qwen/qwq-32b", 24000, (0.66, 1.0), reasoning=True),
    # Text generation, OpenAI-shaped {choices: [...]} family.
    _tg(
        "@cf/openai/gpt-oss-120b",
        128000,
        (0.35, 0.75),
        openai_shaped=True,
        tools=True,
        reasoning=True,
        json_mode=True,
        streams=False,
        responses_input=True,
    ),
    _tg(
        "@cf/openai/gpt-oss-20b",
        128000,
        (0.2, 0.3),
        openai_shaped=True,
        tools=True,
        reasoning=True,
        json_mode=True,
        streams=False,
        responses_input=True,
    ),
    _tg(
        "@cf/qwen/qwen3-30b-a3b-fp8",
        32768,
        (0.051, 0.335),
        openai_shaped=True,
        tools=True,
        reasoning=True,
        json_mode=True,
    ),
    _tg(
        "@cf/google/gemma-4-26b-a4b-it",
        128000,
        (0.10, 0.30),
        openai_shaped=True,
        tools=True,
        reasoning=True,
        json_mode=True,
        vision=True,
    ),
    # Embeddings.
    Model("@cf/baai/bge-small-en-v1.5", Task.TEXT_EMBEDDINGS, 512, dimensions=384, price_in=0.020),
    Model("@cf/baai/bge-base-en-v1.5", Task.TEXT_EMBEDDINGS, 512, dimensions=768, price_in=0.067),
    Model("@cf/baai/bge-large-en-v1.5", Task.TEXT_EMBEDDINGS, 512, dimensions=1024, price_in=0.204),
    Model("@cf/baai/bge-m3", Task.TEXT_EMBEDDINGS, 60000, dimensions=1024, price_in=0.0118),
    Model("@cf/google/embeddinggemma-300m", Task.TEXT_EMBEDDINGS, 2048, dimensions=768),
    Model("@cf/qwen/qwen3-embedding-0.6b", Task.TEXT_EMBEDDINGS, 8192),
    # Images.
    Model("@cf/black-forest-labs/flux-1-schnell", Task.TEXT_TO_IMAGE),
    Model("@cf/stabilityai/stable-diffusion-xl-base-1.0", Task.TEXT_TO_IMAGE),
    Model("@cf/bytedance/stable-diffusion-xl-lightning", Task.TEXT_TO_IMAGE),
    Model("@cf/lykon/dreamshaper-8-lcm", Task.TEXT_TO_IMAGE),
    Model("@cf/runwayml/stable-diffusion-v1-5-img2img", Task.TEXT_TO_IMAGE),
    Model("@cf/runwayml/stable-diffusion-v1-5-inpainting", Task.TEXT_TO_IMAGE),
    Model("@cf/black-forest-labs/flux-2-dev", Task.TEXT_TO_IMAGE),
    Model("@cf/black-forest-labs/flux-2-klein-4b", Task.TEXT_TO_IMAGE),
    Model("@cf/black-forest-labs/flux-2-klein-9b", Task.TEXT_TO_IMAGE),
    Model("@cf/leonardo/lucid-origin", Task.TEXT_TO_IMAGE),
    Model("@cf/leonardo/phoenix-1.0", Task.TEXT_TO_IMAGE),
    # Audio, translation, vision.
    Model("@cf/openai/whisper", Task.SPEECH_RECOGNITION, price_in=0.0005),
    Model("@cf/openai/whisper-tiny-en", Task.SPEECH_RECOGNITION),
    Model("@cf/openai/whisper-large-v3-turbo", Task.SPEECH_RECOGNITION, price_in=0.00051),
    Model("@cf/deepgram/nova-3", Task.SPEECH_RECOGNITION, price_in=0.0052),
    Model("@cf/meta/m2m100-1.2b", Task.TRANSLATION, price_in=0.342, price_out=0.342),
    Model("@cf/myshell-ai/melotts", Task.TEXT_TO_SPEECH),
    Model("@cf/deepgram/aura-1", Task.TEXT_TO_SPEECH),
    Model("@cf/deepgram/aura-2-en", Task.TEXT_TO_SPEECH, price_in=0.03),  # USD per 1k characters
    Model("@cf/deepgram/aura-2-es", Task.TEXT_TO_SPEECH, price_in=0.03),
    Model("@cf/ai4bharat/indictrans2-en-indic-1B", Task.TRANSLATION),
    Model("@cf/llava-hf/llava-1.5-7b-hf", Task.IMAGE_TO_TEXT),
)

BUILTIN: dict[str, Model] = {model.id: model for model in _MODELS}

BUILTIN_ALIASES: dict[str, str] = {
    "gpt-3.5-turbo": "@cf/meta/llama-3.1-8b-instruct-fp8-fast",
    "gpt-4o-mini": "@cf/meta/llama-3.1-8b-instruct-fp8-fast",
    "gpt-4o": "@cf/meta/llama-4-scout-17b-16e-instruct",
    "gpt-4": "@cf/meta/llama-3.3-70b-instruct-fp8-fast",
    "gpt-4-turbo": "@cf/meta/llama-3.3-70b-instruct-fp8-fast",
    "o1-mini": "@cf/deepseek-ai/deepseek-r1-distill-qwen-32b",
    "o3-mini": "@cf/qwen/qwq-32b",
    "text-embedding-3-small": "@cf/baai/bge-m3",
    "text-embedding-ada-002": "@cf/baai/bge-m3",
    "text-embedding-3-large": "@cf/baai/bge-large-en-v1.5",
    "dall-e-3": "@cf/black-forest-labs/flux-1-schnell",
    "dall-e-2": "@cf/stabilityai/stable-diffusion-xl-base-1.0",
    "gpt-image-1": "@cf/leonardo/lucid-origin",
    "whisper-1": "@cf/openai/whisper-large-v3-turbo",
    "gpt-4o-transcribe": "@cf/openai/whisper-large-v3-turbo",
    "gpt-4o-mini-transcribe": "@cf/openai/whisper-large-v3-turbo",
    "tts-1": "@cf/myshell-ai/melotts",
    "tts-1-hd": "@cf/deepgram/aura-1",
    "gpt-4o-mini-tts": "@cf/deepgram/aura-2-en",
}

# `@cf/<author>/<name>` or `@hf/<author>/<name>`: letters, digits, `.`, `_`, `-`; each part starts with a
# letter or digit, so `..`, `?`, `#`, `%`, whitespace and extra slashes can never reach the URL path.
MODEL_ID = re.compile(r"@(?:cf|hf)/[A-Za-z0-9][A-Za-z0-9._-]{0,99}/[A-Za-z0-9][A-Za-z0-9._-]{0,149}")


class Catalog:
    """Resolves what a client names (alias, id) to a Model; knows every model it can list."""

    def __init__(self, aliases: Mapping[str, str] | None = None) -> None:
        self.models: dict[str, Model] = dict(BUILTIN)
        self.aliases: dict[str, str] = {**BUILTIN_ALIASES, **(aliases or {})}
        for alias, target in self.aliases.items():
            if not MODEL_ID.fullmatch(target):
                raise ValueError(f"alias {alias!r} points at an invalid model id {target!r}")

    def resolve(self, name: str, *, param: str = "model") -> Model:
        """The model a request names; unknown but well-formed ids are assumed to generate text."""
        target = self.aliases.get(name, name)
        model = self.models.get(target)
        if model is not None:
            return model
        if MODEL_ID.fullmatch(target):
            return Model(target, Task.TEXT_GENERATION)
        if target.startswith(("@cf/", "@hf/")):
            raise InvalidRequest(
                f"Invalid model id `{name}`: expected @cf/<author>/<name> with letters, digits, '.', '_' or '-'.",
                param=param,
                code="invalid_model",
            )
        raise ModelNotFound(
            name,
            "does not exist; use a Workers AI id such as @cf/meta/llama-3.1-8b-instruct "
            "or an alias listed at /v1/models",
        )

    def require(self, name: str, *tasks: Task, param: str = "model") -> Model:
        """Resolve and check that the model does one of `tasks`."""
        model = self.resolve(name, param=param)
        if model.task not in tasks:
            wanted = " or ".join(task.value for task in tasks)
            raise InvalidRequest(
                f"The model `{model.id}` is a {model.task.value} model; this endpoint needs {wanted}.",
                param=param,
                code="model_not_supported",
            )
        return model

    def merge_upstream(self, listed: list[Model]) -> None:
        """Add models found by /ai/models/search that the built-in table does not know."""
        for model in listed:
            self.models.setdefault(model.id, model)


def model_from_search(item: dict[str, object]) -> Model | None:
    """A `/ai/models/search` entry -> Model (None for tasks the gateway does not serve or bad ids)."""
    name = item.get("name")
    task_info = item.get("task")
    task_name = task_info.get("name") if isinstance(task_info, dict) else None
    if not isinstance(name, str) or not MODEL_ID.fullmatch(name):
        return None
    try:
        task = Task(str(task_name))
    except ValueError:
        return None
    props: dict[str, object] = {}
    for prop in item.get("properties") or []:  # type: ignore[attr-defined]
        if isinstance(prop, dict) and isinstance(prop.get("property_id"), str):
            props[prop["property_id"]] = prop.get("value")
    context = props.get("context_window") or props.get("max_input_tokens") or 0
    return Model(
        name,
        task,
        context_window=int(str(context)) if str(context).isdigit() else 0,
        tools=str(props.get("function_calling")).lower() == "true",
        reasoning=str(props.get("reasoning")).lower() == "true",
        description=str(item.get("description") or ""),
    )
