"""Translation: text -> segments -> cache, or one upstream call per distinct segment -> text.

`translate_text` is the entry other code calls (the audio translation fallback); the DeepLX, DeepL and
batch routes all come through `Translator.translate`.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from app.cache import Cache, CacheKey, Coalescer, MemoryCache, translation_cache
from app.catalog import Catalog, Model, Task
from app.config import Settings
from app.convert.languages import (
    DETECT_CHARS,
    Detector,
    Script,
    Target,
    Words,
    parse_source,
    parse_target,
    short_words,
)
from app.convert.results import parse_chat_result
from app.convert.text import tokens_for_chars
from app.convert.translate import (
    chat_payload,
    detection_sample,
    m2m100_payload,
    plan,
    translated_text,
)
from app.errors import GatewayError
from app.state.base import SharedState
from app.upstream.client import Credentials, Upstream

T = TypeVar("T")
log = logging.getLogger("app.translate")

# The longest segment each kind of engine gets: m2m100 drops or garbles text past a few hundred
# characters; an instruction model copes with much more.
M2M100_SEGMENT_CHARS = 400
CHAT_SEGMENT_CHARS = 3000


@dataclass(frozen=True, slots=True)
class Translation:
    text: str
    source: str  # ISO 639-1, given or detected


class Translator:
    """The engine, the detector and converter, the cache and the in-flight calls; one per app."""

    def __init__(self, settings: Settings, catalog: Catalog, state: SharedState | None = None) -> None:
        try:
            self.model: Model = catalog.require(settings.translate_model, Task.TRANSLATION, Task.TEXT_GENERATION)
        except GatewayError as error:  # a setting, not a request: the gateway does not start
            raise ValueError(f"TRANSLATE_MODEL: {error.message}") from None
        if self.model.replaces:  # a setting, not a request: said once, at start-up
            log.warning(
                "TRANSLATE_MODEL %s was retired by Cloudflare; translating with its replacement %s",
                self.model.replaces,
                self.model.id,
            )
        self.chat = self.model.task is Task.TEXT_GENERATION
        self.segment_chars = CHAT_SEGMENT_CHARS if self.chat else M2M100_SEGMENT_CHARS
        self.max_tokens = settings.default_max_tokens
        entries, seconds = settings.translate_cache_entries, settings.translate_cache_seconds
        local: MemoryCache[CacheKey, str] = MemoryCache(entries, seconds)
        self.detections: Cache = local  # detecting again costs less than a round trip: never shared
        self.cache: Cache = translation_cache(local, state)  # with Redis, in front of the shared state
        self.inflight: Coalescer[CacheKey, str] = Coalescer()
        self.slots = asyncio.Semaphore(settings.translate_max_concurrency)
        self.detector: Lazy[Detector] = Lazy(Detector)
        self.words: Lazy[Words] = Lazy(Words)  # for short texts only: a gateway given none never loads it
        self.scripts: dict[str, Lazy[Script]] = {}
        self.characters = 0  # characters sent upstream since start (GET /v2/usage)

    async def translate(
        self, upstream: Upstream, creds: Credentials, text: str, source: str | None, target: Target
    ) -> Translation:
        """`text` into `target`, from `source` (None: detected). Lines, blank lines, edge whitespace and
        markup keep their place; text already in the target language makes no upstream call."""
        pieces = plan(text, self.segment_chars)
        if not pieces.segments:
            return Translation(text, source or "en")
        source = source or await self.detect(detection_sample(pieces.segments, DETECT_CHARS))
        if source == target.code:
            if target.script is None:
                return Translation(text, source)
            done = pieces.segments  # Chinese into Chinese: only the script changes
        else:
            done = await self._segments(upstream, creds, pieces.segments, source, target)
        if target.script is not None:
            script = await self.scripts.setdefault(target.script, Lazy(Script, target.script)).get()
            done = [script.convert(segment) for segment in done]
        return Translation(pieces.join(done), source)

    async def detect(self, sample: str) -> str:
        """The language of `sample` (at most DETECT_CHARS of text), ISO 639-1, among those supported."""
        # Detection is most of a cached request's CPU (40 us of it): its answer is cached too.
        key: CacheKey = ("detect", "", "", sample)
        source = await self.detections.get(key)
        if source is None:
            detector = await self.detector.get()
            found = short_words(sample)
            if found:
                source = detector.detect_short(sample, found, await self.words.get())
            else:
                source = detector.detect(sample)
            await self.detections.set(key, source)
        return source

    async def _segments(
        self, upstream: Upstream, creds: Credentials, segments: list[str], source: str, target: Target
    ) -> list[str]:
        # A chat engine is asked for the variant itself; m2m100 writes Simplified, converted afterwards.
        engine, wanted = _engine(self.model.id, creds), _engine_target(target, self.chat)
        keys: list[CacheKey] = [(engine, source, wanted, segment) for segment in segments]
        found = await self.cache.get_many(keys)  # every segment in one lookup: one round trip to Redis
        missing = [index for index, value in enumerate(found) if value is None]
        if missing:
            calls = [
                self.inflight.run(keys[i], functools.partial(self._call, upstream, creds, keys[i], source, target))
                for i in missing
            ]
            for index, text in zip(missing, await asyncio.gather(*calls), strict=True):
                found[index] = text
        return [value or "" for value in found]

    async def _call(self, upstream: Upstream, creds: Credentials, key: CacheKey, source: str, target: Target) -> str:
        segment = key[3]
        async with self.slots:
            self.characters += len(segment)
            if self.chat:
                tokens = min(self.max_tokens, 64 + 3 * tokens_for_chars(len(segment)))
                result = await upstream.run(creds, self.model.id, chat_payload(segment, source, target, tokens))
                choice, _ = parse_chat_result(
                    result if isinstance(result, dict) else {}, self.model, max_tokens=tokens, stops=(), tools=False
                )
                text = (choice.content or "").strip()
            else:
                payload = m2m100_payload(segment, source, target)
                text = translated_text(await upstream.run(creds, self.model.id, payload))
        await self.cache.set(key, text)
        return text


class Lazy(Generic[T]):
    """A heavy object (a model, dictionaries) built once, in a thread, by the first caller that needs it;
    callers meanwhile wait for the same build. A gateway that never translates never pays for it."""

    def __init__(self, build: Callable[..., T], *args: object) -> None:
        self._build = functools.partial(build, *args)
        self._value: asyncio.Future[T] | None = None

    async def get(self) -> T:
        failed = (
            self._value is not None
            and self._value.done()
            and (self._value.cancelled() or self._value.exception() is not None)
        )
        if self._value is None or failed:
            self._value = asyncio.ensure_future(asyncio.to_thread(self._build))
        return await asyncio.shield(self._value)


def _engine(model_id: str, creds: Credentials) -> str:
    """The cache's engine field. In passthrough mode each caller's token has its own entries: a cached
    answer must not serve a token Cloudflare would refuse (nor share one account's calls with another)."""
    if not creds.from_client:
        return model_id
    return f"{model_id}#{hashlib.sha256(f'{creds.account_id}:{creds.token}'.encode()).hexdigest()[:32]}"


def _engine_target(target: Target, chat: bool) -> str:
    return f"{target.code}-{target.script}" if chat and target.script else target.code


async def translate_text(
    translator: Translator | None, upstream: Upstream, creds: Credentials, text: str, source: str | None, target: str
) -> str:
    """Translate `text` (source None or "auto": detected) into a DeepL-style `target` code, through the
    gateway's engine and cache. Raises GatewayError (400 for an unsupported language)."""
    assert translator is not None, "the app's lifespan builds the translator"
    result = await translator.translate(upstream, creds, text, parse_source(source), parse_target(target))
    return result.text
