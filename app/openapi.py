"""What `/openapi.json` says: the bodies the hot handlers read themselves, the error statuses each route
really answers (each with its dialect's error schema), streamed answers, and the keys each route takes.

A new route documents itself with `documented(...)` in its decorator:

    @router.post("/images/generations", **documented(*CALLS_UPSTREAM))
    @router.post("/audio/speech", **documented(*CALLS_UPSTREAM, streamed=SPEECH_SSE, answers=AUDIO))
    @router.post("/audio/transcriptions", **documented(*CALLS_UPSTREAM, form=schema))  # multipart upload
    @router.post("/v2/translate", **documented(*DEEPL_ANSWERS, dialect=DEEPL))           # DeepL's errors
    @router.get("/models/{model_id}", **documented(401, 404))                           # no upstream call
    @router.get("/health", **documented(key=False))                                    # no key, no errors

`CALLS_UPSTREAM` is every status a route that calls Workers AI can answer (its own 400/401/404/413 and
what the upstream error table maps Workers AI's answers to); a route that never calls it lists only its
own. `dialect` is the error shape the route's clients parse (OpenAI's by default; DeepLX's and DeepL's
for the translation routes, Anthropic's for /v1/messages, which also take their clients' ways of sending
the key); `DEEPLX_ANSWERS`, `DEEPL_ANSWERS` and `ANTHROPIC_ANSWERS` are what `app/errors.py`'s renderers
make of every gateway error. `streamed=True`
adds `text/event-stream` to the 200 answer (a string: with that description); `answers` adds other
content types of the 200 answer (audio, subtitles). `key=True` (the default) marks the route as taking
a gateway key. `form` is the JSON schema of a `multipart/form-data` body the route reads by hand; `per_model` says
which values a schema-valid body can still be refused (400) for, as they depend on the model. A
route whose JSON body FastAPI cannot see (the fast lane's handlers read it themselves) also goes in
`document_bodies`'s `bodies`. FastAPI's own 422 is never answered (validation errors are 400s), so the
document drops it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel, ConfigDict, Field

REF = "#/components/schemas/{model}"
KEY_SCHEME = "gatewayKey"
CALLS_UPSTREAM = (400, 401, 403, 404, 408, 413, 429, 502, 503, 504)
# What deeplx_response / deepl_response make of CALLS_UPSTREAM (app/errors.py).
DEEPLX_ANSWERS = (400, 401, 403, 404, 408, 413, 429, 503)
DEEPL_ANSWERS = (400, 403, 404, 408, 413, 429, 456, 503, 504)
# What anthropic_response makes of CALLS_UPSTREAM (app/errors.py).
ANTHROPIC_ANSWERS = (400, 401, 403, 404, 413, 429, 500, 504, 529)
_MEANING = {
    400: "Invalid request: `param` names the parameter.",
    401: "Missing or wrong gateway key (or, in passthrough mode, a Cloudflare token Cloudflare refused).",
    403: "Workers AI refused the model to this account (terms not accepted, access denied, paid plan).",
    404: "Unknown model, or nothing with that id.",
    408: "Workers AI gave up on the request.",
    413: "The request body (or an uploaded file) is larger than this gateway accepts.",
    429: "Rate or daily limit reached; `Retry-After` says when to try again.",
    456: "TRANSLATE_CHARACTER_LIMIT reached for today.",
    502: "Workers AI failed, answered something unreadable, or could not be reached.",
    503: "No upstream connection became free in time; `Retry-After` says when to try again.",
    504: "Workers AI did not answer in time.",
}
STREAMED = (
    "The whole answer as JSON, or with `stream: true` server-sent events: one `data: {chunk}` event per "
    "delta, errors after the start in-band, then `data: [DONE]`."
)
SECURITY_SCHEMES: dict[str, dict[str, Any]] = {
    KEY_SCHEME: {"type": "http", "scheme": "bearer", "description": "A key from GATEWAY_API_KEYS."},
    "deeplAuthKey": {
        "type": "apiKey",
        "in": "header",
        "name": "Authorization",
        "description": "`DeepL-Auth-Key <key>`, a key from GATEWAY_API_KEYS (what DeepL's clients send).",
    },
    "anthropicKey": {
        "type": "apiKey",
        "in": "header",
        "name": "x-api-key",
        "description": "A key from GATEWAY_API_KEYS (what Anthropic's SDKs send).",
    },
    "deeplxToken": {"type": "apiKey", "in": "query", "name": "token", "description": "A key from GATEWAY_API_KEYS."},
    "deeplxPassword": {
        "type": "apiKey",
        "in": "query",
        "name": "password",
        "description": "A key from GATEWAY_API_KEYS.",
    },
}


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


@dataclass(frozen=True, slots=True)
class Dialect:
    """The error schema a route's clients parse, and the security schemes by which it takes a key."""

    error: type[BaseModel]
    schemes: tuple[str, ...]
    meaning: dict[int, str] = field(default_factory=dict)


