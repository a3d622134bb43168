"""/v1/images/edits: the multipart form the openai package sends, read and checked before any upstream call."""

from __future__ import annotations

from dataclasses import dataclass
from typing import get_args

from fastapi import Request
from starlette.datastructures import FormData, UploadFile

from app.convert.image_forms import Upload
from app.convert.images import ImageOptions, sniff
from app.errors import InvalidRequest, PayloadTooLarge
from app.protocol.images import Quality

FIELD_LIMIT = 64 * 1024  # bytes in one text field (the prompt)
RESPONSE_FORMATS = ("url", "b64_json")


@dataclass(frozen=True, slots=True)
class EditForm:
    model: str | None
    options: ImageOptions
    images: list[Upload]
    mask: Upload | None
    n: int
    response_format: str | None


async def read_edit_form(request: Request, max_upload: int) -> EditForm:
    """The form, checked: images that are images and within `max_upload` bytes each (413 above), a prompt,
    and numbers in range; each failure is a 4xx naming its field."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > 5 * max_upload + FIELD_LIMIT:
        raise _too_large("image", max_upload)
    form = await request.form(max_files=5, max_fields=32, max_part_size=FIELD_LIMIT)
    try:
        uploads = [item for key in ("image", "image[]") for item in form.getlist(key)]
        if not uploads:
            raise _missing("image")
        images = [await _upload("image", item, max_upload) for item in uploads]
        mask_item = form.get("mask")
        mask = await _upload("mask", mask_item, max_upload) if mask_item is not None else None
        prompt = _text(form, "prompt") or ""
        if not prompt.strip():
            raise _missing("prompt")
        response_format = _text(form, "response_format")
        if response_format is not None and response_format not in RESPONSE_FORMATS:
            raise InvalidRequest(
                "`response_format` must be `url` or `b64_json`.", param="response_format", code="invalid_value"
            )
        n = _integer(form, "n", 1, 10)
        if _text(form, "quality") not in (None, *get_args(Quality)):
            raise InvalidRequest(
                "`quality` must be one of " + ", ".join(get_args(Quality)) + ".", param="quality", code="invalid_value"
            )
        options = ImageOptions(
            prompt,
            size=_text(form, "size"),
            quality=_text(form, "quality"),
            negative_prompt=_text(form, "negative_prompt"),
            seed=_integer(form, "seed", 0, 2**63),
            steps=_integer(form, "steps", 1, 1000),
            guidance=_number(form, "guidance", float, 0, 1000),
            strength=_number(form, "strength", float, 0, 1),
        )
        return EditForm(_text(form, "model"), options, images, mask, n or 1, response_format)
    finally:
        await form.close()


async def _upload(name: str, item: UploadFile | str, max_upload: int) -> Upload:
    if not isinstance(item, UploadFile):
        raise InvalidRequest(f"'{name}' must be an uploaded file.", param=name, code="invalid_value")
    if item.size is not None and item.size > max_upload:
        raise _too_large(name, max_upload)
    data = await item.read(max_upload + 1)
    if len(data) > max_upload:
        raise _too_large(name, max_upload)
    ext = sniff(data)
    if ext is None:
        raise InvalidRequest(
            f"'{name}' is not an image: send a PNG, JPEG, WEBP or GIF file.", param=name, code="invalid_image"
        )
    return Upload(name, data, ext)


def _missing(name: str) -> InvalidRequest:
    return InvalidRequest(f"Missing required parameter: '{name}'.", param=name, code="missing_required_parameter")


def _too_large(name: str, max_upload: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"'{name}' is larger than this gateway accepts ({max_upload} bytes a file).", param=name, code="file_too_large"
    )


def _text(form: FormData, name: str) -> str | None:
    value = form.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise InvalidRequest(f"'{name}' must be a text field.", param=name, code="invalid_value")
    return value


def _number(form: FormData, name: str, kind: type[int] | type[float], low: float, high: float) -> float | None:
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


def _integer(form: FormData, name: str, low: int, high: int) -> int | None:
    value = _number(form, name, int, low, high)
    return None if value is None else int(value)
