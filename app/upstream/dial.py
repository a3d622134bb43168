"""Opening a connection to the upstream: directly, or through the outbound proxy the settings chose.

Through a proxy the pool still speaks to Workers AI itself: python-socks opens the tunnel (an HTTP
`CONNECT`, with `Proxy-Authorization: Basic` from the URL's credentials, or SOCKS5, `socks5h` resolving
the host name at the proxy) and hands back the socket; TLS to the upstream then starts over it, checked
against the upstream's own host name, so the proxy sees only ciphertext. Plain-http upstreams take the
same CONNECT tunnel (one code path; no absolute-form requests). Every proxy failure is a `ProxyFailed`
whose message names the proxy by `safe_url`, never its credentials.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import Callable

from python_socks import ProxyConnectionError, ProxyError, ProxyTimeoutError, ProxyType
from python_socks.async_.asyncio import Proxy as SocksProxy

from app.proxies import Proxy
from app.upstream.connection import Connection, ProxyFailed

_TYPES = {"http": ProxyType.HTTP, "socks5": ProxyType.SOCKS5, "socks5h": ProxyType.SOCKS5}


class Dialer:
    """Connects to `host:port` (TLS when `tls` is set), through `proxy` when there is one."""

    def __init__(self, host: str, port: int, tls: ssl.SSLContext | None, proxy: Proxy | None) -> None:
        if proxy is not None and proxy.scheme not in _TYPES:
            raise ValueError(f"the proxy {proxy.safe_url}: only http://, socks5:// and socks5h:// proxies work here")
        self.host = host
        self.port = port
        self.tls = tls
        self.proxy = proxy

    async def dial(self, loop: asyncio.AbstractEventLoop, factory: Callable[[], Connection]) -> Connection:
        """A connected `Connection` (the caller bounds the time)."""
        if self.proxy is None:
            _, conn = await loop.create_connection(factory, self.host, self.port, ssl=self.tls)
            return conn
        sock = await self._tunnel(loop, self.proxy)
        try:
            server_hostname = self.host if self.tls is not None else None
            _, conn = await loop.create_connection(factory, sock=sock, ssl=self.tls, server_hostname=server_hostname)
        except BaseException:
            sock.close()
            raise
        return conn

    async def _tunnel(self, loop: asyncio.AbstractEventLoop, proxy: Proxy) -> socket.socket:
        tunnel = SocksProxy(
            _TYPES[proxy.scheme],
            proxy.host,
            proxy.port,
            username=proxy.username,
            password=proxy.password,
            rdns=proxy.scheme == "socks5h",
            loop=loop,
        )
        try:
            return await tunnel.connect(self.host, self.port)  # the pool's connect timeout bounds it
        except ProxyTimeoutError:
            raise ProxyFailed(f"the proxy {proxy.safe_url} did not answer in time") from None
        except ProxyConnectionError:
            raise ProxyFailed(f"the proxy {proxy.safe_url} could not be reached") from None
        except ProxyError as exc:
            raise ProxyFailed(f"the proxy {proxy.safe_url} {_refusal(exc.error_code, str(exc))}") from None


def _refusal(code: int | None, words: str) -> str:
    """What the proxy refused, from its answer (python-socks's words are fixed protocol text: no secrets)."""
    if code in (401, 407):  # 407 is the standard answer; tinyproxy sends 401 to a CONNECT
        return f"refused its credentials (HTTP {code})"
    if code is not None and code >= 100:
        return f"refused the tunnel (HTTP {code})"
    if code is not None:
        return f"refused the tunnel (SOCKS reply {code})"
    return f"refused the tunnel ({words[:100].rstrip('.')})" if words else "refused the tunnel"
