"""The storage interface the routers see: put bytes in, get a servable file back by its name."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

# What a stored file's name may be: 22 url-safe characters (`secrets.token_urlsafe(16)`: 128 random bits)
# and a known extension. Anything else is refused before the store is asked, so no name reaches a path
# outside the store (no `/`, `\`, `..`, `%`, NUL, absolute paths, overlong names).
NAME = re.compile(r"[A-Za-z0-9_-]{22}\.(png|jpg|webp|gif)")
MEDIA_TYPES = {"png": "image/png", "jpg": "image/jpeg", "webp": "image/webp", "gif": "image/gif"}


def media_type_of(name: str) -> str:
    return MEDIA_TYPES[name.rsplit(".", 1)[1]]


@dataclass(frozen=True, slots=True)
class Stored:
    """A stored file as the files route serves it: from a local `path` (a zero-copy file response), or
    from a `redirect` URL (a presigned URL of an object store)."""

    name: str
    media_type: str
    size: int
    etag: str
    path: Path | None = None
    stat: os.stat_result | None = None  # of `path`, so the response need not ask the disk again
    redirect: str | None = None


class FileStore(Protocol):
    """Generated files, kept for a while. Implementations do their I/O off the event loop."""

    async def put(self, data: bytes, ext: str) -> str:
        """Store `data` (written whole or not at all) and return its new, unguessable name."""
        ...

    async def get(self, name: str) -> Stored | None:
        """The file called `name` (already checked against NAME), or None if it is unknown or expired."""
        ...
