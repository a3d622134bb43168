"""Cloudflare's v4 envelopes: the success wrapper and every error body the emulator sends."""

from __future__ import annotations

import uuid
from typing import Any

import orjson
from starlette.responses import Response

# Internal code -> HTTP status, from the Workers AI errors page and codes seen in the wild.
CODE_STATUS: dict[int, int] = {
    3003: 400,
    3006: 413,
    3007: 408,
    3008: 408,
    3010: 400,
    3023: 403,
    3030: 400,
    3036: 429,
    3040: 429,
    3041: 403,
    3042: 404,
    4006: 429,
    5004: 400,
    5006: 400,
    5007: 400,
    5016: 403,
    5018: 403,
    5035: 403,
    7003: 404,
    8005: 500,
    10000: 401,
}

DEFAULT_TEXT: dict[int, str] = {
    3006: "Request is too large",
    3007: "Request timeout",
    3036: "You have used up your daily free allocation of 10,000 neurons. Please upgrade to Cloudflare's "
    "Workers Paid plan if you would like to continue usage.",
    3040: "Capacity temporarily exceeded, please try again.",
    4006: "you have used up your daily free allocation of 10,000 neurons, please upgrade to Cloudflare's "
    "Workers Paid plan if you would like to continue usage.",
    5016: "User has not agreed to Llama3.2 model terms",
    8005: "Internal Server Error",
}


class EmulatorError(Exception):
    """An error answer. `routing` errors come from the API layer: result null, code before message."""

    def __init__(
        self,
        status: int,
        code: int | None,
        message: str,
        *,
        routing: bool = False,
        result_null: bool = False,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.routing = routing
        self.result_null = result_null or routing

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"message": self.message}
        if self.code is not None:
            error = {"code": self.code, "message": self.message} if self.routing else {**error, "code": self.code}
        if self.routing:
            return {"result": None, "success": False, "errors": [error], "messages": []}
        result: dict[str, Any] | None = None if self.result_null else {}
        return {"errors": [error], "success": False, "result": result, "messages": []}


class SchemaError(EmulatorError):
    """A 5006 schema validation failure; `detail` is the validator's text without the prefix."""

    def __init__(self, detail: str) -> None:
        super().__init__(400, 5006, f"AiError: Bad input: Error: {detail}")
        self.detail = detail


def request_id() -> str:
    return str(uuid.uuid4())


def ai_error(code: int, text: str | None = None) -> EmulatorError:
    """A model error: `AiError: AiError: <text> (<request id>)` with the code's HTTP status."""
    text = text if text is not None else DEFAULT_TEXT.get(code, "Internal Server Error")
    return EmulatorError(CODE_STATUS.get(code, 500), code, f"AiError: AiError: {text} ({request_id()})")


def bad_input(detail: str) -> SchemaError:
    """Schema validation failure (5006), worded like the real validator."""
    return SchemaError(detail)


def no_such_model(model: str) -> EmulatorError:
    return ai_error(5007, f"No such model {model} or task")


def context_overflow(tokens: int, window: int) -> EmulatorError:
    return ai_error(3030, f"Max context reached {tokens} tokens but model supports only {window}")


def route_error(path: str) -> EmulatorError:
    message = f"Could not route to {path}, perhaps your object identifier is invalid?"
    return EmulatorError(404, 7003, message, routing=True)


def auth_error() -> EmulatorError:
    return EmulatorError(401, 10000, "Authentication error", routing=True)


def too_large(limit: int) -> EmulatorError:
    return ai_error(3006, f"Request is too large (limit {limit} bytes)")


def json_response(content: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(content), status_code=status, media_type="application/json")


def success(result: Any, **extra: Any) -> Response:
    """`{"result": ..., "success": true, "errors": [], "messages": []}` (extra keys such as result_info)."""
    body: dict[str, Any] = {"result": result}
    body.update(extra)
    body.update(success=True, errors=[], messages=[])
    return json_response(body)


def error_response(error: EmulatorError, *, status: int | None = None) -> Response:
    return json_response(error.body(), error.status if status is None else status)
