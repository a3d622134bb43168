"""POST /translate (DeepLX), POST /v2/translate with GET /v2/usage and /v2/languages (DeepL API), and
POST /translate/batch (Immersive Translate's custom API). Errors on these paths come in each dialect's shape
(declared on `deeplx` and `deepl`); the key may come in the URL (`?token=`), as clients like DeepLX's send it."""

from __future__ import annotations

import asyncio
import random
from typing import TypeVar
from urllib.parse import parse_qsl

import orjson
from fastapi import Request, Response
from pydantic import BaseModel, ValidationError

from app.caller import caller, identify
from app.convert.languages import deepl_languages, parse_source, parse_target
from app.convert.translate import batch_reply, deepl_reply, deeplx_reply, form_fields
from app.deps import Gateway, gateway
from app.errors import InvalidRequest, NotFound, PayloadTooLarge
from app.http_responses import JSONBytes
from app.openapi import DEEPL, DEEPL_ANSWERS, DEEPLX, DEEPLX_ANSWERS, documented
from app.protocol.deepl import BatchRequest, DeepLRequest, DeepLXRequest
from app.route import Routes
from app.routers.body import invalid, read_json
from app.serving.translate import Translator

deeplx = Routes(tags=["translation"], dialect=DEEPLX)
deepl = Routes(tags=["translation"], dialect=DEEPL, owns=("/v2/",))  # any /v2/ path is the DeepL API's
Wire = TypeVar("Wire", bound=BaseModel)
MAX_TEXTS = 50  # DeepL's limit of texts a request
MAX_CHARACTERS = 128 * 1024  # DeepL's limit of a request's size


async def _fields(request: Request, model: type[Wire], lists: tuple[str, ...] = ()) -> Wire:
    """The body as JSON (declared so, or starting with `{` whatever the declared type), else as a form."""
    body = await request.body()
    content_type = next((v for k, v in request.scope["headers"] if k == b"content-type"), b"")
    if body and b"json" not in content_type and body.lstrip()[:1] != b"{":
        try:
            return model.model_validate(form_fields(body, lists=lists))
        except ValidationError as error:
            raise invalid(error) from None
    return await read_json(request, model)


def _translator(gw: Gateway) -> Translator:
    if gw.translator is None:
        raise RuntimeError("the app's lifespan builds the translator")
    return gw.translator


@deeplx.post("/translate", hot=True, body=DeepLXRequest, doc=documented(*DEEPLX_ANSWERS))
async def create_deeplx_translation(request: Request) -> Response:
    """DeepLX: `{text, source_lang, target_lang}` -> `{code, id, data, alternatives, source_lang, target_lang,
    method}`. Paste `https://<gateway>/translate?token=<key>` into Immersive Translate's DeepLX service."""
    gw = gateway(request)
    creds = await caller(request, gw, query=True)
    body = await _fields(request, DeepLXRequest)
    if not body.text:
        raise NotFound("No text to translate")
    target, source = parse_target(body.target_lang), parse_source(body.source_lang)
    result = await _translator(gw).translate(gw.upstream, creds, body.text, source, target)
    reply = deeplx_reply(result.text, result.source, body.target_lang or "", random.randrange(10**9, 10**10))
    return JSONBytes(orjson.dumps(reply))


@deepl.post("/v2/translate", hot=True, body=DeepLRequest, doc=documented(*DEEPL_ANSWERS))
async def create_deepl_translation(request: Request) -> Response:
    """DeepL API: `text` (a list of up to 50), `target_lang`, optional `source_lang` ->
    `{translations: [{detected_source_language, text, billed_characters}]}`, one per text, in order."""
    gw = gateway(request)
    creds = await caller(request, gw, query=True)
    body = await _fields(request, DeepLRequest, lists=("text",))
    texts = [body.text] if isinstance(body.text, str) else body.text
    if not texts:
        raise InvalidRequest("Parameter 'text' not specified.", param="text")
    if len(texts) > MAX_TEXTS:
        raise InvalidRequest(f"Too many texts: at most {MAX_TEXTS} a request.", param="text")
    if sum(map(len, texts)) > MAX_CHARACTERS:
        raise PayloadTooLarge(f"The texts are longer than {MAX_CHARACTERS} characters together.")
    target, source = parse_target(body.target_lang), parse_source(body.source_lang)
    translator = _translator(gw)
    results = await asyncio.gather(*(translator.translate(gw.upstream, creds, t, source, target) for t in texts))
    reply = deepl_reply([(r.text, r.source, len(t)) for r, t in zip(results, texts, strict=True)])
    return JSONBytes(orjson.dumps(reply))


@deeplx.post("/translate/batch", hot=True, body=BatchRequest, doc=documented(*DEEPLX_ANSWERS))
async def create_batch_translation(request: Request) -> Response:
    """Immersive Translate's custom API: `{source_lang, target_lang, text_list}` ->
    `{translations: [{detected_source_lang, text}]}`, one per paragraph, codes in lower case."""
    gw = gateway(request)
    creds = await caller(request, gw, query=True)
    body = await _fields(request, BatchRequest)
    target, source = parse_target(body.target_lang), parse_source(body.source_lang)
    translator = _translator(gw)
    results = await asyncio.gather(
        *(translator.translate(gw.upstream, creds, text, source, target) for text in body.text_list)
    )
    return JSONBytes(orjson.dumps(batch_reply([(r.text, r.source) for r in results])))


@deepl.get("/v2/usage", doc=documented(403))
async def get_usage(request: Request) -> Response:
    """DeepL API usage: characters this gateway process sent upstream, and TRANSLATE_CHARACTER_LIMIT."""
    gw = gateway(request)
    identify(request, gw, query=True)
    usage = {"character_count": _translator(gw).characters, "character_limit": gw.settings.translate_character_limit}
    return JSONBytes(orjson.dumps(usage))


@deepl.get("/v2/languages", doc=documented(403))
async def get_languages(request: Request) -> Response:
    """DeepL API languages: `type=source` (default) or `type=target` (with EN-US, PT-BR, ZH-HANT, ...)."""
    gw = gateway(request)
    identify(request, gw, query=True)
    # The official Python library sends `type` as a form body, even on this GET.
    form = dict(parse_qsl((await request.body()).decode("utf-8", "replace")))  # bytes that are no UTF-8: not a 500
    kind = request.query_params.get("type") or form.get("type")
    return JSONBytes(orjson.dumps(deepl_languages(target=kind == "target")))
