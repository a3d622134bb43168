"""Turn handler Outputs into responses; event streams are paced and faulted here, event by event."""

from __future__ import annotations

from typing import Any

import anyio
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from app.emulator.envelope import json_response, success
from app.emulator.faults import Fault
from app.emulator.outputs import BinaryResult, JsonResult, Output, PlainJson

MALFORMED_EVENT = b"data: {not json\n\n"
EMPTY_EVENT = b'data: {"response":"","p":"abcdefgh"}\n\n'  # what a model still queued or thinking sends
EMPTY_EVERY = 0.1  # seconds between empty events


class PacedEventStream(Response):
    """`text/event-stream` that sends each event as its own body message, so clients see it at once.

    With a fault it first sends only empty events for `empty_events_ms`, then waits `chunk_delay_ms` between
    events (with `chunk_delay_at`, once: before that event), inserts a malformed event after
    `malformed_event_after` events, or sends `cut_stream_after` events and then drops the connection
    without ever sending `[DONE]` (the ASGI server closes a response that never completes).
    """

    def __init__(self, events: list[bytes], fault: Fault | None = None, outcomes: dict[str, int] | None = None) -> None:
        # No Response.__init__: it would add `content-length: 0`; the body here is streamed.
        self.status_code = 200
        self.background = None
        self.raw_headers = [(b"content-type", b"text/event-stream"), (b"cache-control", b"no-cache")]
        self.events = events
        self.fault = fault or Fault()
        self.outcomes = outcomes if outcomes is not None else {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        outcome = "disconnected"
        async with anyio.create_task_group() as group:
            group.start_soon(self._cancel_on_disconnect, receive, group.cancel_scope)
            outcome = "completed" if await self._send_events(send) else "cut"
            group.cancel_scope.cancel()
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1
        if outcome == "completed":
            await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def _send_events(self, send: Send) -> bool:
        fault = self.fault
        for _ in range(fault.empty_events_ms // int(EMPTY_EVERY * 1000)):
            await send({"type": "http.response.body", "body": EMPTY_EVENT, "more_body": True})
            await anyio.sleep(EMPTY_EVERY)
        cut = fault.cut_stream_after
        if cut is not None:
            cut = min(cut, len(self.events) - 1)  # never [DONE]
        for index, event in enumerate(self.events):
            if index == cut:
                return False
            if index == fault.malformed_event_after:
                await send({"type": "http.response.body", "body": MALFORMED_EVENT, "more_body": True})
            if delay := fault.delay_before(index):
                await anyio.sleep(delay)
            await send({"type": "http.response.body", "body": event, "more_body": True})
        return True

    @staticmethod
    async def _cancel_on_disconnect(receive: Receive, scope: Any) -> None:
        while (await receive())["type"] != "http.disconnect":
            pass
        scope.cancel()


def render(output: Output, fault: Fault | None = None, outcomes: dict[str, int] | None = None) -> Response:
    """The HTTP response for a handler's Output."""
    if isinstance(output, JsonResult):
        return success(output.result)
    if isinstance(output, PlainJson):
        return json_response(output.body)
    if isinstance(output, BinaryResult):
        return Response(output.body, media_type=output.media_type)
    return PacedEventStream(output.events, fault, outcomes)
