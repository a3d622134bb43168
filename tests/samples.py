"""Small real audio for tests, made with the standard library."""

from __future__ import annotations

import io
import wave


def wav(text: str = "", seconds: float = 1.0, rate: int = 16000) -> bytes:
    """A real mono 16-bit WAV whose samples begin with `TRANSCRIPT: <text>` (the emulator's marker for what
    the audio "says"); silence otherwise."""
    frames = bytearray(int(seconds * rate) * 2)
    marker = f"TRANSCRIPT: {text}\n".encode() if text else b""
    frames[: len(marker)] = marker
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(bytes(frames))
    return buffer.getvalue()


def mp3(text: str = "") -> bytes:
    """An ID3-tagged MP3 of silent MPEG-1 Layer III frames carrying the marker in a TXXX frame."""
    marker = f"transcript\x00TRANSCRIPT: {text}\n".encode()
    content = b"\x03" + marker
    frame = b"TXXX" + _syncsafe(len(content)) + b"\x00\x00" + content
    return b"ID3\x04\x00\x00" + _syncsafe(len(frame)) + frame + (b"\xff\xfb\x10\xc4" + bytes(100)) * 20


def _syncsafe(size: int) -> bytes:
    return bytes([(size >> 21) & 0x7F, (size >> 14) & 0x7F, (size >> 7) & 0x7F, size & 0x7F])
