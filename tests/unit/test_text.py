from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.convert.text import StopFilter, ThinkSplitter, cut_at_stop, partial_suffix, split_reasoning


@pytest.mark.parametrize(
    ("text", "reasoning", "answer"),
    [
        ("<think>plan it</think>\n\nDone.", "plan it", "Done."),
        ("plan it\n</think>\n\nDone.", "plan it", "Done."),  # R1 on Workers AI: no opening tag
        ("Just an answer.", None, "Just an answer."),
        ("<think>still thinking", "still thinking", ""),
    ],
)
def test_split_reasoning(text: str, reasoning: str | None, answer: str) -> None:
    assert split_reasoning(text) == (reasoning, answer)


def test_cut_at_stop_takes_the_earliest_sequence() -> None:
    assert cut_at_stop("one two STOP three END", ("END", "STOP")) == ("one two ", True)
    assert cut_at_stop("nothing here", ("STOP",)) == ("nothing here", False)


def test_partial_suffix() -> None:
    assert partial_suffix("abc ST", ("STOP",)) == 2
    assert partial_suffix("abc", ("STOP",)) == 0


def _longest_held_end(text: str, markers: tuple[str, ...]) -> int:
    """The definition: the longest end of `text` that is a proper beginning of some marker."""
    ends = [size for marker in markers for size in range(1, len(marker)) if text.endswith(marker[:size])]
    return max(ends, default=0)


@settings(max_examples=300, derandomize=True, database=None)
@given(st.text("ab", max_size=12), st.lists(st.text("ab", max_size=6), max_size=4).map(tuple))
def test_partial_suffix_is_the_longest_held_end(text: str, markers: tuple[str, ...]) -> None:
    assert partial_suffix(text, markers) == _longest_held_end(text, markers)


def test_partial_suffix_is_cheap_with_the_longest_stops_allowed() -> None:
    stops = tuple(f"{i}" + "q" * 127 for i in range(4))  # 4 stops of 128 characters: the bound
    text = "a streamed chunk of text, " * 4 + "3qqq"
    started = time.process_time()
    for _ in range(1000):
        assert partial_suffix(text, stops) == 4
    assert time.process_time() - started < 0.5  # 1.3 s before (every length was tried); ~20 ms now


def test_stop_filter_across_chunk_boundaries() -> None:
    stop = StopFilter(("STOP",))
    pieces = [stop.feed(p) for p in ["one ", "two S", "T", "OP three"]]
    assert "".join(pieces) == "one two "
    assert stop.stopped
    assert stop.feed(" more") == ""


def test_stop_filter_releases_held_text_that_was_not_a_stop() -> None:
    stop = StopFilter(("STOP",))
    assert stop.feed("one ST") == "one "
    assert stop.feed("ART") == "START"
    assert stop.feed(" S") == " "
    assert stop.flush() == "S"


def test_think_splitter_streams_reasoning_then_answer() -> None:
    splitter = ThinkSplitter(active=True)
    parts = [splitter.feed(p) for p in ["Let me ", "think.</th", "ink>\n\n", "Answer", " here"]]
    reasoning = "".join(r for r, _ in parts)
    content = "".join(c for _, c in parts)
    assert reasoning == "Let me think."
    assert content == "Answer here"


def test_think_splitter_strips_an_opening_tag_split_across_chunks() -> None:
    splitter = ThinkSplitter(active=True)
    parts = [splitter.feed(p) for p in ["<th", "ink>why", "</think>", "so"]]
    assert "".join(r for r, _ in parts) == "why"
    assert "".join(c for _, c in parts) == "so"


def test_think_splitter_inactive_passes_text() -> None:
    assert ThinkSplitter(active=False).feed("a </think> b") == ("", "a </think> b")
