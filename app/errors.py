"""The GatewayError hierarchy and the one renderer of OpenAI-shaped error JSON."""

from __future__ import annotations

from http import HTTPStatus

import orjson
from starlette.responses import Response

JSON = "application/json"


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
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if status_code is not None:
            self.status_code = status_code
        if error_type is not None:
            self.error_type = error_type
        self.param = param
        self.code = code
        self.headers = headers or {}

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

    def __init__(self, message: str = "Incorrect API key provided.") -> None:
        super().__init__(message, code="invalid_api_key")


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


def error_body(
    status_code: int,
    message: str | None = None,
    *,
    code: str | None = None,
    error_type: str = "invalid_request_error",
) -> bytes:
    """Render an error raised outside the gateway's own code (unknown route, wrong method, ...)."""
    message = message or HTTPStatus(status_code).phrase
    return render(GatewayError(message, status_code=status_code, error_type=error_type, code=code))


def error_response(error: GatewayError) -> Response:
    return Response(render(error), status_code=error.status_code, media_type=JSON, headers=error.headers)


def internal_error_response() -> Response:
    """A failure of the gateway's own: a plain message, never a stack trace."""
    body = error_body(
        500, "The gateway failed to handle this request.", code="internal_error", error_type="server_error"
    )
    return Response(body, status_code=500, media_type=JSON)


def render(error: GatewayError) -> bytes:
    return orjson.dumps(error.to_dict())


def render_sse(error: GatewayError) -> bytes:
    """An error after a stream has started: sent in-band, then the stream ends with [DONE]."""
    return b"data: " + render(error) + b"\n\ndata: [DONE]\n\n"
