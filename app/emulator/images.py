"""Text-to-image, in every output form Workers AI answers with:

- raw PNG bytes, `image/png` (SDXL base, dreamshaper, SD 1.5 img2img and inpainting);
- raw JPEG bytes labelled `image/png` (SDXL-Lightning: its schema says PNG, users get JPEG; docs #21022);
- raw JPEG bytes, `image/jpeg` (phoenix-1.0, whose schema says so);
- JSON `{"image": base64}` in the envelope (flux-1-schnell and lucid-origin: JPEG; FLUX.2: PNG, inferred);
FLUX.2 takes multipart/form-data (prompt, width, height, steps, seed, guidance, input_image_0..3), not JSON.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from email.message import Message
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any

from app.emulator.envelope import bad_input
from app.emulator.outputs import BinaryResult, Call, JsonResult, Output
from app.emulator.pictures import solid_jpeg, solid_png
from app.emulator.validation import byte_array, expect_object, missing, number_field, string_field

FLUX = "@cf/black-forest-labs/flux-1-schnell"
FLUX2 = frozenset(
    {
        "@cf/black-forest-labs/flux-2-dev",
        "@cf/black-forest-labs/flux-2-klein-4b",
        "@cf/black-forest-labs/flux-2-klein-9b",
    }
)
LUCID = "@cf/leonardo/lucid-origin"
PHOENIX = "@cf/leonardo/phoenix-1.0"
LIGHTNING = "@cf/bytedance/stable-diffusion-xl-lightning"
NEEDS_IMAGE = frozenset({"@cf/runwayml/stable-diffusion-v1-5-img2img", "@cf/runwayml/stable-diffusion-v1-5-inpainting"})
DEFAULT_SIZE = 1024


def _colour(prompt: str) -> tuple[int, int, int]:
    digest = hashlib.sha256(prompt.encode()).digest()
    return digest[0], digest[1], digest[2]


def _shade(prompt: str) -> int:
    return sum(_colour(prompt)) // 3


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def run_text_to_image(call: Call) -> Output:
    """The /ai/run handler for Text-to-Image models."""
    name = call.spec.name
    if name in FLUX2:
        return _flux2(call)
    body = expect_object(call.json())
    if name == FLUX:
        return _flux(body)
    if name == LUCID:
        return _lucid(body)
    if name == PHOENIX:
        return _phoenix(body)
    prompt = string_field(body, "prompt", required=True, min_length=1) or ""
    width = int(number_field(body, "width", 256, 2048, integer=True) or DEFAULT_SIZE)
    height = int(number_field(body, "height", 256, 2048, integer=True) or DEFAULT_SIZE)
    _check_diffusion_options(body)
    if name in NEEDS_IMAGE and "image" not in body and "image_b64" not in body:
        raise bad_input("required properties at '/' are 'image' (or 'image_b64') for img2img and inpainting")
    if name == LIGHTNING:
        return BinaryResult(solid_jpeg(width, height, _shade(prompt)), "image/png")
    return BinaryResult(solid_png(width, height, _colour(prompt)), "image/png")


def _check_diffusion_options(body: dict[str, Any]) -> None:
    number_field(body, "num_steps", 1, 20, integer=True)
    number_field(body, "strength", 0, 1)
    number_field(body, "guidance")
    number_field(body, "seed", integer=True)
    string_field(body, "negative_prompt")
    image_b64 = string_field(body, "image_b64")
    if image_b64 is not None:
        try:
            base64.b64decode(image_b64, validate=True)
        except (binascii.Error, ValueError):
            raise bad_input("String at '/image_b64' is not valid base64") from None
    for field in ("image", "mask"):
        if field in body:
            byte_array(body[field], f"/{field}")


def _flux(body: dict[str, Any]) -> Output:
    """flux-1-schnell: `{prompt (1..2048 chars), steps (<= 8)}`; width, height and seed are ignored."""
    prompt = string_field(body, "prompt", required=True, min_length=1, max_length=2048) or ""
    number_field(body, "steps", 1, 8, integer=True)
    return JsonResult({"image": _b64(solid_jpeg(DEFAULT_SIZE, DEFAULT_SIZE, _shade(prompt)))})


def _lucid(body: dict[str, Any]) -> Output:
    """lucid-origin: guidance 0..10, sides 0..2500 (default 1120), steps 1..40; JSON base64 JPEG."""
    width, height, shade = _leonardo(body, guidance=(0, 10), side=(2500, 1120), steps={"num_steps": 40, "steps": 40})
    return JsonResult({"image": _b64(solid_jpeg(width, height, shade))})


def _phoenix(body: dict[str, Any]) -> Output:
    """phoenix-1.0: guidance 2..10, sides 0..2048, num_steps 1..50, negative_prompt; raw JPEG bytes."""
    string_field(body, "negative_prompt", min_length=1)
    width, height, shade = _leonardo(body, guidance=(2, 10), side=(2048, 1024), steps={"num_steps": 50})
    return BinaryResult(solid_jpeg(width, height, shade), "image/jpeg")


def _leonardo(
    body: dict[str, Any], *, guidance: tuple[float, float], side: tuple[int, int], steps: dict[str, int]
) -> tuple[int, int, int]:
    """The Leonardo models' shared schema: (width, height, shade of the picture)."""
    prompt = string_field(body, "prompt", required=True, min_length=1) or ""
    number_field(body, "guidance", *guidance)
    number_field(body, "seed", 0, integer=True)
    width = int(number_field(body, "width", 0, side[0], integer=True) or side[1])
    height = int(number_field(body, "height", 0, side[0], integer=True) or side[1])
    for field, most in steps.items():
        number_field(body, field, 1, most, integer=True)
    return width, height, _shade(prompt)


