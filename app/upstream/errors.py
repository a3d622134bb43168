"""Workers AI failures -> GatewayError, through one table (never by matching message text)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

import orjson

from app.errors import UpstreamError


class Mapping(NamedTuple):
    status: int
    type: str
    code: str


_BAD_REQUEST = Mapping(400, "invalid_request_error", "invalid_request")
_FORBIDDEN = Mapping(403, "invalid_request_error", "model_access_denied")
_NOT_FOUND = Mapping(404, "invalid_request_error", "model_not_found")
_TOO_LARGE = Mapping(413, "invalid_request_error", "request_too_large")
_DAILY_QUOTA = Mapping(429, "requests", "daily_limit_exceeded")
_BUSY = Mapping(429, "requests", "rate_limit_exceeded")
_UPSTREAM = Mapping(502, "upstream_error", "upstream_error")
_TIMEOUT = Mapping(504, "upstream_error", "upstream_timeout")

# Workers AI internal codes (reference workers-ai-api.md section 8). 429s never say `insufficient_quota`
# and nothing maps to 401 here: OneAPI disables a channel on either (clients-and-peers.md section 0).
CODES: dict[int, Mapping] = {
    5006: _BAD_REQUEST,
    5004: _BAD_REQUEST,
    3030: Mapping(400, "invalid_request_error", "context_length_exceeded"),
    5007: _NOT_FOUND._replace(status=400),
    3003: _BAD_REQUEST,
    3039: _BAD_REQUEST,
    5016: Mapping(403, "invalid_request_error", "model_terms_not_accepted"),
    5018: _FORBIDDEN,
    3041: _FORBIDDEN,
    3023: Mapping(403, "invalid_request_error", "account_blocked"),
    5035: Mapping(403, "invalid_request_error", "paid_plan_required"),
    3042: _NOT_FOUND,
    7003: Mapping(404, "invalid_request_error", "upstream_route_not_found"),
    7000: Mapping(404, "invalid_request_error", "upstream_route_not_found"),
    3006: _TOO_LARGE,
    3007: _TIMEOUT,
    3008: Mapping(408, "upstream_error", "upstream_aborted"),
    4006: _DAILY_QUOTA,
    3036: _DAILY_QUOTA,
    3040: _BUSY,
}

# When the body names no code, the HTTP status decides.
STATUSES: dict[int, Mapping] = {
    400: _BAD_REQUEST,
    403: _FORBIDDEN,
    404: _NOT_FOUND,
    408: Mapping(408, "upstream_error", "upstream_timeout"),
    413: _TOO_LARGE,
    429: _BUSY,
}

AUTH_CODE = 10000
# Cloudflare AI Gateway's own: an authenticated gateway refused the request (no or a wrong
# `cf-aig-authorization`; the account's API token is not accepted there). The gateway's setting, never the client's.
AI_GATEWAY_AUTH_CODE = 2009
BUSY_RETRY_AFTER = 2
_NOISE = re.compile(r"^(?:(?:AiError|InferenceUpstreamError|Error):\s*)+|\s*\([0-9a-f-]{8,36}\)\s*$")


def clean_message(message: str) -> str:
    """Workers AI's explanation without the `AiError: ` prefixes and the request id suffix."""
    return _NOISE.sub("", message.strip()) or "unknown error"


def seconds_to_utc_midnight(now: datetime | None = None) -> int:
    now = now or datetime.now(UTC)
    midnight = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return max(1, int((midnight - now).total_seconds()))


def from_envelope(status: int, body: bytes, *, client_token: bool) -> UpstreamError:
    """Map an error answer (any status, or 200 with success:false) to the error the client sees."""
    try:
        parsed = orjson.loads(body) if body else None
    except orjson.JSONDecodeError:
        parsed = None
    if not isinstance(parsed, dict):
        if status == 429:  # Cloudflare's edge rate limiting, as an HTML page: still a rate limit
            error = UpstreamError(
                "Workers AI is rate limiting this account (HTTP 429, a page that is not JSON).",
                status_code=_BUSY.status,
                error_type=_BUSY.type,
                code=_BUSY.code,
                headers=_retry_after(_BUSY),
            )
        else:
            error = UpstreamError(
                f"Workers AI answered HTTP {status} with a body that is not JSON.",
                code="upstream_bad_response",
            )
        error.upstream_status = status  # a 5xx page from Cloudflare's edge, or a 429: worth another account
        return error
    other = parsed.get("error")
    # `errors: [...]` (Workers AI), `error: [...]` (AI Gateway's own envelope), `error: {...}` (/ai/v1, vLLM)
    errors = parsed.get("errors") or (other if isinstance(other, list) else None) or []
    first = errors[0] if errors and isinstance(errors[0], dict) else {}
    if not first and isinstance(other, dict):
        first = other
    code = first.get("code")
    if code is None:  # AI Gateway's `{"name": "AiGatewayError", "internalCode": 2009, ...}`
        code = first.get("internalCode", parsed.get("internalCode"))
    message = clean_message(str(first.get("message") or parsed.get("message") or other or f"HTTP {status}"))
    if code == AI_GATEWAY_AUTH_CODE:
        return _ai_gateway_auth_error(message)
    if code == AUTH_CODE or (status == 401 and code is None):
        return _auth_error(message, client_token=client_token)
    # A known code decides; an unknown code is Workers AI's own failure (502); no code: the HTTP status.
    if isinstance(code, int):
        mapping = CODES.get(code, _UPSTREAM)
    else:
        mapping = STATUSES.get(status, _UPSTREAM)
    label = f"Workers AI error {code}" if isinstance(code, int) else f"Workers AI error (HTTP {status})"
    error = UpstreamError(
        f"{label}: {message}",
        status_code=mapping.status,
        error_type=mapping.type,
        code=mapping.code,
        headers=_retry_after(mapping),
    )
    error.upstream_code = code if isinstance(code, int) else None  # the account pool reads it (7003)
    return error


