"""What DeepLX, DeepL API and Immersive Translate "custom API" clients send. Wire names, no logic."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class _Wire(BaseModel):
    # Unknown fields (tag_handling, formality, split_sentences, ...) are accepted and ignored.
    model_config = ConfigDict(extra="ignore")


_SOURCE = "Source language, any case (`EN`, `zh`); `auto`, empty or missing: detected."
_TARGET = "Target language, any case: `ZH`, `ZH-HANS`, `ZH-HANT`/`ZH-TW` (Traditional), `EN-US`, `PT-BR`, `DE`, ..."


class DeepLXRequest(_Wire):
    """POST /translate, as DeepLX and Immersive Translate's "DeepLX" service send it (JSON or form)."""

    text: str | None = Field(None, description="The text; lines are translated separately, structure kept.")
    source_lang: str | None = Field(None, description=_SOURCE)
    target_lang: str | None = Field(None, description=_TARGET)


class DeepLRequest(_Wire):
    """POST /v2/translate, as the DeepL API takes it (JSON or form, `text` repeated)."""

    text: list[str] | str = Field(description="Up to 50 texts; one translation each, in order.")
    source_lang: str | None = Field(None, description=_SOURCE)
    target_lang: str | None = Field(None, description=_TARGET)


class BatchRequest(_Wire):
    """POST /translate/batch, Immersive Translate's "custom API" format."""

    text_list: list[str] = Field(description="The paragraphs; one translation each, in order.")
    source_lang: str | None = Field(None, description=_SOURCE)
    target_lang: str | None = Field(None, description="Target language, lower case as the extension sends it.")