def _flux2(call: Call) -> Output:
    """FLUX.2: a multipart form; JSON is refused as the REST schema does (`multipart` is required)."""
    if not call.content_type.startswith("multipart/form-data"):
        raise missing("/", "multipart")
    fields, files = _form(call.raw, call.content_type)
    prompt = fields.get("prompt", "")
    if not prompt:
        raise missing("/multipart/body", "prompt")
    numbers: dict[str, Any] = {}
    for name, value in fields.items():
        if name in ("width", "height", "steps", "seed", "guidance"):
            try:
                numbers[name] = float(value) if name == "guidance" else int(value)
            except ValueError:
                raise bad_input(f"Type mismatch of '/multipart/body/{name}', 'string' not in 'number'") from None
    width = int(number_field(numbers, "width", 256, 2048, integer=True, parent="/multipart/body") or DEFAULT_SIZE)
    height = int(number_field(numbers, "height", 256, 2048, integer=True, parent="/multipart/body") or DEFAULT_SIZE)
    number_field(numbers, "steps", 1, 50, integer=True, parent="/multipart/body")
    number_field(numbers, "seed", 0, integer=True, parent="/multipart/body")
    number_field(numbers, "guidance", 0, 20, parent="/multipart/body")
    for name in files:
        if name not in {f"input_image_{i}" for i in range(4)}:
            raise bad_input(f"Unknown file field '/multipart/body/{name}'")
    return JsonResult({"image": _b64(solid_png(width, height, _colour(prompt + "".join(sorted(files)))))})


def _form(raw: bytes, content_type: str) -> tuple[dict[str, str], dict[str, bytes]]:
    """A multipart/form-data body -> (text fields, files), with the standard library's MIME parser."""
    message = BytesParser(policy=HTTP).parsebytes(b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + raw)
    fields: dict[str, str] = {}
    files: dict[str, bytes] = {}
    if not message.is_multipart():
        raise bad_input("Type mismatch of '/multipart/body', 'string' not in 'object'")
    for part in message.iter_parts():
        assert isinstance(part, Message)
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        if not isinstance(name, str) or not isinstance(payload, bytes):
            continue
        if part.get_filename() is not None:
            files[name] = payload
        else:
            fields[name] = payload.decode()
    return fields, files
