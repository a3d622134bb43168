"""Text-to-speech: melotts answers `{"audio": <base64 MP3>}`, the aura models answer raw audio bytes.

The audio is silent but well formed, grows with the text, and carries `TRANSCRIPT: <text>` in its
metadata (an ID3 frame, a RIFF chunk, an Ogg comment), so the emulator's speech recognition of it
returns the text: a test can check a round trip.
"""

from __future__ import annotations

import base64
import io
import struct
import wave

from app.emulator.envelope import ai_error
from app.emulator.outputs import BinaryResult, Call, JsonResult, Output
from app.emulator.validation import enum_field, expect_object, number_field, string_field

MELOTTS = "@cf/myshell-ai/melotts"
SPEAKERS: dict[str, list[str]] = {
    "@cf/deepgram/aura-1": [
        "angus", "asteria", "arcas", "orion", "orpheus", "athena",
        "luna", "zeus", "perseus", "helios", "hera", "stella",
    ],
    "@cf/deepgram/aura-2-en": [
        "amalthea", "andromeda", "apollo", "arcas", "aries", "asteria", "athena", "atlas", "aurora",
        "callista", "cora", "cordelia", "delia", "draco", "electra", "harmonia", "helena", "hera", "hermes",
        "hyperion", "iris", "janus", "juno", "jupiter", "luna", "mars", "minerva", "neptune", "odysseus",
        "ophelia", "orion", "orpheus", "pandora", "phoebe", "pluto", "saturn", "thalia", "theia", "vesta", "zeus",
    ],
    "@cf/deepgram/aura-2-es": [
        "sirio", "nestor", "carina", "celeste", "alvaro", "diana", "aquila", "selena", "estrella", "javier",
    ],
}  # fmt: skip
DEFAULT_SPEAKER = {"@cf/deepgram/aura-1": "angus", "@cf/deepgram/aura-2-en": "luna", "@cf/deepgram/aura-2-es": "aquila"}
ENCODINGS = ["linear16", "flac", "mulaw", "alaw", "mp3", "opus", "aac"]
CONTAINERS = ["none", "wav", "ogg"]
# Deepgram's rules: which containers each encoding allows (the first is its default).
ALLOWED_CONTAINERS = {
    "linear16": ("wav", "none"),
    "mulaw": ("wav", "none"),
    "alaw": ("wav", "none"),
    "mp3": ("none",),
    "flac": ("none",),
    "aac": ("none",),
    "opus": ("ogg",),
}
FRAMES_PER_WORD = 10  # a frame is 1152 samples at 44.1 kHz, about 26 ms
SECONDS_PER_WORD = 0.25
# MPEG-1 Layer III, 32 kbit/s, 44.1 kHz, mono: a 104-byte frame whose zeroed side info decodes as silence.
_FRAME = b"\xff\xfb\x10\xc4" + bytes(100)


def _marker(text: str) -> bytes:
    return b"TRANSCRIPT: " + " ".join(text.split()).encode() + b"\n"


def _id3(tool: str, text: str) -> bytes:
    frames = b""
    for frame_id, value in ((b"TSSE", tool.encode()), (b"TXXX", b"transcript\x00" + _marker(text))):
        content = b"\x03" + value
        frames += frame_id + _syncsafe(len(content)) + b"\x00\x00" + content
    return b"ID3\x04\x00\x00" + _syncsafe(len(frames)) + frames


def _syncsafe(size: int) -> bytes:
    return bytes([(size >> 21) & 0x7F, (size >> 14) & 0x7F, (size >> 7) & 0x7F, size & 0x7F])


def silent_mp3(text: str) -> bytes:
    """A small valid MP3 (ID3v2.4 tag, then silent frames) whose length grows with the text."""
    frames = max(1, len(text.split())) * FRAMES_PER_WORD
    return _id3("Workers AI emulator", text) + _FRAME * frames


def _samples(text: str, rate: int, width: int) -> bytes:
    return bytes(int(max(1, len(text.split())) * SECONDS_PER_WORD * rate) * width)


def _wav(text: str, rate: int, width: int, fmt_tag: int) -> bytes:
    data = _samples(text, rate, width)
    if fmt_tag == 1:
        buffer = io.BytesIO()
        with wave.open(buffer, "wb") as wav:
            wav.setnchannels(1)
            wav.setsampwidth(width)
            wav.setframerate(rate)
            wav.writeframes(data)
        pcm = buffer.getvalue()
        fmt, body = pcm[12:36], pcm[36:]
    else:  # G.711 mu-law (7) / A-law (6): 8-bit samples
        fmt = b"fmt " + struct.pack("<IHHIIHH", 16, fmt_tag, 1, rate, rate, 1, 8)
        body = b"data" + struct.pack("<I", len(data)) + data
    note = _marker(text)
    note += b"\x00" * (len(note) % 2)
    chunks = fmt + b"note" + struct.pack("<I", len(note)) + note + body
    return b"RIFF" + struct.pack("<I", 4 + len(chunks)) + b"WAVE" + chunks


