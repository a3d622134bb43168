"""One request's record (`Exchange`), its request id, and what is done with it when it ends: the
request counter, the token counters and one log line.

Cost on every request, measured on the dev machine: `logging.info` with the default formatter is 9.2 us
a line, writing the line ourselves 0.6 us. So request lines do not go through `logging`: `RequestLog`
formats one line (plain text or one JSON object) and hands it to `LineSink`, which writes the lines of
one event-loop iteration in one write. The other log lines (start-up, warnings) stay with `logging`,
formatted the same way (`app/ops/logs.py`).
"""

from __future__ import annotations

import asyncio
import itertools
import os
import re
import sys
import time
from contextvars import ContextVar
from typing import IO, Any

import orjson

from app.ops.metrics import Metrics

EXCHANGE = "gateway.exchange"  # the scope slot handlers record into (model, tokens, upstream time)
REQUEST_ID_HEADER = b"x-request-id"
SUBSTITUTED_HEADER = b"x-model-substituted"  # "<retired id> -> <the model that ran>"
# A client's id is kept if it is 1-128 token characters (RFC 9110 tchar, and :/=@): nothing that could
# break a log line or a header; else one is made.
_SANE_ID = re.compile(rb"[A-Za-z0-9!#$%&'*+.^_`|~:/=@-]{1,128}")
PLAIN = "%s,%03d INFO app.requests: %s %s %d model=%s account=%s %.1fms upstream=%.1fms tokens=%d+%d id=%s\n"
PLAIN_NO_UPSTREAM = "%s,%03d INFO app.requests: %s %s %d model=%s account=%s %.1fms upstream=- tokens=%d+%d id=%s\n"
FLUSH_AFTER = 0.1  # seconds a request line may wait, so that under load many leave in one write


class Exchange:
    """What one request did, filled in as it is served (`request.scope[EXCHANGE]`)."""

    # Class-level defaults: a request sets only what it has (one attribute set costs as much as a line).
    model = ""
    replaced = ""  # the retired model id the request named, when its replacement ran instead
    account = ""  # the Cloudflare account the call ran on, masked (the last one, if it failed over)
    prompt_tokens = 0
    completion_tokens = 0
    upstream_seconds: float | None = None
    body: bytes | None = None  # the request body, kept only with LOG_PROMPTS

    def __init__(self, request_id: bytes) -> None:
        self.request_id = request_id

    def use(self, model_id: str, replaces: str) -> None:
        """The model that serves the request (and the retired id it stands in for, if any)."""
        self.model = model_id
        if replaces:
            self.replaced = replaces

    def substitution(self) -> tuple[bytes, bytes] | None:
        """The x-model-substituted header of an answer given by a retired model's replacement."""
        if not self.replaced:
            return None
        return SUBSTITUTED_HEADER, f"{self.replaced} -> {self.model}".encode()

    def count(self, prompt: int, completion: int) -> None:
        """Tokens of the answer (summed, for a request that makes several upstream calls)."""
        self.prompt_tokens += prompt
        self.completion_tokens += completion


# The request being served, for what only the upstream layer knows (the account a call ran on). Set once a
# request by the fast lane; tasks a request starts (concurrent calls) see the same record.
CURRENT: ContextVar[Exchange | None] = ContextVar("gateway_exchange", default=None)


class RequestIds:
    """Accepts a sane client `X-Request-ID`, else makes one: 32 hex digits, a random prefix per process and
    a counter (unique across processes and restarts, and no randomness drawn per request)."""

    def __init__(self) -> None:
        self._prefix = os.urandom(10).hex().encode()
        self._counter = itertools.count(1)

    def of(self, headers: list[tuple[bytes, bytes]]) -> bytes:
        given = dict(headers).get(REQUEST_ID_HEADER)  # one C call; a loop over the headers costs a line each
        if given is not None and _SANE_ID.fullmatch(given):
            return given
        return b"%s%012x" % (self._prefix, next(self._counter))


class LineSink:
    """Writes log lines to a stream, at most FLUSH_AFTER seconds late, those that came meanwhile in one write
    (a write and flush per line cost about as much as formatting it)."""

    def __init__(self, stream: IO[str] | None = None) -> None:
        self._stream = stream
        self._pending: list[str] = []

    def write(self, line: str) -> None:
        if not self._pending:
            asyncio.get_running_loop().call_later(FLUSH_AFTER, self.flush)
        self._pending.append(line)

    def flush(self) -> None:
        if not self._pending:
            return
        lines, self._pending = self._pending, []
        stream = self._stream or sys.stderr
        stream.write("".join(lines))
        stream.flush()


class RequestLog:
    """Feeds the request and token counters, and writes one line per request (unless LOG_REQUESTS=false)."""

    def __init__(self, metrics: Metrics, *, enabled: bool, json: bool, prompts: bool, sink: LineSink) -> None:
        self.metrics = metrics
        self.enabled = enabled
        self.json = json
        self.prompts = prompts
        self.sink = sink
        self._second = -1
        self._stamp = ""

    def done(self, exchange: Exchange, method: str, route: str, status: int, started: float) -> None:
        model = exchange.model
        self.metrics.request(route, model, status, exchange.prompt_tokens, exchange.completion_tokens)
        if exchange.replaced:
            self.metrics.substitution(exchange.replaced, model)
        if self.enabled:
            self.sink.write(self._line(exchange, method, route, status, (time.perf_counter() - started) * 1000))

    def _line(self, exchange: Exchange, method: str, route: str, status: int, ms: float) -> str:
        now = time.time()
        up = exchange.upstream_seconds
        if self.json:
            fields: dict[str, Any] = {
                "time": self._time(now),
                "level": "INFO",
                "logger": "app.requests",
                "request_id": exchange.request_id.decode("latin-1"),
                "method": method,
                "route": route,
                "model": exchange.model or None,
                "account": exchange.account or None,
                "status": status,
                "duration_ms": round(ms, 2),
                "upstream_ms": None if up is None else round(up * 1000, 2),
                "prompt_tokens": exchange.prompt_tokens,
                "completion_tokens": exchange.completion_tokens,
            }
            if exchange.replaced:
                fields["retired"] = exchange.replaced
            if self.prompts and exchange.body is not None:
                fields["body"] = exchange.body.decode("utf-8", "replace")
            return orjson.dumps(fields).decode() + "\n"
        stamp = self._stamp if int(now) == self._second else self._new_second(now)
        milli = (now % 1) * 1000
        rid = exchange.request_id.decode("latin-1")
        who = (method, route, status, exchange.model or "-", exchange.account or "-", ms)
        prompt, completion = exchange.prompt_tokens, exchange.completion_tokens
        if up is None:
            line = PLAIN_NO_UPSTREAM % (stamp, milli, *who, prompt, completion, rid)
        else:
            line = PLAIN % (stamp, milli, *who, up * 1000, prompt, completion, rid)
        if exchange.replaced:  # the request named a retired model; `model=` is its replacement, which ran
            line = f"{line[:-1]} retired={exchange.replaced}\n"
        if self.prompts and exchange.body:
            line = f"{line[:-1]} body={exchange.body.decode('utf-8', 'replace')!r}\n"
        return line

    def _new_second(self, now: float) -> str:
        self._second = int(now)
        self._stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(self._second))
        return self._stamp

    def _time(self, now: float) -> str:
        """Like logging's asctime (2026-12-03 07:39:50,123)."""
        stamp = self._stamp if int(now) == self._second else self._new_second(now)
        return f"{stamp},{int((now % 1) * 1000):03d}"
