"""The only code that speaks HTTP to Cloudflare: one pooled aiohttp session for the app's lifetime.

aiohttp rather than httpx: 0.10-0.15 ms of CPU per request against 0.8-1.5 ms (performance.md B2).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import orjson

from app.catalog import MODEL_ID
from app.errors import InvalidRequest
from app.sse import EventDecoder
from app.upstream import errors

JSON = "application/json"
EVENT_STREAM = "text/event-stream"


@dataclass(frozen=True, slots=True)
class Credentials:
    """Whose Cloudflare account pays: the server's (managed) or the client's own token (passthrough)."""

    account_id: str
    token: str
    from_client: bool = False

    def __repr__(self) -> str:  # never print the token
        return f"Credentials(account_id={self.account_id!r}, from_client={self.from_client})"


@dataclass(frozen=True, slots=True)
class Binary:
    """A non-JSON answer (images, audio): the raw body and its content type."""

    body: bytes
    content_type: str


class Stream:
    """An open SSE answer. Iterating yields, for each read from the socket, the data of the events it
    completed (a list, so events that arrived together can leave together); `aclose` releases the
    connection."""

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self._response = response

    async def __aiter__(self) -> AsyncIterator[list[bytes]]:
        decoder = EventDecoder()
        try:
            async for chunk in self._response.content.iter_any():
                events = decoder.feed(chunk)
                if events:
                    yield events
            events = decoder.flush()
            if events:
                yield events
        except TimeoutError as exc:
            raise errors.timeout_error() from exc
        except aiohttp.ClientError as exc:
            raise errors.stream_truncated(f" (the connection broke: {type(exc).__name__})") from exc

    async def aclose(self) -> None:
        self._response.close()


Result = dict[str, Any] | list[Any] | Binary


class WorkersAI:
    """Client of the Workers AI REST API (`{base}/accounts/{account}/ai/...`)."""

    def __init__(
        self,
        base_url: str,
        *,
        connect_timeout: float = 10.0,
        timeout: float = 300.0,
        read_timeout: float = 120.0,
        max_connections: int = 4096,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._timeout = aiohttp.ClientTimeout(total=timeout, connect=connect_timeout)
        self._stream_timeout = aiohttp.ClientTimeout(total=None, connect=connect_timeout, sock_read=read_timeout)
        self._max_connections = max_connections
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        connector = aiohttp.TCPConnector(limit=self._max_connections, ttl_dns_cache=300, keepalive_timeout=30)
        self._session = aiohttp.ClientSession(connector=connector, timeout=self._timeout, trust_env=False)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            raise RuntimeError("WorkersAI.start() was not awaited")
        return self._session

    def run_url(self, account_id: str, model_id: str) -> str:
        # The id goes into the path unescaped, as Cloudflare expects; MODEL_ID admits no character that
        # could leave `ai/run/` ('.', '/', '?', '#', '%' and whitespace are all confined or refused).
        if not MODEL_ID.fullmatch(model_id):
            raise InvalidRequest(f"Invalid model id `{model_id}`.", param="model", code="invalid_model")
        return f"{self.base_url}/accounts/{account_id}/ai/run/{model_id}"

    async def run(
        self, creds: Credentials, model_id: str, payload: dict[str, Any] | bytes, *, content_type: str = JSON
    ) -> Result:
        """Run a model and return its unwrapped `result` (or the raw body of a binary answer)."""
        body = payload if isinstance(payload, bytes) else orjson.dumps(payload)
        url = self.run_url(creds.account_id, model_id)
        with _transport_errors():
            async with self.session.post(url, data=body, headers=_headers(creds, content_type)) as response:
                raw = await response.read()
        return _result(response.status, response.content_type, raw, creds.from_client)

    async def stream(self, creds: Credentials, model_id: str, payload: dict[str, Any]) -> Stream | Result:
        """Run a model with `stream: true`. Errors before the first byte raise; a model that answers
        JSON instead of SSE (gpt-oss over /ai/run) returns its result like `run`."""
        url = self.run_url(creds.account_id, model_id)
        with _transport_errors():
            response = await self.session.post(
                url,
                data=orjson.dumps(payload),
                # No compressed streams: a compressor may hold events back until it has a block to send.
                headers={**_headers(creds, JSON), "Accept-Encoding": "identity", "Accept": EVENT_STREAM},
                timeout=self._stream_timeout,
            )
        if response.status < 300 and response.content_type == EVENT_STREAM:
            return Stream(response)
        try:
            with _transport_errors():
                raw = await response.read()
        finally:
            response.release()
        return _result(response.status, response.content_type, raw, creds.from_client)

    async def search_models(self, creds: Credentials, *, per_page: int = 100) -> list[dict[str, Any]]:
        """Every model `/ai/models/search` lists for the account (all pages)."""
        url = f"{self.base_url}/accounts/{creds.account_id}/ai/models/search"
        found: list[dict[str, Any]] = []
        for page in range(1, 51):
            params = {"page": str(page), "per_page": str(per_page), "hide_experimental": "false"}
            with _transport_errors():
                async with self.session.get(url, params=params, headers=_headers(creds, None)) as response:
                    raw = await response.read()
            result = _result(response.status, response.content_type, raw, creds.from_client)
            batch = result if isinstance(result, list) else []
            found.extend(item for item in batch if isinstance(item, dict))
            if len(batch) < per_page:
                break
        return found


@contextlib.contextmanager
def _transport_errors() -> Iterator[None]:
    """aiohttp's failures -> the client's errors, translated in this one place."""
    try:
        yield
    except TimeoutError as exc:
        raise errors.timeout_error() from exc
    except aiohttp.ClientError as exc:
        raise errors.connection_error(type(exc).__name__) from exc


def _headers(creds: Credentials, content_type: str | None) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {creds.token}"}
    if content_type:
        headers["Content-Type"] = content_type
    return headers


def _result(status: int, content_type: str, raw: bytes, client_token: bool) -> Result:
    if status >= 300:
        raise errors.from_envelope(status, raw, client_token=client_token)
    if content_type != JSON and not content_type.endswith("+json") and not raw.startswith(b"{"):
        return Binary(raw, content_type or "application/octet-stream")
    try:
        envelope = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise errors.from_envelope(status, raw, client_token=client_token) from exc
    if not isinstance(envelope, dict) or envelope.get("success") is False or "result" not in envelope:
        raise errors.from_envelope(status, raw, client_token=client_token)
    result = envelope["result"]
    if isinstance(result, dict | list):
        return result
    raise errors.from_envelope(502, raw, client_token=client_token)
