"""The one model table: the gateway's catalog and the emulator agree, retired ids are in neither and are
answered by a live replacement (or refused), and every model the gateway serves costs neurons."""

from __future__ import annotations

import logging

import pytest

from app.accounts import neurons
from app.catalog import BUILTIN, RETIRED_IDS, Catalog, Task, Unit, model_from_search
from app.config import Settings
from app.emulator.models import MODELS as EMULATED
from app.emulator.models import Family
from app.errors import ModelNotFound
from app.model_table import MODELS
from app.serving.translate import Translator

RETIRED = "@cf/meta/llama-3.1-8b-instruct"
REPLACEMENT = "@cf/meta/llama-3.1-8b-instruct-fast"


def test_the_emulator_serves_exactly_the_catalog_with_the_same_limits_and_prices() -> None:
    assert set(EMULATED) == set(BUILTIN)
    for model in MODELS:
        spec = EMULATED[model.id]
        assert (spec.task, spec.context_window, spec.dims) == (model.task, model.context_window, model.dimensions)
        assert (spec.family is Family.OPENAI) == model.openai_shaped
        assert (spec.function_calling, spec.streams, spec.responses_input) == (
            model.tools,
            model.streams,
            model.responses_input,
        )
        assert (spec.paid_only, spec.vision) == (model.paid_only, model.vision)
        listed = dict(spec.price)
        if model.estimated:
            assert listed == {}  # Cloudflare publishes no price: the listing shows none either
        elif model.unit is Unit.TOKENS:
            assert listed["per M input tokens"] == model.price_in
            assert listed.get("per M output tokens", 0.0) == model.price_out
            assert listed.get("per M cached input tokens", 0.0) == model.price_cached_in


def test_retired_ids_are_served_by_neither_and_replaced_by_a_live_model() -> None:
    assert len(RETIRED_IDS) == 18
    for gone in RETIRED_IDS.values():
        assert gone.id not in BUILTIN and gone.id not in EMULATED
        assert gone.retired_on == "2026-05-30"
        assert BUILTIN[gone.replacement].task is Task.TEXT_GENERATION and gone.replacement in EMULATED


def test_the_recommended_2026_models_are_in_the_catalog_with_what_they_can_do() -> None:
    glm, kimi, llama, gemma = (
        BUILTIN[name]
        for name in (
            "@cf/zai-org/glm-4.7-flash",
            "@cf/moonshotai/kimi-k2.6",
            REPLACEMENT,
            "@cf/google/gemma-4-26b-a4b-it",
        )
    )
    assert (glm.context_window, glm.tools, glm.reasoning, glm.vision, glm.paid_only) == (
        131072,
        True,
        True,
        False,
        False,
    )
    assert (kimi.context_window, kimi.vision, kimi.paid_only, kimi.price_cached_in) == (262144, True, True, 0.16)
    assert llama.tools and llama.json_mode and not llama.openai_shaped and llama.estimated
    assert gemma.vision and gemma.tools and gemma.context_window == 256000


def test_every_model_served_is_priced() -> None:
    unpriced = [model.id for model in MODELS if model.price_in <= 0]
    assert unpriced == []


@pytest.mark.parametrize(
    ("model_id", "payload", "usd"),
    [
        ("@cf/myshell-ai/melotts", {"prompt": "x" * 900}, 0.0002),  # a minute of speech, about 900 characters
        ("@cf/deepgram/aura-1", {"text": "x" * 2000}, 0.030),  # $0.015 per 1,000 characters
        ("@cf/leonardo/phoenix-1.0", {"prompt": "a fox", "width": 512, "height": 512, "num_steps": 10}, 0.0069),
        ("@cf/leonardo/lucid-origin", {"prompt": "a fox", "width": 1024, "height": 1024, "steps": 20}, 0.0306),
        ("@cf/black-forest-labs/flux-1-schnell", {"prompt": "a fox", "steps": 4}, 0.000634),
        ("@cf/black-forest-labs/flux-2-dev", b"--multipart--", 0.000825 * 4 * 25),
        ("@cf/runwayml/stable-diffusion-v1-5-img2img", {"prompt": "a fox", "image": [1, 2, 3]}, 0.000634),
        ("@cf/runwayml/stable-diffusion-v1-5-inpainting", {"prompt": "a fox"}, 0.000634),
    ],
)
def test_media_models_cost_neurons_at_their_published_or_estimated_price(
    model_id: str, payload: object, usd: float
) -> None:
    used = neurons.of_call(BUILTIN[model_id], payload, {"image": "..."})
    assert used == pytest.approx(neurons.usd_to_neurons(usd), rel=1e-3)
    assert used > 0


