"""A batch's record (OpenAI's `Batch` object, plus its owner) and the files it ends with."""

from __future__ import annotations

import hashlib
import time
from typing import Any

import orjson

from app.serving.batches.lines import Line

ACTIVE = frozenset({"validating", "in_progress", "finalizing", "cancelling"})
PRIVATE = ("owner", "order")  # kept on disk, never shown; `order`: creation in ns, for listings


def new_record(
    batch_id: str, owner: str, input_file_id: str, endpoint: str, metadata: dict[str, str] | None, expire: int
) -> dict[str, Any]:
    now = int(time.time())
    return {
        "id": batch_id,
        "object": "batch",
        "endpoint": endpoint,
        "errors": None,
        "input_file_id": input_file_id,
        "completion_window": "24h",
        "status": "validating",
        "output_file_id": None,
        "error_file_id": None,
        "created_at": now,
        "in_progress_at": None,
        "expires_at": now + expire,
        "finalizing_at": None,
        "completed_at": None,
        "failed_at": None,
        "expired_at": None,
        "cancelling_at": None,
        "cancelled_at": None,
        "request_counts": {"total": 0, "completed": 0, "failed": 0},
        "metadata": metadata,
        "model": None,
        "usage": None,
        "owner": owner,
        "order": time.time_ns(),
        # The gateway's own: what a batch that is not moving waits for (docs/batches.md), and until when.
        "waiting_for": None,
        "waiting_until": None,
    }


def public(record: dict[str, Any], cancel_requested: float | None) -> dict[str, Any]:
    """The Batch object a client sees; a cancel asked for and not yet taken up shows as `cancelling`."""
    view = {name: value for name, value in record.items() if name not in PRIVATE}
    if cancel_requested is not None and view["status"] in ("validating", "in_progress"):
        view["status"] = "cancelling"
        view["cancelling_at"] = int(cancel_requested)
    return view


def move(record: dict[str, Any], status: str) -> None:
    """`status` from now, with its timestamp (`in_progress` -> `in_progress_at`, `cancelled` -> `cancelled_at`)."""
    record["status"] = status
    record[f"{status}_at"] = int(time.time())
    if status not in ("in_progress", "cancelling"):
        record["waiting_for"] = record["waiting_until"] = None


def line_id(batch_id: str, index: int) -> str:
    """The `batch_req_…` id of a line's result: its batch's and its own, the same after a restart."""
    return f"batch_req_{batch_id.removeprefix('batch_')}{index:06d}"


def results(
    batch_id: str, lines: list[Line], done: dict[int, tuple[bool, dict[str, Any]]], end: str
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The output and error files' lines, in the input's order: each answered line where its status puts it;
    a line that never ran (the batch `cancelled` or `expired` first) in the error file, saying so."""
    outputs: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []
    why = "The batch was cancelled" if end == "cancelled" else "The batch expired"
    for line in lines:
        if line.index in done:
            ok, out = done[line.index]
            (outputs if ok else errors).append(out)
        else:
            message = f"{why} before this request ran."
            errors.append(unanswered_line(line_id(batch_id, line.index), line.custom_id, f"batch_{end}", message))
    return outputs, errors


def result_meta(record: dict[str, Any], kind: str) -> dict[str, Any]:
    """The FileObject of a batch's output or error file, its owner the batch's."""
    return {
        "object": "file",
        "purpose": "batch_output",
        "filename": f"{record['id']}_{kind}.jsonl",
        "created_at": int(time.time()),
        "status": "processed",
        "status_details": None,
        "expires_at": None,
        "owner": record["owner"],
    }


def result_file_id(batch_id: str, kind: str) -> str:
    """The id of a batch's output or error file, the same every time, so a batch finalized again after a
    restart writes the same file over instead of leaving a second one."""
    return "file-" + hashlib.sha256(f"{batch_id}/{kind}".encode()).hexdigest()[:24]


def output_line(line_id: str, custom_id: str, status: int, request_id: str, body: object) -> dict[str, Any]:
    """A line of the output or error file for an answered request, as OpenAI writes it."""
    return {
        "id": line_id,
        "custom_id": custom_id,
        "response": {"status_code": status, "request_id": request_id, "body": body},
        "error": None,
    }


def unanswered_line(line_id: str, custom_id: str, code: str, message: str) -> dict[str, Any]:
    """A line of the error file for a request that got no answer: cancelled, expired, or cut by a restart."""
    return {"id": line_id, "custom_id": custom_id, "response": None, "error": {"code": code, "message": message}}


def usage_of(lines: list[dict[str, Any]]) -> dict[str, Any]:
    """The batch's `usage`: the tokens of every answered line, summed (chat's and embeddings' `prompt_tokens`
    and `completion_tokens`, the Responses API's `input_tokens` and `output_tokens`)."""
    sums = {"input": 0, "output": 0, "cached": 0, "reasoning": 0}
    for line in lines:
        body = (line.get("response") or {}).get("body")
        usage = body.get("usage") if isinstance(body, dict) else None
        if not isinstance(usage, dict):
            continue
        sums["input"] += _int(usage, "input_tokens", "prompt_tokens")
        sums["output"] += _int(usage, "output_tokens", "completion_tokens")
        sums["cached"] += _int(usage.get("input_tokens_details") or usage.get("prompt_tokens_details"), "cached_tokens")
        details = usage.get("output_tokens_details") or usage.get("completion_tokens_details")
        sums["reasoning"] += _int(details, "reasoning_tokens")
    return {
        "input_tokens": sums["input"],
        "input_tokens_details": {"cached_tokens": sums["cached"]},
        "output_tokens": sums["output"],
        "output_tokens_details": {"reasoning_tokens": sums["reasoning"]},
        "total_tokens": sums["input"] + sums["output"],
    }


def _int(fields: object, *names: str) -> int:
    if not isinstance(fields, dict):
        return 0
    return next((value for name in names if isinstance(value := fields.get(name), int)), 0)


def jsonl(lines: list[dict[str, Any]]) -> bytes:
    return b"".join(orjson.dumps(line) + b"\n" for line in lines)
