"""create_emulator: the stand-alone Workers AI emulator as a Starlette app."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.emulator import control, routes
from app.emulator.envelope import EmulatorError, error_response, route_error
from app.emulator.plans import Plans
from app.emulator.state import EmulatorState

# Idle keep-alive seconds for the emulator's server: longer than the gateway keeps idle upstream connections
# (30 s), so the gateway never sends a request on a connection the emulator is closing.
EMULATOR_KEEP_ALIVE = 75

ACCOUNT = "/client/v4/accounts/{account}/ai"
ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


async def _render_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, EmulatorError)
    return error_response(exc)


async def _outside(request: Request) -> Response:
    return error_response(route_error(request.url.path))


def create_emulator(
    *, token: str | None = None, account_id: str | None = None, free_accounts: tuple[str, ...] = ()
) -> Starlette:
    """A Workers AI emulator.

    token: when set, every /client/v4 request must send `Authorization: Bearer <token>` (else 401 / 10000).
    account_id: when set, any other account id in the path is a 404 / 7003 routing error.
    free_accounts: accounts on the free plan (paid-only models answer them 5035); all others are paid.
    """
    app = Starlette(
        routes=[
            Route(f"{ACCOUNT}/run/{{model:path}}", routes.run_model, methods=["POST"]),
            Route(f"{ACCOUNT}/models/search", routes.models_search, methods=["GET"]),
            Route(f"{ACCOUNT}/tasks/search", routes.tasks_search, methods=["GET"]),
            Route(f"{ACCOUNT}/v1/chat/completions", routes.chat_completions, methods=["POST"]),
            Route(f"{ACCOUNT}/v1/embeddings", routes.embeddings, methods=["POST"]),
            Route("/client/v4/{rest:path}", routes.unknown_route, methods=ALL_METHODS),
            Route("/__emulator/faults", control.add_fault, methods=["POST"]),
            Route("/__emulator/faults", control.list_faults, methods=["GET"]),
            Route("/__emulator/faults", control.clear_faults, methods=["DELETE"]),
            Route("/__emulator/script", control.add_replies, methods=["POST"]),
            Route("/__emulator/script", control.list_replies, methods=["GET"]),
            Route("/__emulator/script", control.clear_replies, methods=["DELETE"]),
            Route("/__emulator/requests", control.list_requests, methods=["GET"]),
            Route("/__emulator/requests", control.clear_requests, methods=["DELETE"]),
            Route("/__emulator/streams", control.stream_outcomes, methods=["GET"]),
            Route("/__emulator/plans", control.get_plans, methods=["GET"]),
            Route("/__emulator/plans", control.set_plans, methods=["PUT"]),
            Route("/__emulator/plans", control.reset_plans, methods=["DELETE"]),
            Route("/__emulator/queue", control.queue_counts, methods=["GET"]),
            Route("/__emulator/queue", control.set_queue, methods=["PUT"]),
            Route("/__emulator/health", control.health, methods=["GET"]),
            Route("/{rest:path}", _outside, methods=ALL_METHODS),
        ],
        exception_handlers={EmulatorError: _render_error},
    )
    app.state.emulator = EmulatorState(
        token=token, account_id=account_id, initial_free=free_accounts, plans=Plans(free_accounts)
    )
    return app
