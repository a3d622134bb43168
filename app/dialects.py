"""The error dialects the gateway speaks, one table: OpenAI's, DeepLX's, the DeepL API's and Anthropic's.

A route names its dialect where it is declared (app/route.py); the edge renders every error aimed at the
route in it, and /openapi.json documents the same shape (app/openapi.py)."""

from __future__ import annotations

from dataclasses import dataclass, field

from pydantic import BaseModel, ConfigDict, Field

from app.errors import Renderer, anthropic_response, deepl_response, deeplx_response, error_response

KEY_SCHEME = "gatewayKey"


class ErrorDetail(BaseModel):
    model_config = ConfigDict(extra="forbid")

    message: str
    type: str
    param: str | None = Field(description="The request parameter at fault, if one is.")
    code: str | int | None


class ErrorResponse(BaseModel):
    """OpenAI's error body, which every error from the gateway's OpenAI routes has."""

    model_config = ConfigDict(extra="forbid")

    error: ErrorDetail


class DeepLXError(BaseModel):
    """DeepLX's error body: `code` repeats the HTTP status."""

    model_config = ConfigDict(extra="forbid")

    code: int
    message: str


class DeepLError(BaseModel):
    """The DeepL API's error body."""

    model_config = ConfigDict(extra="forbid")

    message: str


class AnthropicErrorDetail(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: str = Field(description="invalid_request_error, authentication_error, not_found_error, ...")
    message: str


class AnthropicError(BaseModel):
    """Anthropic's error body."""

    model_config = ConfigDict(extra="forbid")

    type: str = Field(description="Always `error`.")
    error: AnthropicErrorDetail


@dataclass(frozen=True, slots=True, eq=False)  # each dialect is one object: compared by identity
class Dialect:
    """The error shape a route's clients parse (its renderer and its schema), and the security schemes by which
    it takes a key."""

    name: str
    render: Renderer  # the one renderer of its error JSON (app/errors.py)
    error: type[BaseModel]  # what /openapi.json documents of it
    schemes: tuple[str, ...]
    meaning: dict[int, str] = field(default_factory=dict)


OPENAI = Dialect("openai", error_response, ErrorResponse, (KEY_SCHEME,))
DEEPLX = Dialect(
    "deeplx",
    deeplx_response,
    DeepLXError,
    (KEY_SCHEME, "deeplxToken", "deeplxPassword"),
    {503: "Workers AI failed, was unreachable or too slow, or no upstream connection became free."},
)
DEEPL = Dialect(
    "deepl",
    deepl_response,
    DeepLError,
    ("deeplAuthKey", KEY_SCHEME),
    {
        403: "Missing or wrong key, or Workers AI refused the model to this account.",
        503: "Workers AI failed or was unreachable, or no upstream connection became free.",
    },
)
ANTHROPIC = Dialect(
    "anthropic",
    anthropic_response,
    AnthropicError,
    ("anthropicKey", KEY_SCHEME),
    {
        400: "invalid_request_error: the message names the parameter.",
        401: "authentication_error: missing or wrong key (`x-api-key` or `Authorization: Bearer`).",
        403: "permission_error: Workers AI refused the model to this account.",
        404: "not_found_error: unknown model.",
        413: "request_too_large: the request body is larger than this gateway accepts.",
        429: "rate_limit_error: rate or daily limit reached; `Retry-After` says when to try again.",
        500: "api_error: Workers AI failed, answered something unreadable, or could not be reached.",
        504: "timeout_error: Workers AI did not answer in time.",
        529: "overloaded_error: no upstream connection became free in time; `retry-after` says when to retry.",
    },
)
DIALECTS = (OPENAI, DEEPLX, DEEPL, ANTHROPIC)
