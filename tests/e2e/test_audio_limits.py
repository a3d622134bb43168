"""Upload limits (the 413 the client receives, every time) and the gateway's peak memory for a 25 MB upload."""

from __future__ import annotations

import re
import struct
from collections.abc import Iterator
from pathlib import Path

import openai
import pytest

from tests.conftest import TEST_KEY
from tests.servers import Emulator, gateway, managed_env

LIMIT = 1_000_000
BODY_LIMIT = 3_000_000


def wav_of_size(size: int, text: str = "a large file") -> bytes:
    """A WAV header declaring `size - 44` bytes of 16 kHz 16-bit mono samples, then the samples."""
    data = size - 44
    head = b"RIFF" + struct.pack("<I", size - 8) + b"WAVEfmt " + struct.pack("<IHHIIHH", 16, 1, 1, 16000, 32000, 2, 16)
    samples = bytearray(data)
    marker = f"TRANSCRIPT: {text}\n".encode()
    samples[: len(marker)] = marker
    return head + b"data" + struct.pack("<I", data) + bytes(samples)


def env(upstream: Emulator, **extra: str) -> dict[str, str]:
    return managed_env(upstream.api_base, **extra)


@pytest.fixture(scope="module")
def small_limit(upstream: Emulator) -> Iterator[str]:
    with gateway(env(upstream, AUDIO_MAX_UPLOAD_BYTES=str(LIMIT), MAX_BODY_BYTES=str(BODY_LIMIT))) as (url, _):
        yield url


def sdk(url: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{url}/v1", api_key=TEST_KEY, max_retries=0, timeout=60)


def test_a_file_at_the_limit_is_transcribed(small_limit: str) -> None:
    with sdk(small_limit) as client:
        result = client.audio.transcriptions.create(file=("a.wav", wav_of_size(LIMIT)), model="@cf/openai/whisper")
    assert result.text == "a large file"


def test_a_file_over_the_limit_is_a_413_the_client_receives_every_time(small_limit: str, upstream: Emulator) -> None:
    audio = wav_of_size(LIMIT + 1)
    with sdk(small_limit) as client:
        for _ in range(20):
            with pytest.raises(openai.APIStatusError) as caught:
                client.audio.transcriptions.create(file=("a.wav", audio), model="whisper-1")
            assert caught.value.status_code == 413
            assert isinstance(caught.value.body, dict)
            assert (caught.value.body["param"], caught.value.body["code"]) == ("file", "file_too_large")
    assert [r for r in upstream.requests() if "/ai/run/" in r["path"]] == []


def test_a_body_over_max_body_bytes_is_a_413_the_client_receives_every_time(small_limit: str) -> None:
    audio = wav_of_size(BODY_LIMIT * 10)  # refused by its Content-Length, before it is read
    with sdk(small_limit) as client:
        for _ in range(20):
            with pytest.raises(openai.APIStatusError) as caught:
                client.audio.transcriptions.create(file=("a.wav", audio), model="whisper-1")
            assert caught.value.status_code == 413


def _pid_serving(port: str) -> int:
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                cmdline = (proc / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if b"serve" in cmdline and port.encode() in cmdline:
                return int(proc.name)
    raise AssertionError(f"no gateway process on port {port}")


def _kib(pid: int, field: str) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    match = re.search(rf"^{field}:\s+(\d+) kB", status, re.MULTILINE)
    assert match, status
    return int(match[1])


@pytest.mark.parametrize("model", ["@cf/openai/whisper-large-v3-turbo", "@cf/openai/whisper"])
def test_peak_memory_for_a_25_mb_upload_stays_under_twice_its_size(upstream: Emulator, model: str) -> None:
    """RSS high-water mark above idle, from /proc (VmHWM reset through clear_refs), for base64 JSON (turbo)
    and raw bytes (whisper). The emulator refuses bodies over 10 MiB (3006), after it has read them."""
    size = 25_000_000
    audio = wav_of_size(size)
    with gateway(env(upstream)) as (url, _), sdk(url) as client:
        client.audio.transcriptions.create(file=("warm.wav", wav_of_size(100_000)), model=model)
        pid = _pid_serving(url.rsplit(":", 1)[1])
        Path(f"/proc/{pid}/clear_refs").write_text("5")
        idle = _kib(pid, "VmRSS")
        with pytest.raises(openai.APIStatusError) as caught:
            client.audio.transcriptions.create(file=("big.wav", audio), model=model)
        peak = _kib(pid, "VmHWM")
    assert caught.value.status_code == 413 and "3006" in caught.value.message
    sent = [r for r in upstream.requests() if r["path"].endswith(model)][-1]
    assert sent["body_size"] >= size  # the whole file went upstream
    above = (peak - idle) * 1024
    print(f"{model}: idle {idle} KiB, peak {peak} KiB, {above / size:.2f}x the upload above idle")
    assert above < 2 * size
