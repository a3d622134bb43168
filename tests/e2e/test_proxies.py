"""The gateway reaching Workers AI through real proxies on loopback: tinyproxy (HTTP CONNECT, with and
without basic auth) and microsocks (SOCKS5, local and remote DNS), with a TLS server standing in for
Cloudflare whose certificate the gateway trusts only through SSL_CERT_FILE. TLS runs end to end over the
tunnel: with the wrong CA the handshake fails, proxy or not."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import openai
import pytest
import trustme

from tests.conftest import TEST_KEY
from tests.http import call
from tests.proxy_servers import TlsFront, microsocks, tinyproxy
from tests.servers import Emulator, free_port, gateway, managed_env

MODEL = "@cf/meta/llama-3.1-8b-instruct-fast"
SECRET = "pr0xy-s3cret"
AUTH = ("gw", SECRET)


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[trustme.CA, Path]]:
    authority = trustme.CA()
    pem = tmp_path_factory.mktemp("ca") / "ca.pem"
    authority.cert_pem.write_to_path(str(pem))
    yield authority, pem


@pytest.fixture(scope="module")
def front(ca: tuple[trustme.CA, Path], upstream: Emulator) -> Iterator[TlsFront]:
    port = int(upstream.url.rsplit(":", 1)[1])
    served = TlsFront(ca[0], port)
    yield served
    served.close()


def env_for(front: TlsFront, ca_file: Path, **proxy: str) -> dict[str, str]:
    proxies = {name.upper(): value for name, value in proxy.items()}
    return managed_env(
        front.api_base, SSL_CERT_FILE=str(ca_file), LOG_LEVEL="info", UPSTREAM_CONNECT_TIMEOUT="10", **proxies
    )


def completes(url: str, upstream: Emulator) -> None:
    """A chat completion through the gateway (the official client), and the emulator saw it."""
    with openai.OpenAI(base_url=f"{url}/v1", api_key=TEST_KEY, max_retries=0) as client:
        answer = client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "hello proxy"}])
    assert answer.choices[0].message.content
    assert "hello proxy" in str(upstream.last_run())


def refused(url: str) -> dict[str, str]:
    """The 502 a client gets when the path to Workers AI fails."""
    answer = call(
        "POST",
        f"{url}/v1/chat/completions",
        {"model": MODEL, "messages": [{"role": "user", "content": "hi"}]},
        {"Authorization": f"Bearer {TEST_KEY}", "Content-Type": "application/json"},
    )
    assert answer.status == 502, answer.body
    return answer.error


def test_https_through_a_connect_tunnel_from_the_standard_variable(
    front: TlsFront, ca: tuple[trustme.CA, Path], upstream: Emulator
) -> None:
    before = front.handshakes  # before the start: the start-up credential check opens the tunnel first
    with (
        tinyproxy() as proxy,
        gateway(env_for(front, ca[1], https_proxy=f"http://127.0.0.1:{proxy.port}")) as served,
    ):
        completes(served[0], upstream)
        assert front.handshakes > before
        assert f"CONNECT localhost:{front.port}" in proxy.log.read_text()


def test_connect_with_basic_auth_and_credentials_never_shown(
    front: TlsFront, ca: tuple[trustme.CA, Path], upstream: Emulator
) -> None:
    with tinyproxy(auth=AUTH) as proxy:
        good = f"http://{AUTH[0]}:{SECRET}@127.0.0.1:{proxy.port}"
        with gateway(env_for(front, ca[1], upstream_proxy=good)) as (url, log):
            completes(url, upstream)
            assert SECRET not in log.read_text()
            assert f"http://***@127.0.0.1:{proxy.port}" in log.read_text()  # the startup line names it, masked
        wrong = f"http://{AUTH[0]}:not-{SECRET}@127.0.0.1:{proxy.port}"
        with gateway(env_for(front, ca[1], upstream_proxy=wrong)) as (url, log):
            error = refused(url)
            assert error["code"] == "upstream_proxy_error"
            assert f"http://***@127.0.0.1:{proxy.port}" in error["message"]
            assert "refused its credentials" in error["message"]
            assert SECRET not in error["message"] and SECRET not in log.read_text()


def test_tls_is_verified_end_to_end_through_the_tunnel(front: TlsFront, tmp_path: Path) -> None:
    other = tmp_path / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(other))  # a CA that did not sign the stand-in's certificate
    with (
        tinyproxy() as proxy,
        gateway(env_for(front, other, https_proxy=f"http://127.0.0.1:{proxy.port}")) as served,
    ):
        error = refused(served[0])
        assert error["code"] == "upstream_unreachable"
        assert "TLS failed (SSLCertVerificationError)" in error["message"]
        assert f"CONNECT localhost:{front.port}" in proxy.log.read_text()  # the tunnel was up; TLS refused


@pytest.mark.parametrize("scheme", ["socks5", "socks5h"])
def test_socks5_with_credentials(scheme: str, front: TlsFront, ca: tuple[trustme.CA, Path], upstream: Emulator) -> None:
    with microsocks(auth=AUTH) as port:
        proxy = f"{scheme}://{AUTH[0]}:{SECRET}@127.0.0.1:{port}"
        with gateway(env_for(front, ca[1], upstream_proxy=proxy)) as (url, log):
            completes(url, upstream)
            assert SECRET not in log.read_text()
        wrong = proxy.replace(SECRET, "wrong")
        with gateway(env_for(front, ca[1], upstream_proxy=wrong)) as (url, log):
            error = refused(url)
            assert error["code"] == "upstream_proxy_error"
            assert f"{scheme}://***@127.0.0.1:{port} refused the tunnel" in error["message"]
            assert "authentication failure" in error["message"]


def test_a_proxy_that_is_not_there_is_a_502_naming_it(front: TlsFront, ca: tuple[trustme.CA, Path]) -> None:
    port = free_port()  # nothing listens
    proxy = f"socks5h://{AUTH[0]}:{SECRET}@127.0.0.1:{port}"
    with gateway(env_for(front, ca[1], upstream_proxy=proxy)) as (url, log):
        error = refused(url)
        assert error["code"] == "upstream_proxy_error"
        assert error["message"] == (
            f"Could not reach Workers AI: the proxy socks5h://***@127.0.0.1:{port} could not be reached."
        )
        assert SECRET not in log.read_text()


def test_no_proxy_sends_the_upstream_direct(front: TlsFront, ca: tuple[trustme.CA, Path], upstream: Emulator) -> None:
    dead = f"http://127.0.0.1:{free_port()}"  # would fail if it were used
    with gateway(env_for(front, ca[1], https_proxy=dead, no_proxy="example.org,localhost")) as (url, _):
        completes(url, upstream)


def test_a_plain_http_upstream_takes_the_connect_tunnel_of_http_proxy(upstream: Emulator) -> None:
    with tinyproxy() as proxy:
        env = managed_env(
            upstream.api_base,  # http://127.0.0.1:<emulator>
            HTTP_PROXY=f"http://127.0.0.1:{proxy.port}",
            HTTPS_PROXY="http://127.0.0.1:9",  # not for http URLs: would fail if it were used
        )
        with gateway(env) as (url, _):
            completes(url, upstream)
        emulator_port = upstream.url.rsplit(":", 1)[1]
        assert f"CONNECT 127.0.0.1:{emulator_port}" in proxy.log.read_text()
