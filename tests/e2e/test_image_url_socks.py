"""Image URLs fetched through a SOCKS5 proxy: with socks5h the proxy is handed the name (checked here
first); with socks5 the name is resolved here, through the address guard, and the proxy is handed the
checked address itself."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from pathlib import Path

import openai
import pytest
import trustme

from tests.e2e import image_urls as shared
from tests.e2e.image_urls import ask, data_uri, image_gateway, runs, sent_images
from tests.imageserver import PNG, ImageServer
from tests.servers import Emulator, free_port
from tests.socksserver import SocksServer, socks_serving

ca, tls_images = shared.ca, shared.tls_images  # the shared fixtures


@pytest.fixture(scope="module")
def socks() -> Iterator[SocksServer]:
    with socks_serving() as proxy:
        yield proxy


@pytest.mark.parametrize("scheme", ["socks5h", "socks5"])
def test_https_goes_through_the_socks_proxy(
    upstream: Emulator,
    ca: tuple[trustme.CA, Path],
    tls_images: ImageServer,
    socks: SocksServer,
    scheme: str,
) -> None:
    socks.asked.clear()
    settings = {"IMAGE_URL_ALLOW_PRIVATE": "true", "SSL_CERT_FILE": str(ca[1])}
    with image_gateway(upstream, UPSTREAM_PROXY=f"{scheme}://{socks.url}", **settings) as client:
        assert ask(client, tls_images.url("/cat.png", host="localhost"))
    assert sent_images(upstream) == [data_uri("image/png", PNG)]
    # UPSTREAM_PROXY carries the Workers AI call too (to the emulator's port); the image fetch is the other.
    [asked] = [a for a in socks.asked if a.rpartition(":")[2] == str(tls_images.port)]
    host = asked.rpartition(":")[0]
    if scheme == "socks5h":
        assert host == "localhost"  # the proxy resolves
    else:
        assert ipaddress.ip_address(host).is_loopback  # the address the gateway checked, pinned


def test_a_name_resolving_to_loopback_is_refused_before_the_socks_proxy_sees_it(
    upstream: Emulator, socks: SocksServer
) -> None:
    with image_gateway(upstream, UPSTREAM_PROXY=f"socks5h://{socks.url}") as client:
        socks.asked.clear()  # after the start-up credential check, which reaches Workers AI through it
        with pytest.raises(openai.BadRequestError) as raised:
            ask(client, f"https://localhost:{free_port()}/cat.png")
    assert raised.value.param == "messages[0].content[1].image_url.url"
    assert "loopback" in raised.value.message
    assert socks.asked == []
    assert runs(upstream) == 0
