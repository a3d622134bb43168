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


def test_totals_need_two_accounts_and_demo_mode_is_said() -> None:
    account = AccountStatus(id="a1b2…f9e0", state="ok", neurons_used=1.0, neurons_left=9_999.0, daily_allowance=10_000)
    one = Snapshot(generated_at=0, day="1970-01-01", reset_at=86_400, accounts=(account,))
    two = Snapshot(generated_at=0, day="1970-01-01", reset_at=86_400, accounts=(account, account))
    assert "Gateway totals" not in page.render(one) and "Gateway totals" in page.render(two)
    assert 'id="demo"' not in page.render(one) and "Demo mode: no Cloudflare credentials" in page.render(one, demo=True)


def test_a_model_id_may_break_only_after_a_slash() -> None:
    usage = ModelUsage("@cf/meta/llama-3.3-70b-instruct-fp8-fast", requests=1)
    account = AccountStatus(id="a", state="ok", neurons_used=0, neurons_left=0, daily_allowance=0, models=(usage,))
    html = page.render(Snapshot(generated_at=0, day="1970-01-01", reset_at=86_400, accounts=(account,)))
    cell = "<span>@cf/</span><wbr><span>meta/</span><wbr><span>llama-3.3-70b-instruct-fp8-fast</span>"
    assert cell in html and "td.model span{white-space:nowrap}" in html
