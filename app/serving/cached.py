"""The response cache's policy: which calls a request may answer from the cache, and `CachedUpstream`,
Workers AI for one request through the cache (docs/cache.md).

The cache sits where the gateway calls Workers AI with a converted payload, so a hit goes through the
route's own converter: Chat, Completions, Responses and Messages frame it as they frame a fresh answer,
and a streamed request gets a cached stream replayed as the events it was made of (usage included). A hit
makes no upstream call: it is not counted against any account's allowance nor the key's neurons, and its
cost is counted in "neurons saved".

The client's `Cache-Control`: `no-store` neither reads nor writes the cache (BYPASS); `no-cache` (or
`max-age=0`) does not answer from it but stores the fresh answer (MISS); `max-age=N` asks for caching
where the policy would not cache (a sampled answer) and accepts an entry at most N seconds old.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable
from functools import partial
from typing import Any

import orjson
from fastapi import Response

from app.accounts import neurons as pricing
from app.cache.answers import BINARY, EVENTS, RESULT, AnswerCache, Entry, answer_key
from app.catalog import Model, Task
from app.config import Settings
from app.convert.text import prompt_chars, tokens_for_chars
from app.sse import DONE_DATA as DONE
from app.state.base import SharedState
from app.upstream.client import JSON, Binary, Credentials, Result, Stream, Upstream

HIT, MISS, BYPASS = b"HIT", b"MISS", b"BYPASS"
# Our own, and Cloudflare AI Gateway's name for the same thing (clients written for it read that one).
HEADERS = (b"x-cache", b"cf-aig-cache-status")
BYPASSED = ((HEADERS[0], BYPASS), (HEADERS[1], BYPASS))  # what most answers carry, built once
TEXT_TASKS = (Task.TEXT_GENERATION, Task.IMAGE_TO_TEXT)


class Directives:
    """The request's `Cache-Control` as the cache reads it."""

    __slots__ = ("asks", "max_age", "read", "write")

    def __init__(self, header: str | None) -> None:
        self.read = self.write = True
        self.max_age: float | None = None
        for part in (header or "").lower().split(","):
            name, _, value = part.strip().partition("=")
            if name == "no-store":
                self.read = self.write = False
            elif name == "no-cache":
                self.read = False
            elif name == "max-age" and value.strip().isdigit():
                self.max_age = float(value)
                if self.max_age == 0:
                    self.read = False
        # The client asks for caching (`max-age` above 0), whatever the policy says of its sampling.
        self.asks = self.max_age is not None and self.max_age > 0


NO_DIRECTIVES = Directives(None)  # a request without Cache-Control (nearly every one): parsed once


def cacheable(model: Model, payload: object, policy: str, asks: bool, n: int) -> bool:
    """Whether a call's answer may be cached: embeddings always; text at temperature 0, or any text when the
    policy is `all` or the client asks; images with a seed (or any, under `all` or when asked). A sampled
    answer is never shared between the n choices of one request."""
    if policy == "off" or not isinstance(payload, dict):
        return False
    task = model.task
    if task is Task.TEXT_EMBEDDINGS:
        return True
    if task in TEXT_TASKS:
        return payload.get("temperature") == 0 or ((policy == "all" or asks) and n == 1)
    if task is Task.TEXT_TO_IMAGE:
        return "seed" in payload or ((policy == "all" or asks) and n == 1)
    return False


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def owner_of(creds: Credentials, key_owner: str) -> str:
    """Whose entries a call reads: `key_owner` (the gateway key's digest, "" when shared or keys are off);
    in passthrough mode always the client's Cloudflare token's, so a cached answer never serves a token
    Cloudflare would refuse."""
    if creds.from_client:
        return "cf:" + digest(f"{creds.account_id}:{creds.token}")
    return key_owner


def answer_cache(settings: Settings, state: SharedState | None) -> AnswerCache:
    """The app's response cache, from RESPONSE_CACHE_*: in memory, with the shared state behind it (Redis)."""
    off = settings.response_cache == "off"
    return AnswerCache(
        max_entries=0 if off else settings.response_cache_max_entries,
        max_bytes=settings.response_cache_max_bytes,
        ttl=settings.response_cache_seconds,
        state=state,
    )


def upstream_for(
    upstream: Upstream,
    cache: AnswerCache | None,
    settings: Settings,
    model: Model,
    *,
    route: str,
    cache_control: str | None,
    key: str | None,
    n: int = 1,
    sampled: bool = False,
) -> Upstream:
    """Workers AI for one request to `route` (`key`: the gateway key it presented, `cache_control`: its
    header): through the cache when the policy may cache its model's answers, else the client itself."""
    if cache is None or not cache.on or settings.response_cache == "off":
        return upstream
    directives = Directives(cache_control) if cache_control else NO_DIRECTIVES
    if sampled and model.task in TEXT_TASKS and settings.response_cache == "deterministic" and not directives.asks:
        # `cacheable` would say no to each of its calls (a payload carries the request's temperature), so it
        # skips the cache's per-call work: about 3% of a chat request's CPU in `make bench-ab`.
        return upstream
    if not settings.gateway_api_keys or settings.response_cache_shared_across_keys:
        key = None  # every caller reads every entry
    return CachedUpstream(
        upstream,
        cache,
        model,
        route=route,
        policy=settings.response_cache,
        directives=directives,
        key=key,
        wait=settings.upstream_read_timeout,
        n=n,
    )


