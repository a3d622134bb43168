from __future__ import annotations

from datetime import UTC, datetime

import orjson
import pytest

from app.upstream.errors import clean_message, from_envelope, seconds_to_utc_midnight


def envelope(code: int | None, message: str, result: object = None) -> bytes:
    error: dict[str, object] = {"message": message}
    if code is not None:
        error["code"] = code
    return orjson.dumps({"errors": [error], "success": False, "result": result, "messages": []})


@pytest.mark.parametrize(
    ("code", "status", "error_type"),
    [
        (5006, 400, "invalid_request_error"),
        (5004, 400, "invalid_request_error"),
        (3030, 400, "invalid_request_error"),
        (5007, 400, "invalid_request_error"),
        (5016, 403, "invalid_request_error"),
        (5018, 403, "invalid_request_error"),
        (3041, 403, "invalid_request_error"),
        (3023, 403, "invalid_request_error"),
        (5035, 403, "invalid_request_error"),
        (3042, 404, "invalid_request_error"),
        (7003, 404, "invalid_request_error"),
        (3006, 413, "invalid_request_error"),
        (3007, 504, "upstream_error"),
        (3008, 408, "upstream_error"),
        (4006, 429, "requests"),
        (3036, 429, "requests"),
        (3040, 429, "requests"),
        (8005, 502, "upstream_error"),
        (1000, 502, "upstream_error"),
    ],
)
def test_code_table(code: int, status: int, error_type: str) -> None:
    error = from_envelope(400, envelope(code, f"AiError: AiError: boom {code} (0f1e2d3c)"), client_token=False)
    assert (error.status_code, error.error_type) == (status, error_type)
    assert f"boom {code}" in error.message and "0f1e2d3c" not in error.message
    assert error.error_type != "insufficient_quota"


def test_429s_carry_retry_after() -> None:
    quota = from_envelope(429, envelope(4006, "daily free allocation used up"), client_token=False)
    assert 1 <= int(quota.headers["Retry-After"]) <= 86400
    busy = from_envelope(429, envelope(3040, "Capacity temporarily exceeded"), client_token=False)
    assert busy.headers["Retry-After"] == "2"


def test_auth_failure_is_the_operators_problem_in_managed_mode() -> None:
    managed = from_envelope(401, envelope(10000, "Authentication error"), client_token=False)
    assert managed.status_code == 502 and "CF_API_TOKEN" in managed.message
    passthrough = from_envelope(401, envelope(10000, "Authentication error"), client_token=True)
    assert passthrough.status_code == 401 and passthrough.code == "invalid_api_key"


def test_non_json_and_codeless_bodies() -> None:
    assert from_envelope(502, b"<html>Bad gateway</html>", client_token=False).status_code == 502
    assert from_envelope(429, envelope(None, "slow down"), client_token=False).status_code == 429
    page = from_envelope(429, b"<html>Too many requests</html>", client_token=False)  # Cloudflare's edge
    assert (page.status_code, page.code, page.headers) == (429, "rate_limit_exceeded", {"Retry-After": "2"})
    assert page.upstream_status == 429  # the account pool moves the call on
    assert from_envelope(200, envelope(None, "odd"), client_token=False).status_code == 502


def test_clean_message() -> None:
    assert clean_message("AiError: AiError: Max context reached (938154d0)") == "Max context reached"
    assert clean_message("InferenceUpstreamError: x (51afe8c9-9139-446e-9284-928af8ee842d)") == "x"


def test_seconds_to_utc_midnight() -> None:
    assert seconds_to_utc_midnight(datetime(2026, 1, 1, 23, 59, 0, tzinfo=UTC)) == 60


@pytest.mark.parametrize(
    "body",
    [
        {"success": False, "result": [], "messages": [], "error": [{"code": 2009, "message": "Unauthorized"}]},
        {"name": "AiGatewayError", "internalCode": 2009, "message": "Unauthorized"},
    ],
)
@pytest.mark.parametrize("client_token", [False, True])
def test_ai_gateway_auth_failure_names_the_gateway_token(body: dict[str, object], client_token: bool) -> None:
    error = from_envelope(401, orjson.dumps(body), client_token=client_token)
    assert (error.status_code, error.code) == (502, "ai_gateway_auth_failed")  # the operator's setting, never a 401
    assert "CF_AI_GATEWAY_TOKEN" in error.message and "Unauthorized" in error.message


def test_ai_gateway_envelope_codes_are_read_like_workers_ai_ones() -> None:
    body = {"success": False, "result": [], "error": [{"code": 3040, "message": "Capacity temporarily exceeded"}]}
    error = from_envelope(429, orjson.dumps(body), client_token=False)
    assert (error.status_code, error.code) == (429, "rate_limit_exceeded")
    assert error.message == "Workers AI error 3040: Capacity temporarily exceeded"
