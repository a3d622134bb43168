"""Which outbound proxy, if any, a URL the gateway fetches goes through. Pure: settings in, a URL out.

One rule for every outbound call (Workers AI, image URLs): `UPSTREAM_PROXY` when set wins over the
standard variables (`direct` turns every proxy off, environment ones included); otherwise `HTTPS_PROXY` for
https URLs and `HTTP_PROXY` for http ones, unless `NO_PROXY` names the host (suffixes, `*`, host:port, as
curl and Python's urllib read it).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import SplitResult, unquote, urlsplit
from urllib.request import proxy_bypass_environment  # type: ignore[attr-defined]  # public, untyped in typeshed

SCHEMES = ("http", "https", "socks5", "socks5h")
DIRECT = "direct"


@dataclass(frozen=True, slots=True)
class Proxy:
    """A proxy as a connection needs it; `url` keeps the credentials, `__repr__`/`safe_url` never show them."""

    scheme: str  # one of SCHEMES
    host: str
    port: int
    username: str | None = None
    password: str | None = None

    @property
    def safe_url(self) -> str:
        """The proxy's URL with any credentials masked: the only form fit for a log line or a message."""
        auth = "***@" if self.username is not None else ""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{auth}{host}:{self.port}"

    def __repr__(self) -> str:
        return f"Proxy({self.safe_url})"


def parse_proxy(url: str) -> Proxy:
    """`scheme://[user:password@]host[:port]` -> Proxy; ValueError (naming no credentials) otherwise."""
    parts: SplitResult = urlsplit(url.strip() if "://" in url else f"http://{url.strip()}")
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise ValueError(f"a proxy URL must start with one of {', '.join(s + '://' for s in SCHEMES)}")
    try:
        port = parts.port
    except ValueError as exc:
        raise ValueError("the proxy URL has an invalid port") from exc
    if not parts.hostname:
        raise ValueError("the proxy URL has no host")
    default = {"http": 80, "https": 443}.get(scheme, 1080)
    username = unquote(parts.username) if parts.username is not None else None
    password = unquote(parts.password) if parts.password is not None else None
    return Proxy(scheme, parts.hostname, port or default, username, password)


def proxy_for(
    url: str, *, explicit: str = "", https_proxy: str = "", http_proxy: str = "", no_proxy: str = ""
) -> Proxy | None:
    """The proxy for `url`, or None to connect directly."""
    if explicit.strip():
        return None if explicit.strip().lower() == DIRECT else parse_proxy(explicit)
    parts = urlsplit(url)
    chosen = https_proxy if parts.scheme == "https" else http_proxy if parts.scheme == "http" else ""
    if not chosen.strip():
        return None
    if no_proxy.strip() and parts.hostname:
        host = parts.hostname if parts.port is None else f"{parts.hostname}:{parts.port}"
        if proxy_bypass_environment(host, {"no": no_proxy}):
            return None
    return parse_proxy(chosen)
