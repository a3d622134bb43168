"""The Responses API on the chat path: items -> chat call -> Workers AI -> Response object or events.

Stored responses live in the gateway's shared state under `responses:<owner>:<id>`, where the owner is a
digest of the key the client presented: a response stored with one key is not found with another (a
gateway without keys has one owner, everyone).
"""

from __future__ import annotations

import functools
import hashlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import orjson
from fastapi.responses import Response

from app.catalog import Model
from app.convert import native_responses as native
from app.convert.response_events import EventWriter
from app.convert.response_output import Answer, response_of
from app.convert.responses import (
    chat_request,
    check_images,
    echo_json,
    history,
    listed_items,
    namespaces_of,
    stored_input,
)
from app.convert.results import Usage, estimate_usage
from app.convert.stream import StreamState, deltas_of
from app.convert.text import tokens_for_chars
from app.errors import GatewayError, NotFound
from app.http_responses import EventStreamResponse, JSONBytes
from app.ops.requests import Exchange
from app.protocol.responses import Item, ResponseRequest
from app.serving import chat, image_urls
from app.serving.gateway import Gateway
from app.serving.streams import replay
from app.state import SharedState
from app.upstream.client import Credentials, Stream, Upstream
from app.upstream.errors import stream_truncated

log = logging.getLogger("app.http_responses")
Save = Callable[[bytes], Awaitable[None]] | None  # keeps the finished response
InSession = Callable[..., Credentials]  # `deps.in_session` with its request and gateway bound


def owner_of(token: str | None) -> str:
    """Whose stored responses a request sees: a digest of its key (never the key itself). Worked out once
    per key (`store_for`): the digest was a tenth of a Responses request's own work."""
    return hashlib.sha256(token.encode()).hexdigest()[:32] if token else "anyone"


class Store:
    """Stored responses of one owner: the Response object and the input items it answered."""

    def __init__(self, state: SharedState, owner: str, *, retention: float, max_bytes: int) -> None:
        self._state, self._owner = state, owner
        self._retention, self._max_bytes = retention, max_bytes

    def _key(self, response_id: str) -> str:
        return f"responses:{self._owner}:{response_id}"

    async def load(self, response_id: str, param: str | None = None) -> dict[str, Any]:
        raw = await self._state.get(self._key(response_id))
        if raw is None:
            what = "Previous response" if param else "Response"
            raise NotFound(f"{what} with id '{response_id}' not found.", param=param, code="not_found")
        record: dict[str, Any] = orjson.loads(raw)
        return record

    async def save(self, response_id: str, items: bytes, response: bytes) -> None:
        """Keep a response (JSON) with the input items (JSON) it answered."""
        raw = b'{"input":' + items + b',"response":' + response + b"}"
        if len(raw) > self._max_bytes:  # answered, but not kept: a continuation by its id is a 404
            log.warning("response %s not stored: %d bytes > RESPONSES_MAX_STORED_BYTES", response_id, len(raw))
            return
        await self._state.set(self._key(response_id), raw, self._retention)

    async def delete(self, response_id: str) -> None:
        if not await self._state.delete(self._key(response_id)):
            raise NotFound(f"Response with id '{response_id}' not found.", code="not_found")


def store_for(gw: Gateway, token: str | None) -> Store:
    """The store of the key a request presented, made once per key (a few hundred at most are kept: a
    gateway without keys takes any)."""
    stores: dict[str | None, Store] = gw.response_stores
    store = stores.get(token)
    if store is None:
        if len(stores) >= 256:
            stores.clear()
        settings = gw.settings
        store = stores[token] = Store(
            gw.state,
            owner_of(token),
            retention=settings.responses_retention_seconds,
            max_bytes=settings.responses_max_stored_bytes,
        )
    return store


async def create(
    request: ResponseRequest,
    model: Model,
    gw: Gateway,
    creds: Credentials,
    store: Store,
    record: Exchange,
    session: InSession | None = None,
    *,
    upstream: Upstream | None = None,
) -> Response:
    """One answer, whole or streamed, stored unless `store: false`. `record` gets the upstream time and the
    tokens, as on the chat path (the request log line and the token counters). `session` (`deps.in_session`)
    gives the credentials their conversation once the input is whole (after `previous_response_id`).
    `upstream`: Workers AI through the response cache (serving/cached.py), else the client itself."""
    upstream = upstream or gw.upstream
    items = listed_items(request)
    remote = check_images(items, model)
    if remote:
        await image_urls.fetch_images([(param, image) for param, image, _ in remote], gw.image_fetcher)
        for _, image, part in remote:
            part.image_url = image.url
    if request.previous_response_id:
        previous = await store.load(request.previous_response_id, "previous_response_id")
        items = [*history(previous["input"], previous["response"]["output"]), *items]
    if session is not None:
        opening = functools.partial(_opening, request, items)  # worked out only if a session is derived from it
        creds = session(creds, cache_key=request.prompt_cache_key, user=request.user, messages=opening)
    answer = Answer.new(model.id, int(time.time()), echo_json(request))
    if request.tools:
        answer.namespaces = namespaces_of(request)
    if model.responses_input and native.fits(request, items):  # gpt-oss: its own Responses shape
        return await _native(request, items, model, answer, upstream, creds, store, record)
    call = chat.Call.for_chat(chat_request(request, items), model, gw.settings.default_max_tokens)
    if request.stream:
        save = functools.partial(_save, store, answer.id, request, items) if request.store else None
        return await _stream(call, answer, upstream, creds, save, record)
    started = time.perf_counter()
    choices, usage = await chat.answer(call, upstream, creds)
    record.upstream_seconds = time.perf_counter() - started
    record.count(usage.prompt_tokens, usage.completion_tokens)
    body = response_of(answer, choices[0], usage)
    if request.store:
        await store.save(answer.id, stored_input(request, items), body)
    return JSONBytes(body)


