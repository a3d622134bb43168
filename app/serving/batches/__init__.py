"""OpenAI's Batch API, run in the background and paced to the day's neurons (docs/batches.md)."""

from __future__ import annotations

from app.serving.batches.dispatch import BATCH_CALLER
from app.serving.batches.pacing import Pacer
from app.serving.batches.runner import BatchRunner

__all__ = ["BATCH_CALLER", "BatchRunner", "Pacer"]
