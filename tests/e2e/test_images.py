"""POST /v1/images/generations through the openai package, and the hosted files it links to."""

from __future__ import annotations

import base64
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import openai
import pytest

from tests.conftest import TEST_KEY
from tests.e2e.images import JPEG, PNG, fetch, raw_get, runs, size_of
from tests.http import call
from tests.servers import Emulator

SDXL = "@cf/stabilityai/stable-diffusion-xl-base-1.0"
LIGHTNING = "@cf/bytedance/stable-diffusion-xl-lightning"
FLUX = "@cf/black-forest-labs/flux-1-schnell"
LUCID = "@cf/leonardo/lucid-origin"
PHOENIX = "@cf/leonardo/phoenix-1.0"
KLEIN = "@cf/black-forest-labs/flux-2-klein-4b"


@pytest.mark.parametrize(
    ("model", "size", "magic", "ext", "upstream_form"),
    [
        (SDXL, "512x768", PNG, "png", "raw image/png"),
        (LIGHTNING, "640x320", JPEG, "jpg", "raw JPEG labelled image/png"),
        (PHOENIX, "512x256", JPEG, "jpg", "raw image/jpeg"),
        (FLUX, "1024x1024", JPEG, "jpg", "JSON base64 JPEG"),
        (LUCID, "768x512", JPEG, "jpg", "JSON base64 JPEG"),
        (KLEIN, "512x512", PNG, "png", "multipart in, JSON base64 PNG out"),
    ],
)
def test_every_upstream_output_form(
    client: openai.OpenAI, upstream: Emulator, model: str, size: str, magic: bytes, ext: str, upstream_form: str
) -> None:
    inline = client.images.generate(model=model, prompt="a lighthouse", size=size, response_format="b64_json")  # type: ignore[arg-type]
    assert isinstance(inline.created, int) and inline.data and len(inline.data) == 1
    image = base64.b64decode(inline.data[0].b64_json or "")
    assert image.startswith(magic), upstream_form
    assert size_of(image) == tuple(map(int, size.split("x")))
    hosted = client.images.generate(model=model, prompt="a lighthouse", size=size)
    url = hosted.data[0].url if hosted.data else None
    assert url and url.endswith(f".{ext}") and hosted.data and hosted.data[0].b64_json is None
    answer = fetch(url)
    assert answer.status == 200 and answer.body == image  # the same prompt draws the same picture
    assert answer.headers["content-type"] == ("image/png" if ext == "png" else "image/jpeg")


def test_each_family_gets_the_input_it_takes(client: openai.OpenAI, upstream: Emulator) -> None:
    client.images.generate(model="dall-e-2", prompt="a fox", size="512x512", quality="hd")
    assert upstream.last_run() == {"prompt": "a fox", "width": 512, "height": 512, "num_steps": 20}
    client.images.generate(model="dall-e-3", prompt="a fox", size="1024x1024", quality="hd")
    assert upstream.last_run() == {"prompt": "a fox", "steps": 8}  # no width/height: flux-1-schnell has none
    extras = {"negative_prompt": "blur", "seed": 7, "steps": 30, "guidance": 5.0}
    client.images.generate(model=PHOENIX, prompt="a fox", size="256x256", extra_body=extras)
    assert upstream.last_run() == {
        "prompt": "a fox",
        "width": 256,
        "height": 256,
        "num_steps": 30,
        "negative_prompt": "blur",
        "seed": 7,
        "guidance": 5.0,
    }
    client.images.generate(model=KLEIN, prompt="a fox", size="512x256", quality="low")
    last = runs(upstream)[-1]
    assert str(last["content_type"]).startswith("multipart/form-data") and last["body_json"] is None


def test_n3_runs_as_three_concurrent_calls(client: openai.OpenAI, upstream: Emulator) -> None:
    # Each call waits `delay` in the emulator before answering. Made together, all three reach it at once;
    # made one after another, the third would arrive only after 2 * delay.
    delay = 3.0
    upstream.fault(model=SDXL, times=3, latency_ms=int(delay * 1000))
    with ThreadPoolExecutor(1) as pool:
        started = time.monotonic()
        pending = pool.submit(client.images.generate, model=SDXL, prompt="three cats", n=3, size="256x256")
        while len(runs(upstream)) < 3 and not pending.done():
            time.sleep(0.05)
        all_arrived = time.monotonic() - started
        answer = pending.result()
    assert all_arrived < delay, f"the third call arrived after {all_arrived:.1f}s: the calls did not overlap"
    assert answer.data and len(answer.data) == 3
    assert len({item.url for item in answer.data}) == 3  # three files, three names
    assert len(runs(upstream)) == 3


