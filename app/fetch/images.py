"""Fetch one image URL for a client: allowed schemes and addresses only, bounded redirects, size and time,
and the bytes checked to be an image. Every refusal is a `Refused` with a reason for the client."""

from __future__ import annotations

import asyncio
import base64
import ipaddress
from dataclasses import dataclass

import aiohttp
from aiohttp_socks import ProxyConnector, ProxyType
from yarl import URL

from app.config import Settings
from app.convert.sniff import KINDS, SNIFF_BYTES, image_type, labelled_as_image
from app.fetch.addresses import Refused
from app.fetch.guard import GuardedResolver
from app.proxies import DIRECT, Proxy, parse_proxy

REDIRECTS = frozenset({301, 302, 303, 307, 308})
CHUNK = 64 * 1024
HEADERS = {"User-Agent": "workers-ai-gateway (image fetch)", "Accept": "image/*", "Accept-Encoding": "identity"}


@dataclass(frozen=True, slots=True)
class Image:
    media_type: str
    data: bytes

    def data_uri(self) -> str:
        """The form a client's own data URI takes, and the one Workers AI accepts."""
        return f"data:{self.media_type};base64,{base64.b64encode(self.data).decode()}"


class ImageFetcher:
    """One per app: its sessions are opened at start-up and closed at shutdown."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.timeout = settings.image_url_timeout
        self.max_bytes = settings.image_url_max_bytes
        self.schemes = ("https", "http") if settings.image_url_allow_http else ("https",)
        self._direct: aiohttp.ClientSession | None = None
        self._socks: dict[Proxy, aiohttp.ClientSession] = {}
        self._guard: GuardedResolver | None = None

    async def start(self) -> None:
        proxies = _configured_proxies(self.settings)
        self._guard = GuardedResolver(
            allow_private=self.settings.image_url_allow_private, exempt=frozenset(p.host for p in proxies)
        )
        # force_close: each image is a one-off fetch from a host a client chose; no idle connections to
        # such hosts are kept (nor can a client's server pin them open).
        self._direct = self._session(aiohttp.TCPConnector(resolver=self._guard, use_dns_cache=False, force_close=True))
        for proxy in proxies:
            if proxy.scheme.startswith("socks") and proxy not in self._socks:
                self._socks[proxy] = self._session(_socks_connector(proxy, self._guard))

    def _session(self, connector: aiohttp.BaseConnector) -> aiohttp.ClientSession:
        # trust_env=False: the settings say which proxy, not the process environment read behind their back.
        return aiohttp.ClientSession(
            connector=connector,
            trust_env=False,
            cookie_jar=aiohttp.DummyCookieJar(),  # nothing one client's fetch sets may reach another's
            auto_decompress=False,
            headers=HEADERS,
            timeout=aiohttp.ClientTimeout(total=self.timeout),
        )

    async def close(self) -> None:
        for session in [self._direct, *self._socks.values()]:
            if session is not None:
                await session.close()

    async def fetch(self, url: str) -> Image:
        """The image at `url`, following up to IMAGE_URL_MAX_REDIRECTS redirects, each one checked again."""
        try:
            async with asyncio.timeout(self.timeout):
                return await self._follow(URL(url, encoded=False))
        except TimeoutError:
            raise Refused(f"fetching it took longer than {self.timeout:g} s") from None
        except Refused:
            raise
        except (aiohttp.ClientError, OSError, ValueError) as exc:
            raise Refused(_transport_reason(exc)) from None

    async def _follow(self, url: URL) -> Image:
        for _ in range(self.settings.image_url_max_redirects + 1):
            proxy = await self._check(url)
            async with await self._get(url, proxy) as response:
                if response.status not in REDIRECTS:
                    return await self._read(response)
                location = response.headers.get("Location")
                if not location:
                    raise Refused(f"the server answered HTTP {response.status} with no Location")
                url = url.join(URL(location))
        raise Refused(f"it redirects more than {self.settings.image_url_max_redirects} times")

    async def _check(self, url: URL) -> Proxy | None:
        """The URL's scheme and host pass the policy; returns the proxy it goes through."""
        if url.scheme not in self.schemes:
            allowed = " or ".join(f"{s}://" for s in self.schemes)
            raise Refused(f"only {allowed} image URLs are fetched")
        host = url.raw_host
        if not host:
            raise Refused("the URL has no host")
        assert self._guard is not None, "start() first"
        proxy = self.settings.proxy_for(str(url))
        if _is_ip(host):
            self._guard.check_literal(host)
        elif proxy is not None or host in self._guard.exempt:
            # The proxy resolves the name itself: check what it resolves to here, before handing it over.
            await self._guard.allowed(host, url.port or 0)
        return proxy

    async def _get(self, url: URL, proxy: Proxy | None) -> aiohttp.ClientResponse:
        if proxy is not None and proxy.scheme.startswith("socks"):
            return await self._socks[proxy].get(url, allow_redirects=False)
        assert self._direct is not None, "start() first"
        if proxy is None:
            return await self._direct.get(url, allow_redirects=False)
        auth = aiohttp.BasicAuth(proxy.username, proxy.password or "") if proxy.username is not None else None
        proxy_url = URL.build(scheme=proxy.scheme, host=proxy.host, port=proxy.port)
        return await self._direct.get(url, allow_redirects=False, proxy=proxy_url, proxy_auth=auth)

    async def _read(self, response: aiohttp.ClientResponse) -> Image:
        """The body, streamed and stopped at the cap, checked by its leading bytes."""
        if response.status != 200:
            raise Refused(f"the server answered HTTP {response.status}")
        if not labelled_as_image(response.headers.get("Content-Type", "")):
            raise Refused(f"the server says it is {response.content_type}, not an image")
        if (response.content_length or 0) > self.max_bytes:
            raise Refused(f"it is larger than the {self.max_bytes}-byte limit")
        body = bytearray()
        media_type: str | None = None
        async for chunk in response.content.iter_chunked(CHUNK):
            body += chunk
            if len(body) > self.max_bytes:
                raise Refused(f"it is larger than the {self.max_bytes}-byte limit")
            if media_type is None and len(body) >= SNIFF_BYTES:
                media_type = _sniffed(body)
        return Image(media_type or _sniffed(body), bytes(body))


