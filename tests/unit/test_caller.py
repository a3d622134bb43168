"""How a request presents its key (app/caller.py), and what the caller keeps about keys."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from starlette.requests import Request

from app.accounts.pool import key_id
from app.caller import ANONYMOUS, credentials_for, presented_key
from app.errors import AuthenticationFailed
from app.upstream.client import Credentials


def _request(headers: dict[str, str], query: str = "") -> Request:
    raw = [(name.lower().encode(), value.encode()) for name, value in headers.items()]
    return Request({"type": "http", "headers": raw, "query_string": query.encode()})


@pytest.mark.parametrize(
    ("headers", "query", "expected"),
    [
        ({"Authorization": "Bearer sk-1"}, "", "sk-1"),
        ({"authorization": "bearer  sk-1 "}, "", "sk-1"),
        ({"Authorization": "DeepL-Auth-Key sk-1:fx"}, "", "sk-1:fx"),
        ({"x-api-key": "sk-2", "Authorization": "Bearer sk-1"}, "", "sk-2"),  # Anthropic's header first
        ({"Authorization": "Basic abc"}, "", None),
        ({}, "token=sk-3", "sk-3"),
        ({}, "password=sk-4&x=1", "sk-4"),
        ({}, "key=sk-5", "sk-5"),
        ({"Authorization": "Bearer sk-1"}, "token=sk-3", "sk-1"),  # a header beats the URL
    ],
)
def test_every_way_a_key_is_presented(headers: dict[str, str], query: str, expected: str | None) -> None:
    assert presented_key(_request(headers, query), query=True) == expected


def test_a_key_in_the_url_counts_only_where_the_route_takes_one() -> None:
    assert presented_key(_request({}, "token=sk-3"), query=False) is None


def _gateway(keys: list[str], pinned: tuple[str, ...] = ()) -> Any:
    server = Credentials("acct", "cf-token")
    settings = SimpleNamespace(gateway_api_keys=keys, cf_account_id="")
    accounts = SimpleNamespace(per_key=True, pins={key_id(key): "acct" for key in pinned})
    return SimpleNamespace(settings=settings, server_credentials=server, accounts=accounts, key_credentials={})


def test_per_key_credentials_are_kept_only_for_configured_keys() -> None:
    keyed = _gateway(["sk-1"])
    assert credentials_for("sk-1", keyed).key and list(keyed.key_credentials) == ["sk-1"]
    with pytest.raises(AuthenticationFailed):
        credentials_for("sk-other", keyed)
    open_gateway = _gateway([], pinned=("sk-pinned",))  # no keys: any token passes, so it is no new caller
    assert {credentials_for(token, open_gateway).key for token in ("sk-0", "sk-1", None)} == {ANONYMOUS}
    assert credentials_for("sk-pinned", open_gateway).key == key_id("sk-pinned")  # its pin and its own count
    assert sorted(open_gateway.key_credentials) == ["", "sk-pinned"]
