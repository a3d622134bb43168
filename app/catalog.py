"""Known Workers AI models: task, capabilities, limits and prices; OpenAI-name aliases; model-id checks."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from typing import Literal

from app.errors import InvalidRequest, ModelNotFound
from app.model_table import MODELS, RETIRED, Model, Retired, Task, Unit

__all__ = ["BUILTIN", "BUILTIN_ALIASES", "RETIRED_IDS", "Catalog", "Model", "Retired", "Task", "Unit"]
RetiredMode = Literal["substitute", "refuse"]


# The table itself lives in app/model_table.py (pure data, which the emulator reads too).
BUILTIN: dict[str, Model] = {model.id: model for model in MODELS}
RETIRED_IDS: dict[str, Retired] = {gone.id: gone for gone in RETIRED}

BUILTIN_ALIASES: dict[str, str] = {
    "gpt-3.5-turbo": "@cf/meta/llama-3.1-8b-instruct-fp8-fast",
    "gpt-4o-mini": "@cf/meta/llama-3.1-8b-instruct-fp8-fast",
    "gpt-4o": "@cf/meta/llama-4-scout-17b-16e-instruct",
    "gpt-4": "@cf/meta/llama-3.3-70b-instruct-fp8-fast",
    "gpt-4-turbo": "@cf/meta/llama-3.3-70b-instruct-fp8-fast",
    "o1-mini": "@cf/deepseek-ai/deepseek-r1-distill-qwen-32b",
    "o3-mini": "@cf/qwen/qwq-32b",
    "text-embedding-3-small": "@cf/baai/bge-m3",
    "text-embedding-ada-002": "@cf/baai/bge-m3",
    "text-embedding-3-large": "@cf/baai/bge-large-en-v1.5",
    "dall-e-3": "@cf/black-forest-labs/flux-1-schnell",
    "dall-e-2": "@cf/stabilityai/stable-diffusion-xl-base-1.0",
    "gpt-image-1": "@cf/leonardo/lucid-origin",
    "whisper-1": "@cf/openai/whisper-large-v3-turbo",
    "gpt-4o-transcribe": "@cf/openai/whisper-large-v3-turbo",
    "gpt-4o-mini-transcribe": "@cf/openai/whisper-large-v3-turbo",
    "tts-1": "@cf/myshell-ai/melotts",
    "tts-1-hd": "@cf/deepgram/aura-1",
    "gpt-4o-mini-tts": "@cf/deepgram/aura-2-en",
}

# `@cf/<author>/<name>` or `@hf/<author>/<name>`: letters, digits, `.`, `_`, `-`; each part starts with a
# letter or digit, so `..`, `?`, `#`, `%`, whitespace and extra slashes can never reach the URL path.
MODEL_ID = re.compile(r"@(?:cf|hf)/[A-Za-z0-9][A-Za-z0-9._-]{0,99}/[A-Za-z0-9][A-Za-z0-9._-]{0,149}")


class Catalog:
    """Resolves what a client names (alias, id) to a Model; knows every model it can list.

    A retired id (Cloudflare answers 5007 for it) is answered by its replacement: `resolve` returns the
    replacement's entry with `replaces` set to the retired id, so the route runs the replacement, names it
    in the answer and says so (x-model-substituted, the request line, /metrics). With `retired="refuse"`
    it is a 404 that names the replacement instead.
    """

    def __init__(self, aliases: Mapping[str, str] | None = None, *, retired: RetiredMode = "substitute") -> None:
        self.models: dict[str, Model] = dict(BUILTIN)
        self.aliases: dict[str, str] = {**BUILTIN_ALIASES, **(aliases or {})}
        self.retired: dict[str, Retired] = dict(RETIRED_IDS)
        self.refuse_retired = retired == "refuse"
        # Built once: a request for a retired id costs one dict lookup more, nothing else.
        self._stand_ins = {gone.id: replace(BUILTIN[gone.replacement], replaces=gone.id) for gone in RETIRED}
        self.version = 0  # bumped whenever the model list changes (the /v1/models answer is kept until then)
        for alias, target in self.aliases.items():
            if not MODEL_ID.fullmatch(target):
                raise ValueError(f"alias {alias!r} points at an invalid model id {target!r}")

    def resolve(self, name: str, *, param: str = "model") -> Model:
        """The model a request names; unknown but well-formed ids are assumed to generate text."""
        target = self.aliases.get(name, name)
        model = self.models.get(target)
        if model is not None:
            return model
        stand_in = self._stand_ins.get(target)
        if stand_in is not None:
            if self.refuse_retired:
                gone = self.retired[target]
                raise ModelNotFound(
                    name, f"was retired by Cloudflare on {gone.retired_on}; use `{gone.replacement}` instead"
                )
            return stand_in
        if MODEL_ID.fullmatch(target):
            return Model(target, Task.TEXT_GENERATION)
        if target.startswith(("@cf/", "@hf/")):
            raise InvalidRequest(
                f"Invalid model id `{name}`: expected @cf/<author>/<name> with letters, digits, '.', '_' or '-'.",
                param=param,
                code="invalid_model",
            )
        raise ModelNotFound(
            name,
            "does not exist; use a Workers AI id such as @cf/meta/llama-3.1-8b-instruct-fast "
            "or an alias listed at /v1/models",
        )

    def require(self, name: str, *tasks: Task, param: str = "model") -> Model:
        """Resolve and check that the model does one of `tasks`."""
        model = self.resolve(name, param=param)
        if model.task not in tasks:
            wanted = " or ".join(task.value for task in tasks)
            raise InvalidRequest(
                f"The model `{model.id}` is a {model.task.value} model; this endpoint needs {wanted}.",
                param=param,
                code="model_not_supported",
            )
        return model

    def merge_upstream(self, listed: list[Model]) -> None:
        """Add models found by /ai/models/search that the built-in table does not know (never a retired id:
        a listing may still carry one for a while, and it would then be forwarded to fail)."""
        for model in listed:
            if model.id not in self.models and model.id not in self.retired:
                self.models[model.id] = model
                self.version += 1


def model_from_search(item: dict[str, object]) -> Model | None:
    """A `/ai/models/search` entry -> Model (None for tasks the gateway does not serve or bad ids)."""
    name = item.get("name")
    task_info = item.get("task")
    task_name = task_info.get("name") if isinstance(task_info, dict) else None
    if not isinstance(name, str) or not MODEL_ID.fullmatch(name):
        return None
    try:
        task = Task(str(task_name))
    except ValueError:
        return None
    props: dict[str, object] = {}
    for prop in item.get("properties") or []:  # type: ignore[attr-defined]
        if isinstance(prop, dict) and isinstance(prop.get("property_id"), str):
            props[prop["property_id"]] = prop.get("value")
    context = props.get("context_window") or props.get("max_input_tokens") or 0
    prices = _token_prices(props.get("price"))
    return Model(
        name,
        task,
        context_window=int(str(context)) if str(context).isdigit() else 0,
        tools=_true(props.get("function_calling")),
        reasoning=_true(props.get("reasoning")),
        vision=_true(props.get("vision")),
        paid_only=_true(props.get("require_workers_paid")),
        price_in=prices.get("per M input tokens", 0.0),
        price_out=prices.get("per M output tokens", 0.0),
        price_cached_in=prices.get("per M cached input tokens", 0.0),
        description=str(item.get("description") or ""),
    )


def _true(value: object) -> bool:
    return str(value).lower() == "true"


def _token_prices(value: object) -> dict[str, float]:
    """A listing's `price` property ([{unit, price, currency}]) -> {unit: USD}, token units only."""
    found: dict[str, float] = {}
    for entry in value if isinstance(value, list) else ():
        if isinstance(entry, dict) and isinstance(entry.get("unit"), str) and entry.get("currency", "USD") == "USD":
            price = entry.get("price")
            if isinstance(price, int | float) and not isinstance(price, bool) and price >= 0:
                found[entry["unit"]] = float(price)
    return found
