"""POST /v1/messages and POST /v1/messages/count_tokens: Anthropic's Messages API on the chat path.

Both run in the fast lane; every error aimed at their paths (405, unknown sub-paths, the server's 408/431
included) is in Anthropic's shape, the dialect declared on their `Routes`."""

from __future__ import annotations

import orjson
from fastapi import Request, Response

from app.caller import caller, identify
from app.catalog import Task
from app.convert.anthropic import chat_request, estimate_input_tokens, thinking
from app.deps import gateway, in_session
from app.http_responses import JSONBytes
from app.openapi import ANTHROPIC, ANTHROPIC_ANSWERS, documented
from app.ops.requests import EXCHANGE
from app.protocol.anthropic import CountTokensRequest, MessagesRequest
from app.route import Routes
from app.routers.body import read_json
from app.routers.cache import cached_upstream
from app.serving import cached, image_urls, messages
from app.serving.chat import Call

route = Routes(prefix="/v1", tags=["anthropic"], dialect=ANTHROPIC)
MESSAGES_SSE = (
    "Anthropic's message as JSON, or with `stream: true` its event stream: `event:` and `data:` lines for "
    "message_start, ping, content_block_start / _delta (text_delta, thinking_delta, input_json_delta) / "
    "_stop, message_delta and message_stop; an error after the start is an `error` event."
)


@route.post("/messages", hot=True, body=MessagesRequest, doc=documented(*ANTHROPIC_ANSWERS, streamed=MESSAGES_SSE))
async def create_message(request: Request) -> Response:
    """Anthropic's Messages API (the Anthropic SDKs, Claude-style coding agents) with a Workers AI text model:
    system, text / image / tool_use / tool_result blocks, tools and tool_choice, stop_sequences, thinking
    for reasoning models; whole or streamed. `anthropic-version` is accepted and not needed."""
    gw = gateway(request)
    creds = await caller(request, gw)  # the key as `x-api-key` (Anthropic's SDKs) or Bearer
    body = await read_json(request, MessagesRequest)
    model = gw.catalog.require(body.model, Task.TEXT_GENERATION)
    record = request.scope[EXCHANGE]
    record.use(model.id, model.replaces)  # the request log line and metrics name it
    chat = chat_request(body, stream=body.stream)
    if model.vision and (remote := image_urls.remote_images(chat)):
        await image_urls.fetch_images(remote, gw.image_fetcher)
    call = Call.for_chat(chat, model, gw.settings.default_max_tokens)
    user = (body.metadata or {}).get("user_id")  # Anthropic's own way to name who a conversation is for
    user = user if isinstance(user, str) else None
    creds = in_session(request, gw, creds, user=user, messages=call.payload.get("messages"))
    upstream = cached_upstream(request, gw, model, temperature=body.temperature)  # docs/cache.md
    answer: Response
    if body.stream:
        answer = await messages.stream(call, upstream, creds, model.id, record, thinking=thinking(body))
    else:
        answer = await messages.complete(call, upstream, creds, model.id, record, thinking=thinking(body))
    return cached.mark(answer, upstream)


@route.post("/messages/count_tokens", hot=True, body=CountTokensRequest, doc=documented(400, 401, 404, 413))
async def count_message_tokens(request: Request) -> Response:
    """How many input tokens a Messages request would take: the gateway's estimate (about four characters a
    token, tools included), with no call to Workers AI."""
    gw = gateway(request)
    identify(request, gw)  # a count needs no Workers AI call: not counted against the key's limits
    body = await read_json(request, CountTokensRequest)
    gw.catalog.require(body.model, Task.TEXT_GENERATION)
    return JSONBytes(orjson.dumps({"input_tokens": estimate_input_tokens(chat_request(body))}))