def mark(response: Response, upstream: Upstream) -> Response:
    """The answer with `x-cache` (and `cf-aig-cache-status`): HIT, MISS or BYPASS."""
    if type(upstream) is not CachedUpstream or not upstream.status:
        response.raw_headers += BYPASSED
        return response
    status = upstream.status
    response.raw_headers += ((HEADERS[0], status), (HEADERS[1], status))
    return response


class CachedUpstream:
    """Workers AI for one request's calls to one model, through the cache. `status` says what the
    request's calls did, together: HIT when every call was answered from the cache."""

    def __init__(
        self,
        upstream: Upstream,
        cache: AnswerCache,
        model: Model,
        *,
        route: str,
        policy: str,
        directives: Directives,
        key: str | None,
        wait: float,
        n: int,
    ) -> None:
        self._upstream, self._cache, self._model = upstream, cache, model
        self._route, self._policy, self._directives = route, policy, directives
        self._gateway_key, self._wait, self._n = key, wait, n
        self._leading: set[str] = set()  # streams this request records (its own n choices never wait on them)
        self.status: bytes | None = None

    async def search_models(self, creds: Credentials, *, per_page: int = 100) -> list[dict[str, Any]]:
        """The listing is never cached here (app/serving/models.py keeps its own copy)."""
        return await self._upstream.search_models(creds, per_page=per_page)

    def _key(self, creds: Credentials, model_id: str, payload: object) -> str | None:
        """The entry's key, or None when this call is not cached."""
        d = self._directives
        if not d.write or model_id != self._model.id:
            return None
        if not cacheable(self._model, payload, self._policy, d.asks, self._n):
            return None
        key_owner = digest(self._gateway_key) if self._gateway_key else ""  # the key's digest, never the key
        return answer_key(model_id, payload, owner_of(creds, key_owner))  # type: ignore[arg-type]

    def _saw(self, result: bytes, saved: float = 0.0) -> None:
        if result is HIT:
            self.status = self.status or HIT
        elif result is MISS:
            self.status = MISS
        else:
            self.status = self.status or BYPASS
        if result is not BYPASS:
            self._cache.tally.count(self._route, self._model.id, "hit" if result is HIT else "miss", saved)

    async def _lookup(self, key: str) -> Entry | None:
        if not self._directives.read:
            return None
        return await self._cache.get(key, self._directives.max_age)

    async def run(
        self,
        creds: Credentials,
        model_id: str,
        payload: dict[str, Any] | bytes | bytearray,
        *,
        content_type: str = JSON,
    ) -> Result:
        key = self._key(creds, model_id, payload)
        if key is None:
            self._saw(BYPASS)
            return await self._upstream.run(creds, model_id, payload, content_type=content_type)
        entry = await self._lookup(key)
        if entry is not None and entry.kind != EVENTS:
            self._saw(HIT, entry.neurons)
            return _result(entry)
        leads = key not in self._cache.calls
        fetch = partial(self._fetch, creds, model_id, payload, content_type, key)
        result, entry = await self._cache.calls.run(key, fetch)
        if leads:
            self._saw(MISS)
            return result  # type: ignore[no-any-return]
        self._saw(HIT, entry.neurons)  # answered by another request's call, made at the same time
        return _result(entry)

    async def _fetch(
        self, creds: Credentials, model_id: str, payload: Any, content_type: str, key: str
    ) -> tuple[Result, Entry]:
        result = await self._upstream.run(creds, model_id, payload, content_type=content_type)
        spent = pricing.of_call(self._model, payload, result)
        if isinstance(result, Binary):
            entry = Entry(BINARY, result.body, spent, content_type=result.content_type)
        else:
            entry = Entry(RESULT, orjson.dumps(result), spent)
        await self._cache.put(key, entry)
        return result, entry

    async def stream(
        self,
        creds: Credentials,
        model_id: str,
        payload: dict[str, Any],
        *,
        meanwhile: Callable[[], object] | None = None,
    ) -> Stream | Result:
        key = self._key(creds, model_id, payload)
        if key is None:
            self._saw(BYPASS)
            return await self._upstream.stream(creds, model_id, payload, meanwhile=meanwhile)
        entry = await self._lookup(key)
        recording = self._cache.streams.get(key)
        if entry is None and recording is not None and key not in self._leading and self._directives.read:
            entry = await self._wait_for(key, recording)  # the same request, streaming now: its answer, replayed
        if entry is not None:
            self._saw(HIT, entry.neurons)
            if meanwhile is not None:
                meanwhile()
            return ReplayStream(entry.events()) if entry.kind == EVENTS else _result(entry)
        self._saw(MISS)
        return await self._record(creds, model_id, payload, meanwhile, key, lead=recording is None)

    async def _wait_for(self, key: str, recording: asyncio.Future[Entry | None]) -> Entry | None:
        try:
            return await asyncio.wait_for(asyncio.shield(recording), self._wait)
        except TimeoutError:  # a stream never read to its end: no later request waits for it again
            if self._cache.streams.get(key) is recording:
                del self._cache.streams[key]
            return None

    async def _record(
        self,
        creds: Credentials,
        model_id: str,
        payload: dict[str, Any],
        meanwhile: Callable[[], object] | None,
        key: str,
        *,
        lead: bool,
    ) -> Stream | Result:
        """The upstream's answer, kept as it passes: a stream's events once it ends well, a whole answer at
        once. Other requests for the same answer wait for it (`lead`: this one is the first)."""
        streams = self._cache.streams
        recording: asyncio.Future[Entry | None] = asyncio.get_running_loop().create_future()
        if lead:
            streams[key] = recording
            self._leading.add(key)
        done = partial(self._recorded, key, payload, recording)
        try:
            opened = await self._upstream.stream(creds, model_id, payload, meanwhile=meanwhile)
        except BaseException:
            await done(None)
            raise
        if isinstance(opened, Stream):
            return Recorder(opened, done, self._cache.max_bytes)
        spent = pricing.of_call(self._model, payload, opened)
        await done(Entry(RESULT, orjson.dumps(opened), spent) if not isinstance(opened, Binary) else None)
        return opened

    async def _recorded(
        self, key: str, payload: dict[str, Any], recording: asyncio.Future[Entry | None], entry: Entry | None
    ) -> None:
        if self._cache.streams.get(key) is recording:
            del self._cache.streams[key]
        if entry is not None and entry.kind == EVENTS:
            entry = Entry(EVENTS, entry.body, stream_neurons(self._model, payload, entry.events()))
        if not recording.done():
            recording.set_result(entry)  # the requests waiting for it replay it now, before it is stored
        if entry is not None:
            await self._cache.put(key, entry)


