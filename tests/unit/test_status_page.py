"""The status page shows whatever strings the pool recorded as text, never as markup."""

from __future__ import annotations

from html.parser import HTMLParser

from app.accounts import page
from app.accounts.snapshot import AccountStatus, ModelUsage, Snapshot

HOSTILE = '"><img src=x onerror=alert(1)>'


class Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs += attrs


def test_every_recorded_string_is_escaped() -> None:
    account = AccountStatus(
        id=HOSTILE,
        state="disabled",
        neurons_used=1.0,
        neurons_left=0.0,
        daily_allowance=10_000,
        reason=HOSTILE,
        models=(ModelUsage(HOSTILE, requests=1, errors=1, neurons=1.0),),
    )
    snap = Snapshot(generated_at=0, day=HOSTILE, reset_at=86_400, accounts=(account,), backend=HOSTILE)
    parser = Tags()
    parser.feed(page.render(snap, note=HOSTILE))
    assert "img" not in parser.tags and "script" not in parser.tags
    assert not any(name.startswith("on") for name, _ in parser.attrs)
    assert ("data-account", HOSTILE) in parser.attrs  # the value survives as text


def test_no_account_and_no_lookup_still_renders() -> None:
    html = page.render(Snapshot(generated_at=0, day="1970-01-01", reset_at=86_400, accounts=()), note="none")
    assert "none yet" in html and "Gateway totals" not in html and "in 24 h 00 min" in html
