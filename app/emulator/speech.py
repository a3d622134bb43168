"""Text-to-speech: melotts answers `{"audio": <base64 MP3>}`, aura-1 answers raw audio/mpeg bytes."""

from __future__ import annotations

import base64
import struct

from app.emulator.outputs import BinaryResult, Call, JsonResult, Output
from app.emulator.validation import enum_field, expect_object, number_field, string_field

MELOTTS = "@cf/myshell-ai/melotts"
SPEAKERS = [
    "angus", "asteria", "arcas", "orion", "orpheus", "athena",
    "luna", "zeus", "perseus", "helios", "hera", "stella",
]  # fmt: skip
ENCODINGS = ["linear16", "flac", "mulaw", "alaw", "mp3", "opus", "aac"]
CONTAINERS = ["none", "wav", "ogg"]
FRAMES_PER_WORD = 10  # a frame is 1152 samples at 44.1 kHz, about 26 ms
# MPEG-1 Layer III, 32 kbit/s, 44.1 kHz, mono: a 104-byte frame whose zeroed side info decodes as silence.
_FRAME = b"\xff\xfb\x10\xc4" + bytes(100)


def _id3(tool: str) -> bytes:
    text = b"\x03" + tool.encode()
    frame = b"TSSE" + struct.pack(">I", len(text)) + b"\x00\x00" + text
    return b"ID3\x04\x00\x00" + struct.pack(">I", len(frame)) + frame  # sizes < 128: syncsafe == plain


def silent_mp3(text: str) -> bytes:
    """A small valid MP3 (ID3v2.4 tag, then silent frames) whose length grows with the text."""
    frames = max(1, len(text.split())) * FRAMES_PER_WORD
    return _id3("Workers AI emulator") + _FRAME * frames


def run_text_to_speech(call: Call) -> Output:
    body = expect_object(call.json())
    if call.spec.name == MELOTTS:
        prompt = string_field(body, "prompt", required=True, min_length=1) or ""
        string_field(body, "lang", default="en")
        return JsonResult({"audio": base64.b64encode(silent_mp3(prompt)).decode()})
    text = string_field(body, "text", required=True, min_length=1) or ""
    enum_field(body, "speaker", SPEAKERS, default="angus")
    enum_field(body, "encoding", ENCODINGS)
    enum_field(body, "container", CONTAINERS)
    number_field(body, "sample_rate", 0, integer=True)
    number_field(body, "bit_rate", 0, integer=True)
    return BinaryResult(silent_mp3(text), "audio/mpeg")
