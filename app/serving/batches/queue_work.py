"""The runner's side of Workers AI's batch queue (`queued.py` converts): lines submitted in chunks, each chunk's
request id and account journaled before it is polled, so a restart polls again instead of submitting again;
polled every BATCH_POLL_SECONDS; each result written as the line path writes it (`records.output_line`).

Journal entries (beside the line path's `s`, `r`, `d`): `qs` the lines of a submit about to be sent (a crash
before its answer leaves them `batch_interrupted`, as a line in flight); `q` its request id, account and
lines once queued; `qr` the lines of a submit refused for now (429, 5xx), free to go again.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from typing import TYPE_CHECKING, Any, Protocol

from app.accounts.calls import ACCOUNT_GONE
from app.accounts.source import mask
from app.catalog import Model
from app.errors import GatewayError
from app.serving.batches import records
from app.serving.batches.queued import Item, answer

if TYPE_CHECKING:
    from collections.abc import Callable

    from app.serving.batches.lines import Line
    from app.serving.batches.pacing import Pacer
    from app.serving.batches.queued import Pending, UpstreamQueue
    from app.storage.batches import Journal
    from app.upstream.client import Credentials


class _Run(Protocol):
    """What this module reads of one batch's run (`runner._Run`)."""

    record: dict[str, Any]
    journal: Journal
    lines: list[Line]
    done: dict[int, tuple[bool, dict[str, Any]]]
    pending: Pending
    queued: set[int]


class BatchRunner(Protocol):
    """What this module uses of the runner (`runner.BatchRunner`): its settings and its waits."""

    queue: UpstreamQueue | None
    pacer: Pacer
    poll: float
    depth: int
    closing: bool
    owner_credentials: Callable[[str], Credentials]

    async def stopping(self, run: Any) -> bool: ...
    async def room(self, run: Any) -> bool: ...
    async def nap(self, seconds: float) -> None: ...
    async def waiting(self, run: Any, reason: str | None, until: float | None) -> None: ...
    async def record_done(self, run: Any, index: int, ok: bool, out: dict[str, Any]) -> None: ...


log = logging.getLogger("app.batches")
WAITS = ("rate_limit_exceeded", "daily_limit_exceeded")


async def run_queued(runner: BatchRunner, run: _Run) -> None:
    """Every line the queue takes, submitted and polled to its answer (or until shutdown, or a cancel or expiry
    with nothing left in flight); the lines it took are in `run.queued`, the line path runs the others."""
    queue, pending = runner.queue, run.pending
    resuming = bool(pending.requests)
    model = queue.model_for(run.record["endpoint"], run.record["model"], resuming=resuming) if queue else None
    if queue is None or model is None or not (queue.enabled or resuming):
        return
    items: dict[int, Item] = {}
    in_flight = pending.lines()
    for line in run.lines:
        if line.index not in run.done and (queue.enabled or line.index in in_flight):
            item = await queue.item(line, run.record["endpoint"], model)
            if item is not None:
                items[item.index] = item
    run.queued = set(items) | in_flight
    chunks = deque(queue.chunks([item for item in items.values() if item.index not in in_flight]))
    while (chunks or pending.requests) and not runner.closing:
        if chunks and len(pending.requests) < runner.depth and not await runner.stopping(run):
            if await runner.pacer.wait_until() is None:
                if await _submit(runner, run, model, chunks[0]):
                    chunks.popleft()
                continue
            if not pending.requests:
                await runner.room(run)  # waits for the reset, or for the batch to stop
                continue
        elif not pending.requests:
            break  # stopped, with nothing in flight: the rest is cancelled or expired
        await runner.nap(runner.poll)
        for request_id in list(pending.requests):
            await _poll(runner, run, model, items, request_id)


async def _submit(runner: BatchRunner, run: _Run, model: Model, chunk: list[Item]) -> bool:
    """One chunk queued (True), refused for good into the error file (True), or refused for now (False,
    after waiting its Retry-After, at most a poll)."""
    assert runner.queue is not None
    indices = [item.index for item in chunk]
    await asyncio.to_thread(run.journal.append, {"qs": indices})
    creds = runner.owner_credentials(run.record["owner"])
    try:
        account_id, request_id = await runner.queue.submit(creds, model, chunk)
    except GatewayError as error:
        if _retriable(error):
            await asyncio.to_thread(run.journal.append, {"qr": indices})
            await _wait_out(runner, run, error)
            return False
        for item in chunk:
            await _done(runner, run, item.index, item.custom_id, error.status_code, error.to_dict())
        return True
    await asyncio.to_thread(run.journal.append, {"q": request_id, "a": account_id, "l": indices})
    run.pending.requests[request_id] = (account_id, indices)
    log.info(
        "batch %s: %d lines queued on Workers AI as %s (account %s)",
        run.record["id"],
        len(indices),
        request_id,
        mask(account_id),
    )
    if run.record["waiting_for"] in WAITS:
        await runner.waiting(run, None, None)
    return True


async def _poll(runner: BatchRunner, run: _Run, model: Model, items: dict[int, Item], request_id: str) -> None:
    assert runner.queue is not None
    account_id, indices = run.pending.requests[request_id]
    creds = runner.owner_credentials(run.record["owner"])
    try:
        responses = await runner.queue.poll(creds, model, account_id, request_id)
    except GatewayError as error:
        if _retriable(error):
            return  # asked again at the next poll
        for index in indices:  # the queue lost or refused the request: said so on each line
            if index not in run.done:
                await _done(runner, run, index, _custom_id(run, index), error.status_code, error.to_dict())
        del run.pending.requests[request_id]
        return
    if responses is None:
        return  # queued or running
    for position, index in enumerate(indices):
        if index in run.done:
            continue  # written before a restart; the poll after it brings the same answer
        item = items.get(index)
        if item is None:
            await _done(runner, run, index, _custom_id(run, index), 502, _lost())
            continue
        status, body = answer(model, item, responses.get(position))
        await _done(runner, run, index, item.custom_id, status, body)
    del run.pending.requests[request_id]
    log.info("batch %s: Workers AI's queue answered %s (%d lines)", run.record["id"], request_id, len(indices))


async def _done(runner: BatchRunner, run: _Run, index: int, custom_id: str, status: int, body: object) -> None:
    """The line's output or error line, as the line path writes it (the same ids)."""
    line_id, request_id = records.line_id(run.record["id"], index), f"{run.record['id']}-{index}"
    out = records.output_line(line_id, custom_id, status, request_id, body)
    await runner.record_done(run, index, 200 <= status < 300, out)


async def _wait_out(runner: BatchRunner, run: _Run, error: GatewayError) -> None:
    try:
        seconds = float(error.headers.get("Retry-After") or error.headers.get("retry-after") or runner.poll)
    except ValueError:
        seconds = runner.poll
    reason = "daily_limit_exceeded" if error.code == "daily_limit_exceeded" else "rate_limit_exceeded"
    await runner.waiting(run, reason, time.time() + seconds)
    await runner.nap(min(runner.poll, seconds))


def _retriable(error: GatewayError) -> bool:
    """A 429 or a 5xx of Workers AI or of the way there: the same submit or poll may go again later."""
    return error.code != ACCOUNT_GONE and (error.status_code == 429 or error.status_code >= 500)


def _custom_id(run: _Run, index: int) -> str:
    return next(line.custom_id for line in run.lines if line.index == index)


def _lost() -> dict[str, object]:
    error = GatewayError("The gateway could not read this queued request back.", code="batch_queue_lost")
    return error.to_dict()
