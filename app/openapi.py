"""What `/openapi.json` says: the bodies the hot handlers read themselves, the error statuses each route
really answers (each with its dialect's error schema), streamed answers, and the keys each route takes.

A route documents itself with `doc=documented(...)` in its declaration (app/route.py), in the dialect it
declares:

    @route.post("/images/generations", doc=documented(*CALLS_UPSTREAM))
    @route.post("/audio/speech", doc=documented(*CALLS_UPSTREAM, streamed=SPEECH_SSE, answers=AUDIO))
    @route.post("/audio/transcriptions", doc=documented(*CALLS_UPSTREAM, form=schema))  # multipart upload
    @deepl.post("/v2/translate", doc=documented(*DEEPL_ANSWERS))                       # a DeepL `Routes`
    @route.get("/models/{model_id}", doc=documented(401, 404))                          # no upstream call
    @route.get("/health", doc=documented(key=False))                                   # no key, no errors

`CALLS_UPSTREAM` is every status a route that calls Workers AI can answer (its own 400/401/404/413 and
what the upstream error table maps Workers AI's answers to); a route that never calls it lists only its
own. The dialect (app/dialects.py) is the error shape the route's clients parse and the ways they send
the key; `DEEPLX_ANSWERS`, `DEEPL_ANSWERS` and `ANTHROPIC_ANSWERS` are what `app/errors.py`'s renderers
make of every gateway error. `streamed=True` adds `text/event-stream` to the 200 answer (a string: with
that description); `answers` adds other content types of the 200 answer (audio, subtitles). `key=True`
(the default) marks the route as taking a gateway key. `form` is the JSON schema of a
`multipart/form-data` body the route reads by hand; `per_model` says which values a schema-valid body can
still be refused (400) for, as they depend on the model. A route whose JSON body FastAPI cannot see (the
handlers read it themselves) declares it with `body=`. FastAPI's own 422 is never answered (validation
errors are 400s), so the document drops it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel

from app.dialects import ANTHROPIC, DEEPL, DEEPLX, KEY_SCHEME, OPENAI, Dialect

__all__ = ["ANTHROPIC", "DEEPL", "DEEPLX", "OPENAI", "Doc", "document_bodies", "documented"]
REF = "#/components/schemas/{model}"
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


def documented(
    *statuses: int,
    streamed: bool | str = False,
    answers: tuple[str, ...] = (),
    key: bool = True,
    dialect: Dialect | None = None,
    form: dict[str, Any] | None = None,
    per_model: str | None = None,
) -> Doc:
    """What a route's entry in /openapi.json says: `doc=documented(...)` in its declaration (app/route.py),
    which supplies the route's dialect, or `**documented(...)` in a bare FastAPI decorator."""
    options = {"streamed": streamed, "answers": answers, "key": key, "form": form, "per_model": per_model}
    return Doc(statuses, options, dialect)


@dataclass(frozen=True, slots=True)
class Doc(Mapping[str, Any]):
    """The keyword arguments of a route decorator (`responses=`, `openapi_extra=`), in a dialect."""

    statuses: tuple[int, ...]
    options: dict[str, Any]
    dialect: Dialect | None = None  # None: the declaration's (OpenAI's in a bare decorator)

    def speaking(self, dialect: Dialect) -> Doc:
        """This documentation in `dialect`, unless it named its own."""
        return self if self.dialect is not None else replace(self, dialect=dialect)

    def __getitem__(self, name: str) -> Any:
        return _route_kwargs(self.statuses, dialect=self.dialect or OPENAI, **self.options)[name]

    def __iter__(self) -> Iterator[str]:
        return iter(("responses", "openapi_extra"))

    def __len__(self) -> int:
        return 2


def _route_kwargs(
    statuses: tuple[int, ...],
    *,
    streamed: bool | str,
    answers: tuple[str, ...],
    key: bool,
    dialect: Dialect,
    form: dict[str, Any] | None,
    per_model: str | None,
) -> dict[str, Any]:
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
