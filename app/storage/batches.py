"""Batch API files and batch records on disk, under `DATA_DIR/batches` (docs/batches.md).

files/{file_id}.data   the file's bytes (input JSONL, or a finished batch's output and error files)
files/{file_id}.json   its metadata: the `FileObject` fields and the owner (a key id, never a key)
runs/{batch_id}.json   the batch's record, rewritten whole on every change
runs/{batch_id}.log    its journal: one JSON object a line, appended (see `Journal`)

Every whole-file write goes to a temporary name first and is renamed over the old one, so a crash leaves
either the old file or the new, never half of one. Ids are checked against their pattern before any path is
built from them: a client's id can name nothing outside these two directories. Blocking: call the methods
from a thread (`asyncio.to_thread`).
"""

from __future__ import annotations

import fcntl
import os
import re
import secrets
import shutil
import time
from pathlib import Path
from typing import IO, Any

import orjson

FILE_ID = re.compile(r"file-[0-9a-f]{24}")
BATCH_ID = re.compile(r"batch_[0-9a-f]{24}")
COPY_CHUNK = 1 << 20


def new_id(prefix: str) -> str:
    """`file-…` or `batch_…` with 96 random bits, the shape FILE_ID and BATCH_ID accept."""
    return f"{prefix}{secrets.token_hex(12)}"


def write_atomic(path: Path, data: bytes | IO[bytes]) -> int:
    """Writes `data` to `path` through a temporary file and a rename; the bytes written."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        with tmp.open("wb") as out:
            if isinstance(data, bytes):
                out.write(data)
            else:
                shutil.copyfileobj(data, out, COPY_CHUNK)
            out.flush()
            os.fsync(out.fileno())
            size = out.tell()
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return size


class Journal:
    """What a batch's lines did, appended one JSON object a line: `{"s": n}` line n started (sent on its way
    upstream), `{"r": n}` released (it was refused before it ran: a 429, to try again later), `{"d": n, "ok":
    bool, "out": {...}}` done, with its output line. A line cut off by a crash is skipped on reading."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._out: IO[bytes] | None = None

    def append(self, *entries: dict[str, Any]) -> None:
        if self._out is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._out = self.path.open("ab")
        self._out.write(b"".join(orjson.dumps(entry) + b"\n" for entry in entries))
        self._out.flush()  # in the OS's hands: a killed process loses nothing written

    def read(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        entries = []
        for raw in self.path.read_bytes().splitlines():
            try:
                entry = orjson.loads(raw)
            except orjson.JSONDecodeError:
                continue  # the last line of a process killed mid-write
            if isinstance(entry, dict):
                entries.append(entry)
        return entries

    def close(self) -> None:
        if self._out is not None:
            self._out.close()
            self._out = None


class BatchStore:
    """The files and batches of every key, each visible only to the key (`owner`) that made it."""

    def __init__(self, root: Path) -> None:
        self.files = root / "files"
        self.runs = root / "runs"
        self._lock: IO[bytes] | None = None

    def _made(self, directory: Path) -> Path:
        """`directory`, made on first write (a gateway that never gets a batch adds nothing to DATA_DIR, and
        one whose DATA_DIR is not writable still starts: /readyz says so)."""
        directory.mkdir(parents=True, exist_ok=True)
        return directory

    def take_runner_lock(self) -> bool:
        """Whether this process runs the batches: the one that holds the lock on `runs/.runner.lock` (kept
        until it exits, when the OS lets it go), so workers and replicas sharing DATA_DIR never run a batch
        twice; the others try again at each look, and one takes over when the holder is gone."""
        if self._lock is not None:
            return True
        try:
            handle = (self._made(self.runs) / ".runner.lock").open("ab")
        except OSError:
            return False  # DATA_DIR not writable: nothing can run (/readyz says so)
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            return False
        self._lock = handle
        return True

    def release_runner_lock(self) -> None:
        if self._lock is not None:
            self._lock.close()
            self._lock = None

    # -- files --------------------------------------------------------------------------------------------

    def put_file(self, meta: dict[str, Any], data: bytes | IO[bytes], file_id: str = "") -> dict[str, Any]:
        """Stores a file (a new one, or `file_id` written again whole): `meta` gets its `id` and `bytes`; the
        data first, so a listed file has its bytes."""
        file_id = file_id or new_id("file-")
        assert FILE_ID.fullmatch(file_id)
        meta = {**meta, "id": file_id, "order": time.time_ns()}
        meta["bytes"] = write_atomic(self._made(self.files) / f"{file_id}.data", data)
        write_atomic(self.files / f"{file_id}.json", orjson.dumps(meta))
        return meta

    def file(self, owner: str, file_id: str) -> dict[str, Any] | None:
        """The file's metadata, or None: no such id, an id of the wrong shape, or another key's file."""
        if not FILE_ID.fullmatch(file_id):
            return None
        meta = _read_json(self.files / f"{file_id}.json")
        return meta if meta is not None and meta.get("owner") == owner else None

    def content_path(self, owner: str, file_id: str) -> Path | None:
        return self.files / f"{file_id}.data" if self.file(owner, file_id) is not None else None

    def list_files(self, owner: str) -> list[dict[str, Any]]:
        found = (_read_json(path) for path in self.files.glob("file-*.json"))
        return sorted((meta for meta in found if meta is not None and meta.get("owner") == owner), key=_created)

    def delete_file(self, owner: str, file_id: str) -> bool:
        if self.file(owner, file_id) is None:
            return False
        (self.files / f"{file_id}.json").unlink(missing_ok=True)  # first: no listing shows a file without bytes
        (self.files / f"{file_id}.data").unlink(missing_ok=True)
        return True

    # -- batches ------------------------------------------------------------------------------------------

    def save_batch(self, record: dict[str, Any]) -> None:
        write_atomic(self._made(self.runs) / f"{record['id']}.json", orjson.dumps(record))

    def batch(self, owner: str, batch_id: str) -> dict[str, Any] | None:
        if not BATCH_ID.fullmatch(batch_id):
            return None
        record = _read_json(self.runs / f"{batch_id}.json")
        return record if record is not None and record.get("owner") == owner else None

    def batches(self) -> list[dict[str, Any]]:
        """Every key's batches, oldest first."""
        found = (_read_json(path) for path in self.runs.glob("batch_*.json"))
        return sorted((record for record in found if record is not None), key=_created)

    def request_cancel(self, batch_id: str) -> None:
        """Marks the batch for cancelling; the runner (in whichever worker runs batches) sees the mark."""
        (self.runs / f"{batch_id}.cancel").touch()

    def cancel_requested(self, batch_id: str) -> float | None:
        """When the batch was marked for cancelling, or None."""
        try:
            return (self.runs / f"{batch_id}.cancel").stat().st_mtime
        except FileNotFoundError:
            return None

    def journal(self, batch_id: str) -> Journal:
        assert BATCH_ID.fullmatch(batch_id)
        return Journal(self.runs / f"{batch_id}.log")


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        value = orjson.loads(path.read_bytes())
    except (FileNotFoundError, orjson.JSONDecodeError):
        return None
    return value if isinstance(value, dict) else None


def _created(item: dict[str, Any]) -> tuple[int, str]:
    """Oldest first: by creation time in ns (`order`), then id."""
    return int(item.get("order") or 0), str(item["id"])
