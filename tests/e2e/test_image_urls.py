"""Image URLs fetched for vision models, from loopback image servers (IMAGE_URL_ALLOW_PRIVATE=true):
what Workers AI receives is the data URI of exactly the served bytes; each bound is a 400 naming the part."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import openai
import pytest
import trustme

from tests.e2e import image_urls as shared
from tests.e2e.image_urls import ask, data_uri, image_gateway, runs, sent_images
from tests.imageserver import GIF, JPEG, PNG, WEBP, ImageServer
from tests.servers import Emulator

MAX_BYTES = 1_000_000

ca, images, tls_images = shared.ca, shared.images, shared.tls_images  # the shared fixtures


@pytest.fixture(scope="module")
def fetching(
    upstream: Emulator, ca: tuple[trustme.CA, Path], images: ImageServer, tls_images: ImageServer
) -> Iterator[openai.OpenAI]:
    """A gateway that may fetch from loopback, over http too, trusting the test CA (OpenSSL's own
    variable). It stops before the image servers, so they have no connection left open."""
    with image_gateway(
        upstream,
        IMAGE_URL_ALLOW_PRIVATE="true",
        IMAGE_URL_ALLOW_HTTP="true",
        IMAGE_URL_MAX_BYTES=str(MAX_BYTES),
        IMAGE_URL_TIMEOUT="4",
        IMAGE_URL_MAX_REDIRECTS="3",
        SSL_CERT_FILE=str(ca[1]),
    ) as client:
        yield client


def refused(client: openai.OpenAI, url: str) -> str:
    with pytest.raises(openai.BadRequestError) as raised:
        ask(client, url)
    assert raised.value.param == "messages[0].content[1].image_url.url"
    assert raised.value.code == "invalid_image_url"
    return raised.value.message


@pytest.mark.parametrize(
    ("path", "media_type", "data"),
    [
        ("/cat.png", "image/png", PNG),
        ("/cat.jpg", "image/jpeg", JPEG),
        ("/cat.webp", "image/webp", WEBP),  # labelled application/octet-stream
        ("/cat.gif-labelled-png", "image/gif", GIF),  # the bytes decide, not the label
    ],
)
def test_an_image_url_reaches_workers_ai_as_the_data_uri_of_its_bytes(
    fetching: openai.OpenAI, upstream: Emulator, images: ImageServer, path: str, media_type: str, data: bytes
) -> None:
    assert ask(fetching, images.url(path))
    assert sent_images(upstream) == [data_uri(media_type, data)]
    assert images.headers[-1].get("Cookie") is None
    assert "Authorization" not in images.headers[-1]


def test_https_is_fetched_with_the_certificate_verified(
    fetching: openai.OpenAI, upstream: Emulator, tls_images: ImageServer
) -> None:
    assert ask(fetching, tls_images.url("/cat.png", host="localhost"))
    assert sent_images(upstream) == [data_uri("image/png", PNG)]


def test_https_with_an_untrusted_certificate_is_refused(upstream: Emulator, tls_images: ImageServer) -> None:
    with image_gateway(upstream, IMAGE_URL_ALLOW_PRIVATE="true") as client:  # no test CA
        assert "TLS certificate could not be verified" in refused(client, tls_images.url("/cat.png", host="localhost"))
        assert "only https://" in refused(client, tls_images.url("/cat.png").replace("https:", "http:"))
    assert runs(upstream) == 0


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/notes.txt-labelled-png", "not a PNG, JPEG, GIF or WebP image"),
        ("/page.html", "text/html, not an image"),
        ("/missing.png", "HTTP 404"),
        ("/huge-declared.png", f"larger than the {MAX_BYTES}-byte limit"),
    ],
)
def test_what_is_not_an_image_is_refused(
    fetching: openai.OpenAI, upstream: Emulator, images: ImageServer, path: str, reason: str
) -> None:
    assert reason in refused(fetching, images.url(path))
    assert runs(upstream) == 0


def test_a_huge_image_is_cut_off_at_the_cap(fetching: openai.OpenAI, upstream: Emulator, images: ImageServer) -> None:
    images.huge = 0
    assert f"larger than the {MAX_BYTES}-byte limit" in refused(fetching, images.url("/huge.png"))
    assert images.huge < 25 * 1024 * 1024  # the gateway stopped reading; the server could not send it all
    assert runs(upstream) == 0


def test_a_trickling_image_is_given_up_after_the_time_limit(
    fetching: openai.OpenAI, upstream: Emulator, images: ImageServer
) -> None:
    assert "took longer than 4 s" in refused(fetching, images.url("/trickle.png"))
    assert runs(upstream) == 0


def test_redirects_are_followed_up_to_the_bound(
    fetching: openai.OpenAI, upstream: Emulator, images: ImageServer
) -> None:
    assert ask(fetching, images.url("/hop/3"))
    assert sent_images(upstream) == [data_uri("image/png", PNG)]
    assert "redirects more than 3 times" in refused(fetching, images.url("/hop/4"))
    assert "redirects more than 3 times" in refused(fetching, images.url("/loop"))


@pytest.mark.parametrize(
    ("target", "reason"),
    [
        ("http://169.254.169.254/latest/meta-data/", "metadata"),
        ("http://[::ffff:169.254.169.254]/latest/meta-data/", "metadata"),
        ("http://0.0.0.0:{port}/cat.png", "unspecified"),  # on Linux this would reach the loopback server
        ("file:///etc/passwd", "only https:// or http://"),
    ],
)
def test_every_redirect_is_checked_again(
    fetching: openai.OpenAI, upstream: Emulator, images: ImageServer, target: str, reason: str
) -> None:
    before = images.paths.count("/cat.png")
    url = images.url("/to") + "?url=" + target.format(port=images.port)
    assert reason in refused(fetching, url)
    assert images.paths.count("/cat.png") == before
    assert runs(upstream) == 0


def test_several_images_are_fetched_side_by_side_within_a_bound(
    fetching: openai.OpenAI, upstream: Emulator, images: ImageServer
) -> None:
    images.most_in_flight = 0
    urls = [images.url(f"/slow.png?delay=1&n={n}") for n in range(8)]
    assert ask(fetching, *urls)
    assert sent_images(upstream) == [data_uri("image/png", PNG)] * 8
    assert 2 <= images.most_in_flight <= 4


def test_one_bad_image_among_several_names_its_part(
    fetching: openai.OpenAI, upstream: Emulator, images: ImageServer
) -> None:
    with pytest.raises(openai.BadRequestError) as raised:
        ask(fetching, images.url("/cat.png"), images.url("/page.html"), images.url("/cat.jpg"))
    assert raised.value.param == "messages[0].content[2].image_url.url"
    assert runs(upstream) == 0