def _opening(request: ResponseRequest, items: list[Item]) -> list[Any]:
    """The conversation's first items as dicts (with `instructions` as a system message), for its fingerprint."""
    head: list[Any] = [{"role": "system", "content": request.instructions}] if request.instructions else []
    return head + [item.model_dump(mode="json", exclude_none=True) for item in items[:4]]


async def _native(
    request: ResponseRequest,
    items: list[Item],
    model: Model,
    answer: Answer,
    upstream: Upstream,
    creds: Credentials,
    store: Store,
    record: Exchange,
) -> Response:
    """A model that takes `input` and answers `output[]` on /ai/run: no chat template in between. It never
    streams there, so a streamed request gets the whole answer's events at once."""
    started = time.perf_counter()
    result = await upstream.run(creds, model.id, native.native_payload(request, items))
    record.upstream_seconds = time.perf_counter() - started
    choice, reported = native.native_choice(result)
    usage = reported or estimate_usage(0, [choice])
    record.count(usage.prompt_tokens, usage.completion_tokens)
    if request.stream:
        writer = EventWriter(answer)
        events = writer.opening() + writer.feed(deltas_of(choice))
        closing, body = writer.close(choice.finish_reason, usage)
    else:
        body = response_of(answer, choice, usage)
    if request.store:
        await store.save(answer.id, stored_input(request, items), body)
    if request.stream:
        return EventStreamResponse(replay([events, closing]))
    return JSONBytes(body)


async def _save(store: Store, response_id: str, request: ResponseRequest, items: list[Item], body: bytes) -> None:
    await store.save(response_id, stored_input(request, items), body)


async def _stream(
    call: chat.Call, answer: Answer, upstream: Upstream, creds: Credentials, save: Save, record: Exchange
) -> Response:
    writer = EventWriter(answer)
    started = time.perf_counter()
    opened = (await chat.open_upstream(call, upstream, creds, writer.opening))[0]
    record.upstream_seconds = time.perf_counter() - started
    if isinstance(opened, Stream):
        return EventStreamResponse(_events(opened, call, writer, save, record))
    # JSON mode, or a model that answers whole even when asked to stream: the same events, at once
    choice, reported = call.choice(opened)
    usage = call.usage([(choice, reported)])
    record.count(usage.prompt_tokens, usage.completion_tokens)
    events = writer.opening() + writer.feed(deltas_of(choice))
    closing, response = writer.close(choice.finish_reason, usage)
    if save is not None:
        await save(response)
    return EventStreamResponse(replay([events, closing]))


async def _events(
    stream: Stream, call: chat.Call, writer: EventWriter, save: Save, record: Exchange
) -> AsyncIterator[bytes]:
    """The event sequence as Workers AI's stream arrives; a failure after the start goes in-band. What
    arrives together leaves together, as on the chat path: the opening events with the first deltas, the
    deltas read with the upstream's [DONE] with the closing events."""
    state = StreamState(call.model, max_tokens=call.max_tokens, stops=call.stops)
    stream.watch(state.progress)
    pending = writer.opening()
    try:
        while True:
            batch = await stream.next_batch()
            if batch is None:
                raise stream_truncated()
            deltas = state.feed_batch(batch)
            if state.done:
                pending += writer.feed(deltas)
                break
            if deltas:
                yield pending + writer.feed(deltas)
                pending = b""
    except GatewayError as error:
        log.warning("stream failed after it started: %s", error.message)
        yield pending + writer.failed(error)
        return
    finally:
        await stream.aclose()
    held, finish_reason = state.finish()
    usage = state.usage or Usage(call.prompt_tokens, tokens_for_chars(state.completion_chars))
    record.count(usage.prompt_tokens, usage.completion_tokens)
    tail = writer.feed(held)
    closing, response = writer.close(finish_reason, usage)
    if save is not None:
        await save(response)
    yield pending + tail + closing
