"""Chat and legacy completions: request -> Workers AI call(s) -> OpenAI answer, whole or streamed."""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Callable
from typing import Any

import orjson
from fastapi.responses import Response

from app import sse
from app.catalog import Model
from app.convert.chat import chat_payload, wants_json
from app.convert.params import max_tokens_for, sampling, stop_sequences
from app.convert.results import (
    Choice,
    Usage,
    chat_completion,
    estimate_usage,
    parse_chat_result,
    text_completion,
)
from app.convert.stream import StreamState, deltas_of
from app.convert.text import estimate_tokens, prompt_chars, tokens_for_chars
from app.errors import UpstreamError
from app.http_responses import EventStreamResponse, JSONBytes
from app.ops.requests import Exchange
from app.protocol.openai import ChatCompletionRequest, CompletionRequest
from app.serving.streams import ChunkWriter, replay, translate
from app.upstream.client import Credentials, Result, Stream, Upstream


class Call:
    """One client request made ready for Workers AI: the payload and how to read its answers."""

    def __init__(
        self,
        model: Model,
        payload: dict[str, Any],
        *,
        n: int,
        stops: tuple[str, ...],
        tools: bool,
        chat: bool,
        include_usage: bool,
    ) -> None:
        self.model = model
        self.payload = payload
        self.n = n
        self.stops = stops
        self.tools = tools
        self.chat = chat
        self.include_usage = include_usage

    @functools.cached_property
    def prompt_tokens(self) -> int:
        """The prompt's token estimate, worked out only if Workers AI reports no usage."""
        return tokens_for_chars(prompt_chars(self.payload))

    @classmethod
    def for_chat(cls, request: ChatCompletionRequest, model: Model, default_max_tokens: int) -> Call:
        stream = request.stream and model.streams and not wants_json(request)
        payload = chat_payload(request, model, default_max_tokens=default_max_tokens, stream=stream)
        include_usage = bool(request.stream_options and request.stream_options.include_usage)
        return cls(
            model,
            payload,
            n=request.n,
            stops=stop_sequences(request.stop),
            tools=bool(request.tools),
            chat=True,
            include_usage=include_usage,
        )

    @classmethod
    def for_completion(cls, request: CompletionRequest, model: Model, default_max_tokens: int) -> Call:
        prompt = request.prompt if isinstance(request.prompt, str) else "".join(request.prompt)
        payload: dict[str, Any] = {
            "prompt": prompt,
            "max_tokens": max_tokens_for(model, request.max_tokens, default_max_tokens, estimate_tokens(prompt)),
            **sampling(request, model),
        }
        if request.stream and model.streams:
            payload["stream"] = True
        include_usage = bool(request.stream_options and request.stream_options.include_usage)
        return cls(
            model,
            payload,
            n=request.n,
            stops=stop_sequences(request.stop),
            tools=False,
            chat=False,
            include_usage=include_usage,
        )

    @property
    def max_tokens(self) -> int:
        return int(self.payload["max_tokens"])

    def choice(self, result: Any) -> tuple[Choice, Usage | None]:
        if not isinstance(result, dict):
            raise UpstreamError(
                f"Workers AI answered `{self.model.id}` with something that is not text.",
                code="upstream_bad_response",
            )
        return parse_chat_result(result, self.model, max_tokens=self.max_tokens, stops=self.stops, tools=self.tools)

    def usage(self, parsed: list[tuple[Choice, Usage | None]]) -> Usage:
        """Prompt counted once, completions summed; estimated where Workers AI reported nothing."""
        known = [u for _, u in parsed if u is not None]
        if len(known) < len(parsed):
            return estimate_usage(self.prompt_tokens, [c for c, _ in parsed])
        return known[0].with_completion(sum(u.completion_tokens for u in known))


def explained(error: UpstreamError, model: Model) -> UpstreamError:
    """Workers AI's "Max context reached" names no model: say which one, its window, and the way out (agents
    send long system prompts and 20+ tool definitions, which count too)."""
    if error.code == "context_length_exceeded" and model.context_window:
        error.message += (
            f". The context window of {model.id} is {model.context_window} tokens, tool definitions included: "
            "send less, or choose a model with a larger window (docs/agents.md names them)."
        )
    return error


async def run_once(call: Call, upstream: Upstream, creds: Credentials) -> Result:
    """One upstream call, whole; a context overflow `explained`."""
    try:
        return await upstream.run(creds, call.model.id, call.payload)
    except UpstreamError as error:
        raise explained(error, call.model) from None


async def stream_once(
    call: Call, upstream: Upstream, creds: Credentials, meanwhile: Callable[[], object] | None
) -> Stream | Result:
    """One upstream call, streamed; a context overflow `explained`."""
    try:
        return await upstream.stream(creds, call.model.id, call.payload, meanwhile=meanwhile)
    except UpstreamError as error:
        raise explained(error, call.model) from None


