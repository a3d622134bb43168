from __future__ import annotations

import pytest

from app.sse import EventDecoder, frame

STREAM = b'data: {"response":"a","p":"xy"}\n\ndata: {"response":"b"}\n\n: keep-alive\n\ndata: [DONE]\n\n'


@pytest.mark.parametrize("size", [1, 2, 3, 7, 16, len(STREAM)])
def test_events_survive_any_chunking(size: int) -> None:
    decoder = EventDecoder()
    events = []
    for start in range(0, len(STREAM), size):
        events.extend(decoder.feed(STREAM[start : start + size]))
    events.extend(decoder.flush())
    assert events == [b'{"response":"a","p":"xy"}', b'{"response":"b"}', b"[DONE]"]


def test_crlf_multiline_and_missing_final_blank_line() -> None:
    decoder = EventDecoder()
    events = decoder.feed(b"data: one\r\ndata: two\r\n\r\ndata:three")
    assert events == [b"one\ntwo"]
    assert decoder.flush() == [b"three"]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"data: a\n\ndata: b\n\ndata: c", [b"a", b"b"]),  # one line each (the common case); c not ended yet
        (b"data: a\n\ndata: b\ndata: c\n\n", [b"a", b"b\nc"]),  # a two-line event among one-line ones
        (b"data: a\n\ndata:b\n\n", [b"a", b"b"]),  # no space after the colon
        (b"data: a\n\n\n\nevent: x\ndata: b\n\n", [b"a", b"b"]),  # a stray blank line, an event field
        (b"data: a\n\n: ping\n\n", [b"a"]),  # a comment
    ],
)
def test_events_read_together_keep_their_boundaries(raw: bytes, expected: list[bytes]) -> None:
    assert EventDecoder().feed(raw) == expected


def test_frame() -> None:
    assert frame({"a": 1}) == b'data: {"a":1}\n\n'
