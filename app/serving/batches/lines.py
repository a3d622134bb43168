"""A batch's input file, read and checked: one request a line, as OpenAI's Batch API defines the file
(`{"custom_id", "method": "POST", "url", "body"}`). A file with any bad line fails the whole batch, each
fault named with its line number in the batch's `errors`, as OpenAI does."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

MAX_LINES = 50_000  # OpenAI's limit of requests in one batch
MAX_ERRORS = 100  # faults reported of one file; the first ones say enough


@dataclass(frozen=True, slots=True)
class Line:
    index: int  # 0-based position in the file
    custom_id: str
    body: dict[str, Any]


class Faults:
    def __init__(self) -> None:
        self.data: list[dict[str, Any]] = []

    def add(self, line: int | None, code: str, message: str, param: str | None = None) -> None:
        if len(self.data) < MAX_ERRORS:
            self.data.append({"code": code, "message": message, "param": param, "line": line})


def read_lines(data: bytes, endpoint: str) -> tuple[list[Line], list[dict[str, Any]]]:
    """The file's requests, or (with none) the faults that fail the batch: OpenAI's `BatchError` objects."""
    faults = Faults()
    lines: list[Line] = []
    seen: set[str] = set()
    model: str | None = None
    numbered = [(number, raw) for number, raw in enumerate(data.splitlines(), start=1) if raw.strip()]
    if not numbered:
        faults.add(None, "empty_file", "The input file has no requests.")
    if len(numbered) > MAX_LINES:
        faults.add(None, "too_many_requests", f"The input file has more than {MAX_LINES} requests.")
        return [], faults.data
    for number, raw in numbered:
        line = _line(number, raw, endpoint, faults)
        if line is None:
            continue
        if line.custom_id in seen:
            faults.add(number, "duplicate_custom_id", f"The custom_id {line.custom_id!r} is used twice.", "custom_id")
            continue
        seen.add(line.custom_id)
        if model is None:
            model = line.body["model"]
        elif line.body["model"] != model:
            faults.add(number, "mismatched_model", f"Every line of a batch must use one model ({model}).", "body.model")
            continue
        lines.append(line)
    return ([], faults.data) if faults.data else (lines, [])


def _line(number: int, raw: bytes, endpoint: str, faults: Faults) -> Line | None:
    try:
        item = orjson.loads(raw)
    except orjson.JSONDecodeError:
        faults.add(number, "invalid_json_line", "This line is not valid JSON.")
        return None
    if not isinstance(item, dict):
        faults.add(number, "invalid_json_line", "This line is not a JSON object.")
        return None
    custom_id = item.get("custom_id")
    if not isinstance(custom_id, str) or not custom_id or len(custom_id) > 512:
        faults.add(number, "missing_required_parameter", "Each line needs a custom_id string.", "custom_id")
        return None
    if item.get("method") != "POST":
        faults.add(number, "invalid_method", "The method of each line must be POST.", "method")
        return None
    if item.get("url") != endpoint:
        faults.add(number, "invalid_url", f"The url of each line must be the batch's endpoint, {endpoint}.", "url")
        return None
    body = item.get("body")
    if not isinstance(body, dict) or not isinstance(body.get("model"), str):
        faults.add(number, "missing_required_parameter", "Each line needs a body with a model.", "body.model")
        return None
    return Line(number - 1, custom_id, body)
