"""Schema checks shared by the task handlers; failures are 5006 errors worded like the real validator."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from app.emulator.envelope import EmulatorError, bad_input


def type_name(value: Any) -> str:
    """The JSON Schema type of a decoded JSON value."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def mismatch(path: str, value: Any, expected: str) -> EmulatorError:
    return bad_input(f"Type mismatch of '{path}', '{type_name(value)}' not in '{expected}'")


def missing(parent: str, field: str) -> EmulatorError:
    return bad_input(f"required properties at '{parent}' are '{field}'")


def expect_object(value: Any, path: str = "/") -> dict[str, Any]:
    if not isinstance(value, dict):
        raise mismatch(path, value, "object")
    return value


def string_field(
    body: dict[str, Any],
    field: str,
    *,
    required: bool = False,
    min_length: int = 0,
    max_length: int | None = None,
    default: str | None = None,
    parent: str = "",
) -> str | None:
    """A string property with length limits; None (or `default`) when absent and not required."""
    path = f"{parent}/{field}"
    if field not in body:
        if required:
            raise missing(parent or "/", field)
        return default
    value = body[field]
    if not isinstance(value, str):
        raise mismatch(path, value, "string")
    if len(value) < min_length:
        raise bad_input(f"String at '{path}' is shorter than minLength {min_length}")
    if max_length is not None and len(value) > max_length:
        raise bad_input(f"String at '{path}' is longer than maxLength {max_length}")
    return value


def number_field(
    body: dict[str, Any],
    field: str,
    low: float | None = None,
    high: float | None = None,
    *,
    integer: bool = False,
    parent: str = "",
) -> float | None:
    """A number (or integer) property within [low, high]; None when absent."""
    if field not in body:
        return None
    path = f"{parent}/{field}"
    value = body[field]
    expected = "integer" if integer else "number"
    ok_type = int if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, ok_type):
        if integer and isinstance(value, float) and value.is_integer():
            value = int(value)
        else:
            raise mismatch(path, value, expected)
    if low is not None and value < low:
        raise bad_input(f"Value of '{path}' is {value}, less than minimum {low:g}")
    if high is not None and value > high:
        raise bad_input(f"Value of '{path}' is {value}, greater than maximum {high:g}")
    return float(value)


def bool_field(body: dict[str, Any], field: str, default: bool = False, parent: str = "") -> bool:
    if field not in body:
        return default
    value = body[field]
    if not isinstance(value, bool):
        raise mismatch(f"{parent}/{field}", value, "boolean")
    return value


def enum_field(
    body: dict[str, Any], field: str, allowed: Sequence[str], default: str | None = None, parent: str = ""
) -> str | None:
    value = string_field(body, field, default=default, parent=parent)
    if value is not None and value not in allowed:
        listed = ", ".join(f"'{item}'" for item in allowed)
        raise bad_input(f"Value of '{parent}/{field}' is '{value}', not one of [{listed}]")
    return value


def byte_array(value: Any, path: str) -> bytes:
    """A `number[]` of 0..255 integers (how Workers AI takes audio and images in JSON) as bytes."""
    if not isinstance(value, list):
        raise mismatch(path, value, "array")
    for index, item in enumerate(value):
        if isinstance(item, bool) or not isinstance(item, int) or not 0 <= item <= 255:
            raise bad_input(f"Value of '{path}/{index}' is {item!r}, not an integer in 0..255")
    return bytes(value)
