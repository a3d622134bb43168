"""Turning upstream streams into the client's SSE: chunk framing, fan-in of n choices, in-band errors."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any, Protocol

import orjson

from app.convert.results import Usage, new_id
from app.convert.stream import Delta, StreamState
from app.convert.text import tokens_for_chars
from app.errors import GatewayError, render_sse
from app.sse import DONE, frame
from app.upstream.client import Stream
from app.upstream.errors import stream_truncated

log = logging.getLogger("app.streams")


class ChunkWriter:
    """Frames deltas as `chat.completion.chunk` (or legacy `text_completion`) events.

    The frame around a content delta is the same every time, so it is built once and only the delta is
    encoded per chunk (the per-chunk overhead target is 10 microseconds).
    """

    def __init__(self, model: str, created: int, *, chat: bool = True) -> None:
        self.model = model
        self.created = created
        self.chat = chat
        self.id = new_id("chatcmpl-" if chat else "cmpl-")
        head = orjson.dumps(self._chunk([]))[: -len(b'"choices":[]}')]
        self._head = b"data: " + head + b'"choices":[{"index":'
        self._tail = b',"logprobs":null,"finish_reason":null}]}\n\n'

    def _chunk(self, choices: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "chat.completion.chunk" if self.chat else "text_completion",
            "created": self.created,
            "model": self.model,
            "choices": choices,
        }

    def frames(self, index: int, deltas: list[Delta]) -> bytes:
        """The frames of deltas of choice `index`, as one byte string (deltas that arrived together are
        framed together: one join with the frame's tail and head between the encoded deltas)."""
        if not deltas:
            return b""
        head = self._head + str(index).encode() + (b',"delta":' if self.chat else b',"text":')
        dumps = orjson.dumps
        if self.chat:
            encoded = [dumps(delta) for delta in deltas]
        else:
            encoded = [dumps(delta.get("content") or "") for delta in deltas]
        return head + (self._tail + head).join(encoded) + self._tail

    def delta(self, index: int, delta: Delta, finish_reason: str | None = None) -> bytes:
        if finish_reason is None:
            return self.frames(index, [delta])
        if self.chat:
            choice = {"index": index, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
        else:
            text = delta.get("content") or ""
            choice = {"index": index, "text": text, "logprobs": None, "finish_reason": finish_reason}
        return frame(self._chunk([choice]))

    def role(self, index: int) -> bytes:
        return self.delta(index, {"role": "assistant", "content": ""})

    def usage(self, usage: Usage) -> bytes:
        return frame({**self._chunk([]), "usage": usage.to_dict()})

    def finish(self, states: Sequence[StreamState], include_usage: bool, prompt_tokens: Callable[[], int]) -> bytes:
        """The end of the stream: held deltas, finish reasons, optional usage, [DONE]."""
        return b"".join(finish_frames(states, self, include_usage, prompt_tokens))

    def error(self, error: GatewayError) -> bytes:
        """An error after the stream started, in-band."""
        return render_sse(error)


class Framer(Protocol):
    """How `translate` frames a stream: ChunkWriter (OpenAI's chunks) or another dialect's events
    (`app/serving/messages.py`: Anthropic's)."""

    def frames(self, index: int, deltas: list[Delta]) -> bytes: ...

    def finish(self, states: Sequence[StreamState], include_usage: bool, prompt_tokens: Callable[[], int]) -> bytes: ...

    def error(self, error: GatewayError) -> bytes: ...


Batch = tuple[int, list[bytes] | None]  # (choice index, events read together); None ends that stream


class _One:
    """The batches of a single stream (n = 1, nearly every request), read directly."""

    def __init__(self, stream: Stream) -> None:
        self._stream = stream

    async def next(self) -> Batch:
        return 0, await self._stream.next_batch()

    async def aclose(self) -> None:
        await self._stream.aclose()


class _Merged:
    """The batches of n streams as they arrive, each read by its own task."""

    def __init__(self, streams: Sequence[Stream]) -> None:
        self._queue: asyncio.Queue[Batch | BaseException] = asyncio.Queue()
        self._tasks = [asyncio.create_task(self._pump(i, s)) for i, s in enumerate(streams)]

    async def _pump(self, index: int, stream: Stream) -> None:
        try:
            while (batch := await stream.next_batch()) is not None:
                await self._queue.put((index, batch))
            await self._queue.put((index, None))
        except BaseException as exc:  # handed to the consumer, which decides
            await self._queue.put(exc)
        finally:
            await stream.aclose()

    async def next(self) -> Batch:
        item = await self._queue.get()
        if isinstance(item, BaseException):
            raise item
        return item

    async def aclose(self) -> None:
        for task in self._tasks:
            task.cancel()


class _EarlyHead:
    """When to send the head and role chunks before any content: once events without content have been
    arriving for HEAD_AFTER seconds (a model still queued or thinking), so the client is not left with not
    one byte. Looked at only on batches with no deltas; a normal stream never pays for it."""

    HEAD_AFTER = 1.0

    def __init__(self) -> None:
        self._since: float | None = None

    def due(self) -> bool:
        now = asyncio.get_running_loop().time()
        if self._since is None:
            self._since = now
        return now - self._since >= self.HEAD_AFTER


async def translate(
    streams: Sequence[Stream],
    states: Sequence[StreamState],
    writer: Framer,
    roles: bytes,
    include_usage: bool,
    prompt_tokens: Callable[[], int],
    *,
    count: Callable[[int, int], None] | None = None,
) -> AsyncIterator[bytes]:
    """The client's SSE body: role, deltas as they arrive, finish reasons, optional usage, [DONE].

    What arrives together leaves together (one write instead of one per event): the role chunks
    (`roles`, made beforehand) leave with the first deltas, so the client wakes once before its first
    token, not twice, and the deltas read with the upstream's [DONE] leave with the finish frames. A stream
    that sends only empty events gets its head early (`_EarlyHead`) and ends after the read timeout.
    `prompt_tokens` is called only if Workers AI reports no usage. `count` gets the tokens of a stream that
    ended well (prompt, completion)."""
    pending = roles
    for stream, state in zip(streams, states, strict=True):
        stream.watch(state.progress)  # a stream of empty events ends after the read timeout too
    source = _One(streams[0]) if len(streams) == 1 else _Merged(streams)
    ended, early = 0, None
    try:
        while ended < len(states):
            index, batch = await source.next()
            state = states[index]
            if batch is None:
                if not state.done:
                    raise stream_truncated()
                ended += 1
                continue
            deltas = state.feed_batch(batch)
            if state.done and all(s.done for s in states):
                # [DONE] everywhere, or stop sequences cut every answer: close the upstream. The last
                # deltas leave with the finish frames and [DONE], in one write.
                pending += writer.frames(index, deltas)
                break
            if deltas:
                yield pending + writer.frames(index, deltas)
                pending = b""
            elif pending and (early := early or _EarlyHead()).due():  # only empty events so far: the head, now
                yield pending
                pending = b""
    except GatewayError as error:
        log.warning("stream failed after it started: %s", error.message)
        yield pending + writer.error(error)
        return
    finally:
        await source.aclose()
    finish = writer.finish(states, include_usage, prompt_tokens)
    if count is not None:
        usage = stream_usage(states, prompt_tokens)
        count(usage.prompt_tokens, usage.completion_tokens)
    yield pending + finish


def finish_frames(
    states: Sequence[StreamState], writer: ChunkWriter, include_usage: bool, prompt_tokens: Callable[[], int]
) -> list[bytes]:
    frames: list[bytes] = []
    for index, state in enumerate(states):
        held, finish_reason = state.finish()
        frames.append(writer.frames(index, held))
        frames.append(writer.delta(index, {}, finish_reason))
    if include_usage:
        frames.append(writer.usage(stream_usage(states, prompt_tokens)))
    frames.append(DONE)
    return frames


def stream_usage(states: Sequence[StreamState], prompt_tokens: Callable[[], int]) -> Usage:
    """The usage of finished streams: the prompt counted once, however many choices were asked for;
    estimated where Workers AI reported none."""
    usages = [state.usage or Usage(prompt_tokens(), tokens_for_chars(state.completion_chars)) for state in states]
    return usages[0].with_completion(sum(u.completion_tokens for u in usages))


async def replay(frames: list[bytes]) -> AsyncIterator[bytes]:
    """An answer that was computed whole, sent as a stream (in one write)."""
    yield b"".join(frames)
