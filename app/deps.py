"""What a handler needs from the app, and who the caller is.

Handlers call these directly instead of declaring FastAPI `Depends`: solving even a few dependencies costs
FastAPI 0.1-0.45 ms of CPU per request (the benchmark's profile), more than the rest of the gateway.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field, replace
from typing import Any

from fastapi import Request

from app.accounts.pool import AccountPool, key_id
from app.catalog import Catalog
from app.config import ACCOUNT_ID, Settings
from app.convert.affinity import HEADER_BYTES as SESSION_HEADER
from app.convert.affinity import from_header, session_of
from app.errors import AuthenticationFailed
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


def gateway(request: Request) -> Gateway:
    state: Gateway = request.app.state.gateway
    return state


def bearer_token(request: Request) -> str | None:
    # Straight from the raw ASGI headers: building Starlette's Headers showed up in the profile.
    header = next((value for name, value in request.scope["headers"] if name == b"authorization"), None)
    if not header:
        return None
    scheme, _, token = header.decode("latin-1").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def key_matches(token: str, keys: list[str]) -> bool:
    """Constant time in the token's content: every key is compared, with no early exit."""
    presented = token.encode()
    matched = False
    for key in keys:
        matched |= hmac.compare_digest(presented, key.encode())
    return matched


def authenticate(request: Request, gw: Gateway) -> Credentials:
    """Who the caller is, as the Cloudflare credentials their request runs on (401 otherwise)."""
    return credentials_for(bearer_token(request), gw)


def credentials_for(token: str | None, gw: Gateway) -> Credentials:
    """The Cloudflare credentials a presented key runs on (401 otherwise), however it was presented."""
    settings = gw.settings
    server = gw.server_credentials
    if server is not None:
        if settings.gateway_api_keys and (token is None or not key_matches(token, settings.gateway_api_keys)):
            raise AuthenticationFailed(
                "Incorrect API key provided."
                if token
                else "You didn't provide an API key. Send it as `Authorization: Bearer <key>`."
            )
        if token is not None and gw.accounts is not None and gw.accounts.per_key:
            known = gw.key_credentials.get(token)
            if known is None:  # at most one entry per configured key: only matching keys get here
                known = gw.key_credentials[token] = replace(server, key=key_id(token))
            return known
        return server
    if token is None:
        raise AuthenticationFailed(
            "You didn't provide an API key. This gateway runs in passthrough mode: send your Cloudflare API "
            "token as `Authorization: Bearer <token>` or `Bearer <account_id>:<token>`."
        )
    account, sep, cf_token = token.partition(":")
    if not sep:
        account, cf_token = settings.cf_account_id, token
    if not account or not cf_token:
        raise AuthenticationFailed(
            "No Cloudflare account id: send `Authorization: Bearer <account_id>:<token>`, or have the "
            "operator set CF_ACCOUNT_ID."
        )
    if not ACCOUNT_ID.fullmatch(account):
        raise AuthenticationFailed("The account id in your key may hold only letters, digits, '-' and '_'.")
    return Credentials(account, cf_token, from_client=True)


def session_header(request: Request) -> str | None:
    """The client's `x-session-affinity` header (from the raw ASGI headers, as `bearer_token` reads)."""
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