def _auth_error(message: str, *, client_token: bool) -> UpstreamError:
    if client_token:
        # Passthrough: the client's own Cloudflare token was refused; that is the client's to fix.
        return UpstreamError(
            f"Cloudflare rejected the API token you sent ({message}). Send a token with Workers AI "
            "permissions, as `TOKEN` or `ACCOUNT_ID:TOKEN`.",
            status_code=401,
            error_type="invalid_request_error",
            code="invalid_api_key",
        )
    return UpstreamError(
        f"Cloudflare rejected the gateway's own API token ({message}). This is a server configuration "
        "problem: the operator must set a valid CF_API_TOKEN with Workers AI permissions.",
        code="upstream_auth_failed",
    )


def _ai_gateway_auth_error(message: str) -> UpstreamError:
    """A 502, not a 401: the token is the operator's (CF_AI_GATEWAY_TOKEN), and OneAPI disables a channel
    on a 401. Never retried on another account: they all send the same token."""
    error = UpstreamError(
        f"Cloudflare AI Gateway refused the request ({AI_GATEWAY_AUTH_CODE}: {message}). This is a server "
        "configuration problem: the gateway is authenticated and CF_AI_GATEWAY_TOKEN is missing or wrong (it "
        "takes the gateway's own token, made in its settings, not the account's API token).",
        code="ai_gateway_auth_failed",
    )
    error.upstream_code = AI_GATEWAY_AUTH_CODE
    return error


def _retry_after(mapping: Mapping) -> dict[str, str]:
    if mapping is _DAILY_QUOTA:
        return {"Retry-After": str(seconds_to_utc_midnight())}
    if mapping is _BUSY:
        return {"Retry-After": str(BUSY_RETRY_AFTER)}
    return {}


def timeout_error(message: str = "Workers AI did not answer in time.") -> UpstreamError:
    """A 504 `upstream_timeout`; `message` names the setting that ran out where one is known."""
    return UpstreamError(message, status_code=504, error_type="upstream_error", code="upstream_timeout")


def stream_truncated(how: str = "") -> UpstreamError:
    return UpstreamError(f"Workers AI ended the stream before it finished{how}.", code="upstream_stream_truncated")


def connection_error(reason: str) -> UpstreamError:
    return UpstreamError(f"Could not reach Workers AI: {reason}", code="upstream_unreachable")


def pool_busy() -> UpstreamError:
    """Every upstream connection stayed busy for the whole time limit (UPSTREAM_MAX_CONNECTIONS): a 503
    with Retry-After, the gateway's own capacity, not Workers AI's slowness (which is a 504)."""
    return UpstreamError(
        "Every connection to Workers AI stayed busy for the request's whole time limit "
        "(UPSTREAM_MAX_CONNECTIONS); retry shortly.",
        status_code=503,
        error_type="upstream_error",
        code="upstream_busy",
        headers={"Retry-After": str(BUSY_RETRY_AFTER)},
    )


def bad_response(reason: str) -> UpstreamError:
    """An answer no HTTP client should accept: malformed, over the size cap, undecodable."""
    return UpstreamError(f"Workers AI sent an unusable answer: {reason}.", code="upstream_bad_response")


def proxy_failed(reason: str) -> UpstreamError:
    """`reason` names the proxy by its safe URL (credentials masked) and says what it refused."""
    return UpstreamError(f"Could not reach Workers AI: {reason}.", code="upstream_proxy_error")


def connect_timeout(seconds: float) -> UpstreamError:
    return timeout_error(f"No connection to Workers AI within {seconds:g} s (UPSTREAM_CONNECT_TIMEOUT).")


def stalled(seconds: float) -> UpstreamError:
    return timeout_error(f"Workers AI sent no content for {seconds:g} s (UPSTREAM_READ_TIMEOUT).")
