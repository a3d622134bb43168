"""The image store as users meet it: a size cap and a retention period (oldest removed first), files that
survive a restart, the upload limit, and the URL the gateway hands out (PUBLIC_BASE_URL, proxy headers)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import openai
import pytest

from app.emulator.pictures import solid_png
from tests.conftest import TEST_KEY
from tests.e2e.images import fetch, runs
from tests.servers import Emulator, gateway, managed_env

LIGHTNING = "@cf/bytedance/stable-diffusion-xl-lightning"  # 1024x1024 JPEG, ~6.3 kB


@contextmanager
def image_gateway(upstream: Emulator, data_dir: Path, **settings: str) -> Iterator[tuple[str, openai.OpenAI]]:
    env = managed_env(upstream.api_base, DATA_DIR=str(data_dir), **settings)
    with gateway(env) as (url, _), openai.OpenAI(base_url=f"{url}/v1", api_key=TEST_KEY, max_retries=0) as client:
        yield url, client


def _url(client: openai.OpenAI, prompt: str, **extra: object) -> str:
    answer = client.images.generate(model=LIGHTNING, prompt=prompt, **extra)  # type: ignore[arg-type]
    assert answer.data and answer.data[0].url
    return answer.data[0].url


def _stored(data_dir: Path) -> list[str]:
    return sorted(path.name for path in (data_dir / "images").iterdir())


def test_the_size_cap_removes_the_oldest_first_and_files_survive_a_restart(upstream: Emulator, tmp_path: Path) -> None:
    with image_gateway(upstream, tmp_path, IMAGE_STORE_MAX_BYTES="15000") as (_, client):
        urls = [_url(client, f"picture {i}") for i in range(3)]
        sizes = [len(fetch(url).body) for url in urls[1:]]
        assert 2 * max(sizes) <= 15000 < 3 * min(sizes)  # two fit under the cap, three do not
        assert fetch(urls[0]).status == 404  # the oldest went
        assert [fetch(url).status for url in urls[1:]] == [200, 200]
        assert _stored(tmp_path) == sorted(url.rsplit("/", 1)[1] for url in urls[1:])  # no temporary files left
        kept = fetch(urls[2]).body
    with image_gateway(upstream, tmp_path, IMAGE_STORE_MAX_BYTES="15000") as (url, _):
        again = fetch(url + "/v1/files/images/" + urls[2].rsplit("/", 1)[1])
        assert again.status == 200 and again.body == kept


def test_files_expire_after_the_retention_period(upstream: Emulator, tmp_path: Path) -> None:
    with image_gateway(upstream, tmp_path, IMAGE_RETENTION_SECONDS="2") as (_, client):
        old = _url(client, "short-lived")
        assert fetch(old).status == 200
        time.sleep(3)
        assert fetch(old).status == 404  # expired, even before anything removed it
        new = _url(client, "fresh")
        assert _stored(tmp_path) == [new.rsplit("/", 1)[1]]  # the next write removed the expired file


def test_public_base_url_and_proxy_headers(upstream: Emulator, tmp_path: Path, client: openai.OpenAI) -> None:
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "images.example.org"}
    ignored = _url(client, "x", extra_headers=forwarded)  # the shared gateway does not trust them
    assert ignored.startswith("http://127.0.0.1:")
    with image_gateway(upstream, tmp_path, TRUST_PROXY_HEADERS="true") as (url, trusting):
        assert _url(trusting, "x", extra_headers=forwarded).startswith("https://images.example.org/v1/files/images/")
        assert _url(trusting, "x").startswith(url + "/v1/files/images/")
        bent = {"X-Forwarded-Host": "evil.example/x?", "X-Forwarded-Proto": "javascript"}
        assert _url(trusting, "x", extra_headers=bent).startswith(url + "/v1/files/images/")  # refused, not pasted
    with image_gateway(upstream, tmp_path, PUBLIC_BASE_URL="https://ai.example.com/gw/") as (_, public):
        assert _url(public, "x", extra_headers=forwarded).startswith("https://ai.example.com/gw/v1/files/images/")


@pytest.mark.parametrize("extra", [50_000, 1_000_000])
def test_an_upload_over_the_limit_is_a_413_naming_the_field(upstream: Emulator, tmp_path: Path, extra: int) -> None:
    image = solid_png(64, 64, (1, 2, 3)) + b"\0" * extra
    with image_gateway(upstream, tmp_path, IMAGE_UPLOAD_MAX_BYTES="40000") as (_, client):
        with pytest.raises(openai.APIStatusError) as raised:
            client.images.edit(image=("big.png", image, "image/png"), prompt="x")
        assert raised.value.status_code == 413
        assert isinstance(raised.value.body, dict) and raised.value.body["param"] == "image"
        assert runs(upstream) == []
