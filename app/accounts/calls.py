"""Workers AI through the account pool: the client (`app/upstream/client.py`) speaks HTTP; this wraps it, so
each call runs on the account the pool chooses, fails over as the pool says, and is counted in neurons.

Built once at start-up around the client (app/main.py), with the pool of a managed gateway or none (a
passthrough gateway: every call carries the client's own account). Its calls are the client's (`Upstream`),
so the serving code does not know which it holds.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial
from typing import Any

from app.accounts import neurons
from app.accounts.account import Account
from app.accounts.pool import AccountPool
from app.accounts.source import mask
from app.convert.text import prompt_chars, tokens_for_chars
from app.errors import UpstreamError
from app.ops.requests import CURRENT
from app.upstream.client import JSON, Credentials, Result, Stream, WorkersAI

QUEUE_QUERY = "queueRequest=true"  # Workers AI's asynchronous batch queue (docs/batches.md)
ACCOUNT_GONE = "queue_account_gone"  # a queued request's account left CF_ACCOUNTS: its results cannot be read


class PooledWorkersAI:
    """`WorkersAI` with the account pool around it. A client's own credentials (passthrough) go straight to
    the client; the server's go to the account the pool chooses."""

    __slots__ = ("accounts", "client")

    def __init__(self, client: WorkersAI, accounts: AccountPool | None = None) -> None:
        self.client = client
        self.accounts = accounts  # None: no managed accounts (a passthrough gateway)

    async def run(
        self,
        creds: Credentials,
        model_id: str,
        payload: dict[str, Any] | bytes | bytearray,
        *,
        content_type: str = JSON,
    ) -> Result:
        """`WorkersAI.run` on the account the pool chooses, failing over and counting what the call cost."""
        pool = self.accounts
        if pool is None or creds.from_client:
            _note_account(mask(creds.account_id))
            return await self.client.run(creds, model_id, payload, content_type=content_type)
        route = pool.ready(model_id, creds)
        if route is None:
            return await pool.call(
                model_id, partial(self._charged_run, pool, creds, model_id, payload, content_type), creds
            )
        started = time.perf_counter()
        try:
            result = await self.client.run(
                route.account.creds,  # type: ignore[union-attr]
                model_id,
                payload,
                content_type=content_type,
                session=creds.session,
            )
        except UpstreamError as error:
            attempt = partial(self._charged_run, pool, creds, model_id, payload, content_type)
            return await pool.recover(route, attempt, error)
        pool.done(route, started, payload, result)
        return result

    async def _charged_run(
        self,
        pool: AccountPool,
        creds: Credentials,
        model_id: str,
        payload: dict[str, Any] | bytes | bytearray,
        content_type: str,
        account: Account,
    ) -> Result:
        result = await self.client.run(
            account.creds, model_id, payload, content_type=content_type, session=creds.session
        )
        pool.charge(account, model_id, payload, result, creds)
        _note_account(account.masked)
        return result

    async def stream(
        self,
        creds: Credentials,
        model_id: str,
        payload: dict[str, Any],
        *,
        meanwhile: Callable[[], object] | None = None,
    ) -> Stream | Result:
        """`WorkersAI.stream` on the account the pool chooses. Failover happens only while opening: once a
        stream is returned it is never retried; it is counted when it ends."""
        pool = self.accounts
        if pool is None or creds.from_client:
            _note_account(mask(creds.account_id))
            return await self.client.stream(creds, model_id, payload, meanwhile=meanwhile)
        route = pool.ready(model_id, creds)
        attempt = partial(self._charged_stream, pool, creds, model_id, payload, meanwhile)
        if route is None or route.account is None:
            return await pool.call(model_id, attempt, creds)
        started = time.perf_counter()
        try:
            opened = await self.client.stream(
                route.account.creds, model_id, payload, meanwhile=meanwhile, session=creds.session
            )
        except UpstreamError as error:
            return await pool.recover(route, attempt, error)
        if isinstance(opened, Stream):
            opened.settle = partial(_settle_stream, pool, route.account, model_id, payload, creds)
            pool.done(route, started, payload, None)
        else:
            pool.done(route, started, payload, opened)
        return opened

    async def _charged_stream(
        self,
        pool: AccountPool,
        creds: Credentials,
        model_id: str,
        payload: dict[str, Any],
        meanwhile: Callable[[], object] | None,
        account: Account,
    ) -> Stream | Result:
        opened = await self.client.stream(account.creds, model_id, payload, meanwhile=meanwhile, session=creds.session)
        _note_account(account.masked)
        if isinstance(opened, Stream):
            opened.settle = partial(_settle_stream, pool, account, model_id, payload, creds)
        else:
            pool.charge(account, model_id, payload, opened, creds)
        return opened

    async def submit_queue(self, creds: Credentials, model_id: str, requests: list[Any]) -> tuple[str, Result]:
        """Workers AI's batch queue (`?queueRequest=true`): `requests` submitted on the account the pool
        chooses (failing over as for any call, one per-minute slot); that account's id and the `queued` answer.
        Nothing is counted yet: the neurons are the poll's that brings the results (`poll_queue`)."""
        pool = self.accounts
        if pool is None or creds.from_client:
            raise RuntimeError("the batch queue runs on the pool's accounts only")
        if creds.key:  # the batch owner's GATEWAY_KEY_RPM and neurons a day, as at the edge for a line
            await pool.admit(creds.key)

        async def attempt(account: Account) -> tuple[str, Result]:
            result = await self.client.run(account.creds, model_id, {"requests": requests}, query=QUEUE_QUERY)
            _note_account(account.masked)
            return account.id, result

        return await pool.call(model_id, attempt, creds)

    async def poll_queue(self, creds: Credentials, account_id: str, model_id: str, request_id: str) -> Result:
        """Polls a queued request on `account_id`, the account that took it (no other knows its id). The answer
        with the results is counted, from its `usage`, against that account and `creds`' key."""
        pool = self.accounts
        account = pool.account(account_id) if pool is not None else None
        if pool is None or account is None:
            raise UpstreamError("The account that took this queued batch is no longer configured.", code=ACCOUNT_GONE)
        result = await self.client.run(account.creds, model_id, {"request_id": request_id}, query=QUEUE_QUERY)
        usage = result.get("usage") if isinstance(result, dict) and "responses" in result else None
        if isinstance(usage, dict):
            prompt, completion = usage.get("prompt_tokens", 0), usage.get("completion_tokens", 0)
            pool.charge_tokens(account, model_id, (int(prompt or 0), int(completion or 0)), creds)
        return result

    async def search_models(self, creds: Credentials, *, per_page: int = 100) -> list[dict[str, Any]]:
        """`WorkersAI.search_models` (no model runs, nothing is counted)."""
        return await self.client.search_models(creds, per_page=per_page)


def _settle_stream(
    pool: AccountPool,
    account: Account,
    model_id: str,
    payload: dict[str, Any],
    creds: Credentials,
    tail: list[bytes],
    events: int,
) -> None:
    """A stream ended: count it, from the usage its last events carry (Workers AI sends it last), else
    estimated from the prompt and the number of events (about a token each)."""
    usage = neurons.stream_usage(tail)
    if usage is not None:
        pool.charge_tokens(account, model_id, usage, creds)
        return
    prompt = tokens_for_chars(prompt_chars(payload))
    pool.charge_tokens(account, model_id, (prompt, max(0, events - 1)), creds)


def _note_account(masked: str) -> None:
    """The request's log line names the account its call ran on, `masked` (a pooled `Account.masked`, or a
    passthrough client's id through `mask`; the pool's fast path notes it in `AccountPool.done`)."""
    record = CURRENT.get()
    if record is not None:
        record.account = masked
