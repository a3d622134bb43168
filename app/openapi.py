"""OpenAPI text for the bodies the hot handlers read themselves (FastAPI cannot see them)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel

REF = "#/components/schemas/{model}"


def document_bodies(app: FastAPI, bodies: dict[str, type[BaseModel]]) -> None:
    """Make `app.openapi()` describe each `POST path` body with its wire model, refs resolved."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(title=app.title, version=app.version, summary=app.summary, routes=app.routes)
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        for path, model in bodies.items():
            body = model.model_json_schema(ref_template=REF)
            components.update(body.pop("$defs", {}))
            components[model.__name__] = body
            content = {"application/json": {"schema": {"$ref": REF.format(model=model.__name__)}}}
            schema["paths"][path]["post"]["requestBody"] = {"required": True, "content": content}
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
