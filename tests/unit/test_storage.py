"""LocalStore: atomic writes, names nobody can guess or bend, eviction by age then by size."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import pytest

from app.storage import NAME, LocalStore


def _store(tmp_path: Path, **kwargs: float) -> LocalStore:
    return LocalStore(
        tmp_path / "images",
        retention_seconds=kwargs.get("retention", 3600),
        max_bytes=int(kwargs.get("max_bytes", 1 << 20)),
    )


def test_put_then_get(tmp_path: Path) -> None:
    store = _store(tmp_path)
    name = asyncio.run(store.put(b"\x89PNG data", "png"))
    assert NAME.fullmatch(name) and name.endswith(".png")
    stored = asyncio.run(store.get(name))
    assert stored is not None and stored.path is not None and stored.path.read_bytes() == b"\x89PNG data"
    assert stored.media_type == "image/png" and stored.size == 9 and stored.etag == f'"{name[:-4]}"'
    assert os.listdir(tmp_path / "images") == [name]  # the temporary file was renamed, not left behind
    (store.directory / ".part-abc").write_bytes(b"half")  # a write in progress is never served
    assert asyncio.run(store.get(".part-abc")) is None


def test_names_are_unguessable_and_unbendable(tmp_path: Path) -> None:
    store = _store(tmp_path)
    names = {asyncio.run(store.put(b"x", "jpg")) for _ in range(20)}
    assert len(names) == 20
    (tmp_path / "secret.txt").write_text("no")
    for hostile in ("../secret.txt", "/etc/passwd", "..", "a" * 22 + ".txt", "a" * 23 + ".png", ""):
        assert asyncio.run(store.get(hostile)) is None
    with pytest.raises(ValueError):
        asyncio.run(store.put(b"x", "exe"))


def test_eviction_by_age_then_oldest_first(tmp_path: Path) -> None:
    store = _store(tmp_path, retention=100, max_bytes=250)
    names = [asyncio.run(store.put(b"x" * 100, "png")) for _ in range(2)]
    now = time.time()
    for age, name in zip((50, 10), names, strict=True):  # the first is older
        os.utime(store.directory / name, (now - age, now - age))
    newest = asyncio.run(store.put(b"y" * 100, "png"))  # 300 bytes > 250: the oldest goes
    assert sorted(os.listdir(store.directory)) == sorted([names[1], newest])
    os.utime(store.directory / names[1], (now - 500, now - 500))
    assert asyncio.run(store.get(names[1])) is None  # expired: not served
    store.evict()
    assert os.listdir(store.directory) == [newest]


def test_a_file_bigger_than_the_cap_is_still_served(tmp_path: Path) -> None:
    store = _store(tmp_path, max_bytes=10)
    name = asyncio.run(store.put(b"z" * 100, "gif"))
    assert asyncio.run(store.get(name)) is not None
