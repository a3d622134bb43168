"""POST /v1/responses, GET and DELETE /v1/responses/{id}: OpenAI's Responses API."""

from __future__ import annotations

import functools

import orjson
from fastapi import Request, Response

from app.caller import caller, identify, key_of
from app.catalog import Task
from app.deps import gateway, in_session
from app.http_responses import JSONBytes
from app.openapi import CALLS_UPSTREAM, documented
from app.ops.requests import EXCHANGE
from app.protocol.responses import ResponseRequest
from app.route import Routes
from app.routers.body import read_json
from app.routers.cache import cached_upstream
from app.serving import cached, responses

route = Routes(prefix="/v1", tags=["text"])
EVENTS = (
    "The Response object as JSON, or with `stream: true` the Responses event sequence (`event:` and "
    "`data:` lines, each with its `sequence_number`), an upstream failure after the start as `error` and "
    "`response.failed` events."
)


@route.post("/responses", hot=True, body=ResponseRequest, doc=documented(*CALLS_UPSTREAM, streamed=EVENTS))
async def create_response(request: Request) -> Response:
    """Answer `input` (a string or a list of items) with a Workers AI text model, whole or streamed, with
    function tools, `text.format` JSON output and reasoning items. Stored unless `store: false`, so
    `previous_response_id` can continue the conversation."""
    gw = gateway(request)
    creds = await caller(request, gw)
    body = await read_json(request, ResponseRequest)
    model = gw.catalog.require(body.model, Task.TEXT_GENERATION)
    record = request.scope[EXCHANGE]
    record.use(model.id, model.replaces)  # the request log line and metrics name it
    store = responses.store_for(gw, key_of(request))
    session = functools.partial(in_session, request, gw)
    upstream = cached_upstream(request, gw, model, temperature=body.temperature)  # docs/cache.md
    answer = await responses.create(body, model, gw, creds, store, record, session, upstream=upstream)
    return cached.mark(answer, upstream)


@route.get("/responses/{response_id}", doc=documented(401, 404))
async def retrieve_response(response_id: str, request: Request) -> Response:
    """A stored response, as it was answered (only with the key that created it)."""
    gw = gateway(request)
    identify(request, gw)
    record = await responses.store_for(gw, key_of(request)).load(response_id)
    return JSONBytes(orjson.dumps(record["response"]))


@route.delete("/responses/{response_id}", doc=documented(401, 404))
async def delete_response(response_id: str, request: Request) -> Response:
    """Delete a stored response."""
    gw = gateway(request)
    identify(request, gw)
    await responses.store_for(gw, key_of(request)).delete(response_id)
    return JSONBytes(orjson.dumps({"id": response_id, "object": "response.deleted", "deleted": True}))
