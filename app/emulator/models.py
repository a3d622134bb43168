"""The emulator's model table: one row per model drives routing, validation and /ai/models/search."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
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

    @property
    def uid(self) -> str:
        """A stable uuid for the listing, derived from the name."""
        return str(uuid.uuid5(uuid.NAMESPACE_URL, "workers-ai-emulator:" + self.name))

    @property
    def author(self) -> str:
        return self.name.split("/")[1]


def _tok(price_in: float, price_out: float | None = None) -> tuple[tuple[str, float], ...]:
    if price_out is None:
        return (("per M input tokens", price_in),)
    return (("per M input tokens", price_in), ("per M output tokens", price_out))


def _llm(name: str, context: int, price: tuple[tuple[str, float], ...], **kw: Any) -> ModelSpec:
    description = f"{name.split('/')[-1]}: text generation served by the Workers AI emulator."
    return ModelSpec(name, Task.TEXT_GENERATION, description, context, price, **kw)


_SCOUTLIKE: dict[str, Any] = {
    "content": Content.MULTIMODAL,
    "wide_ranges": True,
    "tool_call_id_pattern": True,
    "function_calling": True,
}

_TEXT_MODELS: tuple[ModelSpec, ...] = (
    _llm("@cf/meta/llama-3.1-8b-instruct", 7968, _tok(0.282, 0.827), function_calling=True),
    _llm("@cf/meta/llama-3.1-8b-instruct-fp8", 32000, _tok(0.152, 0.287)),
    _llm("@cf/meta/llama-3.1-8b-instruct-awq", 8192, _tok(0.123, 0.266)),
    _llm("@cf/meta/llama-3.1-8b-instruct-fp8-fast", 128000, _tok(0.045, 0.384)),
    _llm("@cf/meta/llama-3.1-70b-instruct-fp8-fast", 128000, _tok(0.293, 2.253)),
    _llm("@cf/meta/llama-3-8b-instruct", 7968, _tok(0.282, 0.827)),
    _llm("@cf/meta/llama-3-8b-instruct-awq", 8192, _tok(0.123, 0.266)),
    _llm("@cf/meta/llama-3.2-1b-instruct", 60000, _tok(0.027, 0.201)),
    _llm("@cf/meta/llama-3.2-3b-instruct", 128000, _tok(0.051, 0.335)),
    _llm("@cf/meta/llama-3.3-70b-instruct-fp8-fast", 24000, _tok(0.293, 2.253), function_calling=True),
    _llm("@cf/meta/llama-2-7b-chat-fp16", 4096, _tok(0.556, 6.667)),
    _llm("@cf/mistral/mistral-7b-instruct-v0.1", 2824, _tok(0.110, 0.190)),
    _llm("@hf/nousresearch/hermes-2-pro-mistral-7b", 24000, (), function_calling=True),
    _llm("@hf/google/gemma-7b-it", 8192, ()),
    _llm("@cf/google/gemma-3-12b-it", 80000, _tok(0.345, 0.556), content=Content.MULTIMODAL),
    _llm("@cf/qwen/qwen2.5-coder-32b-instruct", 32768, _tok(0.66, 1.0)),
    _llm(
        "@cf/deepseek-ai/deepseek-r1-distill-qwen-32b",
        80000,
        _tok(0.497, 4.881),
        reasoning=Reasoning.INLINE_NO_OPEN,
    ),
    _llm("@cf/qwen/qwq-32b", 24000, _tok(0.66, 1.0), reasoning=Reasoning.INLINE),
    _llm(
        "@cf/meta/llama-4-scout-17b-16e-instruct",
        131000,
        _tok(0.27, 0.85),
        tool_style=ToolStyle.SCOUT,
        **_SCOUTLIKE,
    ),
    _llm("@cf/mistralai/mistral-small-3.1-24b-instruct", 128000, _tok(0.35, 0.56), **_SCOUTLIKE),
    _llm(
        "@cf/meta/llama-3.2-11b-vision-instruct",
        128000,
        _tok(0.049, 0.676),
        content=Content.MULTIMODAL,
        tool_call_id_pattern=True,
        needs_agreement=True,
    ),
)

_OPENAI_MODELS: tuple[ModelSpec, ...] = tuple(
    _llm(
        name,
        context,
        _tok(*price),
        family=Family.OPENAI,
        content=Content.TEXT_PARTS,
        reasoning=reasoning,
        function_calling=True,
        streams=streams,
        responses_input=name.startswith("@cf/openai/gpt-oss"),
    )
    for name, context, price, reasoning, streams in (
        ("@cf/openai/gpt-oss-120b", 128000, (0.35, 0.75), Reasoning.REASONING_CONTENT, False),
        ("@cf/openai/gpt-oss-20b", 128000, (0.2, 0.3), Reasoning.REASONING_CONTENT, False),
        ("@cf/qwen/qwen3-30b-a3b-fp8", 32768, (0.051, 0.335), Reasoning.REASONING_CONTENT, True),
        ("@cf/google/gemma-4-26b-a4b-it", 128000, (0.10, 0.30), Reasoning.REASONING, True),
    )
)


def _embed(name: str, dims: int, window: int, price: float | None, pooling: bool = True) -> ModelSpec:
    return ModelSpec(
        name,
        Task.TEXT_EMBEDDINGS,
        f"Embedding model that transforms text into a {dims}-dimensional vector.",
        window,
        _tok(price) if price is not None else (),
        dims=dims,
        pooling_in_output=pooling,
    )


def _plain(name: str, task: Task, description: str, price: tuple[tuple[str, float], ...] = ()) -> ModelSpec:
    return ModelSpec(name, task, description, price=price)


_OTHER_MODELS: tuple[ModelSpec, ...] = (
    _embed("@cf/baai/bge-small-en-v1.5", 384, 512, 0.020),
    _embed("@cf/baai/bge-base-en-v1.5", 768, 512, 0.067),
    _embed("@cf/baai/bge-large-en-v1.5", 1024, 512, 0.204),
    _embed("@cf/baai/bge-m3", 1024, 60000, 0.0118),
    _embed("@cf/google/embeddinggemma-300m", 768, 2048, None, pooling=False),
    _plain("@cf/stabilityai/stable-diffusion-xl-base-1.0", Task.TEXT_TO_IMAGE, "Diffusion text-to-image model."),
    _plain("@cf/lykon/dreamshaper-8-lcm", Task.TEXT_TO_IMAGE, "Stable Diffusion fine-tune, photorealism."),
    _plain("@cf/bytedance/stable-diffusion-xl-lightning", Task.TEXT_TO_IMAGE, "Fast SDXL (returns JPEG)."),
    _plain("@cf/runwayml/stable-diffusion-v1-5-img2img", Task.TEXT_TO_IMAGE, "Image-to-image generation."),
    _plain("@cf/runwayml/stable-diffusion-v1-5-inpainting", Task.TEXT_TO_IMAGE, "Masked image inpainting."),
    _plain("@cf/black-forest-labs/flux-1-schnell", Task.TEXT_TO_IMAGE, "12B rectified flow transformer."),
    _plain("@cf/black-forest-labs/flux-2-dev", Task.TEXT_TO_IMAGE, "FLUX.2 [dev], multi-reference (multipart)."),
    _plain("@cf/black-forest-labs/flux-2-klein-4b", Task.TEXT_TO_IMAGE, "FLUX.2 [klein] 4B (multipart)."),
    _plain("@cf/black-forest-labs/flux-2-klein-9b", Task.TEXT_TO_IMAGE, "FLUX.2 [klein] 9B (multipart)."),
    _plain("@cf/leonardo/lucid-origin", Task.TEXT_TO_IMAGE, "Leonardo Lucid Origin (base64 JPEG in JSON)."),
    _plain("@cf/leonardo/phoenix-1.0", Task.TEXT_TO_IMAGE, "Leonardo Phoenix 1.0 (raw JPEG)."),
    _plain(
        "@cf/openai/whisper",
        Task.SPEECH_RECOGNITION,
        "General-purpose speech recognition model.",
        (("per audio minute", 0.0005),),
    ),
    _plain("@cf/openai/whisper-tiny-en", Task.SPEECH_RECOGNITION, "Tiny English-only Whisper."),
    _plain(
        "@cf/openai/whisper-large-v3-turbo",
        Task.SPEECH_RECOGNITION,
        "Whisper large-v3, pruned for speed.",
        (("per audio minute", 0.00051),),
    ),
    _plain(
        "@cf/deepgram/nova-3",
        Task.SPEECH_RECOGNITION,
        "Transcribe audio using Deepgram's speech-to-text model.",
        (("per audio minute", 0.0052),),
    ),
    _plain("@cf/meta/m2m100-1.2b", Task.TRANSLATION, "Multilingual translation model.", _tok(0.342, 0.342)),
    _plain("@cf/myshell-ai/melotts", Task.TEXT_TO_SPEECH, "Multi-lingual text-to-speech model."),
    _plain(
        "@cf/deepgram/aura-1",
        Task.TEXT_TO_SPEECH,
        "Context-aware text-to-speech model.",
        (("per audio minute", 0.0),),
    ),
    _plain(
        "@cf/deepgram/aura-2-en",
        Task.TEXT_TO_SPEECH,
        "Aura-2 context-aware TTS (English).",
        (("per 1k characters", 0.03),),
    ),
    _plain(
        "@cf/deepgram/aura-2-es",
        Task.TEXT_TO_SPEECH,
        "Aura-2 context-aware TTS (Spanish).",
        (("per 1k characters", 0.03),),
    ),
    _plain("@cf/llava-hf/llava-1.5-7b-hf", Task.IMAGE_TO_TEXT, "Multimodal chatbot (image captioning)."),
)

MODELS: dict[str, ModelSpec] = {spec.name: spec for spec in _TEXT_MODELS + _OPENAI_MODELS + _OTHER_MODELS}


def neurons(spec: ModelSpec, prompt_tokens: int, completion_tokens: int, cached_tokens: int = 0) -> float:
    """Neurons for a token count at the model's listed price ($0.011 per 1,000 neurons); cached prompt tokens
    at the cached price where the model lists one."""
    rates = dict(spec.price)
    prompt_rate = rates.get("per M input tokens", 0.0)
    cached_rate = rates.get("per M cached input tokens", prompt_rate)
    usd = (prompt_tokens - cached_tokens) * prompt_rate + cached_tokens * cached_rate
    usd += completion_tokens * rates.get("per M output tokens", 0.0)
    return usd / 1_000_000 / 0.011 * 1000
