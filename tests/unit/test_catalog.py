from __future__ import annotations

import pytest

from app.catalog import Catalog, Task
from app.errors import InvalidRequest, ModelNotFound


def test_alias_resolves_to_workers_ai_model() -> None:
    model = Catalog().resolve("gpt-4o-mini")
    assert model.id.startswith("@cf/")
    assert model.task is Task.TEXT_GENERATION


def test_settings_aliases_override_builtin() -> None:
    catalog = Catalog({"gpt-4o-mini": "@cf/qwen/qwq-32b", "mine": "@cf/meta/llama-3.2-1b-instruct"})
    assert catalog.resolve("gpt-4o-mini").id == "@cf/qwen/qwq-32b"
    assert catalog.resolve("mine").id == "@cf/meta/llama-3.2-1b-instruct"


def test_invalid_alias_target_is_refused_at_start() -> None:
    with pytest.raises(ValueError, match="invalid model id"):
        Catalog({"bad": "@cf/../x"})


def test_unknown_well_formed_id_is_forwarded_as_text_generation() -> None:
    model = Catalog().resolve("@cf/newcorp/brand-new-model-9b")
    assert model.task is Task.TEXT_GENERATION


@pytest.mark.parametrize(
    "hostile",
    [
        "@cf/../../user/tokens/verify",
        "@cf/meta/llama?x=1",
        "@cf/meta/llama#frag",
        "@cf/meta/llama%2F..",
        "@cf/meta/llama/extra",
        "@cf/meta/ llama",
        "@cf/meta/llama\n",
        "@cf/meta/..",
        "@hf//name",
    ],
)
def test_hostile_ids_never_resolve(hostile: str) -> None:
    with pytest.raises(InvalidRequest):
        Catalog().resolve(hostile)


@pytest.mark.parametrize("name", ["gpt-5-ultra", "../etc/passwd", "", "meta/llama-3"])
def test_unknown_names_are_model_not_found(name: str) -> None:
    with pytest.raises(ModelNotFound):
        Catalog().resolve(name)


def test_require_checks_the_task() -> None:
    with pytest.raises(InvalidRequest, match="Text-to-Image"):
        Catalog().require("dall-e-3", Task.TEXT_GENERATION)
