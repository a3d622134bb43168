"""Fault injection: queued, per-model failures and delays that tests ask for over /__emulator/faults."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from http import HTTPStatus
from typing import Any

from starlette.responses import Response

from app.emulator.envelope import CODE_STATUS, DEFAULT_TEXT, EmulatorError, error_response, request_id

# A status-only fault gets the code Workers AI uses for that status.
STATUS_CODE: dict[int, int] = {400: 5006, 401: 10000, 403: 5018, 404: 3042, 408: 3007, 413: 3006, 429: 3040}
ROUTING_CODES = frozenset({7003, 10000})
_INT_FIELDS: tuple[str, ...] = ("times", "status", "code", "latency_ms", "chunk_delay_ms", "cut_stream_after")
_INT_FIELDS += ("malformed_event_after", "empty_events_ms", "chunk_delay_at")
_BOOL_FIELDS = ("result_null", "success_false_200", "non_json", "no_code")


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


class FaultSpecError(ValueError):
    """A POST /__emulator/faults body that does not describe a fault."""


@dataclass
class Fault:
    """One queued fault; `times` counts down as matching calls consume it."""

    model: str = "*"
    account: str = "*"  # only calls on this account id consume it (several-account tests)
    times: int = 1
    status: int | None = None
    code: int | None = None
    message: str | None = None
    result_null: bool = False
    success_false_200: bool = False
    non_json: bool = False
    latency_ms: int = 0
    chunk_delay_ms: int = 0
    chunk_delay_at: int | None = None  # one silence of chunk_delay_ms, before this event only (0: the first)
    cut_stream_after: int | None = None
    malformed_event_after: int | None = None
    empty_events_ms: int = 0  # a stream sends only empty events (`{"response":"","p":...}`) this long first
    no_code: bool = False

    @classmethod
    def parse(cls, body: Any) -> Fault:
        if not isinstance(body, dict):
            raise FaultSpecError("the fault must be a JSON object")
        body = {name: value for name, value in body.items() if value is not None}  # null means "default"
        known = {item.name for item in fields(cls)}
        unknown = sorted(set(body) - known)
        if unknown:
            raise FaultSpecError(f"unknown fault fields: {', '.join(unknown)}")
        for name in _INT_FIELDS:
            value = body.get(name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
                raise FaultSpecError(f"{name} must be a non-negative integer")
        for name in _BOOL_FIELDS:
            if not isinstance(body.get(name, False), bool):
                raise FaultSpecError(f"{name} must be a boolean")
        for name in ("model", "account", "message"):
            if name in body and not isinstance(body[name], str):
                raise FaultSpecError(f"{name} must be a string")
        fault = cls(**body)
        if fault.times < 1:
            raise FaultSpecError("times must be at least 1")
        return fault

    def delay_before(self, index: int) -> float:
        """Seconds a stream waits before its event `index`: between every two, or only before `chunk_delay_at`."""
        due = index > 0 if self.chunk_delay_at is None else index == self.chunk_delay_at
        return self.chunk_delay_ms / 1000 if due else 0.0

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def is_error(self) -> bool:
        flags = (self.result_null, self.success_false_200, self.non_json, self.no_code)
        return self.status is not None or self.code is not None or self.message is not None or any(flags)

    def matches(self, model: str, account: str = "") -> bool:
        return self.model in ("*", model) and self.account in ("*", account)

    def response(self) -> Response:
        """The error answer this fault stands for."""
        if self.non_json:
            return self._non_json()
        error = self.error()
        return error_response(error, status=200 if self.success_false_200 else error.status)

    def error(self) -> EmulatorError:
        code = self.code
        if code is None:
            code = STATUS_CODE.get(self.status or 500, 8005)
        status = self.status if self.status is not None else CODE_STATUS.get(code, 500)
        routing = code in ROUTING_CODES
        message = self.message
        if message is None:
            text = DEFAULT_TEXT.get(code, _phrase(status))
            message = text if routing else f"AiError: AiError: {text} ({request_id()})"
        return EmulatorError(
            status, None if self.no_code else code, message, routing=routing, result_null=self.result_null
        )

    def _non_json(self) -> Response:
        status = self.status or 502
        if self.message is not None:
            return Response(self.message, status_code=status, media_type="text/plain")
        phrase = _phrase(status)
        page = (
            f"<html>\r\n<head><title>{status} {phrase}</title></head>\r\n<body>\r\n<center><h1>{status} "
            f"{phrase}</h1></center>\r\n<hr><center>cloudflare</center>\r\n</body>\r\n</html>\r\n"
        )
        return Response(page, status_code=status, media_type="text/html")


class FaultQueue:
    """Faults in the order they were queued; the first one matching a call is consumed."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []

    def add(self, fault: Fault) -> None:
        self._faults.append(fault)

    def clear(self) -> None:
        self._faults.clear()

    def pending(self) -> list[dict[str, Any]]:
        return [fault.to_json() for fault in self._faults]

    def take(self, model: str, account: str = "") -> Fault | None:
        for fault in self._faults:
            if fault.matches(model, account):
                fault.times -= 1
                if fault.times == 0:
                    self._faults.remove(fault)
                return fault
        return None
