"""docs/troubleshooting.md quotes the gateway's messages (its `> ` lines): each must still be said by the code,
or a reader searches for words no log will ever show. A quote matches when every part of it between `…`
marks (what changes from call to call) is in one string the code builds: a literal, an f-string with its
fields as `…`, or a %-format with its conversions as `…`."""

from __future__ import annotations

import ast
import asyncio.base_events
import re
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "troubleshooting.md"
# The gateway's code, and asyncio's: uvicorn logs asyncio's error when the port is taken.
SOURCES = (*sorted((ROOT / "app").rglob("*.py")), Path(asyncio.base_events.__file__))
GAP = "…"
PERCENT = re.compile(r"%[-#0 +]*\d*(?:\.\d+)?[sdrfgx]")
QUOTE = re.compile(r"^> (.+)$", re.MULTILINE)
EDGES = " `.,;:()"


def template(node: ast.AST) -> str | None:
    """The text a string node makes, its fields as GAP."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return PERCENT.sub(GAP, node.value)
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value if isinstance(v, ast.Constant) else GAP for v in node.values)  # type: ignore[misc]
    return None


@cache
def templates() -> tuple[str, ...]:
    found = []
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            text = template(node)
            if text:
                found.append(text)
    return tuple(found)


def parts(quote: str) -> list[str]:
    """The fixed parts of a quote: between the gaps, without the punctuation a gap leaves at its edges."""
    return [part.strip(EDGES) for part in quote.split(GAP) if len(part.strip(EDGES)) >= 3]


def said(quote: str) -> bool:
    return all(any(part in text for text in templates()) for part in parts(quote))


def quotes() -> list[str]:
    return QUOTE.findall(PAGE.read_text())


def test_every_quoted_message_is_still_in_the_code() -> None:
    assert len(quotes()) >= 10
    assert [quote for quote in quotes() if not said(quote)] == []


def test_each_section_quotes_at_least_one_message_of_substance() -> None:
    sections = re.split(r"^## ", PAGE.read_text(), flags=re.MULTILINE)[1:]
    assert len(sections) >= 10
    for section in sections:
        longest = max((len(part) for quote in QUOTE.findall(section) for part in parts(quote)), default=0)
        assert longest >= 12, f"section {section.splitlines()[0]!r} quotes nothing checkable"


def test_a_changed_message_is_noticed() -> None:
    assert said("The request body is larger than this gateway accepts (… bytes).")
    assert not said("The request body is larger than this gateway allows (… bytes).")
    # A part must be inside one string: two real messages run together are not a message.
    assert not said("Incorrect API key provided. Invalid access token")
    assert said("… error while attempting to bind on address …: …")
    assert parts("The model `…` does not exist") == ["The model", "does not exist"]
