"""The test-only control API under /__emulator (never under /client/v4): faults, request log, health."""

from __future__ import annotations

import orjson
from starlette.requests import Request
from starlette.responses import Response

from app.emulator.envelope import json_response
from app.emulator.faults import Fault, FaultSpecError
from app.emulator.plans import Plans
from app.emulator.script import ScriptSpecError, parse_replies
from app.emulator.state import EmulatorState


def _state(request: Request) -> EmulatorState:
    state: EmulatorState = request.app.state.emulator
    return state


async def add_fault(request: Request) -> Response:
    """POST /__emulator/faults: queue a fault (see Fault for the fields); answers the queue."""
    try:
        fault = Fault.parse(orjson.loads(await request.body()))
    except (orjson.JSONDecodeError, FaultSpecError, TypeError) as error:
        return json_response({"error": str(error)}, 400)
    faults = _state(request).faults
    faults.add(fault)
    return json_response({"queued": fault.to_json(), "pending": faults.pending()}, 201)


async def list_faults(request: Request) -> Response:
    """GET /__emulator/faults: the faults still queued."""
    return json_response(_state(request).faults.pending())


async def clear_faults(request: Request) -> Response:
    """DELETE /__emulator/faults: drop every queued fault."""
    _state(request).faults.clear()
    return json_response({"cleared": True})


async def add_replies(request: Request) -> Response:
    """POST /__emulator/script: queue what text models answer next (app/emulator/script.py); answers the queue."""
    try:
        replies = parse_replies(orjson.loads(await request.body()))
    except (orjson.JSONDecodeError, ScriptSpecError) as error:
        return json_response({"error": str(error)}, 400)
    script = _state(request).script
    script.add(replies)
    return json_response({"pending": script.pending(), "served": script.served}, 201)


async def list_replies(request: Request) -> Response:
    """GET /__emulator/script: the replies still queued, and how many were served."""
    script = _state(request).script
    return json_response({"pending": script.pending(), "served": script.served})


async def clear_replies(request: Request) -> Response:
    """DELETE /__emulator/script: drop every queued reply and reset the count served."""
    _state(request).script.clear()
    return json_response({"cleared": True})


async def list_requests(request: Request) -> Response:
    """GET /__emulator/requests: the last 100 requests received under /client/v4, oldest first."""
    return json_response(_state(request).log.entries())


async def clear_requests(request: Request) -> Response:
    """DELETE /__emulator/requests: forget the logged requests."""
    _state(request).log.clear()
    return json_response({"cleared": True})


async def stream_outcomes(request: Request) -> Response:
    """GET /__emulator/streams: how many event streams completed, were cut, or lost their client."""
    return json_response(_state(request).streams)


async def get_plans(request: Request) -> Response:
    """GET /__emulator/plans: the accounts on the free plan and the models that need the paid plan."""
    return json_response(_state(request).plans.to_json())


async def set_plans(request: Request) -> Response:
    """PUT /__emulator/plans: `{"free_accounts": [...], "paid_only_models": [...]}` (either may be left out)."""
    try:
        body = orjson.loads(await request.body())
        free, paid_only = body.get("free_accounts"), body.get("paid_only_models")
        for value in (free, paid_only):
            if value is not None and not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
                raise TypeError("free_accounts and paid_only_models are lists of strings")
    except (orjson.JSONDecodeError, TypeError, AttributeError) as error:
        return json_response({"error": str(error)}, 400)
    plans = _state(request).plans
    if free is not None:
        plans.free = set(free)
    if paid_only is not None:
        plans.paid_only = set(paid_only)
    return json_response(plans.to_json())


async def reset_plans(request: Request) -> Response:
    """DELETE /__emulator/plans: every account paid again, the default paid-only models, no cached prefix."""
    state = _state(request)
    state.plans = Plans(state.initial_free)
    state.prefixes.clear()
    return json_response(state.plans.to_json())


async def health(request: Request) -> Response:
    return json_response({"status": "ok"})


async def queue_counts(request: Request) -> Response:
    """GET /__emulator/queue: submits and polls the batch queue took, requests held, and its delay."""
    return json_response(_state(request).queue.counts())


async def set_queue(request: Request) -> Response:
    """PUT /__emulator/queue `{"seconds": s}`: how long a queued request takes; the counts start again at 0."""
    try:
        seconds = float(orjson.loads(await request.body())["seconds"])
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as error:
        return json_response({"error": f'expected {{"seconds": number}}: {error}'}, 400)
    queue = _state(request).queue
    queue.seconds, queue.submits, queue.polls = max(0.0, seconds), 0, 0
    return json_response(queue.counts())
