"""POST/GET /v1/batches, GET /v1/batches/{batch_id}, POST /v1/batches/{batch_id}/cancel: OpenAI's Batch API,
run in the background and paced to the day's neurons (app/serving/batches/, docs/batches.md). A batch
belongs to the key that made it: another key gets 404."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
from fastapi import Query, Request, Response

from app.deps import gateway
from app.errors import InvalidRequest, NotFound
from app.http_responses import JSONBytes
from app.openapi import documented
from app.protocol.batches import BatchCreateRequest
from app.route import Routes
from app.routers.batch_files import batch_store, owner_of, page
from app.routers.body import read_json
from app.serving.batches import BatchRunner, records
from app.storage.batches import new_id

route = Routes(prefix="/v1", tags=["batches"])


def _runner(request: Request) -> BatchRunner:
    runner: BatchRunner = request.app.state.batch_runner
    return runner


async def _view(request: Request, record: dict[str, Any]) -> Response:
    asked = await asyncio.to_thread(batch_store(request).cancel_requested, record["id"])
    return JSONBytes(orjson.dumps(records.public(record, asked)))


async def _batch(request: Request, batch_id: str) -> dict[str, Any]:
    owner = owner_of(request, gateway(request))
    record = await asyncio.to_thread(batch_store(request).batch, owner, batch_id)
    if record is None:
        raise NotFound(f"No batch found with id '{batch_id}'.", param="batch_id", code="batch_not_found")
    return record


# -- routes (one block) ------------------------------------------------------------------------------------


@route.post("/batches", body=BatchCreateRequest, doc=documented(400, 401, 404))
async def create_batch(request: Request) -> Response:
    """Run every request of an uploaded JSONL file (`purpose=batch`) in the background, within the rate limits
    and BATCH_DAILY_NEURON_SHARE of each day's neurons; the results come as an output and an error file."""
    gw = gateway(request)
    owner = owner_of(request, gw)
    body = await read_json(request, BatchCreateRequest)
    store = batch_store(request)
    meta = await asyncio.to_thread(store.file, owner, body.input_file_id)
    if meta is None:
        raise NotFound(f"No such File object: {body.input_file_id}", param="input_file_id", code="file_not_found")
    if meta["purpose"] != "batch":
        raise InvalidRequest("The input file must have purpose `batch`.", param="input_file_id", code="invalid_value")
    expire = gw.settings.batch_expire_seconds
    record = records.new_record(new_id("batch_"), owner, body.input_file_id, body.endpoint, body.metadata, expire)
    await asyncio.to_thread(store.save_batch, record)
    _runner(request).wake()
    return JSONBytes(orjson.dumps(records.public(record, None)))


@route.get("/batches", doc=documented(400, 401))
async def list_batches(
    request: Request, after: str | None = Query(None, max_length=64), limit: int = Query(20, ge=1, le=100)
) -> Response:
    """The key's batches, newest first; `after` (a batch id) and `limit` page through them."""
    owner = owner_of(request, gateway(request))
    store = batch_store(request)
    mine = [record for record in await asyncio.to_thread(store.batches) if record["owner"] == owner]
    mine.reverse()
    asked = {record["id"]: await asyncio.to_thread(store.cancel_requested, record["id"]) for record in mine}
    return JSONBytes(page([records.public(record, asked[record["id"]]) for record in mine], after, limit))


@route.get("/batches/{batch_id}", doc=documented(400, 401, 404))
async def retrieve_batch(request: Request, batch_id: str) -> Response:
    """A batch: its status, `request_counts`, and once done its `output_file_id` and `error_file_id`. While it
    waits for tomorrow's neurons (or a rate limit), `waiting_for` says what for and `waiting_until` until when."""
    return await _view(request, await _batch(request, batch_id))


@route.post("/batches/{batch_id}/cancel", doc=documented(400, 401, 404))
async def cancel_batch(request: Request, batch_id: str) -> Response:
    """Stop a batch: no further line starts, lines in flight finish, then it is `cancelled` with the output
    of the lines done so far."""
    record = await _batch(request, batch_id)
    if record["status"] not in records.ACTIVE:
        raise InvalidRequest(
            f"The batch is {record['status']}; only a batch still running can be cancelled.",
            param="batch_id",
            code="batch_not_cancellable",
        )
    await asyncio.to_thread(batch_store(request).request_cancel, batch_id)
    _runner(request).wake()
    return await _view(request, record)
