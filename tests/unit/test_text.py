from __future__ import annotations

import pytest

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
