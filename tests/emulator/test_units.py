"""Pure pieces: tokenizer, schema samples, image encoders, fault parsing."""

from __future__ import annotations

import struct
import zlib

import pytest

from app.emulator.faults import Fault, FaultSpecError
from app.emulator.pictures import solid_jpeg, solid_png
from app.emulator.schema_sample import sample_object
from app.emulator.tokens import tokenize, truncate


def test_tokens_rebuild_the_text_exactly() -> None:
    text = "Reasoning here.\n</think>\n\nThe  answer"
    tokens = tokenize(text)
    assert tokens == ["Reasoning", " here.", "\n</think>", "\n\nThe", "  answer"]
    assert "".join(tokens) == text
    assert truncate(text, 2) == ("Reasoning here.", True)
    assert truncate(text, 9) == (text, False)


def test_sample_object_follows_required_enum_and_types() -> None:
    schema = {
        "type": "object",
        "properties": {
            "a": {"type": "string", "enum": ["x", "y"]},
            "b": {"type": ["number", "null"]},
            "c": {"type": "object", "properties": {"d": {"type": "boolean"}}},
            "skipped": {"type": "string"},
        },
        "required": ["a", "b", "c"],
    }
    assert sample_object(schema) == {"a": "x", "b": 1, "c": {"d": True}}
    assert sample_object({"type": "object", "properties": {"s": {"type": "string"}, "l": {"type": "array"}}}) == {
        "s": "sample",
        "l": [],
    }


def test_png_pixels_decompress_to_the_declared_size() -> None:
    data = solid_png(300, 20, (1, 2, 3))
    idat_at = data.index(b"IDAT")
    length = struct.unpack(">I", data[idat_at - 4 : idat_at])[0]
    pixels = zlib.decompress(data[idat_at + 4 : idat_at + 4 + length])
    assert len(pixels) == 20 * (1 + (300 + 7) // 8)
    assert b"PLTE\x01\x02\x03" in data


@pytest.mark.parametrize("shade", [0, 100, 128, 255])
def test_jpeg_entropy_data_covers_every_block(shade: int) -> None:
    data = solid_jpeg(64, 16, shade)
    start = data.index(b"\xff\xda") + 2 + 8
    entropy = data[start:-2].replace(b"\xff\x00", b"\xff")
    bits = "".join(format(byte, "08b") for byte in entropy)
    first_len = 3 if shade == 128 else 3 + abs(shade - 128).bit_length()
    blocks = 8 * 2
    assert len(bits) - (first_len + 3 * (blocks - 1)) in range(8)


def test_fault_defaults_and_validation() -> None:
    fault = Fault.parse({"status": 429, "model": None})
    assert fault.model == "*" and fault.times == 1 and fault.error().code == 3040
    assert Fault.parse({"latency_ms": 5}).is_error is False
    bad: object
    for bad in ({"times": -1}, {"non_json": "yes"}, {"model": 3}, [], {"bogus": 1}):
        with pytest.raises(FaultSpecError):
            Fault.parse(bad)
