"""Tiny, fast, real image encoders: a one-colour PNG and a one-shade baseline JPEG of any size."""

from __future__ import annotations

import struct
import zlib


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def solid_png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """A valid PNG filled with one colour: a 1-bit palette image, so even 2048x2048 costs ~1 ms."""
    header = struct.pack(">IIBBBBB", width, height, 1, 3, 0, 0, 0)  # bit depth 1, palette colour
    row = b"\x00" * (1 + (width + 7) // 8)  # filter byte "none" + all pixels at palette index 0
    pixels = zlib.compress(row * height, 6)
    return b"".join(
        (
            b"\x89PNG\r\n\x1a\n",
            _png_chunk(b"IHDR", header),
            _png_chunk(b"PLTE", bytes(rgb)),
            _png_chunk(b"IDAT", pixels),
            _png_chunk(b"IEND", b""),
        )
    )


def _segment(marker: int, payload: bytes) -> bytes:
    return struct.pack(">HH", 0xFF00 | marker, len(payload) + 2) + payload


def _magnitude_bits(value: int) -> tuple[int, str]:
    """JPEG's (category, bits) encoding of a DC difference."""
    if value == 0:
        return 0, ""
    category = abs(value).bit_length()
    return category, format(value if value > 0 else value + (1 << category) - 1, f"0{category}b")


def solid_jpeg(width: int, height: int, shade: int) -> bytes:
    """A valid baseline greyscale JPEG of one shade (0-255): every 8x8 block is DC-only.

    The DC table holds two 2-bit codes (00: no change, 01: the first block's category), the AC table one
    1-bit code (0: end of block), so the entropy data is a few bits per block.
    """
    category, value_bits = _magnitude_bits(shade - 128)  # DC = 8 * (shade - 128), quantised by 8
    dc_symbols = bytes([0, category]) if category else bytes([0])
    dc_table = b"\x00" + bytes([0, len(dc_symbols)] + [0] * 14) + dc_symbols
    ac_table = b"\x10" + bytes([1] + [0] * 15) + b"\x00"
    blocks = ((width + 7) // 8) * ((height + 7) // 8)
    first = ("01" + value_bits if category else "00") + "0"
    bits = first + "000" * (blocks - 1)
    bits += "1" * (-len(bits) % 8)
    data = int(bits, 2).to_bytes(len(bits) // 8, "big").replace(b"\xff", b"\xff\x00")
    return b"".join(
        (
            b"\xff\xd8",
            _segment(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"),
            _segment(0xDB, b"\x00" + bytes([8] + [1] * 63)),
            _segment(0xC0, struct.pack(">BHHB", 8, height, width, 1) + b"\x01\x11\x00"),
            _segment(0xC4, dc_table),
            _segment(0xC4, ac_table),
            _segment(0xDA, b"\x01\x01\x00\x00\x3f\x00"),
            data,
            b"\xff\xd9",
        )
    )
