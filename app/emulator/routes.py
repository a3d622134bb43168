"""The Cloudflare side: every route under /client/v4, answering like api.cloudflare.com."""

from __future__ import annotations

from collections.abc import Callable

import anyio
from starlette.requests import Request
from starlette.responses import Response

from app.emulator import openai_compat, queue
from app.emulator.embeddings import run_embeddings
from app.emulator.envelope import auth_error, no_such_model, route_error, success, too_large
from app.emulator.faults import Fault
from app.emulator.images import run_text_to_image
from app.emulator.models import MODELS, Task
from app.emulator.outputs import Call, Output, decode_json
from app.emulator.search import search_models, search_tasks
from app.emulator.speech import run_text_to_speech
from app.emulator.state import EmulatorState
from app.emulator.streaming import render
from app.emulator.text import run_text_generation
from app.emulator.transcription import run_speech_recognition
from app.emulator.translation import run_translation
from app.emulator.vision import run_image_to_text

# Cloudflare's limit for a request body; above it the run endpoint answers 413 / 3006.
MAX_BODY_BYTES = 10 * 1024 * 1024

HANDLERS: dict[Task, Callable[[Call], Output]] = {
    Task.TEXT_GENERATION: run_text_generation,
    Task.TEXT_EMBEDDINGS: run_embeddings,
    Task.TEXT_TO_IMAGE: run_text_to_image,
    Task.SPEECH_RECOGNITION: run_speech_recognition,
    Task.TRANSLATION: run_translation,
    Task.TEXT_TO_SPEECH: run_text_to_speech,
    Task.IMAGE_TO_TEXT: run_image_to_text,
}


async def _admit(request: Request) -> tuple[EmulatorState, bytes]:
    """Log the request, then check the token, the account id and the body size, in that order."""
    state: EmulatorState = request.app.state.emulator
    body = await request.body()
    state.log.record(request, body)
    if state.token is not None and request.headers.get("authorization") != f"Bearer {state.token}":
        raise auth_error()
    account = request.path_params.get("account")
    if state.account_id is not None and account is not None and account != state.account_id:
        raise route_error(request.url.path)
    if len(body) > MAX_BODY_BYTES:
        raise too_large(MAX_BODY_BYTES)
    return state, body


async def _take_fault(state: EmulatorState, model: str, request: Request) -> Fault | None:
    fault = state.faults.take(model, request.path_params.get("account", ""))
    if fault is not None and fault.latency_ms:
        await anyio.sleep(fault.latency_ms / 1000)
    return fault


async def run_model(request: Request) -> Response:
    """POST /client/v4/accounts/{account}/ai/run/{model}: run any model in the table."""
    state, body = await _admit(request)
    model = request.path_params["model"]
    fault = await _take_fault(state, model, request)
    if fault is not None and fault.is_error:
        return fault.response()
    account = request.path_params["account"]
    state.plans.check(account, model)  # a paid-only model on a free account: 5035, whatever the body
    spec = MODELS.get(model)
    if spec is None:
        raise no_such_model(model)
    content_type = request.headers.get("content-type", "")
    session = request.headers.get("x-session-affinity", "")
    call = Call(spec, body, content_type, account, state.agreed, state.script, session=session, prefixes=state.prefixes)
    if request.query_params.get("queueRequest") == "true":  # the asynchronous batch queue (queue.py)
        return queue.handle(state.queue, call, HANDLERS[spec.task])
    return render(HANDLERS[spec.task](call), fault, state.streams)


async def chat_completions(request: Request) -> Response:
    """POST /client/v4/accounts/{account}/ai/v1/chat/completions (OpenAI-compatible)."""
    state, body = await _admit(request)
    payload, spec = openai_compat.model_for(decode_json(body), Task.TEXT_GENERATION)
    fault = await _take_fault(state, spec.name, request)
    if fault is not None and fault.is_error:
        return fault.response()
    state.plans.check(request.path_params["account"], spec.name)
    agreed = request.path_params["account"] in state.agreed
    return render(openai_compat.create_chat_completion(spec, payload, agreed, state.script), fault, state.streams)


async def embeddings(request: Request) -> Response:
    """POST /client/v4/accounts/{account}/ai/v1/embeddings (OpenAI-compatible)."""
    state, body = await _admit(request)
    payload, spec = openai_compat.model_for(decode_json(body), Task.TEXT_EMBEDDINGS)
    fault = await _take_fault(state, spec.name, request)
    if fault is not None and fault.is_error:
        return fault.response()
    return render(openai_compat.create_embedding(spec, payload), fault)


async def models_search(request: Request) -> Response:
    """GET /client/v4/accounts/{account}/ai/models/search: paginated model listing."""
    state, _ = await _admit(request)
    fault = await _take_fault(state, "", request)
    if fault is not None and fault.is_error:
        return fault.response()
    result, info = search_models(request.query_params)
    return success(result, result_info=info)


async def tasks_search(request: Request) -> Response:
    """GET /client/v4/accounts/{account}/ai/tasks/search: the task list."""
    await _admit(request)
    return success(search_tasks())


async def unknown_route(request: Request) -> Response:
    """Anything else under /client/v4: 404 / 7003, like the API layer."""
    await _admit(request)
    raise route_error(request.url.path)
