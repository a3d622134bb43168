"""The image fetcher, built when the first image URL arrives.

aiohttp, its SOCKS connector and yarl cost a gateway about 20 MB of memory and 100 ms of start-up
(`python -X importtime`); most gateways never see an image URL, so they never pay it. The import runs in a
thread, so the first fetch does not hold the event loop while modules load.
"""

from __future__ import annotations

import asyncio
import importlib
from typing import TYPE_CHECKING

from app.config import Settings

if TYPE_CHECKING:
    from app.fetch.images import ImageFetcher


class LazyImageFetcher:
    """`await get()` -> the one ImageFetcher of the app, started on first use; `close()` at shutdown."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._fetcher: ImageFetcher | None = None
        self._lock = asyncio.Lock()

    async def get(self) -> ImageFetcher:
        if self._fetcher is None:
            async with self._lock:
                if self._fetcher is None:
                    module = await asyncio.to_thread(importlib.import_module, "app.fetch.images")
                    fetcher: ImageFetcher = module.ImageFetcher(self._settings)
                    await fetcher.start()
                    self._fetcher = fetcher
        return self._fetcher

    async def close(self) -> None:
        if self._fetcher is not None:
            await self._fetcher.close()
            self._fetcher = None
