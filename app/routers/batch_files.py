"""POST/GET /v1/files, GET/DELETE /v1/files/{file_id}, GET /v1/files/{file_id}/content: OpenAI's Files API,
for the Batch API's input and output files (docs/batches.md). Each file belongs to the key that made it:
another key gets 404, as if it did not exist. (Hosted images are app/routers/files.py.)"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import orjson
from fastapi import Query, Request, Response
from fastapi.responses import FileResponse

from app.accounts.account import key_id
from app.caller import identify, key_of
from app.deps import Gateway, gateway
from app.errors import InvalidRequest, NotFound
from app.http_responses import JSONBytes
from app.openapi import documented
from app.route import Routes
from app.serving.batches import records
from app.storage.batches import BatchStore
from app.uploads import read_form

route = Routes(prefix="/v1", tags=["batches"])
FORM = {
    "type": "object",
    "required": ["file", "purpose"],
    "properties": {
        "file": {"type": "string", "format": "binary", "description": "The JSONL file of batch requests."},
        "purpose": {"type": "string", "enum": ["batch"], "description": "Only `batch` is taken."},
    },
}


def batch_store(request: Request) -> BatchStore:
    store: BatchStore = request.app.state.batch_store
    return store


def owner_of(request: Request, gw: Gateway) -> str:
    """Whose files and batches these are: the presented key's id (never the key), "" without a key. 401 for
    a wrong key; 400 in passthrough mode, where lines could only run on a token the gateway must not keep."""
    if gw.server_credentials is None:
        raise InvalidRequest(
            "The Batch API needs a managed gateway (CF_API_TOKEN set): batch lines run on the gateway's own "
            "accounts after the request that made the batch has ended.",
            code="batches_need_managed_mode",
        )
    identify(request, gw)
    token = key_of(request)  # as identify read it
    return key_id(token) if token else ""


def public(meta: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in meta.items() if name not in records.PRIVATE}


def page(items: list[dict[str, Any]], after: str | None, limit: int) -> bytes:
    """OpenAI's cursor page of `items` (newest first): those after the id `after`, at most `limit`."""
    if after is not None:
        ids = [item["id"] for item in items]
        items = items[ids.index(after) + 1 :] if after in ids else []
    data = items[:limit]
    return orjson.dumps(
        {
            "object": "list",
            "data": data,
            "first_id": data[0]["id"] if data else None,
            "last_id": data[-1]["id"] if data else None,
            "has_more": len(items) > limit,
        }
    )


async def _file(request: Request, file_id: str) -> tuple[BatchStore, str, dict[str, Any]]:
    store, owner = batch_store(request), owner_of(request, gateway(request))
    meta = await asyncio.to_thread(store.file, owner, file_id)
    if meta is None:
        raise NotFound(f"No such File object: {file_id}", param="file_id", code="file_not_found")
    return store, owner, meta


# -- routes (one block) ------------------------------------------------------------------------------------


@route.post("/files", doc=documented(400, 401, 413, form=FORM))
async def create_file(request: Request) -> Response:
    """Upload a JSONL file of batch requests (`purpose=batch`), up to BATCH_FILE_MAX_BYTES."""
    gw = gateway(request)
    owner = owner_of(request, gw)
    form = await read_form(request, file_fields={"file": 1}, max_file_bytes=gw.settings.batch_file_max_bytes)
    try:
        purpose, upload = form.get("purpose"), form.file("file")
        if purpose != "batch":
            raise InvalidRequest(
                "This gateway takes files with purpose `batch` only (the Batch API's input).",
                param="purpose",
                code="invalid_value",
            )
        if upload is None:
            raise InvalidRequest("Missing required parameter: 'file'.", param="file", code="missing_required_parameter")
        meta = {
            "object": "file",
            "created_at": int(time.time()),
            "filename": upload.filename[:255],
            "purpose": "batch",
            "status": "processed",
            "status_details": None,
            "expires_at": None,
            "owner": owner,
        }
        stored = await asyncio.to_thread(batch_store(request).put_file, meta, upload.stream())
    finally:
        form.close()
    return JSONBytes(orjson.dumps(public(stored)))


@route.get("/files", doc=documented(400, 401))
async def list_files(
    request: Request,
    purpose: str | None = None,
    after: str | None = Query(None, max_length=64),
    limit: int = Query(10_000, ge=1, le=10_000),
    order: str = Query("desc", pattern="^(asc|desc)$"),
) -> Response:
    """The key's files, newest first (`order=asc`: oldest first), `purpose` to filter."""
    owner = owner_of(request, gateway(request))
    files = await asyncio.to_thread(batch_store(request).list_files, owner)
    files = [public(meta) for meta in files if purpose is None or meta["purpose"] == purpose]
    if order == "desc":
        files.reverse()
    return JSONBytes(page(files, after, limit))


@route.get("/files/{file_id}", doc=documented(400, 401, 404))
async def retrieve_file(request: Request, file_id: str) -> Response:
    """One file's details."""
    _, _, meta = await _file(request, file_id)
    return JSONBytes(orjson.dumps(public(meta)))


@route.get("/files/{file_id}/content", doc=documented(400, 401, 404, answers=("application/jsonl",)))
async def retrieve_file_content(request: Request, file_id: str) -> Response:
    """The file's bytes: an input file as uploaded, a batch's output or error file as JSONL."""
    store, owner, meta = await _file(request, file_id)
    path = await asyncio.to_thread(store.content_path, owner, file_id)
    if path is None:
        raise NotFound(f"No such File object: {file_id}", param="file_id", code="file_not_found")
    return FileResponse(path, media_type="application/jsonl", filename=meta["filename"])


@route.delete("/files/{file_id}", doc=documented(400, 401, 404))
async def delete_file(request: Request, file_id: str) -> Response:
    """Delete a file (a batch that still needs it as input then fails)."""
    store, owner, _ = await _file(request, file_id)
    await asyncio.to_thread(store.delete_file, owner, file_id)
    return JSONBytes(orjson.dumps({"id": file_id, "object": "file", "deleted": True}))
