"""How an account id reads on the status page, in /v1/billing, /metrics and the request log: masked."""

from __future__ import annotations

from app.accounts.pool import AccountPool
from app.accounts.source import mask
from app.catalog import Catalog
from app.cf_accounts import DEMO_ACCOUNT_ID
from app.state import MemoryState
from app.upstream.client import Credentials


def test_a_cloudflare_account_id_shows_its_first_and_last_four_characters() -> None:
    assert mask("a1b2c3d4e5f60718293a4b5c6d7ef9e0") == "a1b2…f9e0"


def test_a_short_id_is_not_shown() -> None:
    assert mask("acct-a") == "…"


def test_the_demo_account_reads_as_the_demo_account_not_as_a_bare_ellipsis() -> None:
    pool = AccountPool([Credentials(DEMO_ACCOUNT_ID, "demo")], state=MemoryState(), catalog=Catalog())
    (account,) = pool.accounts
    assert account.masked == mask(DEMO_ACCOUNT_ID) == "demo"
