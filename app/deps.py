"""Annotated dependency aliases, so handler signatures read like prose."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Request

from app.catalog import Catalog
from app.config import ACCOUNT_ID, Settings
from app.errors import AuthenticationFailed
from app.upstream.client import Credentials, WorkersAI


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_upstream(request: Request) -> WorkersAI:
    upstream: WorkersAI = request.app.state.upstream
    return upstream


def get_catalog(request: Request) -> Catalog:
    catalog: Catalog = request.app.state.catalog
    return catalog


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def key_matches(token: str, keys: list[str]) -> bool:
    """Constant time in the token's content: every key is compared, with no early exit."""
    presented = token.encode()
    matched = False
    for key in keys:
        matched |= hmac.compare_digest(presented, key.encode())
    return matched


def get_credentials(request: Request) -> Credentials:
    """Who the caller is, as the Cloudflare credentials their request runs on."""
    settings = get_settings(request)
    token = bearer_token(request)
    if settings.managed:
        if settings.gateway_api_keys and (token is None or not key_matches(token, settings.gateway_api_keys)):
            raise AuthenticationFailed(
                "Incorrect API key provided."
                if token
                else "You didn't provide an API key. Send it as `Authorization: Bearer <key>`."
            )
        credentials: Credentials = request.app.state.credentials
        return credentials
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


SettingsDep = Annotated[Settings, Depends(get_settings)]
UpstreamDep = Annotated[WorkersAI, Depends(get_upstream)]
CatalogDep = Annotated[Catalog, Depends(get_catalog)]
CredentialsDep = Annotated[Credentials, Depends(get_credentials)]
