"""Images: n upstream calls side by side, the pictures stored or inlined, answered as OpenAI's
ImagesResponse or, for an image model asked through chat, as a chat completion with a markdown image."""

from __future__ import annotations

import asyncio
import base64
import re
import time
from typing import Any

import orjson
from fastapi import Request
from fastapi.responses import Response

from app import sse
from app.catalog import Model
from app.config import Settings
from app.convert.image_forms import ImageCall, generation_call
from app.convert.images import ImageOptions, chat_prompt, decode_image, short_prompt
from app.convert.results import Choice, Usage, chat_completion
from app.convert.text import estimate_tokens
from app.protocol.openai import ChatCompletionRequest
from app.responses import EventStreamResponse, JSONBytes
from app.serving.cached import Upstream
from app.serving.streams import ChunkWriter, replay
from app.storage import FileStore
from app.upstream.client import Binary, Credentials

FILES_PATH = "/v1/files/images/"
_HOST = re.compile(r"[A-Za-z0-9.-]{1,253}(:[0-9]{1,5})?|\[[0-9A-Fa-f:.]{2,45}\](:[0-9]{1,5})?")

Picture = tuple[bytes, str]  # (image bytes, extension)


async def _one(call: ImageCall, upstream: Upstream, creds: Credentials) -> Picture:
    result = await upstream.run(creds, call.model_id, call.body, content_type=call.content_type)
    if isinstance(result, Binary):
        return decode_image(None, result.body, call.model_id)
    found = result if isinstance(result, dict) else None
    return await asyncio.to_thread(decode_image, found, None, call.model_id)  # base64 of megabytes


async def generate(call: ImageCall, n: int, upstream: Upstream, creds: Credentials) -> list[Picture]:
    """n images: Workers AI makes one a call, so n calls run side by side."""
    if n == 1:
        return [await _one(call, upstream, creds)]
    return list(await asyncio.gather(*(_one(call, upstream, creds) for _ in range(n))))


def public_base(request: Request, settings: Settings) -> str:
    """Where clients reach this gateway: PUBLIC_BASE_URL, else the request's own scheme and host (the
    X-Forwarded-* ones only behind a proxy the operator trusts)."""
    if settings.public_base_url:
        return settings.public_base_url
    scheme, host = request.url.scheme, request.headers.get("host", "")
    if settings.trust_proxy_headers:
        proto = request.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
        forwarded = request.headers.get("x-forwarded-host", "").split(",")[0].strip()
        scheme = proto if proto in ("http", "https") else scheme
        host = forwarded if _HOST.fullmatch(forwarded) else host
    if not _HOST.fullmatch(host):
        server = request.scope.get("server") or ("localhost", 80)
        host = f"{server[0]}:{server[1]}"
    return f"{scheme}://{host}"


async def images_response(
    pictures: list[Picture], response_format: str | None, store: FileStore, base: str
) -> Response:
    """OpenAI's ImagesResponse: hosted URLs (the default) or the images inline in base64."""
    data: list[dict[str, Any]] = []
    for image, ext in pictures:
        if response_format == "b64_json":
            data.append({"b64_json": (await asyncio.to_thread(base64.b64encode, image)).decode()})  # megabytes
        else:
            data.append({"url": base + FILES_PATH + await store.put(image, ext)})
    formats = {ext for _, ext in pictures}
    body: dict[str, Any] = {"created": int(time.time()), "data": data}
    if len(formats) == 1:
        body["output_format"] = {"jpg": "jpeg"}.get(ext := formats.pop(), ext)
    return JSONBytes(orjson.dumps(body))


async def chat_image(
    body: ChatCompletionRequest, model: Model, upstream: Upstream, creds: Credentials, store: FileStore, base: str
) -> Response:
    """A chat request to a text-to-image model: the last user message is drawn, and the answer is a
    markdown image that links to the hosted file (never a data: URI: OneAPI's SSE reader stops at 64 KiB)."""
    prompt = chat_prompt(body.messages)
    pictures = await generate(generation_call(model.id, ImageOptions(prompt)), body.n, upstream, creds)
    alt = short_prompt(prompt)
    contents = [f"![{alt}]({base}{FILES_PATH}{await store.put(image, ext)})" for image, ext in pictures]
    usage = Usage(estimate_tokens(prompt), sum(estimate_tokens(text) for text in contents))
    created = int(time.time())
    if not body.stream:
        return JSONBytes(orjson.dumps(chat_completion(model.id, [Choice(c) for c in contents], usage, created)))
    writer = ChunkWriter(model.id, created)
    frames = [writer.role(i) for i in range(len(contents))]
    frames += [writer.frames(i, [{"content": text}]) for i, text in enumerate(contents)]
    frames += [writer.delta(i, {}, "stop") for i in range(len(contents))]
    if body.stream_options and body.stream_options.include_usage:
        frames.append(writer.usage(usage))
    frames.append(sse.DONE)
    return EventStreamResponse(replay(frames))