def _result(entry: Entry) -> Result:
    if entry.kind == BINARY:
        return Binary(entry.body, entry.content_type)
    result: Result = orjson.loads(entry.body)
    return result


def stream_neurons(model: Model, payload: dict[str, Any], batches: list[list[bytes]]) -> float:
    """What a stream cost: the usage its last events carry (Workers AI sends it last), else estimated from
    the prompt and the number of events (about a token each), as the account pool counts it."""
    events = [event for batch in batches for event in batch]
    usage = pricing.stream_usage(events[-3:])
    if isinstance(usage, tuple):
        return pricing.for_tokens(model, *usage)
    if usage is not None:
        return usage
    return pricing.for_tokens(model, tokens_for_chars(prompt_chars(payload)), max(0, len(events) - 2))


Done = Callable[[Entry | None], Any]


class Recorder(Stream):
    """An upstream stream, passed on as it arrives and kept: once its [DONE] has been read, its events
    become an entry. A stream cut short (an error, the client gone, a stop sequence) is not kept, nor one
    longer than `limit` bytes (the whole cache's size)."""

    def __init__(self, stream: Stream, done: Done, limit: int) -> None:  # no super().__init__(): it wraps
        self._inner = stream
        self._done: Done | None = done
        self._batches: list[list[bytes]] = []
        self._room = limit
        self.settle = None

    async def next_batch(self) -> list[bytes] | None:
        batch = await self._inner.next_batch()
        if batch is not None and self._done is not None:
            self._batches.append(batch)
            self._room -= sum(len(event) for event in batch)
            if self._room < 0:  # too long to keep: the waiting requests call Workers AI themselves
                done, self._done, self._batches = self._done, None, []
                await done(None)
            elif DONE in batch:
                done, self._done = self._done, None
                try:
                    entry: Entry | None = Entry.of_events(self._batches, 0.0)
                except UnicodeDecodeError:  # not text: passed on, not kept
                    entry = None
                await done(entry)
        return batch

    def watch(self, progress: Callable[[], int]) -> None:
        self._inner.watch(progress)

    async def aclose(self) -> None:
        await self._inner.aclose()
        done, self._done = self._done, None
        if done is not None:
            await done(None)


class ReplayStream(Stream):
    """A cached stream's events, in the batches they first arrived in."""

    def __init__(self, batches: list[list[bytes]]) -> None:  # no super().__init__(): nothing to read from
        self._batches = batches
        self._next = 0
        self.settle = None

    async def next_batch(self) -> list[bytes] | None:
        if self._next >= len(self._batches):
            return None
        self._next += 1
        return self._batches[self._next - 1]

    def watch(self, progress: Callable[[], int]) -> None:
        pass

    async def aclose(self) -> None:
        pass
