"""Images, pure: OpenAI's image parameters -> each Workers AI family's input; upstream output -> bytes."""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from typing import Any

from app.convert.sniff import image_ext
from app.errors import InvalidRequest, UpstreamError
from app.protocol.openai import ChatMessage


@dataclass(frozen=True, slots=True)
class ImageModel:
    """What one Workers AI image model takes (from its schema) and how the gateway fills it in."""

    sizes: tuple[int, int] | None  # (min, max) side in pixels; None: no width/height (one fixed size)
    steps_field: str  # "num_steps" or "steps"
    max_steps: int
    quality_steps: tuple[int, int]  # steps for low and for high/hd quality (standard: the model's default)
    fixed_size: tuple[int, int] = (1024, 1024)  # what a model without width/height makes
    guidance: tuple[float, float] | None = (0.0, 30.0)  # None: not taken
    seed: bool = True
    negative_prompt: bool = True
    max_prompt: int = 0  # 0: no documented limit
    multipart: bool = False  # FLUX.2 takes multipart/form-data, not JSON
    edits: str = ""  # "img2img", "inpainting", "reference" (FLUX.2 input_image_N), "" (no edits)


_SD = ImageModel((256, 2048), "num_steps", 20, (10, 20))
_SD_FAST = ImageModel((256, 2048), "num_steps", 20, (4, 8))  # few-step distillations (lightning, LCM)
_FLUX2 = ImageModel(
    (256, 2048), "steps", 50, (10, 50), negative_prompt=False, multipart=True, edits="reference", guidance=(0, 20)
)

IMAGE_MODELS: dict[str, ImageModel] = {
    "@cf/stabilityai/stable-diffusion-xl-base-1.0": _SD,
    "@cf/bytedance/stable-diffusion-xl-lightning": _SD_FAST,
    "@cf/lykon/dreamshaper-8-lcm": _SD_FAST,
    "@cf/runwayml/stable-diffusion-v1-5-img2img": ImageModel((256, 2048), "num_steps", 20, (10, 20), edits="img2img"),
    "@cf/runwayml/stable-diffusion-v1-5-inpainting": ImageModel(
        (256, 2048), "num_steps", 20, (10, 20), edits="inpainting"
    ),
    "@cf/black-forest-labs/flux-1-schnell": ImageModel(
        None, "steps", 8, (2, 8), guidance=None, seed=False, negative_prompt=False, max_prompt=2048
    ),
    "@cf/black-forest-labs/flux-2-dev": _FLUX2,
    "@cf/black-forest-labs/flux-2-klein-4b": _FLUX2,
    "@cf/black-forest-labs/flux-2-klein-9b": _FLUX2,
    "@cf/leonardo/lucid-origin": ImageModel((1, 2500), "steps", 40, (10, 40), guidance=(0, 10), negative_prompt=False),
    "@cf/leonardo/phoenix-1.0": ImageModel((1, 2048), "num_steps", 50, (10, 50), guidance=(2, 10)),
}
# A text-to-image model the table does not know gets the Stable Diffusion schema, the most common one.
DEFAULT_MODEL = _SD
EDIT_MODELS = {
    "img2img": "@cf/runwayml/stable-diffusion-v1-5-img2img",
    "inpainting": "@cf/runwayml/stable-diffusion-v1-5-inpainting",
}

_SIZE = re.compile(r"([1-9][0-9]{0,4})x([1-9][0-9]{0,4})")


def image_model(model_id: str) -> ImageModel:
    return IMAGE_MODELS.get(model_id, DEFAULT_MODEL)


@dataclass(frozen=True, slots=True)
class ImageOptions:
    """The options of one image request, as OpenAI and Workers AI name them (None: not given)."""

    prompt: str
    size: str | None = None
    quality: str | None = None
    negative_prompt: str | None = None
    seed: int | None = None
    steps: int | None = None
    guidance: float | None = None
    strength: float | None = None


