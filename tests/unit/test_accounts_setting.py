"""CF_ACCOUNTS as users write it: a comma list, lines with comments, or `@/path` to a file of them; and the
mistakes it refuses, each named by position and never showing a token."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from app.cf_accounts import parse_accounts
from app.config import Settings

SECRET = "tok-SECRET-7f3a"


def test_a_comma_list_lines_with_comments_and_a_file_give_the_same_pairs(tmp_path: Path) -> None:
    expected = [("acct-a", "tok-1"), ("acct_b", "tok:2")]  # a token may hold ':'
    assert parse_accounts(" acct-a:tok-1 , acct_b:tok:2 ") == expected
    lines = "# the team's accounts\nacct-a:tok-1\n\n  acct_b : tok:2  \n"
    assert parse_accounts(lines) == expected
    listed = tmp_path / "accounts.txt"
    listed.write_text(lines, encoding="utf-8")
    assert parse_accounts(f"@{listed}") == expected
    settings = Settings(_env_file=None, cf_accounts=f"@{listed}")  # type: ignore[call-arg]
    assert settings.managed and settings.account_credentials() == expected


@pytest.mark.parametrize(
    ("value", "says"),
    [
        (f"acct-a:tok-1,acct-b{SECRET}", "entry 2 is not ACCOUNT_ID:TOKEN"),
        (f"acct-a:tok-1,:{SECRET}", "entry 2 is not ACCOUNT_ID:TOKEN"),
        (f"../../x:{SECRET}", "entry 1: the account id may hold only"),
        (f"acct-a:tok-1,acct-a:{SECRET}", "entry 2 repeats an account id"),
    ],
)
def test_mistakes_are_named_by_position_without_the_token(value: str, says: str) -> None:
    with pytest.raises(ValueError, match=says) as caught:
        parse_accounts(value)
    assert SECRET not in str(caught.value)
    with pytest.raises(ValidationError) as refused:
        Settings(_env_file=None, cf_accounts=value)  # type: ignore[call-arg]
    assert says in str(refused.value) and SECRET not in str(refused.value)


def test_a_file_that_cannot_be_read_is_refused_at_start(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="CF_ACCOUNTS names a file that cannot be read"):
        Settings(_env_file=None, cf_accounts=f"@{tmp_path / 'missing.txt'}")  # type: ignore[call-arg]
