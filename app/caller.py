"""Who the caller is: every way a key is presented, resolved to one caller with its pin and limits.

A key may come as `Authorization: Bearer <key>`, `Authorization: DeepL-Auth-Key <key>` (the DeepL
libraries), `x-api-key: <key>` (Anthropic's SDKs) or, on the routes whose clients cannot set a header
(DeepLX, Immersive Translate, the status page in a browser), as `?token=`, `?password=` or `?key=`. In
passthrough mode the key is the client's Cloudflare token, or `<account_id>:<token>`.

The caller is the `Credentials` its calls run on. With per-key settings (`ACCOUNT_KEY_PINS`,
`GATEWAY_KEY_RPM`, `GATEWAY_KEY_NEURONS_PER_DAY`) it names the key (as `key_id`, never the key itself), so
the account pool pins it and counts its neurons; `caller` admits it once a request against its limits.
Without GATEWAY_API_KEYS any token is let in, so callers share one anonymous allowance (docs/limits.md).
Every route that takes a key goes through here, so a limit that applies to a key applies on every route.
"""

from __future__ import annotations

import hmac
from dataclasses import replace
from urllib.parse import parse_qsl

from fastapi import Request

from app.accounts.account import key_id
from app.cf_accounts import ACCOUNT_ID
from app.errors import AuthenticationFailed
from app.serving.batches.dispatch import BATCH_CALLER, CALLER_KEY
from app.serving.gateway import Gateway
from app.upstream.client import Credentials

# Without GATEWAY_API_KEYS every caller is this one caller to the per-key limits (a key named in
# ACCOUNT_KEY_PINS keeps its own pin and counts): not a hash, so no key can be counted as it.
ANONYMOUS = "anonymous"
CACHE_CONTROL = "gateway.cache_control"  # the raw header, found by presented_key in the same pass as the key
QUERY_KEYS = ("token", "password", "key")  # in this order, on the routes that take a key in the URL
KEY_SCHEMES = ("bearer", "deepl-auth-key")


async def caller(request: Request, gw: Gateway, *, query: bool = False) -> Credentials:
    """The caller of a request that runs on Workers AI: who they are (401 otherwise), admitted against their
    key's requests a minute and neurons today (429 otherwise). Counted once a request, however many upstream
    calls it makes (n images, a batch of texts) and whether or not the answer came from a cache."""
    creds = identify(request, gw, query=query)
    if creds.key and gw.accounts is not None:
        await gw.accounts.admit(creds.key)
    return creds


def identify(request: Request, gw: Gateway, *, query: bool = False) -> Credentials:
    """Who the caller is (401 otherwise), for routes that read rather than run (models, stored responses,
    usage): not counted against the key's limits. A batch line (served in-process) is its batch's owner."""
    batch_owner: Credentials | None = request.scope.get(BATCH_CALLER)
    if batch_owner is not None:
        return batch_owner
    key = request.scope[CALLER_KEY] = presented_key(request, query=query)
    return credentials_for(key, gw)


def key_of(request: Request, *, query: bool = False) -> str | None:
    """Whose stored responses and cached answers a request reads: the key `identify` found (read once; the
    header scan was about 1% of a Responses request), or for a batch line its owner's key id."""
    scope = request.scope
    return scope[CALLER_KEY] if CALLER_KEY in scope else presented_key(request, query=query)


def presented_key(request: Request, *, query: bool = False) -> str | None:
    """The key as the request presents it: a header, or (`query`) the URL's `token`, `password` or `key`.
    The same pass keeps the raw `Cache-Control` in the scope for the response cache (app/routers/cache.py),
    so the head is read once a request."""
    # Straight from the raw ASGI headers: building Starlette's Headers showed up in the profile.
    authorization: bytes | None = None
    api_key: bytes | None = None
    cache_control: bytes | None = None
    scope = request.scope
    for name, value in scope["headers"]:
        if name == b"authorization":
            authorization = value
        elif name == b"x-api-key":
            api_key = value
        elif name == b"cache-control":
            cache_control = value
    scope[CACHE_CONTROL] = cache_control
    if api_key is not None and (key := api_key.decode("latin-1").strip()):
        return key
    if authorization is not None:
        scheme, _, token = authorization.decode("latin-1").strip().partition(" ")
        if scheme.lower() in KEY_SCHEMES and (token := token.strip()):
            return token
    raw: bytes = request.scope.get("query_string", b"")
    if query and raw:
        fields = dict(parse_qsl(raw.decode("latin-1")))
        return next((fields[name] for name in QUERY_KEYS if fields.get(name)), None)
    return None


def key_matches(token: str, keys: list[str]) -> bool:
    """Constant time in the token's content: every key is compared, with no early exit."""
    presented = token.encode()
    matched = False
    for key in keys:
        matched |= hmac.compare_digest(presented, key.encode())
    return matched


def credentials_for(token: str | None, gw: Gateway) -> Credentials:
    """The Cloudflare credentials a presented key runs on (401 otherwise), however it was presented."""
    server = gw.server_credentials
    if server is not None:
        return _managed(token, gw, server)
    if token is None:
        raise AuthenticationFailed(
            "You didn't provide an API key. This gateway runs in passthrough mode: send your Cloudflare API "
            "token as `Authorization: Bearer <token>` or `Bearer <account_id>:<token>`."
        )
    account, sep, cf_token = token.partition(":")
    if not sep:
        account, cf_token = gw.settings.cf_account_id, token
    if not account or not cf_token:
        raise AuthenticationFailed(
            "No Cloudflare account id: send `Authorization: Bearer <account_id>:<token>`, or have the "
            "operator set CF_ACCOUNT_ID.",
            code="invalid_account_id",
        )
    if not ACCOUNT_ID.fullmatch(account):
        raise AuthenticationFailed(
            "The account id in your key may hold only letters, digits, '-' and '_'.", code="invalid_account_id"
        )
    return Credentials(account, cf_token, from_client=True)


def _managed(token: str | None, gw: Gateway, server: Credentials) -> Credentials:
    keys = gw.settings.gateway_api_keys
    if keys and (token is None or not key_matches(token, keys)):
        raise AuthenticationFailed(
            "Incorrect API key provided."
            if token
            else "You didn't provide an API key. Send it as `Authorization: Bearer <key>`."
        )
    if gw.accounts is None or not gw.accounts.per_key:
        return server
    if token is None or (not keys and key_id(token) not in gw.accounts.pins):
        token = None  # any token would pass: a new one must not be a new allowance
    known = gw.key_credentials.get(token or "")
    if known is None:  # one entry per configured or pinned key at most, and the anonymous one
        known = gw.key_credentials[token or ""] = replace(server, key=key_id(token) if token else ANONYMOUS)
    return known


def require_gateway_key(request: Request, gw: Gateway, *, query: bool) -> None:
    """For pages about the whole gateway (the status page): only gateway keys may look when keys are
    configured, in passthrough mode too; anyone may when none are. `query`: a page a browser opens."""
    keys = gw.settings.gateway_api_keys
    if not keys:
        return
    token = presented_key(request, query=query)
    if token is None:
        where = "as `Authorization: Bearer <key>` or as `?key=<key>`" if query else "as `Authorization: Bearer <key>`"
        raise AuthenticationFailed(f"The status is for gateway keys only: send one {where}.")
    if not key_matches(token, keys):
        raise AuthenticationFailed()
