"""The GatewayError hierarchy and the one renderer of error JSON in each dialect: OpenAI's, Anthropic's,
DeepL's and DeepLX's (which routes speak which: app/dialects.py and each route's declaration)."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import orjson

from app.http_responses import JSONBytes


class GatewayError(Exception):
    """An error a client sees: an HTTP status and OpenAI's `{"error": {...}}` fields."""

    status_code = 500
    error_type = "server_error"

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        error_type: str | None = None,
        param: str | None = None,
        code: str | int | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if status_code is not None:
            self.status_code = status_code
        if error_type is not None:
            self.error_type = error_type
        self.param = param
        self.code = code
        self.headers = dict(headers or {})

    def to_dict(self) -> dict[str, object]:
        return {
            "error": {
                "message": self.message,
                "type": self.error_type,
                "param": self.param,
                "code": self.code,
            }
        }


class InvalidRequest(GatewayError):
    status_code = 400
    error_type = "invalid_request_error"


class AuthenticationFailed(GatewayError):
    status_code = 401
    error_type = "invalid_request_error"

    def __init__(self, message: str = "Incorrect API key provided.", *, code: str = "invalid_api_key") -> None:
        super().__init__(message, code=code)


class NotFound(GatewayError):
    status_code = 404
    error_type = "invalid_request_error"


class ModelNotFound(NotFound):
    def __init__(self, model: str, reason: str = "does not exist") -> None:
        super().__init__(f"The model `{model}` {reason}.", param="model", code="model_not_found")


class PayloadTooLarge(GatewayError):
    status_code = 413
    error_type = "invalid_request_error"


class UpstreamError(GatewayError):
    """Workers AI or the path to it failed; status, type and code come from the upstream table."""

    status_code = 502
    error_type = "upstream_error"
    upstream_code: int | None = None  # Workers AI's own error code, when its answer named one
    upstream_status: int = 0  # the HTTP status of an answer that was not Workers AI's JSON


class InternalError(GatewayError):
    """A failure of the gateway's own: a plain message, never a stack trace."""

    def __init__(self) -> None:
        super().__init__("The gateway failed to handle this request.", code="internal_error")


def error_response(error: GatewayError) -> JSONBytes:
    """The one way an error leaves the gateway: OpenAI's JSON, its status and headers."""
    return JSONBytes(render(error), error.status_code, error.headers)


def render(error: GatewayError) -> bytes:
    return orjson.dumps(error.to_dict())


def render_sse(error: GatewayError) -> bytes:
    """An error after a stream has started: sent in-band, then the stream ends with [DONE]."""
    return b"data: " + render(error) + b"\n\ndata: [DONE]\n\n"


# The translation dialects: the same errors, in the shapes DeepLX and DeepL clients parse.
KEY_REFUSED = "Invalid access token"  # what DeepLX answers a missing or wrong token


def deeplx_response(error: GatewayError) -> JSONBytes:
    """DeepLX: `{"code": N, "message": "..."}` with HTTP status N; Workers AI failures are 503s."""
    status = error.status_code
    message = error.message
    if status >= 500:
        status, message = 503, f"Translation failed: {message}"
    elif error.code == "invalid_api_key":
        message = KEY_REFUSED
    return JSONBytes(orjson.dumps({"code": status, "message": message}), status, error.headers)


def deepl_response(error: GatewayError) -> JSONBytes:
    """DeepL API: `{"message": "..."}`; a refused key is a 403, the used-up daily allowance a 456."""
    status = error.status_code
    message = error.message
    if status == 401:
        status = 403
        message = KEY_REFUSED if error.code == "invalid_api_key" else message
    elif error.code == "daily_limit_exceeded":
        status = 456
    elif status >= 500 and status != 504:
        status = 503
    return JSONBytes(orjson.dumps({"message": message}), status, error.headers)


# Anthropic's Messages API: `{"type": "error", "error": {"type", "message"}}` with its statuses and types.
ANTHROPIC_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    504: "timeout_error",
    529: "overloaded_error",
}


def anthropic_error(error: GatewayError) -> tuple[int, bytes]:
    """The status and body: Workers AI failing is a 500 `api_error`, too slow a 504 `timeout_error`, no free
    upstream connection a 529 `overloaded_error`; other 4xx keep their status as `invalid_request_error`."""
    status = error.status_code
    if status == 503:
        status = 529
    elif status == 504 or (status == 408 and error.error_type == "upstream_error"):  # Workers AI gave up
        status = 504  # (a client too slow to send its request keeps its 408)
    elif status >= 500:
        status = 500
    kind = ANTHROPIC_TYPES.get(status, "invalid_request_error")
    message = error.message
    if error.param and error.param not in message:  # Anthropic's error has no `param`: its message names it
        message = f"{error.param}: {message}"
    return status, orjson.dumps({"type": "error", "error": {"type": kind, "message": message}})


def anthropic_response(error: GatewayError) -> JSONBytes:
    status, body = anthropic_error(error)
    return JSONBytes(body, status, error.headers)


def anthropic_sse(error: GatewayError) -> bytes:
    """An error after an Anthropic stream started: an `error` event (the SDKs raise it)."""
    return b"event: error\ndata: " + anthropic_error(error)[1] + b"\n\n"


Renderer = Callable[[GatewayError], JSONBytes]  # one per dialect (app/dialects.py)