async def _run_n(call: Call, upstream: Upstream, creds: Credentials) -> list[Result]:
    """n upstream calls side by side (one is awaited directly: a task per request costs measurable CPU)."""
    if call.n == 1:
        return [await run_once(call, upstream, creds)]
    return list(await asyncio.gather(*(run_once(call, upstream, creds) for _ in range(call.n))))


async def answer(call: Call, upstream: Upstream, creds: Credentials) -> tuple[list[Choice], Usage]:
    """A whole answer's choices and usage, before they are shaped (chat, completions, Responses)."""
    results = await _run_n(call, upstream, creds)
    parsed = [call.choice(result) for result in results]
    return [c for c, _ in parsed], call.usage(parsed)


async def complete(
    call: Call, upstream: Upstream, creds: Credentials, model_name: str, record: Exchange | None = None
) -> Response:
    """A whole (non-streamed) answer; n > 1 runs n upstream calls side by side. `record` gets the upstream
    time and the tokens."""
    started = time.perf_counter()
    choices, usage = await answer(call, upstream, creds)
    if record is not None:
        record.upstream_seconds = time.perf_counter() - started
        record.count(usage.prompt_tokens, usage.completion_tokens)
    render = chat_completion if call.chat else text_completion
    body = render(model_name, choices, usage, int(time.time()))
    return JSONBytes(orjson.dumps(body))


class _Framing:
    """What a streamed answer needs before its first event: the chunk writer, a `StreamState` a choice and
    the role chunks. `prepare` is what the upstream client runs `meanwhile`, once the request is sent: at
    concurrency 1 it is built while Workers AI works, and none of it stands between Workers AI's first
    event and the client's first token."""

    def __init__(self, call: Call, model_name: str) -> None:
        self._call = call
        self._model_name = model_name
        self.writer: ChunkWriter | None = None
        self.states: list[StreamState] = []
        self.roles = b""

    def prepare(self) -> ChunkWriter:
        """Builds it all, once (later calls return the same writer)."""
        if self.writer is None:
            call = self._call
            self.writer = ChunkWriter(self._model_name, int(time.time()), chat=call.chat)
            self.states = [StreamState(call.model, max_tokens=call.max_tokens, stops=call.stops) for _ in range(call.n)]
            self.roles = b"".join(self.writer.role(index) for index in range(call.n))
        return self.writer


async def stream(
    call: Call, upstream: Upstream, creds: Credentials, model_name: str, record: Exchange | None = None
) -> EventStreamResponse:
    """An SSE answer. Errors before the first byte raise (a real HTTP error); later ones go in-band.
    `record` gets the time Workers AI took to start answering, and the tokens once the stream ends."""
    framing = _Framing(call, model_name)
    started = time.perf_counter()
    opened = await open_upstream(call, upstream, creds, framing.prepare)
    count = None
    if record is not None:
        record.upstream_seconds = time.perf_counter() - started
        count = record.count
    writer = framing.prepare()
    if all(isinstance(item, Stream) for item in opened):
        streams = [item for item in opened if isinstance(item, Stream)]
        states, roles = framing.states, framing.roles
        body = translate(streams, states, writer, roles, call.include_usage, lambda: call.prompt_tokens, count=count)
    else:  # JSON mode, or a model that answers JSON even when asked to stream
        if any(isinstance(item, Stream) for item in opened):
            for item in opened:
                if isinstance(item, Stream):
                    await item.aclose()
            raise UpstreamError(
                "Workers AI answered some choices as a stream and some whole.", code="upstream_bad_response"
            )
        body = replay(_whole_as_frames(call, opened, writer, framing.roles, count))
    return EventStreamResponse(body)


async def open_upstream(
    call: Call, upstream: Upstream, creds: Credentials, meanwhile: Callable[[], object]
) -> list[Any]:
    """The upstream answers of a streamed request; `meanwhile` runs while Workers AI works on it."""
    if not call.payload.get("stream"):
        return await _run_n(call, upstream, creds)
    if call.n == 1:
        return [await stream_once(call, upstream, creds, meanwhile)]
    opened = await asyncio.gather(
        *(stream_once(call, upstream, creds, meanwhile) for _ in range(call.n)),
        return_exceptions=True,
    )
    failure = next((item for item in opened if isinstance(item, BaseException)), None)
    if failure is not None:
        for item in opened:
            if isinstance(item, Stream):
                await item.aclose()
        raise failure
    return list(opened)


def _whole_as_frames(
    call: Call, results: list[Any], writer: ChunkWriter, roles: bytes, count: Callable[[int, int], None] | None
) -> list[bytes]:
    parsed = [call.choice(result) for result in results]
    if count is not None:
        usage = call.usage(parsed)
        count(usage.prompt_tokens, usage.completion_tokens)
    frames = [roles]
    for index, (choice, _) in enumerate(parsed):
        frames.append(writer.frames(index, deltas_of(choice)))
    frames.extend(writer.delta(i, {}, choice.finish_reason) for i, (choice, _) in enumerate(parsed))
    if call.include_usage:
        frames.append(writer.usage(call.usage(parsed)))
    frames.append(sse.DONE)
    return frames
