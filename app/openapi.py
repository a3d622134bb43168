"""What `/openapi.json` says: the bodies the hot handlers read themselves, the error statuses each route
really answers (with OpenAI's error schema), streamed answers, and the gateway key.

A new route documents itself with `documented(...)` in its decorator:

    @router.post("/images/generations", **documented(*CALLS_UPSTREAM))
    @router.post("/audio/speech", **documented(*CALLS_UPSTREAM, streamed=True))   # SSE as well as JSON
    @router.get("/files/{file_id}", **documented(401, 404))                       # no upstream call
    @router.get("/health", **documented(key=False))                              # no key, no errors

`CALLS_UPSTREAM` is every status a route that calls Workers AI can answer (its own 400/401/404/413 and
what the upstream error table maps Workers AI's answers to); a route that never calls it lists only its
own. `streamed=True` adds `text/event-stream` to the 200 answer. `key=True` (the default) marks the
route as taking the gateway key (the bearer token). A route whose JSON body FastAPI cannot see (the fast
lane's handlers read it themselves) also goes in `document_bodies`'s `bodies`. FastAPI's own 422 is never
answered (validation errors are 400s), so the document drops it.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel, Field

REF = "#/components/schemas/{model}"
KEY_SCHEME = "gatewayKey"
CALLS_UPSTREAM = (400, 401, 403, 404, 408, 413, 429, 502, 503, 504)
_MEANING = {
    400: "Invalid request: `param` names the parameter.",
    401: "Missing or wrong gateway key (or, in passthrough mode, a Cloudflare token Cloudflare refused).",
    403: "Workers AI refused the model to this account (terms not accepted, access denied, paid plan).",
    404: "Unknown model, or nothing with that id.",
    408: "Workers AI gave up on the request.",
    413: "The request body is larger than MAX_BODY_BYTES.",
    429: "Rate or daily limit reached; `Retry-After` says when to try again.",
    502: "Workers AI failed, answered something unreadable, or could not be reached.",
    503: "No upstream connection became free in time; `Retry-After` says when to try again.",
    504: "Workers AI did not answer in time.",
}


class ErrorDetail(BaseModel):
    message: str
    type: str
    param: str | None = Field(description="The request parameter at fault, if one is.")
    code: str | int | None


class ErrorResponse(BaseModel):
    """OpenAI's error body, which every error from the gateway has."""

    error: ErrorDetail


def documented(*statuses: int, streamed: bool = False, key: bool = True) -> dict[str, Any]:
    """Keyword arguments for a route decorator: `responses=` with each error status, `openapi_extra=`."""
    responses: dict[int | str, dict[str, Any]] = {
        status: {"model": ErrorResponse, "description": _MEANING[status]} for status in statuses
    }
    if streamed:
        responses[200] = {
            "description": "The whole answer as JSON, or with `stream: true` server-sent events: one "
            "`data: {chunk}` event per delta, errors after the start in-band, then `data: [DONE]`.",
            "content": {"text/event-stream": {"schema": {"type": "string"}}},
        }
    extra: dict[str, Any] = {"security": [{KEY_SCHEME: []}]} if key else {"security": []}
    return {"responses": responses, "openapi_extra": extra}


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
        components["securitySchemes"] = {
            KEY_SCHEME: {"type": "http", "scheme": "bearer", "description": "A key from GATEWAY_API_KEYS."}
        }
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
