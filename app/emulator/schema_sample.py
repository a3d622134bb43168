"""Deterministic sample values from a JSON Schema: tool-call arguments and JSON-mode answers."""

from __future__ import annotations

from typing import Any

_BY_TYPE: dict[str, Any] = {"string": "sample", "number": 1, "integer": 1, "boolean": True, "null": None}


def sample_value(schema: Any) -> Any:
    """enum -> its first value; const -> it; object -> sample_object; array -> []; scalars by type."""
    if not isinstance(schema, dict):
        return "sample"
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((item for item in kind if item != "null"), "null")
    if kind == "object" or (kind is None and "properties" in schema):
        return sample_object(schema)
    if kind == "array":
        return []
    return _BY_TYPE.get(str(kind), "sample")


def sample_object(schema: Any) -> dict[str, Any]:
    """Each required property (every property when none is required) with its sample value."""
    if not isinstance(schema, dict):
        return {}
    properties = schema.get("properties")
    if not isinstance(properties, dict):
        return {}
    required = schema.get("required")
    names = [name for name in required if name in properties] if isinstance(required, list) else []
    return {name: sample_value(properties[name]) for name in names or list(properties)}
