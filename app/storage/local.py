"""`LocalStore`: files in one directory, written atomically, removed by age and by a size cap."""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import tempfile
import time
from pathlib import Path

from app.storage.base import MEDIA_TYPES, NAME, Stored, media_type_of

TEMP_PREFIX = ".part-"


class LocalStore:
    """A directory of files named `<id>.<ext>`. Everything on disk is the state, so a restart (or a second
    worker process sharing the directory) sees the same files."""

    def __init__(self, directory: Path, *, retention_seconds: float, max_bytes: int) -> None:
        self.directory = directory
        self.retention_seconds = retention_seconds
        self.max_bytes = max_bytes

    async def put(self, data: bytes, ext: str) -> str:
        if ext not in MEDIA_TYPES:
            raise ValueError(f"unsupported extension {ext!r}")
        name = f"{secrets.token_urlsafe(16)}.{ext}"
        await asyncio.to_thread(self._write_and_evict, name, data)
        return name

    async def get(self, name: str) -> Stored | None:
        if not NAME.fullmatch(name):
            return None
        return await asyncio.to_thread(self._stat, name)

    def _stat(self, name: str) -> Stored | None:
        path = self.directory / name
        try:
            stat = path.stat()
        except OSError:
            return None
        if time.time() - stat.st_mtime > self.retention_seconds:
            return None  # expired; the next write removes it
        # The name is random and the file never changes, so the name itself is a strong validator.
        return Stored(name, media_type_of(name), stat.st_size, f'"{name.split(".")[0]}"', path=path, stat=stat)

    def _write_and_evict(self, name: str, data: bytes) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        # Written under a temporary name, then renamed: a reader sees the whole file or none.
        fd, temp = tempfile.mkstemp(prefix=TEMP_PREFIX, dir=self.directory)
        try:
            with os.fdopen(fd, "wb") as file:
                file.write(data)
            os.replace(temp, self.directory / name)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temp)
            raise
        self.evict(keep=name)

    def evict(self, now: float | None = None, keep: str = "") -> None:
        """Remove files past the retention period, then the oldest until the rest fit under the cap (never
        `keep`, the file just written: its URL is about to be handed out)."""
        now = time.time() if now is None else now
        kept: list[tuple[float, int, str]] = []
        with os.scandir(self.directory) as entries:
            for entry in entries:
                try:
                    stat = entry.stat()
                except OSError:
                    continue  # removed meanwhile (another worker)
                stale_temp = entry.name.startswith(TEMP_PREFIX) and now - stat.st_mtime > 3600
                if stale_temp or (NAME.fullmatch(entry.name) and now - stat.st_mtime > self.retention_seconds):
                    _remove(entry.path)
                elif NAME.fullmatch(entry.name):
                    kept.append((stat.st_mtime, stat.st_size, entry.path))
        total = sum(size for _, size, _ in kept)
        for _, size, path in sorted(kept):
            if total <= self.max_bytes:
                break
            if os.path.basename(path) == keep:
                continue
            _remove(path)
            total -= size


def _remove(path: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)
