"""The images scenario's round against a real gateway and the fake upstream (a few GETs, no timing)."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import aiohttp

from bench.endpoints import GATEWAY_KEY, UPSTREAM_TOKEN
from bench.fake_upstream import IMAGE_BYTES
from bench.images import IMAGES, PeakMeter, one_round
from tests.servers import free_port, gateway_process, running

ROOT = Path(__file__).resolve().parents[2]


def test_a_round_generates_n_images_and_serves_them_back(tmp_path: Path) -> None:
    port = free_port()
    args = [sys.executable, "-m", "bench.fake_upstream", "--port", str(port)]
    with running(args, f"http://127.0.0.1:{port}/__bench/health", {"PYTHONPATH": str(ROOT)}):
        env = {
            "CF_API_BASE": f"http://127.0.0.1:{port}/client/v4",
            "CF_ACCOUNT_ID": "bench",
            "CF_API_TOKEN": UPSTREAM_TOKEN,
            "GATEWAY_API_KEYS": GATEWAY_KEY,
            "DATA_DIR": str(tmp_path),
        }
        with gateway_process(env) as (url, process, _):

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
