"""What a handler needs from the app (who the caller is: app/caller.py).

Handlers call these directly instead of declaring FastAPI `Depends`: solving even a few dependencies costs
FastAPI 0.1-0.45 ms of CPU per request (the benchmark's profile), more than the rest of the gateway.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request

from app.convert.affinity import HEADER_BYTES as SESSION_HEADER
from app.convert.affinity import from_header, session_of
from app.ops.requests import EXCHANGE, Exchange
from app.serving.gateway import Gateway as Gateway  # re-exported: the routers' one import for it
from app.storage import FileStore
from app.upstream.client import Credentials


def gateway(request: Request) -> Gateway:
    state: Gateway = request.app.state.gateway
    return state


def in_session(
    request: Request,
    gw: Gateway,
    creds: Credentials,
    *,
    cache_key: str | None = None,
    user: str | None = None,
    messages: Any = None,
) -> Credentials:
    """`creds` for a request of the conversation it belongs to (convert/affinity.py). Without a pool that
    keeps sessions on accounts only the client's header counts; `messages` may be a function that gives them,
    called only when a session is derived from them."""
    header: str | None = None  # the client's `x-session-affinity`, from the raw ASGI headers
    for name, value in request.scope["headers"]:
        if name == SESSION_HEADER:
            header = value.decode("latin-1")
            break
    accounts = gw.accounts
    if accounts is None or accounts.affinity is None:  # the usual gateway: one header scan, nothing derived
        return creds.with_session(from_header(header)) if header else creds
    if callable(messages):
        messages = messages()
    session = session_of(header, cache_key=cache_key, user=user, messages=messages)
    return creds.with_session(session.id, session.opens)


def exchange(request: Request) -> Exchange:
    """This request's record: handlers note the model, tokens and upstream time in it (app/ops/requests.py)."""
    record: Exchange = request.scope[EXCHANGE]
    return record


def files(request: Request) -> FileStore:
    """Where generated files (images) are kept."""
    store: FileStore = request.app.state.files
    return store
