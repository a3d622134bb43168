"""Runs batches in the background: a task started in the app's lifespan (docs/batches.md).

Each line is served by the gateway's own app in this process (`dispatch.py`), as its batch's owner, so it
takes the per-model rate limits, the accounts' allowance, the per-key limits and the same conversion as an
interactive request. Lines start only while the pacer allows (`pacing.py`); a 429 is not an answer but a
wait: the line is tried again once its Retry-After has passed.

The journal (`app/storage/batches.py`) makes a restart resume where it stopped, and no line run twice: a
line is marked started before it is sent and done (with its output line) once answered. On start, a line
marked started and neither done nor released was in flight when the process died; Workers AI may have run
it, so it is not sent again but written to the error file (`batch_interrupted`). Only one process runs
batches (a lock file), so workers and replicas on one DATA_DIR never run a line twice either.

A batch on a model Workers AI's own queue takes (`?queueRequest=true`) goes there first, in chunks
(`queue_work.py`, converted by `queued.py`); the line path then runs only the lines the queue did not take.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
from starlette.types import ASGIApp

from app.serving.batches import records
from app.serving.batches.dispatch import Answer, dispatch
from app.serving.batches.lines import Line, read_lines
from app.serving.batches.pacing import Pacer
from app.serving.batches.queue_work import run_queued
from app.serving.batches.queued import Pending, UpstreamQueue
from app.storage.batches import BatchStore, Journal
from app.upstream.client import Credentials

log = logging.getLogger("app.batches")
SAVE_SECONDS = 0.5  # how stale a running batch's record on disk (its request_counts) may get
STOP_WAIT_SECONDS = 10.0  # lines in flight at shutdown get this long to finish before they are cut


@dataclass
class _Run:
    record: dict[str, Any]
    journal: Journal
    lines: list[Line] = field(default_factory=list)
    done: dict[int, tuple[bool, dict[str, Any]]] = field(default_factory=dict)
    saved: float = 0.0
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    pending: Pending = field(default_factory=Pending)  # requests in Workers AI's queue (queue_work.py)
    queued: set[int] = field(default_factory=set)  # lines the queue took: the line path leaves them


class BatchRunner:
    def __init__(
        self,
        store: BatchStore,
        app: ASGIApp,
        pacer: Pacer,
        owner_credentials: Callable[[str], Credentials],
        *,
        concurrency: int,
        poll_seconds: float,
        queue: UpstreamQueue | None = None,
    ) -> None:
        self.store = store
        self.app = app
        self.pacer = pacer
        self.owner_credentials = owner_credentials
        self.poll = poll_seconds
        self.queue = queue  # Workers AI's own batch queue, for the models it takes (queued.py)
        self.depth = concurrency  # queued requests in flight at once, per batch
        self._slots = asyncio.Semaphore(concurrency)
        self._wake = asyncio.Event()
        self.closing = False
        self._runs: dict[str, asyncio.Task[None]] = {}
        self._loop_task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._loop_task = asyncio.create_task(self._loop())

    def wake(self) -> None:
        """A batch was created or cancelled: look now rather than at the next poll."""
        self._wake.set()

    async def close(self) -> None:
        """No new line starts; lines in flight get STOP_WAIT_SECONDS to finish (then they are cut, and are
        `batch_interrupted` after the restart)."""
        self.closing = True
        self._wake.set()
        tasks = [task for task in (self._loop_task, *self._runs.values()) if task is not None]
        _, late = await asyncio.wait(tasks, timeout=STOP_WAIT_SECONDS) if tasks else (set(), set())
        for task in late:
            task.cancel()
        for task in late:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await asyncio.to_thread(self.store.release_runner_lock)

    # -- the loop -----------------------------------------------------------------------------------------

    async def _loop(self) -> None:
        while not self.closing:
            self._wake.clear()
            try:
                await self._start_runs()
            except Exception:
                log.exception("batch runner: could not look for batches")
            await self.nap(self.poll)

    async def _start_runs(self) -> None:
        """Runs each batch not ended and not running yet, if this process holds the runner lock (taken only
        once there is a batch to run)."""
        waiting = [r for r in await asyncio.to_thread(self.store.batches) if r["status"] in records.ACTIVE]
        if not waiting or not await asyncio.to_thread(self.store.take_runner_lock):
            return
        for record in waiting:
            if record["id"] not in self._runs:
                task = asyncio.create_task(self._run(record))
                self._runs[record["id"]] = task
                task.add_done_callback(functools.partial(self._ended, record["id"]))

    def _ended(self, batch_id: str, _: asyncio.Task[None]) -> None:
        self._runs.pop(batch_id, None)

    async def nap(self, seconds: float) -> None:
        """Sleeps `seconds`, or less if woken (a new batch, a cancel, shutdown)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), max(0.0, seconds))

    # -- one batch ----------------------------------------------------------------------------------------

    async def _run(self, record: dict[str, Any]) -> None:
        run = _Run(record, self.store.journal(record["id"]))
        try:
            if not await self._load(run):
                return
            if run.record["status"] == "in_progress":
                await self._work(run)
            if not self.closing:
                await self._finish(run)
        except Exception:
            log.exception("batch %s: stopped by an error; it is tried again at the next look", record["id"])
        finally:
            await self._save(run, force=True)
            run.journal.close()

    async def _load(self, run: _Run) -> bool:
        """Reads the input file (validating it the first time) and the journal; False when the batch failed."""
        record = run.record
        meta = await asyncio.to_thread(self.store.file, record["owner"], record["input_file_id"])
        path = await asyncio.to_thread(self.store.content_path, record["owner"], record["input_file_id"])
        data = await asyncio.to_thread(path.read_bytes) if path is not None and meta is not None else None
        if data is None:
            return await self._fail(run, [_fault("input_file_missing", "The input file was deleted.")])
        run.lines, faults = await asyncio.to_thread(read_lines, data, record["endpoint"])
        if faults:
            return await self._fail(run, faults)
        if record["status"] == "validating":
            record["request_counts"]["total"] = len(run.lines)
            record["model"] = run.lines[0].body["model"]
            records.move(record, "in_progress")
            await self._save(run, force=True)
        await self._recover(run)
        return True

    async def _recover(self, run: _Run) -> None:
        """What the journal says was done; a line in flight at a crash is not sent again (module docstring)."""
        started: set[int] = set()
        for entry in await asyncio.to_thread(run.journal.read):
            if "s" in entry:
                started.add(entry["s"])
            elif "r" in entry:
                started.discard(entry["r"])
            elif "d" in entry:
                run.done[entry["d"]] = (bool(entry["ok"]), entry["out"])
            elif "qs" in entry:  # a submit to Workers AI's queue sent, its answer not known yet
                started.update(entry["qs"])
            elif "qr" in entry:
                started.difference_update(entry["qr"])
            elif "q" in entry:  # queued: polled again, never submitted again
                started.difference_update(entry["l"])
                run.pending.requests[entry["q"]] = (entry["a"], entry["l"])
        by_index = {line.index: line for line in run.lines}
        for index in sorted(started - run.done.keys()):
            if index in by_index:
                out = records.unanswered_line(
                    records.line_id(run.record["id"], index),
                    by_index[index].custom_id,
                    "batch_interrupted",
                    "The gateway stopped while this request was in flight; it may have run, so it was not sent again.",
                )
                await self.record_done(run, index, False, out)
        for request_id, (_, indices) in list(run.pending.requests.items()):
            if all(index in run.done for index in indices):
                del run.pending.requests[request_id]
        counts = run.record["request_counts"]
        counts["completed"] = sum(1 for ok, _ in run.done.values() if ok)
        counts["failed"] = len(run.done) - counts["completed"]

    async def _fail(self, run: _Run, faults: list[dict[str, Any]]) -> bool:
        run.record["errors"] = {"object": "list", "data": faults}
        records.move(run.record, "failed")
        return False

    async def _work(self, run: _Run) -> None:
        await run_queued(self, run)
        if self.closing:
            return
        tasks: set[asyncio.Task[None]] = set()
        for line in run.lines:
            if line.index in run.done or line.index in run.queued:
                continue
            if await self.stopping(run) or not await self.room(run):
                break
            await self._slots.acquire()
            if await self.stopping(run):
                self._slots.release()
                break
            task = asyncio.create_task(self._line(run, line))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            task.add_done_callback(lambda _: self._slots.release())
        # Every line task ends before the batch does (the journal closes after), even if one of them fails.
        for failed in await asyncio.gather(*tasks, return_exceptions=True):
            if isinstance(failed, Exception):
                log.error("batch %s: a line failed: %r", run.record["id"], failed)

    async def stopping(self, run: _Run) -> bool:
        """Shutdown, a cancel, or the batch's expiry: no further line starts."""
        if self.closing or time.time() >= run.record["expires_at"]:
            return True
        asked = await asyncio.to_thread(self.store.cancel_requested, run.record["id"])
        if asked is not None and run.record["status"] != "cancelling":
            records.move(run.record, "cancelling")
            run.record["cancelling_at"] = int(asked)
            await self._save(run, force=True)
        return asked is not None

    async def room(self, run: _Run) -> bool:
        """Waits while today's batch share of neurons is used; False if the batch stops meanwhile."""
        while (until := await self.pacer.wait_until()) is not None:
            await self.waiting(run, "daily_neuron_share", until)
            await self.nap(min(self.poll, until - time.time()))
            if await self.stopping(run):
                return False
        if run.record["waiting_for"] == "daily_neuron_share":
            await self.waiting(run, None, None)
        return True

    async def waiting(self, run: _Run, reason: str | None, until: float | None) -> None:
        if run.record["waiting_for"] != reason or run.record["waiting_until"] != until:
            run.record["waiting_for"] = reason
            run.record["waiting_until"] = int(until) if until is not None else None
            await self._save(run, force=True)

    async def _line(self, run: _Run, line: Line) -> None:
        body = orjson.dumps({k: v for k, v in line.body.items() if k not in ("stream", "stream_options")})
        creds = self.owner_credentials(run.record["owner"])
        while True:
            await asyncio.to_thread(run.journal.append, {"s": line.index})
            request_id = f"{run.record['id']}-{line.index}"
            answer = await dispatch(self.app, run.record["endpoint"], body, creds, request_id, run.record["owner"])
            if answer.status != 429:
                break
            await asyncio.to_thread(run.journal.append, {"r": line.index})  # refused, not run: it may go again
            if not await self._after_429(run, answer):
                return
        if run.record["waiting_for"] in ("rate_limit_exceeded", "daily_limit_exceeded"):
            await self.waiting(run, None, None)
        line_id, request_id = records.line_id(run.record["id"], line.index), answer.headers.get("x-request-id", "")
        out = records.output_line(line_id, line.custom_id, answer.status, request_id, answer.json())
        await self.record_done(run, line.index, 200 <= answer.status < 300, out)

    async def _after_429(self, run: _Run, answer: Answer) -> bool:
        """Waits out a 429 (its Retry-After, at most a poll); False if the batch stops meanwhile."""
        try:
            seconds = float(answer.headers.get("retry-after", self.poll))
        except ValueError:
            seconds = self.poll
        error = answer.json()
        code = error.get("error", {}).get("code") if isinstance(error, dict) else None
        reason = "daily_limit_exceeded" if code == "daily_limit_exceeded" else "rate_limit_exceeded"
        await self.waiting(run, reason, time.time() + seconds)
        await self.nap(min(self.poll, seconds))
        return not await self.stopping(run)

    async def record_done(self, run: _Run, index: int, ok: bool, out: dict[str, Any]) -> None:
        await asyncio.to_thread(run.journal.append, {"d": index, "ok": ok, "out": out})
        run.done[index] = (ok, out)
        run.record["request_counts"]["completed" if ok else "failed"] += 1
        await self._save(run)

    async def _finish(self, run: _Run) -> None:
        """The output and error files, and the batch's last status."""
        record = run.record
        if record["status"] not in ("in_progress", "cancelling", "finalizing"):
            return
        cancelled = await asyncio.to_thread(self.store.cancel_requested, record["id"]) is not None
        if len(run.done) == len(run.lines):
            end = "completed"
        elif cancelled or time.time() >= record["expires_at"]:
            end = "cancelled" if cancelled else "expired"
        else:
            return  # a line's task failed (logged): the batch goes on at the next look
        if end == "completed":
            records.move(record, "finalizing")
            await self._save(run, force=True)
        outputs, errors = records.results(record["id"], run.lines, run.done, end)
        record["usage"] = records.usage_of(outputs + errors)
        record["output_file_id"] = await self._result_file(record, "output", outputs)
        record["error_file_id"] = await self._result_file(record, "error", errors)
        records.move(record, end)

    async def _result_file(self, record: dict[str, Any], kind: str, lines: list[dict[str, Any]]) -> str | None:
        if not lines:
            return None
        file_id = records.result_file_id(record["id"], kind)
        await asyncio.to_thread(self.store.put_file, records.result_meta(record, kind), records.jsonl(lines), file_id)
        return file_id

    async def _save(self, run: _Run, *, force: bool = False) -> None:
        """Writes the record, at most every SAVE_SECONDS while lines run (the journal has every line already);
        in order: the copy is taken under the lock, so an older copy never lands over a newer one."""
        now = time.monotonic()
        if not force and now - run.saved < SAVE_SECONDS:
            return
        run.saved = now
        async with run.lock:
            copy = orjson.loads(orjson.dumps(run.record))
            await asyncio.to_thread(self.store.save_batch, copy)


def _fault(code: str, message: str) -> dict[str, Any]:
    return {"code": code, "message": message, "param": None, "line": None}
