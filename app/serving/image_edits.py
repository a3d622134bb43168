"""/v1/images/edits: the multipart form the openai package sends, read and checked before any upstream call."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import get_args

from fastapi import Request

from app.convert.image_forms import ImageUpload
from app.convert.images import ImageOptions
from app.convert.sniff import image_ext
from app.errors import InvalidRequest, PayloadTooLarge
from app.protocol.images import Quality
from app.uploads import MAX_FIELD_BYTES as FIELD_LIMIT
from app.uploads import Form, Upload, read_form

FILE_FIELDS = {"image": 5, "image[]": 5, "mask": 1}
RESPONSE_FORMATS = ("url", "b64_json")


@dataclass(frozen=True, slots=True)
class EditForm:
    model: str | None
    options: ImageOptions
    images: list[ImageUpload]
    mask: ImageUpload | None
    n: int
    response_format: str | None


async def read_edit_form(request: Request, max_upload: int) -> EditForm:
    """The form, checked: images that are images and within `max_upload` bytes each (413 above), a prompt,
    and numbers in range; each failure is a 4xx naming its field."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > 5 * max_upload + FIELD_LIMIT:
        raise _too_large("image", max_upload)
    form = await read_form(request, file_fields=FILE_FIELDS, max_file_bytes=max_upload)
    try:
        uploads = [item for key in ("image", "image[]") for item in form.files.get(key, [])]
        if not uploads:
            raise _not_a_file("image") if form.get("image") is not None else _missing("image")
        images = [await _image("image", item) for item in uploads]
        mask_item = form.file("mask")
        if mask_item is None and form.get("mask") is not None:
            raise _not_a_file("mask")
        mask = await _image("mask", mask_item) if mask_item is not None else None
        return EditForm(
            _text(form, "model"), _options(form), images, mask, _integer(form, "n", 1, 10) or 1, _response_format(form)
        )
    finally:
        form.close()


def _options(form: Form) -> ImageOptions:
    prompt = _text(form, "prompt") or ""
    if not prompt.strip():
        raise _missing("prompt")
    if _text(form, "quality") not in (None, *get_args(Quality)):
        raise InvalidRequest(
            "`quality` must be one of " + ", ".join(get_args(Quality)) + ".", param="quality", code="invalid_value"
        )
    return ImageOptions(
        prompt,
        size=_text(form, "size"),
        quality=_text(form, "quality"),
        negative_prompt=_text(form, "negative_prompt"),
        seed=_integer(form, "seed", 0, 2**63),
        steps=_integer(form, "steps", 1, 1000),
        guidance=_number(form, "guidance", float, 0, 1000),
        strength=_number(form, "strength", float, 0, 1),
    )


def _response_format(form: Form) -> str | None:
    response_format = _text(form, "response_format")
    if response_format is not None and response_format not in RESPONSE_FORMATS:
        raise InvalidRequest(
            "`response_format` must be `url` or `b64_json`.", param="response_format", code="invalid_value"
        )
    return response_format


async def _image(name: str, upload: Upload) -> ImageUpload:
    ext = image_ext(upload.head)
    if ext is None:
        raise InvalidRequest(
            f"'{name}' is not an image: send a PNG, JPEG, WEBP or GIF file.", param=name, code="invalid_image"
        )
    return ImageUpload(name, await asyncio.to_thread(upload.read), ext)


def _not_a_file(name: str) -> InvalidRequest:
    return InvalidRequest(f"'{name}' must be an uploaded file.", param=name, code="invalid_value")


def _missing(name: str) -> InvalidRequest:
    return InvalidRequest(f"Missing required parameter: '{name}'.", param=name, code="missing_required_parameter")


def _too_large(name: str, max_upload: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"'{name}' is larger than this gateway accepts ({max_upload} bytes a file).", param=name, code="file_too_large"
    )


def _text(form: Form, name: str) -> str | None:
    return form.get(name) or None


def _number(form: Form, name: str, kind: type[int] | type[float], low: float, high: float) -> float | None:
    text = _text(form, name)
    if text is None:
        return None
    try:
        value = kind(text)
    except ValueError:
        raise InvalidRequest(f"'{name}' must be a number.", param=name, code="invalid_value") from None
    if not low <= value <= high:
        raise InvalidRequest(f"'{name}' must be between {low:g} and {high:g}.", param=name, code="invalid_value")
    return value


def _integer(form: Form, name: str, low: int, high: int) -> int | None:
    value = _number(form, name, int, low, high)
    return None if value is None else int(value)
