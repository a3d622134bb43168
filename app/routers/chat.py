"""POST /v1/chat/completions and POST /v1/completions."""

from __future__ import annotations

from fastapi import Request, Response

from app.caller import caller
from app.catalog import Task
from app.deps import exchange, files, gateway, in_session
from app.openapi import CALLS_UPSTREAM, documented
from app.protocol.openai import ChatCompletionRequest, CompletionRequest
from app.route import Routes
from app.routers.body import read_json
from app.routers.cache import cached_upstream
from app.serving import cached, chat, image_urls, images

route = Routes(prefix="/v1", tags=["text"])


@route.post("/chat/completions", hot=True, body=ChatCompletionRequest, doc=documented(*CALLS_UPSTREAM, streamed=True))
async def create_chat_completion(request: Request) -> Response:
    """Chat with a Workers AI text model, whole or streamed (`stream: true`), with tools, JSON mode,
    reasoning and images for vision models. A text-to-image model draws the last user message and
    answers a markdown image linking to the hosted file."""
    gw = gateway(request)
    creds = await caller(request, gw)
    body = await read_json(request, ChatCompletionRequest)
    model = gw.catalog.require(body.model, Task.TEXT_GENERATION, Task.TEXT_TO_IMAGE)
    record = exchange(request)
    record.model = model.id
    if model.replaces:  # a retired id, answered by its replacement (x-model-substituted)
        record.replaced = model.replaces
    upstream = cached_upstream(request, gw, model, n=body.n, temperature=body.temperature)  # docs/cache.md
    if model.task is Task.TEXT_TO_IMAGE:  # a picture, answered as a markdown image (serving/images.py)
        store, base = files(request), images.public_base(request, gw.settings)
        return cached.mark(await images.chat_image(body, model, upstream, creds, store, base), upstream)
    if model.vision and (remote := image_urls.remote_images(body)):
        await image_urls.fetch_images(remote, gw.image_fetcher)
    call = chat.Call.for_chat(body, model, gw.settings.default_max_tokens)
    messages = call.payload.get("messages")
    creds = in_session(request, gw, creds, cache_key=body.prompt_cache_key, user=body.user, messages=messages)
    if body.stream:
        return cached.mark(await chat.stream(call, upstream, creds, model.id, record), upstream)
    return cached.mark(await chat.complete(call, upstream, creds, model.id, record), upstream)


@route.post("/completions", hot=True, body=CompletionRequest, doc=documented(*CALLS_UPSTREAM, streamed=True))
async def create_completion(request: Request) -> Response:
    """Legacy text completion of a prompt, whole or streamed."""
    gw = gateway(request)
    creds = await caller(request, gw)
    body = await read_json(request, CompletionRequest)
    model = gw.catalog.require(body.model, Task.TEXT_GENERATION)
    record = exchange(request)
    record.model = model.id
    if model.replaces:  # a retired id, answered by its replacement (x-model-substituted)
        record.replaced = model.replaces
    call = chat.Call.for_completion(body, model, gw.settings.default_max_tokens)
    creds = in_session(request, gw, creds, user=body.user)
    upstream = cached_upstream(request, gw, model, n=body.n, temperature=body.temperature)  # docs/cache.md
    if body.stream:
        return cached.mark(await chat.stream(call, upstream, creds, model.id, record), upstream)
    return cached.mark(await chat.complete(call, upstream, creds, model.id, record), upstream)
