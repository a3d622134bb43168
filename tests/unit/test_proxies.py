from __future__ import annotations

import pytest
from pydantic import ValidationError

from app.config import Settings
from app.proxies import Proxy, parse_proxy, proxy_for

CF = "https://api.cloudflare.com/client/v4"


def test_https_urls_take_https_proxy_and_http_urls_http_proxy() -> None:
    assert proxy_for(CF, https_proxy="http://p:3128", http_proxy="http://q:3129") == Proxy("http", "p", 3128)
    assert proxy_for("http://example.com/x", https_proxy="http://p:3128", http_proxy="http://q:3129") == Proxy(
        "http", "q", 3129
    )
    assert proxy_for(CF, http_proxy="http://q:3129") is None


@pytest.mark.parametrize(
    "no_proxy", [".cloudflare.com", "cloudflare.com", "api.cloudflare.com", "*", "x, cloudflare.com"]
)
def test_no_proxy_names_hosts_reached_directly(no_proxy: str) -> None:
    assert proxy_for(CF, https_proxy="http://p:3128", no_proxy=no_proxy) is None


def test_no_proxy_does_not_match_other_hosts() -> None:
    assert proxy_for(CF, https_proxy="http://p:3128", no_proxy="example.com,localhost") is not None


def test_explicit_proxy_wins_and_direct_turns_all_off() -> None:
    assert proxy_for(CF, explicit="socks5h://s:1080", https_proxy="http://p:3128", no_proxy="*") == Proxy(
        "socks5h", "s", 1080
    )
    assert proxy_for(CF, explicit="direct", https_proxy="http://p:3128") is None


def test_credentials_are_parsed_and_never_shown() -> None:
    proxy = parse_proxy("http://us%40er:p%3Ass@proxy.local:8080")
    assert (proxy.username, proxy.password, proxy.port) == ("us@er", "p:ss", 8080)
    assert "p:ss" not in repr(proxy) and "us@er" not in proxy.safe_url
    assert proxy.safe_url == "http://***@proxy.local:8080"


def test_default_ports_and_bare_host() -> None:
    assert parse_proxy("proxy.local").port == 80
    assert parse_proxy("socks5://proxy.local").port == 1080


@pytest.mark.parametrize("bad", ["ftp://proxy:21", "http://", "http://proxy:notaport"])
def test_bad_proxy_urls_are_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        parse_proxy(bad)


def test_settings_check_proxies_without_echoing_secrets() -> None:
    with pytest.raises(ValidationError) as info:
        Settings(_env_file=None, upstream_proxy="ftp://user:secret@proxy:21")  # type: ignore[call-arg]
    assert "secret" not in str(info.value) and "upstream_proxy" in str(info.value)
    settings = Settings(_env_file=None, https_proxy="http://p:3128", no_proxy="localhost")  # type: ignore[call-arg]
    assert settings.proxy_for(CF) == Proxy("http", "p", 3128)
    assert settings.proxy_for("https://localhost/x") is None
