"""The images scenario's round against a real gateway and the fake upstream (a few GETs, no timing)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp

from bench.endpoints import GATEWAY_KEY
from bench.fake_upstream import IMAGE_BYTES
from bench.images import IMAGES, PeakMeter, one_round
from tests.bench.fake import gateway_on_fake_upstream


def test_a_round_generates_n_images_and_serves_them_back(tmp_path: Path) -> None:
    with gateway_on_fake_upstream(DATA_DIR=str(tmp_path)) as (_, url, process):

        async def main() -> None:
            headers = {"Authorization": f"Bearer {GATEWAY_KEY}", "Content-Type": "application/json"}
            async with aiohttp.ClientSession() as session:
                result = await one_round(session, url, headers, PeakMeter(process.pid), gets=8)
            assert len(set(result.urls)) == IMAGES
            assert result.bytes_served == 8 * IMAGE_BYTES and result.gets_rps > 0
            # Measured from the kernel's high-water mark: a first round's set-up, far below 8 copies.
            assert 0 <= result.get_growth < 8 * IMAGE_BYTES and 0 <= result.generate_growth < 16 * IMAGE_BYTES

        asyncio.run(main())
    assert len(list((tmp_path / "images").iterdir())) == IMAGES
