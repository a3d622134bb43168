"""Image URLs fetched through a real HTTP proxy (Debian's tinyproxy on loopback): https through a CONNECT
tunnel with the certificate verified end to end, http forwarded; the address checks still run here,
before the proxy is handed the name."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import openai
import pytest
import trustme

from tests.conftest import TEST_KEY
from tests.e2e import image_urls as shared
from tests.e2e.image_urls import ask, data_uri, image_gateway, runs, sent_images
from tests.imageserver import JPEG, PNG, ImageServer
from tests.proxy_servers import Tinyproxy, tinyproxy
from tests.servers import Emulator, free_port, gateway, managed_env

pytestmark = pytest.mark.needs_tool("tinyproxy")

ca, images, tls_images = shared.ca, shared.images, shared.tls_images  # the shared fixtures


@pytest.fixture(scope="module")
def proxy() -> Iterator[Tinyproxy]:
    with tinyproxy(via=True, log_level="Info") as server:  # Info: every request is in the log, not only CONNECTs
        yield server


@pytest.fixture(scope="module")
def proxied(
    upstream: Emulator, proxy: Tinyproxy, ca: tuple[trustme.CA, Path], images: ImageServer, tls_images: ImageServer
) -> Iterator[openai.OpenAI]:
    """A gateway fetching through tinyproxy (stopped before the image servers and the proxy)."""
    with image_gateway(
        upstream,
        HTTPS_PROXY=proxy.url,
        HTTP_PROXY=proxy.url,
        IMAGE_URL_ALLOW_PRIVATE="true",
        IMAGE_URL_ALLOW_HTTP="true",
        SSL_CERT_FILE=str(ca[1]),
    ) as client:
        yield client


def test_https_goes_through_a_connect_tunnel(
    proxied: openai.OpenAI, upstream: Emulator, proxy: Tinyproxy, tls_images: ImageServer
) -> None:
    assert ask(proxied, tls_images.url("/cat.png", host="localhost"))
    assert sent_images(upstream) == [data_uri("image/png", PNG)]
    assert any(f"CONNECT localhost:{tls_images.port}" in line for line in proxy.lines())


def test_http_is_forwarded_by_the_proxy(
    proxied: openai.OpenAI, upstream: Emulator, proxy: Tinyproxy, images: ImageServer
) -> None:
    assert ask(proxied, images.url("/cat.jpg"))
    assert sent_images(upstream) == [data_uri("image/jpeg", JPEG)]
    assert "tinyproxy" in images.headers[-1].get("Via", "")


def test_a_redirect_to_metadata_is_refused_before_the_proxy_sees_it(
    proxied: openai.OpenAI, upstream: Emulator, proxy: Tinyproxy, images: ImageServer
) -> None:
    with pytest.raises(openai.BadRequestError) as raised:
        ask(proxied, images.url("/to?url=http://169.254.169.254/latest/meta-data/"))
    assert raised.value.param == "messages[0].content[1].image_url.url"
    assert "metadata" in raised.value.message
    assert not any(" http://169.254.169.254" in line or "CONNECT 169.254" in line for line in proxy.lines())
    assert runs(upstream) == 0


def test_a_name_resolving_to_loopback_is_refused_before_the_proxy_sees_it(upstream: Emulator, proxy: Tinyproxy) -> None:
    port = free_port()
    with image_gateway(upstream, HTTPS_PROXY=proxy.url) as client:  # default policy: no private addresses
        with pytest.raises(openai.BadRequestError) as raised:
            ask(client, f"https://localhost:{port}/cat.png")
    assert "loopback" in raised.value.message
    assert not any(f":{port}" in line for line in proxy.lines())
    assert runs(upstream) == 0


def test_proxy_credentials_are_sent_and_never_shown(
    upstream: Emulator, ca: tuple[trustme.CA, Path], tls_images: ImageServer
) -> None:
    password = "s3cret-proxy-pw"
    with tinyproxy(("imgfetch", password), via=True, log_level="Info") as locked:
        env = managed_env(
            upstream.api_base, IMAGE_URL_ALLOW_PRIVATE="true", SSL_CERT_FILE=str(ca[1]), LOG_LEVEL="debug"
        )
        url = tls_images.url("/cat.png", host="localhost")
        for credentials, works in ((f"imgfetch:{password}", True), ("imgfetch:wrong-pw", False)):
            env["HTTPS_PROXY"] = f"http://{credentials}@127.0.0.1:{locked.port}"
            with gateway(env) as (base, log), openai.OpenAI(base_url=f"{base}/v1", api_key=TEST_KEY) as client:
                if works:
                    assert ask(client, url)
                    assert sent_images(upstream) == [data_uri("image/png", PNG)]
                else:
                    with pytest.raises(openai.BadRequestError) as raised:
                        ask(client, url)
                    assert "proxy refused" in raised.value.message
                    assert "wrong-pw" not in raised.value.message
            assert password not in log.read_text() and "wrong-pw" not in log.read_text()
