"""Where generated files live and how they are served back: `FileStore` is the interface, `LocalStore` the
local-directory implementation. An S3-compatible store (R2, MinIO) implements the same two methods."""

from __future__ import annotations

from pathlib import Path

from app.config import Settings
from app.storage.base import NAME, FileStore, Stored, media_type_of
from app.storage.local import LocalStore

__all__ = ["NAME", "FileStore", "LocalStore", "Stored", "media_type_of", "open_store"]


def open_store(settings: Settings) -> FileStore:
    """The store the settings name: a local directory (`DATA_DIR/images`). An S3-compatible store would be
    chosen here, from its own settings, and nothing else would change."""
    return LocalStore(
        Path(settings.data_dir) / "images",
        retention_seconds=settings.image_retention_seconds,
        max_bytes=settings.image_store_max_bytes,
    )