def _ogg_crc(data: bytes) -> int:
    crc = 0
    for byte in data:
        crc ^= byte << 24
        for _ in range(8):
            crc = ((crc << 1) ^ 0x04C11DB7) if crc & 0x80000000 else crc << 1
            crc &= 0xFFFFFFFF
    return crc


def _ogg_page(packet: bytes, sequence: int, flags: int) -> bytes:
    lacing = bytes([255] * (len(packet) // 255) + [len(packet) % 255])
    head = b"OggS\x00" + bytes([flags]) + struct.pack("<qII", 0, 0x454D55, sequence)
    page = head + b"\x00\x00\x00\x00" + bytes([len(lacing)]) + lacing + packet
    return page[:22] + struct.pack("<I", _ogg_crc(page)) + page[26:]


def _opus(text: str) -> bytes:
    head = b"OpusHead" + struct.pack("<BBHIhB", 1, 1, 312, 48000, 0, 0)
    comment = _marker(text).rstrip(b"\n") + b"\n"
    tags = b"OpusTags" + struct.pack("<I", 8) + b"emulator" + struct.pack("<II", 1, len(comment)) + comment
    return _ogg_page(head, 0, 2) + _ogg_page(tags, 1, 0)


def _flac(text: str, rate: int) -> bytes:
    samples = int(max(1, len(text.split())) * SECONDS_PER_WORD * rate)
    packed = (rate << 44) | (0 << 41) | (15 << 36) | samples  # rate, channels-1, bits-1, total samples
    info = struct.pack(">HH", 4096, 4096) + b"\x00" * 6 + packed.to_bytes(8, "big") + bytes(16)
    comment = _marker(text)
    vorbis = struct.pack("<I", 8) + b"emulator" + struct.pack("<II", 1, len(comment)) + comment
    return b"fLaC" + b"\x00" + len(info).to_bytes(3, "big") + info + b"\x84" + len(vorbis).to_bytes(3, "big") + vorbis


def _aac(text: str) -> bytes:
    frames = max(1, len(text.split())) * FRAMES_PER_WORD
    length = 7 + 6
    header = bytes([0xFF, 0xF1, 0x5C, 0x40, (length >> 3) & 0xFF, ((length & 7) << 5) | 0x1F, 0xFC])
    return _id3("Workers AI emulator", text) + (header + bytes(6)) * frames


def render(text: str, encoding: str, container: str, rate: int | None) -> tuple[bytes, str]:
    """The bytes and content type aura sends for `encoding` in `container`."""
    if encoding == "mp3":
        return silent_mp3(text), "audio/mpeg"
    if encoding == "opus":
        return _opus(text), "audio/ogg"
    if encoding == "flac":
        return _flac(text, rate or 48000), "audio/flac"
    if encoding == "aac":
        return _aac(text), "audio/aac"
    width, tag = (2, 1) if encoding == "linear16" else (1, 7 if encoding == "mulaw" else 6)
    rate = rate or (24000 if encoding == "linear16" else 8000)
    if container == "none":
        return _samples(text, rate, width), "application/octet-stream"
    return _wav(text, rate, width, tag), "audio/wav"


def run_text_to_speech(call: Call) -> Output:
    body = expect_object(call.json())
    if call.spec.name == MELOTTS:
        prompt = string_field(body, "prompt", required=True, min_length=1) or ""
        string_field(body, "lang", default="en")
        return JsonResult({"audio": base64.b64encode(silent_mp3(prompt)).decode()})
    text = string_field(body, "text", required=True, min_length=1) or ""
    speakers = SPEAKERS.get(call.spec.name, SPEAKERS["@cf/deepgram/aura-1"])
    enum_field(body, "speaker", speakers, default=DEFAULT_SPEAKER.get(call.spec.name))
    encoding = enum_field(body, "encoding", ENCODINGS) or "mp3"
    container = enum_field(body, "container", CONTAINERS) or ALLOWED_CONTAINERS[encoding][0]
    if container not in ALLOWED_CONTAINERS[encoding]:
        raise ai_error(3010, f"Invalid or incomplete input for the model: container {container} with {encoding}")
    rate = number_field(body, "sample_rate", 0, integer=True)
    number_field(body, "bit_rate", 0, integer=True)
    audio, media_type = render(text, encoding, container, int(rate) if rate else None)
    return BinaryResult(audio, media_type)
