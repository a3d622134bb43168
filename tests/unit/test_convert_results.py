from __future__ import annotations

import orjson

from app.catalog import Catalog
from app.convert.results import parse_chat_result

CATALOG = Catalog()
LLAMA = CATALOG.resolve("@cf/meta/llama-3.3-70b-instruct-fp8-fast")


def test_native_text_and_usage() -> None:
    result = {"response": "Hello!", "usage": {"prompt_tokens": 10, "completion_tokens": 2, "total_tokens": 12}}
    choice, usage = parse_chat_result(result, LLAMA, max_tokens=100, stops=(), tools=False)
    assert choice.content == "Hello!" and choice.finish_reason == "stop"
    assert usage is not None and usage.to_dict() == {"prompt_tokens": 10, "completion_tokens": 2, "total_tokens": 12}


def test_length_when_the_token_limit_was_hit() -> None:
    result = {"response": "a b c", "usage": {"prompt_tokens": 3, "completion_tokens": 3.0}}
    choice, usage = parse_chat_result(result, LLAMA, max_tokens=3, stops=(), tools=False)
    assert choice.finish_reason == "length"
    assert usage is not None and isinstance(usage.completion_tokens, int)


def test_native_tool_calls_with_null_response() -> None:
    result = {"response": None, "tool_calls": [{"name": "get_weather", "arguments": {"city": "Paris"}}]}
    choice, _ = parse_chat_result(result, LLAMA, max_tokens=100, stops=(), tools=True)
    assert choice.content is None
    assert choice.finish_reason == "tool_calls"
    call = choice.tool_calls[0]
    assert call["id"].startswith("call_") and call["type"] == "function"
    assert orjson.loads(call["function"]["arguments"]) == {"city": "Paris"}


def test_llama4_style_calls_with_object_arguments() -> None:
    scout = CATALOG.resolve("@cf/meta/llama-4-scout-17b-16e-instruct")
    result = {
        "response": "",
        "tool_calls": [{"id": "x1", "type": "function", "function": {"name": "f", "arguments": {"a": 1}}}],
    }
    choice, _ = parse_chat_result(result, scout, max_tokens=100, stops=(), tools=True)
    assert choice.tool_calls == [{"id": "x1", "type": "function", "function": {"name": "f", "arguments": '{"a":1}'}}]


def test_json_mode_object_becomes_a_json_string() -> None:
    choice, _ = parse_chat_result({"response": {"name": "India"}}, LLAMA, max_tokens=100, stops=(), tools=False)
    assert orjson.loads(choice.content or "") == {"name": "India"}


def test_reasoning_without_opening_tag_moves_to_reasoning_content() -> None:
    r1 = CATALOG.resolve("@cf/deepseek-ai/deepseek-r1-distill-qwen-32b")
    choice, _ = parse_chat_result({"response": "think hard\n</think>\n\n42"}, r1, max_tokens=100, stops=(), tools=False)
    assert choice.reasoning == "think hard" and choice.content == "42"


def test_openai_shaped_result_with_reasoning_field() -> None:
    qwen = CATALOG.resolve("@cf/qwen/qwen3-30b-a3b-fp8")
    result = {
        "choices": [
            {
                "index": 0,
                "finish_reason": "length",
                "message": {"role": "assistant", "content": "ok", "reasoning": "hmm"},
            }
        ],
        "usage": {"prompt_tokens": 5, "completion_tokens": 7, "total_tokens": 12, "neurons": 1.5},
    }
    choice, usage = parse_chat_result(result, qwen, max_tokens=100, stops=(), tools=False)
    assert (choice.content, choice.reasoning, choice.finish_reason) == ("ok", "hmm", "length")
    assert usage is not None and usage.to_dict()["total_tokens"] == 12


def test_stop_sequence_is_enforced_by_the_gateway() -> None:
    choice, _ = parse_chat_result({"response": "one two END three"}, LLAMA, max_tokens=100, stops=("END",), tools=False)
    assert choice.content == "one two " and choice.finish_reason == "stop"


def test_tagged_tool_call_text_becomes_a_tool_call() -> None:
    text = 'Sure. <tool_call>{"name": "f", "arguments": {"x": 2}}</tool_call>'
    choice, _ = parse_chat_result({"response": text}, LLAMA, max_tokens=100, stops=(), tools=True)
    assert choice.tool_calls[0]["function"]["name"] == "f"
    assert choice.content == "Sure."
