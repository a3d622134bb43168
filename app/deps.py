"""What a handler needs from the app (who the caller is: app/caller.py).

Handlers call these directly instead of declaring FastAPI `Depends`: solving even a few dependencies costs
FastAPI 0.1-0.45 ms of CPU per request (the benchmark's profile), more than the rest of the gateway.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fastapi import Request

from app.accounts.pool import AccountPool
from app.cache.answers import AnswerCache
from app.catalog import Catalog
from app.config import Settings
from app.convert.affinity import HEADER_BYTES as SESSION_HEADER
from app.convert.affinity import from_header, session_of
from app.fetch.lazy import LazyImageFetcher
from app.ops.requests import EXCHANGE, Exchange
from app.serving.models import ModelDirectory
from app.serving.translate import Translator
from app.state import MemoryState, SharedState
from app.storage import FileStore
from app.upstream.client import Credentials, WorkersAI


@dataclass(slots=True)
class Gateway:
    """Everything that lives for the app's lifetime; kept on `app.state.gateway`."""

    settings: Settings
    catalog: Catalog
    models: ModelDirectory
    upstream: WorkersAI
    server_credentials: Credentials | None = None  # managed mode: the server's own token
    demo: bool = False
    translator: Translator | None = None  # /translate, /v2/translate (app/serving/translate.py)

    image_fetcher: LazyImageFetcher | None = None  # fetches image URLs; None when IMAGE_URL_FETCH is off
    state: SharedState = field(default_factory=MemoryState)  # shared by workers and replicas (app/state/)
    accounts: AccountPool | None = None  # managed mode: the accounts calls run on (app/accounts/)
    # Per-key credentials, when keys are pinned or limited (the key's hash travels, never the key).
    key_credentials: dict[str, Credentials] = field(default_factory=dict)
    response_stores: dict[str | None, Any] = field(default_factory=dict)  # serving/responses.py, per key
    answers: AnswerCache | None = None  # the response cache (app/serving/cached.py)


def gateway(request: Request) -> Gateway:
    state: Gateway = request.app.state.gateway
    return state


def session_header(request: Request) -> str | None:
    """The client's `x-session-affinity` header, from the raw ASGI headers (Starlette's Headers cost more)."""
    for name, value in request.scope["headers"]:
        if name == SESSION_HEADER:
            header: str = value.decode("latin-1")
            return header
    return None


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
    header = session_header(request)
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
