"""The only code that speaks HTTP to Cloudflare: `WorkersAI`, over one connection pool for the app's life.

The pool (`connection_pool.py`) is ours rather than aiohttp's or httpx's: 45-75 us of CPU a request against
aiohttp's 190-250 us and httpx's ~1,000 us (`python -m bench.studies.clients`; bench/README.md, "Before the gateway").
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Protocol
from urllib.parse import urlencode

import orjson

from app.ai_gateway import AIGateway
from app.catalog import MODEL_ID
from app.errors import InvalidRequest, UpstreamError
from app.proxies import Proxy
from app.sse import EventDecoder
from app.upstream import errors
from app.upstream.connection_pool import (
    DEFAULT_MAX_RESPONSE,
    BadResponse,
    ConnectionPool,
    ConnectTimeout,
    PoolTimeout,
    ProxyFailed,
    Stalled,
    StreamingResponse,
)
from app.upstream.streaming import media_type

JSON = "application/json"
EVENT_STREAM = "text/event-stream"
# Workers AI sends the requests of one session to the model instance that holds its cached prefix; clients
# send the gateway the same header (app/convert/affinity.py).
SESSION_HEADER = "x-session-affinity"


@dataclass(frozen=True, slots=True)
class Credentials:
    """Whose Cloudflare account pays: the server's (managed) or the client's own token (passthrough)."""

    account_id: str
    token: str
    from_client: bool = False
    key: str = ""  # the gateway key presented, as `accounts.account.key_id` names it ("" when keys are off)
    # The conversation this request belongs to (`convert/affinity.py`): sent as `x-session-affinity`, and the
    # account pool keeps it on one account. Set per request (`with_session`), never on shared credentials.
    session: str = ""
    session_opens: bool = False  # the request opens its conversation (`convert.affinity.Session.opens`)

    def __repr__(self) -> str:  # never print the token
        return f"Credentials(account_id={self.account_id!r}, from_client={self.from_client})"

    def with_session(self, session: str, opens: bool = False) -> Credentials:
        """These credentials for one request of conversation `session` (themselves when it is "")."""
        return replace(self, session=session, session_opens=opens) if session else self


@dataclass(frozen=True, slots=True)
class Binary:
    """A non-JSON answer (images, audio): the raw body and its content type."""

    body: bytes
    content_type: str


class Stream:
    """An open SSE answer. `next_batch` returns, for each read from the socket, the data of the events it
    completed (a list, so events that arrived together can leave together), and None at the end;
    `aclose` releases the connection. (A coroutine per read, not an async generator: one layer less.)"""

    def __init__(self, response: StreamingResponse) -> None:
        self._response = response
        self._decoder = EventDecoder()
        self._ended = False
        # The account pool's accounting (app/accounts/calls.py): called once at `aclose` with the last
        # batches and the event count.
        self.settle: Callable[[list[bytes], int], None] | None = None
        self._previous: list[bytes] = []
        self._last: list[bytes] = []
        self._events = 0

    async def next_batch(self) -> list[bytes] | None:
        try:
            while not self._ended:
                chunk = await self._response.read_some()
                if chunk is None:
                    self._ended = True
                    return self._decoder.flush() or None
                events = self._decoder.feed(chunk)
                if events:
                    self._previous, self._last = self._last, events
                    self._events += len(events)
                    return events
            return None
        except (TimeoutError, BadResponse) as exc:
            raise _failed(exc) from exc
        except OSError as exc:
            raise errors.stream_truncated(f" ({_reason(exc).rstrip('.')})") from exc

    def watch(self, progress: Callable[[], int]) -> None:
        """End the stream (`upstream_timeout`, in-band) once `progress` stops growing for the read timeout."""
        self._response.watch(progress)

    async def aclose(self) -> None:
        await self._response.aclose()
        settle, self.settle = self.settle, None
        if settle is not None:
            settle(self._previous + self._last, self._events)


Result = dict[str, Any] | list[Any] | Binary


class Upstream(Protocol):
    """What the serving code calls Workers AI through: `WorkersAI` itself, or the account pool around it
    (app/accounts/calls.py), which has the same calls and chooses the account."""

    async def run(
        self,
        creds: Credentials,
        model_id: str,
        payload: dict[str, Any] | bytes | bytearray,
        *,
        content_type: str = ...,
    ) -> Result: ...

    async def stream(
        self,
        creds: Credentials,
        model_id: str,
        payload: dict[str, Any],
        *,
        meanwhile: Callable[[], object] | None = ...,
    ) -> Stream | Result: ...

    async def search_models(self, creds: Credentials, *, per_page: int = ...) -> list[dict[str, Any]]: ...


class WorkersAI:
    """Client of the Workers AI REST API (`{base}/accounts/{account}/ai/...`). With `ai_gateway`, run calls
    go through Cloudflare AI Gateway instead (its own connection pool, reached through `ai_gateway_proxy`);
    the model search still goes to `base_url`."""

    def __init__(
        self,
        base_url: str,
        *,
        connect_timeout: float = 10.0,
        timeout: float = 300.0,
        read_timeout: float = 120.0,
        max_connections: int = 4096,
        proxy: Proxy | None = None,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE,
        ai_gateway: AIGateway | None = None,
        ai_gateway_proxy: Proxy | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.proxy = proxy
        self.ai_gateway = ai_gateway
        self._ai_gateway_proxy = ai_gateway_proxy
        # Run paths and headers, fixed here: a run call costs the same with AI Gateway on or off.
        self._account_prefix = ai_gateway.account_prefix if ai_gateway else "/accounts/"
        self._model_prefix = ai_gateway.model_prefix if ai_gateway else "/ai/run/"
        aig_headers = ai_gateway.headers if ai_gateway else {}
        self._run_compressed = {**_ACCEPT_COMPRESSED, **aig_headers}
        self._run_events = {**_ACCEPT_EVENTS, **aig_headers}
        self._max_response_bytes = max_response_bytes
        self._timeout = timeout
        self._read_timeout = read_timeout
        self._connect_timeout = connect_timeout
        self._max_connections = max_connections
        self._pool: ConnectionPool | None = None
        self._run_pool: ConnectionPool | None = None  # the AI Gateway's pool, else `_pool`

    async def start(self, pool: ConnectionPool | None = None) -> None:
        """Opens the connection pools (`pool`: a stand-in with the same interface, as the bench's in-process
        instruction count uses; it then serves the AI Gateway's calls too)."""
        self._pool = pool or self._open_pool(self.base_url, self.proxy)
        self._run_pool = self._pool
        if self.ai_gateway is not None and pool is None:
            self._run_pool = self._open_pool(self.ai_gateway.base_url, self._ai_gateway_proxy)

    def _open_pool(self, base_url: str, proxy: Proxy | None) -> ConnectionPool:
        return ConnectionPool(
            base_url,
            max_connections=self._max_connections,
            connect_timeout=self._connect_timeout,
            proxy=proxy,
            max_response_bytes=self._max_response_bytes,
        )

    async def close(self) -> None:
        if self._run_pool is not None and self._run_pool is not self._pool:
            await self._run_pool.close()
        self._run_pool = None
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    @property
    def pool(self) -> ConnectionPool:
        if self._pool is None:
            raise RuntimeError("WorkersAI.start() was not awaited")
        return self._pool

    @property
    def run_pool(self) -> ConnectionPool:
        """Where run calls go: the AI Gateway's pool when it is configured, else `pool`."""
        if self._run_pool is None:
            raise RuntimeError("WorkersAI.start() was not awaited")
        return self._run_pool

    def run_path(self, account_id: str, model_id: str) -> str:
        """`/accounts/{account}/ai/run/{model}`, or through AI Gateway `/{account}/{gateway}/workers-ai/run/{model}`
        (each below its pool's base path). The id goes into the path unescaped, as Cloudflare expects;
        MODEL_ID admits no character that could leave `run/` ('.', '/', '?', '#', '%' and whitespace are all
        confined or refused), and account ids are checked as ACCOUNT_ID where they are read."""
        if not MODEL_ID.fullmatch(model_id):
            raise InvalidRequest(f"Invalid model id `{model_id}`.", param="model", code="invalid_model")
        return f"{self._account_prefix}{account_id}{self._model_prefix}{model_id}"

    async def run(
        self,
        creds: Credentials,
        model_id: str,
        payload: dict[str, Any] | bytes | bytearray,
        *,
        content_type: str = JSON,
        session: str = "",
        query: str = "",
    ) -> Result:
        """Run a model on `creds`' account and return its unwrapped `result` (or the raw body of a binary
        answer). `payload` as bytes is sent as it is (audio; JSON the caller encoded). `session` (else
        `creds.session`) is sent as `x-session-affinity`; `query` (a constant such as `queueRequest=true`)
        goes after the path. Which account, and what the call cost, is the account pool's business
        (app/accounts/calls.py wraps this client)."""
        body = payload if isinstance(payload, bytes | bytearray) else orjson.dumps(payload)
        path = self.run_path(creds.account_id, model_id) + (f"?{query}" if query else "")
        headers = _headers(creds, content_type, self._run_compressed, session or creds.session)
        try:
            response = await (self._run_pool or self.run_pool).request(
                "POST", path, headers, body, timeout=self._timeout
            )
        except TRANSPORT_FAILURES as exc:
            raise _failed(exc) from exc
        return _result(response.status, response.headers, response.body, creds.from_client)

    async def stream(
        self,
        creds: Credentials,
        model_id: str,
        payload: dict[str, Any],
        *,
        meanwhile: Callable[[], object] | None = None,
        session: str = "",
    ) -> Stream | Result:
        """Run a model with `stream: true`. Errors before the first byte raise; a model that answers
        JSON instead of SSE (gpt-oss over /ai/run) returns its result like `run`. `meanwhile` runs once
        the request is sent, while Workers AI works on it (see `ConnectionPool.stream`)."""
        path = self.run_path(creds.account_id, model_id)
        try:
            response = await self.run_pool.stream(
                "POST",
                path,
                _headers(creds, JSON, self._run_events, session or creds.session),
                orjson.dumps(payload),
                timeout=self._read_timeout,
                read_timeout=self._read_timeout,
                meanwhile=meanwhile,
            )
        except TRANSPORT_FAILURES as exc:
            raise _failed(exc) from exc
        if response.status < 300 and response.content_type == EVENT_STREAM:
            return Stream(response)
        try:
            raw = await response.read()
        except TRANSPORT_FAILURES as exc:
            raise _failed(exc) from exc
        finally:
            await response.aclose()
        return _result(response.status, response.headers, raw, creds.from_client)

    async def search_models(self, creds: Credentials, *, per_page: int = 100) -> list[dict[str, Any]]:
        """Every model `/ai/models/search` lists for the account (all pages)."""
        found: list[dict[str, Any]] = []
        for page in range(1, 51):
            batch = await self._search_page(creds, page, per_page)
            found.extend(item for item in batch if isinstance(item, dict))
            if len(batch) < per_page:
                break
        return found

    async def check_credentials(self, creds: Credentials, *, timeout: float) -> None:
        """One model from `/ai/models/search`: the cheapest call that proves the token may use Workers AI on
        the account (it needs Workers AI Read or Edit there, and the id must exist); it runs no model and
        costs no neurons. Raises what Cloudflare's answer maps to (a rejected token: `upstream_auth_failed`;
        an unknown id: Workers AI error 7003)."""
        await self._search_page(creds, 1, 1, timeout=timeout)

    async def _search_page(
        self, creds: Credentials, page: int, per_page: int, *, timeout: float | None = None
    ) -> list[Any]:
        path = f"/accounts/{creds.account_id}/ai/models/search"
        query = urlencode({"page": page, "per_page": per_page, "hide_experimental": "false"})
        try:
            response = await self.pool.request(
                "GET", f"{path}?{query}", _headers(creds, None, _ACCEPT_COMPRESSED), timeout=timeout or self._timeout
            )
        except TRANSPORT_FAILURES as exc:
            raise _failed(exc) from exc
        result = _result(response.status, response.headers, response.body, creds.from_client)
        return result if isinstance(result, list) else []


# Compressed answers for buffered calls (an embeddings batch shrinks several times); none for streams,
# where a compressor may hold events back until it has a block to send.
_ACCEPT_COMPRESSED = {"Accept-Encoding": "gzip, deflate"}
_ACCEPT_EVENTS = {"Accept-Encoding": "identity", "Accept": EVENT_STREAM}


# Every failure of the pool's (connection.py's subclasses included) is one of these, and `transport_error`
# names each: `except TRANSPORT_FAILURES as exc: raise _failed(exc) from exc`. A try costs nothing until it
# catches; a context manager was two Python calls on every request (about 0.5 us on the bench machine).
TRANSPORT_FAILURES = (TimeoutError, OSError)


def _failed(exc: TimeoutError | OSError) -> UpstreamError:
    """The client's error for one of the pool's failures, translated in this one place."""
    error = transport_error(exc)
    assert error is not None, "transport_error names every TimeoutError and OSError"
    return error


def transport_error(exc: BaseException) -> UpstreamError | None:
    """The client's error for one of the pool's failures (None: not a transport failure)."""
    if isinstance(exc, TimeoutError):
        if isinstance(exc, PoolTimeout):
            return errors.pool_busy()
        if isinstance(exc, ConnectTimeout):
            return errors.connect_timeout(exc.seconds)
        return errors.stalled(exc.seconds) if isinstance(exc, Stalled) else errors.timeout_error()
    if isinstance(exc, ProxyFailed):
        return errors.proxy_failed(str(exc))
    if isinstance(exc, BadResponse):
        return errors.bad_response(str(exc))
    if isinstance(exc, OSError):
        return errors.connection_error(_reason(exc))
    return None


def _reason(exc: OSError) -> str:
    """Why a connection failed, in words that name no address (the client sees them)."""
    if isinstance(exc, ssl.SSLError):
        return f"TLS failed ({type(exc).__name__})."
    if isinstance(exc, socket.gaierror):
        return "its host name did not resolve."
    if isinstance(exc, ConnectionRefusedError):
        return "the connection was refused."
    if type(exc) in (ConnectionError, ConnectionResetError) and exc.args and isinstance(exc.args[0], str):
        return f"{exc.args[0]}."  # the pool's own words
    return f"the connection failed ({type(exc).__name__})."


def _headers(creds: Credentials, content_type: str | None, extra: dict[str, str], session: str = "") -> dict[str, str]:
    headers = {"Authorization": f"Bearer {creds.token}", **extra}
    if content_type:
        headers["Content-Type"] = content_type
    if session:  # Workers AI sends one session to the model instance that holds its cached prefix
        headers[SESSION_HEADER] = session
    return headers


def _result(status: int, headers: dict[str, str], raw: bytes, client_token: bool) -> Result:
    if status >= 300:
        raise errors.from_envelope(status, raw, client_token=client_token)
    if not raw.startswith(b"{"):  # (an envelope is JSON whatever its type says: only then is the type read)
        content_type = media_type(headers)
        if content_type != JSON and not content_type.endswith("+json"):
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