def test_cached_and_estimated_prices_are_visible_in_the_table() -> None:
    assert BUILTIN["@cf/runwayml/stable-diffusion-v1-5-img2img"].estimated
    assert not BUILTIN["@cf/leonardo/phoenix-1.0"].estimated
    assert (
        not BUILTIN["@cf/myshell-ai/melotts"].estimated and BUILTIN["@cf/myshell-ai/melotts"].unit is Unit.AUDIO_MINUTE
    )


def test_a_retired_id_resolves_to_its_replacement_marked_as_standing_in() -> None:
    catalog = Catalog({"my-old-llama": RETIRED})
    for name in (RETIRED, "my-old-llama"):
        model = catalog.require(name, Task.TEXT_GENERATION)
        assert (model.id, model.replaces) == (REPLACEMENT, RETIRED)
    assert catalog.resolve(REPLACEMENT).replaces == ""


def test_refuse_names_the_replacement_and_the_date() -> None:
    with pytest.raises(ModelNotFound) as caught:
        Catalog(retired="refuse").resolve(RETIRED)
    assert caught.value.status_code == 404
    assert caught.value.message == (
        f"The model `{RETIRED}` was retired by Cloudflare on 2026-05-30; use `{REPLACEMENT}` instead."
    )


def test_a_live_listing_never_brings_a_retired_id_back_and_tells_paid_only_models() -> None:
    catalog = Catalog()
    listed = [
        {"name": RETIRED, "task": {"name": "Text Generation"}, "properties": []},
        {
            "name": "@cf/zai-org/glm-9",
            "task": {"name": "Text Generation"},
            "properties": [
                {"property_id": "require_workers_paid", "value": "true"},
                {"property_id": "vision", "value": "true"},
                {"property_id": "context_window", "value": "262144"},
                {
                    "property_id": "price",
                    "value": [
                        {"unit": "per M input tokens", "price": 1.0, "currency": "USD"},
                        {"unit": "per M output tokens", "price": 3.0, "currency": "USD"},
                        {"unit": "per M cached input tokens", "price": 0.2, "currency": "USD"},
                    ],
                },
            ],
        },
    ]
    version = catalog.version
    catalog.merge_upstream([m for m in map(model_from_search, listed) if m is not None])
    assert RETIRED not in catalog.models and catalog.version == version + 1
    new = catalog.models["@cf/zai-org/glm-9"]
    assert (new.paid_only, new.vision, new.price_in, new.price_out, new.price_cached_in) == (True, True, 1.0, 3.0, 0.2)


def test_a_retired_translate_model_is_replaced_with_a_warning_or_stops_the_start(
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = Settings(_env_file=None, translate_model=RETIRED)  # type: ignore[call-arg]
    with caplog.at_level(logging.WARNING, logger="app.translate"):
        assert Translator(settings, Catalog()).model.id == REPLACEMENT
    assert f"TRANSLATE_MODEL {RETIRED} was retired by Cloudflare" in caplog.text
    with pytest.raises(ValueError, match=f"TRANSLATE_MODEL: .*use `{REPLACEMENT}` instead"):
        Translator(settings, Catalog(retired="refuse"))
