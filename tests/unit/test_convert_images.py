"""The pure image conversions: each family's input, quality to steps, output sniffing, forms, prompts."""

from __future__ import annotations

import base64
from email.parser import BytesParser
from email.policy import HTTP

import orjson
import pytest

from app.convert.image_forms import ImageUpload, edit_call, edit_model, form_data, generation_call
from app.convert.images import ImageOptions, chat_prompt, decode_image, image_input, short_prompt
from app.convert.sniff import image_ext as sniff
from app.emulator.pictures import solid_jpeg, solid_png
from app.errors import InvalidRequest, UpstreamError
from app.protocol.openai import ChatMessage

SDXL = "@cf/stabilityai/stable-diffusion-xl-base-1.0"
FLUX = "@cf/black-forest-labs/flux-1-schnell"
LUCID = "@cf/leonardo/lucid-origin"


@pytest.mark.parametrize(
    ("model", "quality", "expected"),
    [
        (SDXL, "low", {"num_steps": 10}),
        (SDXL, "hd", {"num_steps": 20}),
        (SDXL, "standard", {}),
        (FLUX, "high", {"steps": 8}),
        (FLUX, "low", {"steps": 2}),
        (LUCID, "high", {"steps": 40}),
        ("@cf/lykon/dreamshaper-8-lcm", "high", {"num_steps": 8}),
    ],
)
def test_quality_maps_to_the_model_steps(model: str, quality: str, expected: dict[str, int]) -> None:
    assert image_input(model, ImageOptions("p", quality=quality)) == {"prompt": "p", **expected}


def test_explicit_steps_win_and_are_checked() -> None:
    assert image_input(SDXL, ImageOptions("p", quality="low", steps=15))["num_steps"] == 15
    with pytest.raises(InvalidRequest) as raised:
        image_input(SDXL, ImageOptions("p", steps=21))
    assert raised.value.param == "steps"


@pytest.mark.parametrize(
    ("model", "size", "ok"),
    [
        (SDXL, "256x2048", True),
        (SDXL, "255x512", False),
        (SDXL, "1024", False),
        (SDXL, "0x512", False),
        (FLUX, "1024x1024", True),
        (FLUX, "1792x1024", False),
        (LUCID, "2500x2500", True),
        (SDXL, "auto", True),
    ],
)
def test_sizes_are_checked_against_the_model(model: str, size: str, ok: bool) -> None:
    if ok:
        image_input(model, ImageOptions("p", size=size))
    else:
        with pytest.raises(InvalidRequest) as raised:
            image_input(model, ImageOptions("p", size=size))
        assert raised.value.param == "size"


def test_output_is_recognised_by_its_bytes_not_its_label() -> None:
    png, jpeg = solid_png(8, 8, (1, 2, 3)), solid_jpeg(8, 8, 100)
    assert (sniff(png), sniff(jpeg), sniff(b"RIFF\0\0\0\0WEBPVP8 "), sniff(b"GIF89a..")) == (
        "png",
        "jpg",
        "webp",
        "gif",
    )
    assert sniff(b"<html>") is None and sniff(b"") is None
    assert decode_image(None, jpeg, SDXL) == (jpeg, "jpg")
    assert decode_image({"image": base64.b64encode(png).decode()}, None, FLUX) == (png, "png")
    for result in ({"image": "not base64!"}, {"image": base64.b64encode(b"text").decode()}, {"other": 1}):
        with pytest.raises(UpstreamError):
            decode_image(result, None, FLUX)


def test_flux2_generation_is_a_multipart_form() -> None:
    call = generation_call("@cf/black-forest-labs/flux-2-dev", ImageOptions("a\r\ncat", size="512x256", seed=3))
    assert isinstance(call.body, bytes) and call.content_type.startswith("multipart/form-data; boundary=")
    message = BytesParser(policy=HTTP).parsebytes(f"Content-Type: {call.content_type}\r\n\r\n".encode() + call.body)
    fields = {part.get_param("name", header="content-disposition"): part.get_content() for part in message.iter_parts()}
    assert fields == {"prompt": "a\r\ncat", "width": "512", "height": "256", "seed": "3"}


def test_form_data_carries_files_intact() -> None:
    body, content_type = form_data({"prompt": "x"}, [("input_image_0", "0.png", b"\x89PNG\r\n--x\r\n", "image/png")])
    message = BytesParser(policy=HTTP).parsebytes(f"Content-Type: {content_type}\r\n\r\n".encode() + body)
    parts = list(message.iter_parts())
    assert parts[1].get_payload(decode=True) == b"\x89PNG\r\n--x\r\n"


def test_edit_routing() -> None:
    assert edit_model(SDXL, named=False, has_mask=True).endswith("inpainting")
    assert edit_model(SDXL, named=False, has_mask=False).endswith("img2img")
    with pytest.raises(InvalidRequest):
        edit_model(SDXL, named=True, has_mask=False)
    image = ImageUpload("image", solid_png(4, 4, (0, 0, 0)), "png")
    call = edit_call("@cf/runwayml/stable-diffusion-v1-5-inpainting", ImageOptions("p", strength=0.3), [image], image)
    assert isinstance(call.body, bytes) and call.content_type == "application/json"
    sent = orjson.loads(call.body)
    assert sent["mask"] == list(image.data) and sent["strength"] == 0.3
    assert base64.b64decode(sent["image_b64"]) == image.data


def test_chat_prompt_and_alt_text() -> None:
    messages = [
        ChatMessage(role="user", content="first"),
        ChatMessage(role="user", content=[{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]),  # type: ignore[list-item]
    ]
    assert chat_prompt(messages) == "a b"
    with pytest.raises(InvalidRequest):
        chat_prompt([ChatMessage(role="user", content=""), ChatMessage(role="assistant", content="x")])
    assert short_prompt("a [link](x)\nnext") == "a link (x) next"
    assert len(short_prompt("w" * 500)) == 60
