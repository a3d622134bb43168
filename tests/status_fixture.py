"""A gateway in this process (uvicorn in a thread, on a loopback port) whose account pool the test sets:
the status page and billing calls read `Gateway.accounts`, which a separate process would not let a test
choose."""

from __future__ import annotations

import gc
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn

from app.accounts.snapshot import AccountStatus, ModelUsage, Snapshot
from app.config import Settings
from app.main import create_app
from tests.servers import ACCOUNT, CF_TOKEN, TEST_KEY, free_port, in_thread

DAY = 86_400
HOURLY_OK = (0, 0, 0, 0, 0, 0, 40, 120, 310, 520, 610, 480, 350, 290, 260, 180, 90) + (0,) * 7
HOURLY_SPENT = (0, 0, 0, 0, 0, 0, 900, 1800, 2600, 2300, 2200) + (0,) * 13


class FakeSource:
    """An account pool that answers one known snapshot."""

    def __init__(self, snapshot: Snapshot) -> None:
        self.value = snapshot

    async def snapshot(self) -> Snapshot:
        return self.value


def known_snapshot(now: int | None = None) -> Snapshot:
    """Three accounts: one ok with use, one exhausted until the reset, one disabled (its reason holds
    markup, which the page must show as text)."""
    moment = int(time.time()) if now is None else now
    reset = moment - moment % DAY + DAY
    ok = AccountStatus(
        id="a1b2…f9e0",
        state="ok",
        neurons_used=3250.5,
        neurons_left=6749.5,
        daily_allowance=10_000,
        hourly=tuple(float(n) for n in HOURLY_OK),
        models=(
            ModelUsage("@cf/meta/llama-3.1-8b-instruct-fast", requests=412, errors=3, neurons=2900.5),
            ModelUsage("@cf/baai/bge-m3", requests=250, errors=0, neurons=250.0),
            ModelUsage("@cf/openai/whisper", requests=7, errors=1, neurons=100.0),
        ),
    )
    exhausted = AccountStatus(
        id="c3d4…1a2b",
        state="exhausted",
        neurons_used=9800.0,
        neurons_left=0.0,
        daily_allowance=10_000,
        until=reset,
        hourly=tuple(float(n) for n in HOURLY_SPENT),
        models=(ModelUsage("@cf/meta/llama-3.1-8b-instruct-fast", requests=1290, errors=12, neurons=9800.0),),
    )
    disabled = AccountStatus(
        id="e5f6…3c4d",
        state="disabled",
        neurons_used=0.0,
        neurons_left=0.0,
        daily_allowance=10_000,
        reason="token rejected by Cloudflare (10000) <script>alert(1)</script>",
    )
    return Snapshot(
        generated_at=moment,
        day=time.strftime("%Y-%m-%d", time.gmtime(moment)),
        reset_at=reset,
        accounts=(ok, exhausted, disabled),
        cache={"hits": 75, "misses": 25},
    )


@contextmanager
def gateway_with_pool(api_base: str, snapshot: Snapshot | None, **settings: Any) -> Iterator[str]:
    """The gateway on a loopback port, its `accounts` answering `snapshot` (None: no pool)."""
    options: dict[str, Any] = {
        "cf_api_base": api_base,
        "cf_account_id": ACCOUNT,
        "cf_api_token": CF_TOKEN,
        "gateway_api_keys": [TEST_KEY],
    } | settings
    app = create_app(Settings(_env_file=None, **options))  # type: ignore[call-arg]
    port = free_port()
    thresholds = gc.get_threshold()  # the app's start-up tunes the collector for a server process
    try:
        with in_thread(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")):
            gw = app.app.state.gateway
            if snapshot is None:
                gw.accounts = gw.upstream.accounts = None
            else:  # the real pool serves the calls; only what it reports is fixed
                gw.accounts.snapshot = FakeSource(snapshot).snapshot
            yield f"http://127.0.0.1:{port}"
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)