def test_hosted_file_headers_and_revalidation(client: openai.OpenAI) -> None:
    url = (client.images.generate(model=SDXL, prompt="a boat", size="256x256").data or [])[0].url
    assert url and url.startswith(client.base_url.scheme + "://" + str(client.base_url.host))
    first = fetch(url, {"Origin": "https://chat.example"})  # no Authorization header at all
    assert first.status == 200 and first.body.startswith(PNG)
    assert first.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert first.headers["access-control-allow-origin"] == "*"
    with urllib.request.urlopen(urllib.request.Request(url, headers={"Origin": "https://chat.example"})) as raw:
        assert raw.headers.get_all("access-control-allow-origin") == ["*"]  # a browser refuses "*, *"
    assert first.headers["content-length"] == str(len(first.body))
    etag = first.headers["etag"]
    again = fetch(url, {"If-None-Match": etag})
    assert again.status == 304 and again.body == b"" and again.headers["etag"] == etag
    assert fetch(url, {"If-None-Match": '"something-else"'}).status == 200
    head = call("HEAD", url)
    assert head.status == 200 and head.body == b"" and head.headers["content-length"] == str(len(first.body))


def test_hostile_file_ids_never_leave_the_store(client: openai.OpenAI, gateway_url: str) -> None:
    url = (client.images.generate(model=SDXL, prompt="a key", size="256x256").data or [])[0].url or ""
    real = url.rsplit("/", 1)[1]
    stem = real.split(".")[0]
    for path in (
        "/v1/files/images/../../server.log",  # the gateway's log sits two levels above the store
        "/v1/files/images/..%2F..%2Fserver.log",
        "/v1/files/images/%2E%2E/%2E%2E/server.log",
        "/v1/files/images/%2Fetc%2Fpasswd",
        "/v1/files/images//etc/passwd",
        "/v1/files/images/" + "A" * 5000 + ".png",
        f"/v1/files/images/{stem}.jpg",  # the right id with another extension
        f"/v1/files/images/{stem}.exe",
        f"/v1/files/images/{stem}",
        f"/v1/files/images/{real}%00.png",
        f"/v1/files/images/{real}/",
        f"/v1/files/images/{stem[:-1]}.png",
    ):
        status, body = raw_get(gateway_url, path)
        assert status == 404, (path, status)
        assert b"Uvicorn running" not in body and b"root:" not in body
    assert raw_get(gateway_url, f"/v1/files/images/{real}")[0] == 200


def test_generation_needs_a_key_but_the_file_does_not(gateway_url: str) -> None:
    body = {"model": SDXL, "prompt": "x", "size": "256x256"}
    assert call("POST", f"{gateway_url}/v1/images/generations", body).status == 401
    answer = call("POST", f"{gateway_url}/v1/images/generations", body, {"Authorization": f"Bearer {TEST_KEY}"})
    assert answer.status == 200 and fetch(answer.json()["data"][0]["url"]).status == 200


BAD_GENERATIONS = [
    ({"prompt": ""}, "prompt"),
    ({"n": 0}, "n"),
    ({"n": 11}, "n"),
    ({"response_format": "png"}, "response_format"),
    ({"size": "big"}, "size"),
    ({"size": "4096x4096"}, "size"),
    ({"size": "100x100"}, "size"),
    ({"model": FLUX, "size": "512x512"}, "size"),  # flux-1-schnell makes 1024x1024 only
    ({"steps": 21}, "steps"),  # the SD family's num_steps <= 20
    ({"model": FLUX, "steps": 9}, "steps"),  # flux-1-schnell steps <= 8
    ({"model": FLUX, "seed": 1}, "seed"),
    ({"model": PHOENIX, "guidance": 1.0}, "guidance"),  # phoenix 2..10
    ({"model": LUCID, "negative_prompt": "x"}, "negative_prompt"),
    ({"quality": "ultra"}, "quality"),
    ({"model": FLUX, "prompt": "x" * 2049}, "prompt"),
    ({"model": "@cf/meta/llama-3.1-8b-instruct-fast"}, "model"),
]


@pytest.mark.parametrize(("change", "param"), BAD_GENERATIONS)
def test_bad_input_is_a_400_before_any_upstream_call(
    gateway_url: str, upstream: Emulator, change: dict[str, object], param: str
) -> None:
    body = {"model": SDXL, "prompt": "a cat", **change}
    answer = call("POST", f"{gateway_url}/v1/images/generations", body, {"Authorization": f"Bearer {TEST_KEY}"})
    assert answer.status == 400, answer.body
    assert answer.error["param"] == param and answer.error["type"] == "invalid_request_error"
    assert runs(upstream) == []


def test_upstream_errors_come_back_in_openai_shape(client: openai.OpenAI, upstream: Emulator) -> None:
    upstream.fault(model=SDXL, code=3040)
    with pytest.raises(openai.RateLimitError):
        client.images.generate(model=SDXL, prompt="x", size="256x256")
