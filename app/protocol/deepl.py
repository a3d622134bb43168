"""What DeepLX, DeepL API and Immersive Translate "custom API" clients send. Wire names, no logic."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field
from pydantic.config import JsonDict

from app.protocol.language_codes import code_pattern


def _require(schema: JsonDict, name: str) -> None:
    required = schema.get("required", [])
    schema["required"] = [*(required if isinstance(required, list) else []), name]


class _Wire(BaseModel):
    # Unknown fields (tag_handling, formality, split_sentences, ...) are accepted and ignored. The document
    # says what the handlers check themselves: a target is required (400), both are known codes (400).
    model_config = ConfigDict(extra="ignore", json_schema_extra=lambda schema: _require(schema, "target_lang"))


_SOURCE = "Source language, any case (`EN`, `zh`); `auto`, empty or missing: detected."
_SOURCE_CODES: JsonDict = {"anyOf": [{"type": "string", "pattern": code_pattern(source=True)}, {"type": "null"}]}
_TARGET_CODES: JsonDict = {"anyOf": [{"type": "string", "pattern": code_pattern(source=False)}]}  # required, so no null
_TARGET = "Target language, any case: `ZH`, `ZH-HANS`, `ZH-HANT`/`ZH-TW` (Traditional), `EN-US`, `PT-BR`, `DE`, ..."


class DeepLXRequest(_Wire):
    """POST /translate, as DeepLX and Immersive Translate's "DeepLX" service send it (JSON or form)."""

    text: str | None = Field(None, description="The text; lines are translated separately, structure kept.")
    source_lang: str | None = Field(None, description=_SOURCE, json_schema_extra=_SOURCE_CODES)
    target_lang: str | None = Field(None, description=_TARGET, json_schema_extra=_TARGET_CODES)


class DeepLRequest(_Wire):
    """POST /v2/translate, as the DeepL API takes it (JSON or form, `text` repeated)."""

    text: list[str] | str = Field(
        description="Up to 50 texts; one translation each, in order.",
        json_schema_extra={
            "anyOf": [{"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 50}, {"type": "string"}]
        },
    )
    source_lang: str | None = Field(None, description=_SOURCE, json_schema_extra=_SOURCE_CODES)
    target_lang: str | None = Field(None, description=_TARGET, json_schema_extra=_TARGET_CODES)


class BatchRequest(_Wire):
    """POST /translate/batch, Immersive Translate's "custom API" format."""

    # Bounded like DeepL's `text`: each paragraph is an upstream call (or a cache hit).
    text_list: list[str] = Field(max_length=50, description="Up to 50 paragraphs; one translation each, in order.")
    source_lang: str | None = Field(None, description=_SOURCE, json_schema_extra=_SOURCE_CODES)
    target_lang: str | None = Field(
        None, description="Target language, lower case as the extension sends it.", json_schema_extra=_TARGET_CODES
    )
