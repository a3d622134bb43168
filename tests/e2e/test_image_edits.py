"""POST /v1/images/edits: the multipart form the openai package sends, mapped to img2img, inpainting and
FLUX.2; every bad upload refused before any upstream call."""

from __future__ import annotations

import base64

import openai
import pytest

from app.emulator.pictures import solid_png
from tests.conftest import TEST_KEY
from tests.e2e.images import PNG, fetch, runs
from tests.http import call
from tests.servers import Emulator

IMAGE = solid_png(256, 256, (10, 20, 30))
MASK = solid_png(256, 256, (255, 255, 255))


def test_edit_without_mask_runs_img2img(client: openai.OpenAI, upstream: Emulator) -> None:
    answer = client.images.edit(image=("in.png", IMAGE, "image/png"), prompt="make it blue", size="512x512")
    assert answer.data and answer.data[0].url and fetch(answer.data[0].url).body.startswith(PNG)
    run = runs(upstream)[-1]
    assert str(run["path"]).endswith("@cf/runwayml/stable-diffusion-v1-5-img2img")
    sent = upstream.last_run()
    assert base64.b64decode(sent["image_b64"]) == IMAGE and "mask" not in sent
    assert (sent["prompt"], sent["width"], sent["height"]) == ("make it blue", 512, 512)


def test_edit_with_mask_runs_inpainting(client: openai.OpenAI, upstream: Emulator) -> None:
    answer = client.images.edit(
        image=("in.png", IMAGE, "image/png"),
        mask=("mask.png", MASK, "image/png"),
        prompt="a hat",
        n=2,
        response_format="b64_json",
        extra_body={"strength": "0.6"},
    )
    assert answer.data and len(answer.data) == 2
    assert all(base64.b64decode(item.b64_json or "").startswith(PNG) for item in answer.data)
    assert len(runs(upstream)) == 2
    assert str(runs(upstream)[-1]["path"]).endswith("@cf/runwayml/stable-diffusion-v1-5-inpainting")
    sent = upstream.last_run()
    assert bytes(sent["mask"]) == MASK and base64.b64decode(sent["image_b64"]) == IMAGE
    assert sent["strength"] == 0.6


def test_flux2_edit_sends_the_image_as_a_reference(client: openai.OpenAI, upstream: Emulator) -> None:
    answer = client.images.edit(
        model="@cf/black-forest-labs/flux-2-dev", image=("in.png", IMAGE, "image/png"), prompt="in watercolour"
    )
    assert answer.data and answer.data[0].url
    run = runs(upstream)[-1]
    assert str(run["content_type"]).startswith("multipart/form-data") and int(str(run["body_size"])) > len(IMAGE)


def _edit(gateway_url: str, fields: dict[str, str], files: dict[str, tuple[str, bytes, str]]) -> tuple[int, dict]:
    boundary = "testboundary"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode() for k, v in fields.items()
    ]
    for name, (filename, data, media_type) in files.items():
        head = f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
        parts.append(f"{head}Content-Type: {media_type}\r\n\r\n".encode() + data + b"\r\n")
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    headers = {"Authorization": f"Bearer {TEST_KEY}", "Content-Type": f"multipart/form-data; boundary={boundary}"}
    answer = call("POST", f"{gateway_url}/v1/images/edits", body, headers)
    return answer.status, answer.error if answer.status >= 400 else answer.json()


GOOD = {"image": ("in.png", IMAGE, "image/png")}


@pytest.mark.parametrize(
    ("fields", "files", "status", "param"),
    [
        ({"prompt": "x"}, {}, 400, "image"),  # no image
        ({"prompt": "x"}, {"image": ("in.png", b"%PDF-1.4 not a picture", "image/png")}, 400, "image"),
        ({"prompt": "x"}, {**GOOD, "mask": ("m.png", b"GIF? no", "image/png")}, 400, "mask"),
        ({"prompt": "x", "image": "just text"}, {}, 400, "image"),
        ({}, GOOD, 400, "prompt"),
        ({"prompt": "x", "n": "11"}, GOOD, 400, "n"),
        ({"prompt": "x", "n": "two"}, GOOD, 400, "n"),
        ({"prompt": "x", "strength": "1.5"}, GOOD, 400, "strength"),
        ({"prompt": "x", "response_format": "png"}, GOOD, 400, "response_format"),
        ({"prompt": "x", "size": "9000x9000"}, GOOD, 400, "size"),
        ({"prompt": "x", "steps": "21"}, GOOD, 400, "steps"),
        ({"prompt": "x", "quality": "ultra"}, GOOD, 400, "quality"),
        ({"prompt": "x", "model": "@cf/stabilityai/stable-diffusion-xl-base-1.0"}, GOOD, 400, "model"),
        (
            {"prompt": "x", "model": "@cf/runwayml/stable-diffusion-v1-5-img2img"},
            {**GOOD, "mask": ("m.png", MASK, "image/png")},
            400,
            "mask",
        ),
    ],
)
def test_bad_uploads_are_refused_before_any_upstream_call(
    gateway_url: str,
    upstream: Emulator,
    fields: dict[str, str],
    files: dict[str, tuple[str, bytes, str]],
    status: int,
    param: str,
) -> None:
    got, error = _edit(gateway_url, fields, files)
    assert (got, error["param"]) == (status, param), error
    assert runs(upstream) == []
