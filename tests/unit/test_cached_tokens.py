"""Cached input tokens: read from Workers AI's usage, shaped for each dialect, priced at the cached rate."""

from __future__ import annotations

import orjson
import pytest

from app.accounts import neurons
from app.catalog import Model, Task
from app.convert.anthropic import usage_of
from app.convert.response_output import usage_json
from app.convert.results import Usage, usage_from

KIMI = Model("@cf/moonshotai/kimi-k2.6", Task.TEXT_GENERATION, price_in=0.95, price_out=4.0, price_cached_in=0.16)
PLAIN = Model("@cf/meta/llama-3.3-70b-instruct-fp8-fast", Task.TEXT_GENERATION, price_in=0.293, price_out=2.253)
REPORTED = {"prompt_tokens": 1000, "completion_tokens": 10, "prompt_tokens_details": {"cached_tokens": 800}}


def test_workers_ai_usage_with_cached_tokens_reaches_every_dialect() -> None:
    usage = usage_from(REPORTED)
    assert usage == Usage(1000, 10, 800)
    assert usage.to_dict()["prompt_tokens_details"] == {"cached_tokens": 800}  # chat: part of prompt_tokens
    assert orjson.loads(usage_json(usage))["input_tokens_details"] == {"cached_tokens": 800}
    assert usage_of(usage) == {"input_tokens": 200, "output_tokens": 10, "cache_read_input_tokens": 800}


def test_no_details_means_no_claim() -> None:
    usage = usage_from({"prompt_tokens": 12, "completion_tokens": 3})
    assert usage == Usage(12, 3) and "prompt_tokens_details" not in usage.to_dict()
    assert usage_of(usage) == {"input_tokens": 12, "output_tokens": 3}
    assert orjson.loads(usage_json(usage))["input_tokens_details"] == {"cached_tokens": 0}


def test_cached_tokens_cost_the_cached_rate_where_the_model_page_lists_one() -> None:
    result = {"response": "ok", "usage": REPORTED}
    expected = neurons.usd_to_neurons((0.95 * 200 + 0.16 * 800 + 4.0 * 10) / 1_000_000)
    assert neurons.of_call(KIMI, {}, result) == pytest.approx(expected)
    assert neurons.of_call(KIMI, {}, result) < neurons.for_tokens(KIMI, 1000, 10)  # cheaper than uncached
    # No published cached rate: the input rate, no discount assumed.
    assert neurons.of_call(PLAIN, {}, result) == pytest.approx(neurons.for_tokens(PLAIN, 1000, 10))
    assert neurons.token_usage(result) == (1000, 10, 800)
