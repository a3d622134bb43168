"""Workers AI's requests-per-minute limits, per account: by task, with per-model exceptions.

The table is Cloudflare's (workers-ai-api.md section 11); `RATE_LIMITS` overrides any entry by model id or
task name, e.g. `{"@cf/meta/llama-3.1-8b-instruct-fast": 100, "Text Generation": 200}`, or `"*"` for every model
not named otherwise; 0 turns a limit off.
Tasks the table does not name (text-to-speech) get no limit of ours.
"""

from __future__ import annotations

from collections.abc import Mapping

from app.catalog import Model, Task

BY_TASK: dict[str, int] = {
    Task.SPEECH_RECOGNITION: 720,
    Task.IMAGE_TO_TEXT: 720,
    Task.TEXT_EMBEDDINGS: 3000,
    Task.TEXT_GENERATION: 300,
    Task.TEXT_TO_IMAGE: 720,
    Task.TRANSLATION: 720,
    "Image Classification": 3000,
    "Object Detection": 3000,
    "Summarization": 1500,
    "Text Classification": 2000,
}

BY_MODEL: dict[str, int] = {
    "@cf/baai/bge-large-en-v1.5": 1500,
    "@cf/runwayml/stable-diffusion-v1-5-img2img": 1500,
    "@hf/thebloke/mistral-7b-instruct-v0.1-awq": 400,
    "@cf/qwen/qwen1.5-0.5b-chat": 1500,
    "@cf/qwen/qwen1.5-1.8b-chat": 720,
    "@cf/qwen/qwen1.5-14b-chat-awq": 150,
    "@cf/tinyllama/tinyllama-1.1b-chat-v1.0": 720,
}


class RateTable:
    """Requests per minute per account for each model (0: no limit)."""

    def __init__(self, overrides: Mapping[str, int] | None = None) -> None:
        self._overrides = dict(overrides or {})
        self._cache: dict[str, int] = {}

    def per_minute(self, model: Model) -> int:
        cached = self._cache.get(model.id)
        if cached is None:
            cached = self._cache[model.id] = self._lookup(model)
        return cached

    def _lookup(self, model: Model) -> int:
        for table in (self._overrides, BY_MODEL):
            if model.id in table:
                return table[model.id]
        task = str(model.task)
        if task in self._overrides:
            return self._overrides[task]
        return self._overrides.get("*", BY_TASK.get(task, 0))
