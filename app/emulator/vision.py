"""Image-to-text (llava): a description that names the image size and echoes the prompt."""

from __future__ import annotations

from app.emulator.outputs import Call, JsonResult, Output
from app.emulator.tokens import truncate
from app.emulator.validation import byte_array, expect_object, mismatch, missing, number_field, string_field

DEFAULT_MAX_TOKENS = 512


def describe(image: bytes, prompt: str, max_tokens: int) -> str:
    text = f"The image ({len(image)} bytes) shows a test pattern from the Workers AI emulator. You asked: {prompt}"
    return truncate(text, max_tokens)[0]


def run_image_to_text(call: Call) -> Output:
    """`{"image": number[] | string, "prompt", "max_tokens"}` (or raw image bytes) -> `{"description"}`."""
    if not call.is_json:
        return JsonResult({"description": describe(call.raw, "", DEFAULT_MAX_TOKENS)})
    body = expect_object(call.json())
    if "image" not in body:
        raise missing("/", "image")
    value = body["image"]
    if isinstance(value, str):
        image = value.encode()
    elif isinstance(value, list):
        image = byte_array(value, "/image")
    else:
        raise mismatch("/image", value, "array")
    prompt = string_field(body, "prompt", default="") or ""
    max_tokens = number_field(body, "max_tokens", 1, integer=True) or DEFAULT_MAX_TOKENS
    number_field(body, "temperature", 0, 5)
    return JsonResult({"description": describe(image, prompt, int(max_tokens))})