def image_input(model_id: str, options: ImageOptions) -> dict[str, Any]:
    """The Workers AI input for one image; a 400 naming the parameter when the model cannot take it."""
    spec = image_model(model_id)
    if spec.max_prompt and len(options.prompt) > spec.max_prompt:
        raise _bad(f"`prompt` is longer than {model_id} takes ({spec.max_prompt} characters).", "prompt")
    payload: dict[str, Any] = {"prompt": options.prompt}
    payload.update(_size(model_id, spec, options.size))
    steps = _steps(model_id, spec, options)
    if steps is not None:
        payload[spec.steps_field] = steps
    for name, value, allowed in (
        ("negative_prompt", options.negative_prompt, spec.negative_prompt),
        ("seed", options.seed, spec.seed),
        ("guidance", options.guidance, spec.guidance is not None),
    ):
        if value is None:
            continue
        if not allowed:
            raise _bad(f"{model_id} does not take `{name}`.", name, "unsupported_parameter")
        payload[name] = value
    if options.guidance is not None and spec.guidance is not None:
        low, high = spec.guidance
        if not low <= options.guidance <= high:
            raise _bad(f"`guidance` must be between {low:g} and {high:g} for {model_id}.", "guidance")
    if options.strength is not None:
        if not 0 <= options.strength <= 1:
            raise _bad("`strength` must be between 0 and 1.", "strength")
        if spec.edits in ("img2img", "inpainting"):
            payload["strength"] = options.strength
    return payload


def _size(model_id: str, spec: ImageModel, size: str | None) -> dict[str, int]:
    if size is None or size == "auto":
        return {}
    match = _SIZE.fullmatch(size)
    if match is None:
        raise _bad("`size` must be WIDTHxHEIGHT, such as 1024x1024, or `auto`.", "size")
    width, height = int(match[1]), int(match[2])
    if spec.sizes is None:
        if (width, height) != spec.fixed_size:
            fixed = "x".join(map(str, spec.fixed_size))
            raise _bad(f"{model_id} makes {fixed} images only; `size` {size} is not available.", "size")
        return {}
    low, high = spec.sizes
    if not (low <= width <= high and low <= height <= high):
        raise _bad(f"`size` {size} is outside what {model_id} makes: each side {low}-{high} pixels.", "size")
    return {"width": width, "height": height}


def _steps(model_id: str, spec: ImageModel, options: ImageOptions) -> int | None:
    if options.steps is not None:
        if options.steps > spec.max_steps:
            raise _bad(f"`steps` must be at most {spec.max_steps} for {model_id}.", "steps")
        return options.steps
    low, high = spec.quality_steps
    return {"low": low, "high": high, "hd": high}.get(options.quality or "")


def _bad(message: str, param: str, code: str = "invalid_value") -> InvalidRequest:
    return InvalidRequest(message, param=param, code=code)


# --- what comes back --------------------------------------------------------------------------------


def decode_image(result: dict[str, Any] | list[Any] | None, raw: bytes | None, model_id: str) -> tuple[bytes, str]:
    """An upstream answer (raw bytes, or JSON `{"image": base64}`) -> (image bytes, extension)."""
    data = raw
    if data is None and isinstance(result, dict) and isinstance(result.get("image"), str):
        try:
            data = base64.b64decode(result["image"], validate=True)
        except (binascii.Error, ValueError):
            data = None
    ext = image_ext(data) if data else None
    if data is None or ext is None:
        raise UpstreamError(
            f"Workers AI answered `{model_id}` with something that is not an image.", code="upstream_bad_response"
        )
    return data, ext


def short_prompt(prompt: str, limit: int = 60) -> str:
    """Alt text for a markdown image: one line, no brackets, at most `limit` characters."""
    text = " ".join(prompt.replace("[", " ").replace("]", " ").split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def chat_prompt(messages: list[ChatMessage]) -> str:
    """The text of the last user message (string content, or its text parts joined)."""
    for message in reversed(messages):
        if message.role != "user":
            continue
        content = message.content
        if isinstance(content, list):
            content = " ".join(part.text for part in content if part.type == "text" and part.text)
        text = (content or "").strip()
        if text:
            return text
        break
    raise InvalidRequest(
        "An image model draws the text of the last user message, and it has none.",
        param="messages",
        code="invalid_value",
    )
