"""Image URLs the gateway refuses with its default settings: a 400 naming the part, and nothing fetched
and nothing sent to Workers AI."""

from __future__ import annotations

import openai
import pytest

from tests.e2e import image_urls as shared
from tests.e2e.image_urls import VISION, ask, image_gateway, runs
from tests.imageserver import ImageServer
from tests.servers import Emulator

images = shared.images  # the shared fixture


def refused(client: openai.OpenAI, url: str, *, index: int = 1) -> openai.BadRequestError:
    with pytest.raises(openai.BadRequestError) as raised:
        ask(client, "data:image/png;base64,iVBORw0KGgo=", url) if index == 2 else ask(client, url)
    error = raised.value
    assert error.status_code == 400
    assert error.param == f"messages[0].content[{index}].image_url.url"
    assert error.code == "invalid_image_url"
    assert error.type == "invalid_request_error"
    return error


@pytest.mark.parametrize(
    ("host", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("localhost", "loopback"),
        ("[::1]", "loopback"),
        ("[::ffff:127.0.0.1]", "loopback"),
        ("127.0.0.2", "loopback"),
    ],
)
def test_loopback_urls_are_refused_before_connecting(
    client: openai.OpenAI, upstream: Emulator, images: ImageServer, host: str, reason: str
) -> None:
    before = len(images.paths)
    error = refused(client, f"https://{host}:{images.port}/cat.png")
    assert reason in error.message
    assert len(images.paths) == before  # never connected
    assert runs(upstream) == 0


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("https://10.1.2.3/cat.png", "private"),
        ("https://192.168.1.10/cat.png", "private"),
        ("https://100.64.0.1/cat.png", "CGNAT"),
        ("https://169.254.169.254/latest/meta-data/", "metadata"),
        ("https://[fd00:ec2::254]/latest/meta-data/", "metadata"),
        ("https://[fe80::1]/cat.png", "link-local"),
        ("https://0.0.0.0/cat.png", "unspecified"),
        ("https://224.0.0.1/cat.png", "multicast"),
        ("https://[::ffff:10.0.0.1]/cat.png", "private"),
    ],
)
def test_private_and_metadata_urls_are_refused(
    client: openai.OpenAI, upstream: Emulator, url: str, reason: str
) -> None:
    assert reason in refused(client, url, index=2).message
    assert runs(upstream) == 0


@pytest.mark.parametrize("host", ["2130706433", "127.1", "0x7f.0.0.1", "0177.0.0.1"])
def test_legacy_numeric_forms_of_loopback_are_refused(
    client: openai.OpenAI, upstream: Emulator, images: ImageServer, host: str
) -> None:
    before = len(images.paths)
    message = refused(client, f"https://{host}:{images.port}/cat.png").message
    assert "the URL is not valid" in message or "loopback" in message  # aiohttp refuses most; 0x7f resolves
    assert len(images.paths) == before
    assert runs(upstream) == 0


@pytest.mark.parametrize("url", ["http://images.example/cat.png", "ftp://images.example/cat.png", "file:///etc/passwd"])
def test_only_https_is_fetched_by_default(client: openai.OpenAI, upstream: Emulator, url: str) -> None:
    assert "only https:// image URLs are fetched" in refused(client, url).message
    assert runs(upstream) == 0


def test_a_data_uri_that_is_not_an_image_is_still_refused(client: openai.OpenAI, upstream: Emulator) -> None:
    error = refused(client, "data:text/plain;base64,aGVsbG8=")
    assert "data URI" in error.message
    assert runs(upstream) == 0


def test_text_models_refuse_image_parts_as_before(client: openai.OpenAI, upstream: Emulator) -> None:
    with pytest.raises(openai.BadRequestError) as raised:
        ask(client, "https://images.example/cat.png", model="@cf/meta/llama-3.1-8b-instruct-fast")
    assert raised.value.code == "image_not_supported"
    assert raised.value.param == "messages[0].content"
    assert runs(upstream) == 0


def test_with_fetching_off_a_url_is_refused_naming_the_part(upstream: Emulator, images: ImageServer) -> None:
    with image_gateway(upstream, IMAGE_URL_FETCH="false", IMAGE_URL_ALLOW_PRIVATE="true") as client:
        error = refused(client, images.url("/cat.png"), index=2)
        assert "does not fetch image URLs" in error.message
        assert ask(client, "data:image/png;base64,iVBORw0KGgo=")  # data URIs still work
    assert "/cat.png" not in images.paths
    assert runs(upstream) == 1
    assert VISION in upstream.requests()[-1]["path"]