def _configured_proxies(settings: Settings) -> list[Proxy]:
    """Every proxy a fetch may go through (which one, per URL, is `Settings.proxy_for`'s to say)."""
    urls = (settings.upstream_proxy, settings.https_proxy, settings.http_proxy)
    return [parse_proxy(url) for url in urls if url.strip() and url.strip().lower() != DIRECT]


def _sniffed(body: bytearray) -> str:
    media_type = image_type(bytes(body[:SNIFF_BYTES]))
    if media_type is None:
        raise Refused(f"its content is not a {KINDS} image")
    return media_type


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    return True


def _socks_connector(proxy: Proxy, guard: GuardedResolver) -> ProxyConnector:
    """socks5h: the proxy resolves names (checked here first). socks5: names resolve here, through the
    guard, and the proxy is handed the checked address itself."""
    connector = ProxyConnector(
        host=proxy.host,
        port=proxy.port,
        proxy_type=ProxyType.SOCKS5,
        username=proxy.username,
        password=proxy.password,
        rdns=proxy.scheme == "socks5h",
        force_close=True,
    )
    if proxy.scheme == "socks5":
        connector._resolver = guard  # ProxyConnector installs a pass-through resolver; pin the target instead
    return connector


def _transport_reason(exc: BaseException) -> str:
    cause: BaseException | None = exc
    while cause is not None:  # the connector wraps the guard's refusal in its own errors
        if isinstance(cause, Refused):
            return cause.reason
        cause = cause.__cause__ or cause.__context__
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        return "its TLS certificate could not be verified"
    if isinstance(exc, aiohttp.ClientHttpProxyError | aiohttp.ClientProxyConnectionError):
        return "the outbound proxy refused it or could not be reached"
    if isinstance(exc, aiohttp.ClientConnectorError | ConnectionError):
        return "the server could not be reached"
    if isinstance(exc, ValueError):
        return "the URL is not valid"
    return "the server's answer could not be read"
