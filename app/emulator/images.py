"""Text-to-image: PNG bytes (SD family), JPEG bytes (SDXL-Lightning), base64 JPEG in JSON (flux)."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from app.emulator.envelope import bad_input
from app.emulator.outputs import BinaryResult, Call, JsonResult, Output
from app.emulator.pictures import solid_jpeg, solid_png
from app.emulator.validation import byte_array, expect_object, number_field, string_field

FLUX = "@cf/black-forest-labs/flux-1-schnell"
JPEG_MODELS = frozenset({"@cf/bytedance/stable-diffusion-xl-lightning"})
NEEDS_IMAGE = frozenset({"@cf/runwayml/stable-diffusion-v1-5-img2img", "@cf/runwayml/stable-diffusion-v1-5-inpainting"})
DEFAULT_SIZE = 1024


def _colour(prompt: str) -> tuple[int, int, int]:
    digest = hashlib.sha256(prompt.encode()).digest()
    return digest[0], digest[1], digest[2]


def run_text_to_image(call: Call) -> Output:
    """The /ai/run handler for Text-to-Image models."""
    body = expect_object(call.json())
    if call.spec.name == FLUX:
        return _flux(body)
    prompt = string_field(body, "prompt", required=True, min_length=1) or ""
    width = number_field(body, "width", 256, 2048, integer=True) or DEFAULT_SIZE
    height = number_field(body, "height", 256, 2048, integer=True) or DEFAULT_SIZE
    _check_diffusion_options(body)
    if call.spec.name in NEEDS_IMAGE and "image" not in body and "image_b64" not in body:
        raise bad_input("required properties at '/' are 'image' (or 'image_b64') for img2img and inpainting")
    red, green, blue = _colour(prompt)
    if call.spec.name in JPEG_MODELS:
        return BinaryResult(solid_jpeg(int(width), int(height), (red + green + blue) // 3), "image/jpeg")
    return BinaryResult(solid_png(int(width), int(height), (red, green, blue)), "image/png")


def _check_diffusion_options(body: dict[str, Any]) -> None:
    number_field(body, "num_steps", 1, 20, integer=True)
    number_field(body, "strength", 0, 1)
    number_field(body, "guidance")
    number_field(body, "seed", integer=True)
    string_field(body, "negative_prompt")
    string_field(body, "image_b64")
    for field in ("image", "mask"):
        if field in body:
            byte_array(body[field], f"/{field}")


def _flux(body: dict[str, Any]) -> Output:
    """flux-1-schnell: `{prompt (1..2048 chars), steps (<= 8)}`; width, height and seed are ignored."""
    prompt = string_field(body, "prompt", required=True, min_length=1, max_length=2048) or ""
    number_field(body, "steps", 1, 8, integer=True)
    red, green, blue = _colour(prompt)
    image = solid_jpeg(DEFAULT_SIZE, DEFAULT_SIZE, (red + green + blue) // 3)
    return JsonResult({"image": base64.b64encode(image).decode()})
