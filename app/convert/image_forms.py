"""Images, pure: the upstream request for a generation or an edit (JSON, or FLUX.2's multipart form)."""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass
from typing import Any

import orjson

from app.convert.images import EDIT_MODELS, ImageOptions, image_input, image_model
from app.errors import InvalidRequest
from app.storage.base import MEDIA_TYPES

JSON = "application/json"


@dataclass(frozen=True, slots=True)
class ImageCall:
    """One upstream request, made n times: the model, the body (a dict to encode as JSON, or bytes) and
    its content type."""

    model_id: str
    body: dict[str, Any] | bytes
    content_type: str = JSON


@dataclass(frozen=True, slots=True)
class ImageUpload:
    """An uploaded image: its field name, the bytes and their sniffed extension."""

    field: str
    data: bytes
    ext: str


def generation_call(model_id: str, options: ImageOptions) -> ImageCall:
    payload = image_input(model_id, options)
    if image_model(model_id).multipart:
        body, content_type = form_data(payload, [])
        return ImageCall(model_id, body, content_type)
    return ImageCall(model_id, payload)


def edit_model(model_id: str, *, named: bool, has_mask: bool) -> str:
    """The model an edit runs on: the one named, if it edits images; an alias (dall-e-2, gpt-image-1) or no
    model at all picks Stable Diffusion 1.5 inpainting with a mask, img2img without."""
    if image_model(model_id).edits:
        return model_id
    if named:
        raise InvalidRequest(
            f"{model_id} cannot edit images; use {EDIT_MODELS['img2img']}, {EDIT_MODELS['inpainting']} or a "
            "FLUX.2 model.",
            param="model",
            code="model_not_supported",
        )
    return EDIT_MODELS["inpainting" if has_mask else "img2img"]


def edit_call(model_id: str, options: ImageOptions, images: list[ImageUpload], mask: ImageUpload | None) -> ImageCall:
    """img2img and inpainting take JSON with the image in base64 and the mask as a byte array; FLUX.2
    takes a form with the images as input_image_0..3. The body comes back encoded (bytes), so the whole
    call can be built in a worker thread."""
    spec = image_model(model_id)
    payload = image_input(model_id, options)
    if spec.edits == "reference":
        if mask is not None:
            raise InvalidRequest(
                f"{model_id} takes no mask; send reference images only.", param="mask", code="unsupported_parameter"
            )
        if len(images) > 4:
            raise InvalidRequest(f"{model_id} takes at most 4 images.", param="image", code="unsupported_parameter")
        files = [
            (f"input_image_{i}", f"image{i}.{up.ext}", up.data, MEDIA_TYPES[up.ext]) for i, up in enumerate(images)
        ]
        body, content_type = form_data(payload, files)
        return ImageCall(model_id, body, content_type)
    if len(images) > 1:
        raise InvalidRequest(f"{model_id} takes one image.", param="image", code="unsupported_parameter")
    if mask is not None and spec.edits != "inpainting":
        raise InvalidRequest(
            f"{model_id} takes no mask; use {EDIT_MODELS['inpainting']}.", param="mask", code="unsupported_parameter"
        )
    payload["image_b64"] = base64.b64encode(images[0].data).decode()
    if mask is not None:
        payload["mask"] = list(mask.data)  # the schema takes the mask only as number[]
    return ImageCall(model_id, orjson.dumps(payload))  # encoded here: megabytes, best off the event loop


def form_data(fields: dict[str, Any], files: list[tuple[str, str, bytes, str]]) -> tuple[bytes, str]:
    """A multipart/form-data body: `fields` as text parts, `files` as (name, filename, bytes, type)."""
    boundary = "wag-" + secrets.token_hex(16)
    parts: list[bytes] = []
    for name, value in fields.items():
        text = value if isinstance(value, str) else str(value)
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode())
        parts.append(text.encode() + b"\r\n")
    for name, filename, data, media_type in files:
        head = f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
        parts.append(f"{head}Content-Type: {media_type}\r\n\r\n".encode())
        parts.append(data + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"
