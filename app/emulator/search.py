"""GET /ai/models/search and /ai/tasks/search: the model table rendered like Cloudflare's listing."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app.emulator.models import MODELS, TASK_IDS, ModelSpec, Reasoning, Task
from app.emulator.translation import LANGUAGES

DEFAULT_PER_PAGE = 50
MAX_PER_PAGE = 1000


def task_object(task: Task) -> dict[str, str]:
    task_id, description = TASK_IDS[task]
    return {"id": task_id, "name": task.value, "description": description}


def _properties(spec: ModelSpec) -> list[dict[str, Any]]:
    props: list[tuple[str, Any]] = []
    if spec.paid_only:
        props.append(("require_workers_paid", "true"))
    if spec.task is Task.TEXT_GENERATION:
        props.append(("context_window", str(spec.context_window)))
        if spec.function_calling:
            props.append(("function_calling", "true"))
        if spec.reasoning is not Reasoning.NONE:
            props.append(("reasoning", "true"))
        if spec.vision:
            props.append(("vision", "true"))
        if spec.needs_agreement:
            props.append(("terms", "https://github.com/meta-llama/llama-models/blob/main/models/llama3_2/LICENSE"))
    if spec.task is Task.TEXT_EMBEDDINGS:
        props.append(("max_input_tokens", str(spec.context_window)))
        props.append(("output_dimensions", str(spec.dims)))
    if spec.task is Task.TRANSLATION:
        props.append(("languages", ", ".join(list(LANGUAGES)[:10])))
    if spec.price:
        prices = [{"unit": unit, "price": price, "currency": "USD"} for unit, price in spec.price]
        props.append(("price", prices))
    return [{"property_id": key, "value": value} for key, value in props]


def model_object(spec: ModelSpec) -> dict[str, Any]:
    return {
        "id": spec.uid,
        "source": 1,
        "name": spec.name,
        "description": spec.description,
        "task": task_object(spec.task),
        "tags": [],
        "properties": _properties(spec),
    }


def _int(value: str | None, default: int, low: int, high: int) -> int:
    try:
        number = int(value) if value is not None else default
    except ValueError:
        number = default
    return max(low, min(high, number))


def _matches(spec: ModelSpec, params: Mapping[str, str]) -> bool:
    task = params.get("task")
    if task and spec.task.value.lower() != task.lower():
        return False
    author = params.get("author")
    if author and spec.author.lower() != author.lower():
        return False
    search = (params.get("search") or "").lower()
    return search in spec.name.lower() or search in spec.description.lower()


def search_models(params: Mapping[str, str]) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """One page of matching models and the `result_info` that describes it."""
    page = _int(params.get("page"), 1, 1, 1_000_000)
    per_page = _int(params.get("per_page"), DEFAULT_PER_PAGE, 1, MAX_PER_PAGE)
    matching = [spec for spec in MODELS.values() if _matches(spec, params)]
    start = (page - 1) * per_page
    result = [model_object(spec) for spec in matching[start : start + per_page]]
    info = {"page": page, "per_page": per_page, "count": len(result), "total_count": len(matching)}
    return result, info


def search_tasks() -> list[dict[str, str]]:
    return [task_object(task) for task in Task]
