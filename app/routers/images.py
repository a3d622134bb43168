"""POST /v1/images/generations and POST /v1/images/edits."""

from __future__ import annotations

import asyncio
from typing import Any, get_args

from fastapi import Request, Response

from app.caller import caller
from app.catalog import Task
from app.convert.image_forms import edit_call, edit_model, generation_call
from app.convert.images import ImageOptions
from app.deps import files, gateway
from app.openapi import CALLS_UPSTREAM, documented
from app.ops.requests import EXCHANGE
from app.protocol.images import ImageGenerationRequest, Quality
from app.route import Routes
from app.routers.body import read_json
from app.routers.cache import cached_upstream
from app.serving import cached, images
from app.serving.image_edits import read_edit_form

route = Routes(prefix="/v1", tags=["images"])
PER_MODEL = "`size`, `steps`: each model's own limits."
_EMPTY = {"const": ""}  # a text field sent empty counts as absent
_PICTURE = {"type": "string", "format": "binary", "description": "A PNG, JPEG, WEBP or GIF file."}
# The form /images/edits reads by hand (app/serving/image_edits.py), as the document shows it.
EDIT_FORM: dict[str, Any] = {
    "type": "object",
    "required": ["image", "prompt"],
    "properties": {
        "image": _PICTURE,
        "mask": {**_PICTURE, "description": "Where to paint: white is replaced (inpainting)."},
        "prompt": {"type": "string", "minLength": 1, "pattern": r"\S"},
        "model": {"type": "string", "description": "Empty or absent: `dall-e-2`."},
        "n": {"anyOf": [{"type": "integer", "minimum": 1, "maximum": 10}, _EMPTY]},
        "size": {"type": "string"},
        "response_format": {"anyOf": [{"enum": ["url", "b64_json"]}, _EMPTY]},
        "quality": {"anyOf": [{"enum": list(get_args(Quality))}, _EMPTY]},
        "negative_prompt": {"type": "string"},
        "seed": {"anyOf": [{"type": "integer", "minimum": 0, "maximum": 2**63}, _EMPTY]},
        "steps": {"anyOf": [{"type": "integer", "minimum": 1, "maximum": 1000}, _EMPTY]},
        "guidance": {"anyOf": [{"type": "number", "minimum": 0, "maximum": 1000}, _EMPTY]},
        "strength": {"anyOf": [{"type": "number", "minimum": 0, "maximum": 1}, _EMPTY]},
    },
}


@route.post("/images/generations", body=ImageGenerationRequest, doc=documented(*CALLS_UPSTREAM, per_model=PER_MODEL))
async def create_image(request: Request) -> Response:
    """Draw `n` images from a prompt with a Workers AI text-to-image model (or `dall-e-3`, `dall-e-2`,
    `gpt-image-1`). `response_format` `url` (the default) answers links to files this gateway hosts;
    `b64_json` answers the images inline."""
    gw = gateway(request)
    creds = await caller(request, gw)
    body = await read_json(request, ImageGenerationRequest)
    model = gw.catalog.require(body.model, Task.TEXT_TO_IMAGE)
    request.scope[EXCHANGE].use(model.id, model.replaces)  # the request log line and metrics name it
    options = ImageOptions(
        body.prompt, body.size, body.quality, body.negative_prompt, body.seed, body.steps, body.guidance
    )
    upstream = cached_upstream(request, gw, model, n=body.n)  # the response cache: seeded images
    pictures = await images.generate(generation_call(model.id, options), body.n, upstream, creds)
    base = images.public_base(request, gw.settings)
    return cached.mark(await images.images_response(pictures, body.response_format, files(request), base), upstream)


@route.post("/images/edits", doc=documented(*CALLS_UPSTREAM, form=EDIT_FORM, per_model=PER_MODEL))
async def create_image_edit(request: Request) -> Response:
    """Edit an uploaded image (multipart: `image`, optional `mask`, `prompt`, `n`, `size`, `response_format`,
    `strength`) with Stable Diffusion img2img, inpainting (when a mask is sent) or a FLUX.2 model. Each
    image or mask may be up to IMAGE_UPLOAD_MAX_BYTES (413 above)."""
    gw = gateway(request)
    creds = await caller(request, gw)
    form = await read_edit_form(request, gw.settings.image_upload_max_bytes)
    named = form.model is not None and form.model not in gw.catalog.aliases
    model = gw.catalog.require(form.model or "dall-e-2", Task.TEXT_TO_IMAGE)
    request.scope[EXCHANGE].use(model.id, model.replaces)  # the request log line and metrics name it
    model_id = edit_model(model.id, named=named, has_mask=form.mask is not None)
    call = await asyncio.to_thread(edit_call, model_id, form.options, form.images, form.mask)
    pictures = await images.generate(call, form.n, gw.upstream, creds)
    base = images.public_base(request, gw.settings)
    return await images.images_response(pictures, form.response_format, files(request), base)
