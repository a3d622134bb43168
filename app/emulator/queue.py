"""Workers AI's asynchronous batch queue (`POST .../ai/run/{model}?queueRequest=true`, beta), as its docs show it
(cloudflare-docs workers-ai/features/batch-api/rest-api.mdx and get-started.mdx):

- a submit `{"requests": [input, ...]}` answers `{"status": "queued", "request_id", "model"}` in the envelope;
- a poll `{"request_id"}` (same URL) answers `{"status": "queued"|"running", "request_id"}` until the work is done,
  then `{"responses": [{"id": index, "result", "success", "external_reference"}], "usage": {...}}`.

Each request is answered by the model's normal handler, so a queued answer equals an interactive one. The
queue takes QUEUE_SECONDS (settable through /__emulator/queue) before it answers; queued for the first half,
running for the second. A request id is only known to the account that submitted it.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
from starlette.responses import Response

from app.emulator.envelope import EmulatorError, bad_input, success
from app.emulator.models import ModelSpec
from app.emulator.outputs import Call, JsonResult, Output
from app.emulator.tokens import count
from app.model_table import QUEUE_MODELS

QUEUE_SECONDS = 0.5


@dataclass
class _Queued:
    account: str
    model: str
    requests: list[Any]
    at: float
    answer: dict[str, Any] | None = None


@dataclass
class Queue:
    seconds: float = QUEUE_SECONDS
    submits: int = 0
    polls: int = 0
    items: dict[str, _Queued] = field(default_factory=dict)

    def counts(self) -> dict[str, Any]:
        return {"submits": self.submits, "polls": self.polls, "pending": len(self.items), "seconds": self.seconds}


def handle(queue: Queue, call: Call, handler: Callable[[Call], Output]) -> Response:
    """A submit or a poll on the queue; the envelope's answer."""
    if call.spec.name not in QUEUE_MODELS:
        raise bad_input(f"Model {call.spec.name} does not support queueRequest")
    body = call.json()
    if isinstance(body, dict) and isinstance(body.get("request_id"), str):
        return _poll(queue, call, body["request_id"], handler)
    requests = body.get("requests") if isinstance(body, dict) else None
    if not isinstance(requests, list) or not requests:
        raise bad_input("Type mismatch of '/requests', 'undefined' not in 'array'")
    queue.submits += 1
    request_id = str(uuid.uuid4())
    queue.items[request_id] = _Queued(call.account, call.spec.name, requests, time.monotonic())
    return success({"status": "queued", "request_id": request_id, "model": call.spec.name})


def _poll(queue: Queue, call: Call, request_id: str, handler: Callable[[Call], Output]) -> Response:
    queue.polls += 1
    item = queue.items.get(request_id)
    if item is None or item.account != call.account or item.model != call.spec.name:
        raise bad_input(f"No queued request {request_id}")
    waited = time.monotonic() - item.at
    if waited < queue.seconds:
        status = "queued" if waited < queue.seconds / 2 else "running"
        return success({"status": status, "request_id": request_id})
    if item.answer is None:
        item.answer = _answers(call, item.requests, handler)
    return success(item.answer)


def _answers(call: Call, requests: list[Any], handler: Callable[[Call], Output]) -> dict[str, Any]:
    responses = []
    prompt = completion = 0
    for index, request in enumerate(requests):
        reference = request.get("external_reference") if isinstance(request, dict) else None
        one = Call(call.spec, orjson.dumps(request), "application/json", call.account, call.agreed, call.script)
        try:
            output = handler(one)
        except EmulatorError as error:  # the docs show no failed response; this is the envelope's error
            responses.append({"id": index, "result": {"errors": error.body()["errors"]}, "success": False})
            continue
        result = output.result if isinstance(output, JsonResult) else None
        used = _usage(call.spec, request, result)
        prompt, completion = prompt + used[0], completion + used[1]
        responses.append({"id": index, "result": result, "success": True, "external_reference": reference})
    usage = {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}
    return {"responses": responses, "usage": usage}


def _usage(spec: ModelSpec, request: Any, result: Any) -> tuple[int, int]:
    """A response's tokens: the model's own usage, else (embeddings, translation) its input's tokens."""
    usage = result.get("usage") if isinstance(result, dict) else None
    if isinstance(usage, dict):
        return int(usage.get("prompt_tokens", 0)), int(usage.get("completion_tokens", 0))
    text = request.get("text") if isinstance(request, dict) else None
    texts = text if isinstance(text, list) else [text]
    return sum(count(item) for item in texts if isinstance(item, str)), 0