OPENAI = Dialect(ErrorResponse, (KEY_SCHEME,))
DEEPLX = Dialect(
    DeepLXError,
    (KEY_SCHEME, "deeplxToken", "deeplxPassword"),
    {503: "Workers AI failed, was unreachable or too slow, or no upstream connection became free."},
)
DEEPL = Dialect(
    DeepLError,
    ("deeplAuthKey", KEY_SCHEME),
    {
        403: "Missing or wrong key, or Workers AI refused the model to this account.",
        503: "Workers AI failed or was unreachable, or no upstream connection became free.",
    },
)

ANTHROPIC = Dialect(
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


def documented(
    *statuses: int,
    streamed: bool | str = False,
    answers: tuple[str, ...] = (),
    key: bool = True,
    dialect: Dialect = OPENAI,
    form: dict[str, Any] | None = None,
    per_model: str | None = None,
) -> dict[str, Any]:
    """Keyword arguments for a route decorator: `responses=` with each error status, `openapi_extra=`."""
    responses: dict[int | str, dict[str, Any]] = {
        status: {"model": dialect.error, "description": dialect.meaning.get(status) or _MEANING[status]}
        for status in statuses
    }
    if streamed or answers:
        content = {media_type: {"schema": {"type": "string", "format": "binary"}} for media_type in answers}
        if streamed:
            content["text/event-stream"] = {"schema": {"type": "string"}}
        description = streamed if isinstance(streamed, str) else STREAMED if streamed else "The answer."
        responses[200] = {"description": description, "content": content}
    extra: dict[str, Any] = {"security": [{scheme: []} for scheme in dialect.schemes] if key else []}
    if per_model is not None:  # limits a schema cannot state, as it does not know the model
        extra["x-checked-per-model"] = per_model
    if form is not None:
        extra["requestBody"] = {"required": True, "content": {"multipart/form-data": {"schema": _without_null(form)}}}
    return {"responses": responses, "openapi_extra": extra}


def _without_null(form: dict[str, Any]) -> dict[str, Any]:
    """A form has no null (an absent field is one): drop `null` from each field's options."""
    properties = {}
    for name, schema in form.get("properties", {}).items():
        options = [option for option in schema.get("anyOf", []) if option != {"type": "null"}]
        if "anyOf" in schema:
            schema = {**schema, "anyOf": options}
        properties[name] = {key: value for key, value in schema.items() if not (key == "default" and value is None)}
    return {**form, "properties": properties}


def document_bodies(app: FastAPI, bodies: dict[str, type[BaseModel]]) -> None:
    """Make `app.openapi()` describe each `POST path` body with its wire model, refs resolved."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(title=app.title, version=app.version, summary=app.summary, routes=app.routes)
        components = schema.setdefault("components", {})
        models = components.setdefault("schemas", {})
        for path, model in bodies.items():
            body = model.model_json_schema(ref_template=REF)
            models.update(body.pop("$defs", {}))
            models[model.__name__] = body
            content = {"application/json": {"schema": {"$ref": REF.format(model=model.__name__)}}}
            schema["paths"][path]["post"]["requestBody"] = {"required": True, "content": content}
        _drop_422(schema)
        operations = [op for ops in schema["paths"].values() for op in ops.values()]
        used = {name for op in operations for option in op.get("security", []) for name in option}
        components["securitySchemes"] = {name: SECURITY_SCHEMES[name] for name in SECURITY_SCHEMES if name in used}
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def _drop_422(schema: dict[str, Any]) -> None:
    """FastAPI documents a 422 for routes with parameters; the gateway answers those errors with 400."""
    for operations in schema["paths"].values():
        for operation in operations.values():
            operation.get("responses", {}).pop("422", None)
    models = schema["components"]["schemas"]
    for name in ("HTTPValidationError", "ValidationError"):
        models.pop(name, None)
