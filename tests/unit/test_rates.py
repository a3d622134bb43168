"""Cloudflare's per-account requests a minute (app/accounts/rates.py) and how RATE_LIMITS overrides them."""

from __future__ import annotations

from app.accounts.rates import RateTable
from app.catalog import Catalog, Model, Task

LLAMA = "@cf/meta/llama-3.1-8b-instruct-fast"
PHI = "@cf/tinyllama/tinyllama-1.1b-chat-v1.0"
BGE = "@cf/baai/bge-base-en-v1.5"
BGE_LARGE = "@cf/baai/bge-large-en-v1.5"
FLUX = "@cf/black-forest-labs/flux-1-schnell"
WHISPER = "@cf/openai/whisper"
M2M = "@cf/meta/m2m100-1.2b"
MELO = "@cf/myshell-ai/melotts"


def model(model_id: str) -> Model:
    return Catalog({}).resolve(model_id)


def test_the_published_limits_by_task_and_by_model() -> None:
    table = RateTable()
    assert table.per_minute(model(LLAMA)) == 300  # text generation
    assert table.per_minute(model(PHI)) == 720  # a text model with its own limit
    assert table.per_minute(model(BGE)) == 3000  # embeddings
    assert table.per_minute(model(BGE_LARGE)) == 1500  # an embedding model with its own limit
    assert table.per_minute(model(FLUX)) == 720  # text-to-image
    assert table.per_minute(model(WHISPER)) == 720  # speech recognition
    assert table.per_minute(model(M2M)) == 720  # translation
    assert model(MELO).task is Task.TEXT_TO_SPEECH and table.per_minute(model(MELO)) == 0  # none published


def test_overrides_by_model_then_task_then_star() -> None:
    table = RateTable({LLAMA: 50, "Text Generation": 200, "*": 1000, PHI: 0})
    assert table.per_minute(model(LLAMA)) == 50  # its own id first
    assert table.per_minute(model("@cf/meta/llama-3.3-70b-instruct-fp8-fast")) == 200  # then its task
    assert table.per_minute(model(BGE)) == 1000  # "*" for a model nothing else names
    assert table.per_minute(model(BGE_LARGE)) == 1500  # a published per-model limit still holds over "*"
    assert table.per_minute(model(PHI)) == 0  # 0 turns a limit off
