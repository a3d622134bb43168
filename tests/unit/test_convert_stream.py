from __future__ import annotations

import orjson
import pytest

from app.catalog import Catalog
from app.convert.stream import StreamState
from app.errors import GatewayError

CATALOG = Catalog()


def feed_all(state: StreamState, events: list[object]) -> list[dict[str, object]]:
    out = []
    for event in events:
        data = event if isinstance(event, bytes) else orjson.dumps(event)
        out.extend(state.feed_batch([data]))
    return out


def test_native_stream_drops_padding_and_empty_events_and_takes_cumulative_usage() -> None:
    state = StreamState(CATALOG.resolve("@cf/meta/llama-3.1-8b-instruct-fast"), max_tokens=100, stops=())
    deltas = feed_all(
        state,
        [
            {"response": "Hello", "p": "abcdef"},
            {"response": " world", "p": "ab"},
            {"response": ""},
            {"response": "", "usage": {"prompt_tokens": 9, "completion_tokens": 2, "total_tokens": 11}},
            b"[DONE]",
        ],
    )
    assert deltas == [{"content": "Hello"}, {"content": " world"}]
    assert state.done
    assert state.usage is not None and state.usage.to_dict() == {
        "prompt_tokens": 9,
        "completion_tokens": 2,
        "total_tokens": 11,
    }
    assert state.finish() == ([], "stop")


def test_openai_shaped_incremental_usage_is_not_double_counted() -> None:
    state = StreamState(CATALOG.resolve("@cf/google/gemma-4-26b-a4b-it"), max_tokens=100, stops=())
    feed_all(
        state,
        [
            {
                "choices": [{"delta": {"content": "", "role": "assistant"}, "index": 0}],
                "usage": {"prompt_tokens": 147, "completion_tokens": 0},
            },
            {
                "choices": [{"delta": {"content": "a"}, "index": 0}],
                "usage": {"prompt_tokens": 0, "completion_tokens": 1},
            },
            {
                "choices": [{"delta": {"content": "b"}, "index": 0}],
                "usage": {"prompt_tokens": 0, "completion_tokens": 1},
            },
            {"choices": [], "usage": {"prompt_tokens": 0, "completion_tokens": 1}},
        ],
    )
    assert state.usage is not None and state.usage.completion_tokens == 3
    feed_all(state, [{"response": "", "usage": {"prompt_tokens": 147, "completion_tokens": 16}}])
    assert state.usage.to_dict() == {"prompt_tokens": 147, "completion_tokens": 16, "total_tokens": 163}


def test_openai_shaped_cumulative_usage_is_taken_as_is() -> None:
    state = StreamState(CATALOG.resolve("@cf/qwen/qwen3-30b-a3b-fp8"), max_tokens=100, stops=())
    feed_all(
        state,
        [
            {
                "choices": [{"delta": {"reasoning_content": "Ok"}, "index": 0}],
                "usage": {"prompt_tokens": 13, "completion_tokens": 3},
            },
            {
                "choices": [{"delta": {"content": "x"}, "index": 0}],
                "usage": {"prompt_tokens": 13, "completion_tokens": 4},
            },
        ],
    )
    assert state.usage is not None and state.usage.completion_tokens == 4


def test_native_whole_tool_call_gets_index_id_type_name() -> None:
    state = StreamState(CATALOG.resolve("@cf/meta/llama-3.3-70b-instruct-fp8-fast"), max_tokens=100, stops=())
    deltas = feed_all(state, [{"response": "", "tool_calls": [{"name": "f", "arguments": {"q": "x"}}]}])
    call = deltas[0]["tool_calls"][0]  # type: ignore[index]
    assert call["index"] == 0 and call["type"] == "function" and call["id"].startswith("call_")
    assert call["function"] == {"name": "f", "arguments": '{"q":"x"}'}
    assert state.finish()[1] == "tool_calls"


def test_incremental_tool_call_fragments_keep_their_index() -> None:
    state = StreamState(CATALOG.resolve("@cf/meta/llama-3.3-70b-instruct-fp8-fast"), max_tokens=100, stops=())
    deltas = feed_all(
        state,
        [
            {"tool_calls": [{"id": "t0", "index": 0, "function": {"name": "search"}}]},
            {"tool_calls": [{"index": 0, "function": {"arguments": '{"a": '}}]},
            {"tool_calls": [{"index": 0, "function": {"arguments": "1}"}}]},
            {"tool_calls": [{"index": 0, "id": None, "type": None, "function": {"name": None}}]},
        ],
    )
    calls = [d["tool_calls"][0] for d in deltas]  # type: ignore[index]
    assert calls[0] == {"index": 0, "id": "t0", "type": "function", "function": {"name": "search", "arguments": ""}}
    assert "".join(c["function"]["arguments"] for c in calls[1:]) == '{"a": 1}'
    assert len(calls) == 3


def test_reasoning_stream_without_opening_tag() -> None:
    state = StreamState(CATALOG.resolve("@cf/deepseek-ai/deepseek-r1-distill-qwen-32b"), max_tokens=100, stops=())
    deltas = feed_all(state, [{"response": t} for t in ["Hmm", " ok", "\n</think>", "\n\n", "Yes"]])
    reasoning = "".join(str(d.get("reasoning_content", "")) for d in deltas)
    content = "".join(str(d.get("content", "")) for d in deltas)
    assert reasoning.strip() == "Hmm ok" and content == "Yes"


def test_events_read_together_translate_as_one_by_one() -> None:
    """A batch (what one socket read completed) gives the deltas the events give one at a time: the
    reasoning block closing mid-batch hands the rest to content, and nothing after [DONE] counts."""
    events = [{"response": t, "p": "pad"} for t in ["Hmm", " ok", "</think>", "\n\n", "Yes", " sir"]]
    raw = [orjson.dumps(e) for e in events] + [b"[DONE]", orjson.dumps({"response": "late"})]
    model = CATALOG.resolve("@cf/deepseek-ai/deepseek-r1-distill-qwen-32b")
    together = StreamState(model, max_tokens=100, stops=())
    one_by_one = StreamState(model, max_tokens=100, stops=())
    expected = [d for data in raw for d in one_by_one.feed_batch([data])]
    assert together.feed_batch(raw) == expected
    assert [d.get("content") for d in expected if "content" in d] == ["Yes", " sir"]
    assert together.done
    assert together.completion_chars == one_by_one.completion_chars == len("Hmm ok</think>\n\nYes sir")


def test_text_without_usage_is_counted_for_the_estimate() -> None:
    state = StreamState(CATALOG.resolve("@cf/meta/llama-3.1-8b-instruct-fast"), max_tokens=100, stops=())
    deltas = state.feed_batch([orjson.dumps({"response": t, "p": "x"}) for t in ["four", "more"]] + [b"[DONE]"])
    assert deltas == [{"content": "four"}, {"content": "more"}]
    assert state.usage is None and state.completion_chars == 8


def test_stop_sequence_in_a_stream_ends_it() -> None:
    state = StreamState(CATALOG.resolve("@cf/meta/llama-3.1-8b-instruct-fast"), max_tokens=100, stops=("STOP",))
    deltas = feed_all(state, [{"response": t} for t in ["one", " ST", "OP", " two"]])
    assert "".join(str(d["content"]) for d in deltas) == "one "
    assert state.done and state.finish()[1] == "stop"


def test_malformed_events_are_skipped_and_errors_in_band_raise() -> None:
    state = StreamState(CATALOG.resolve("@cf/meta/llama-3.1-8b-instruct-fast"), max_tokens=100, stops=())
    assert state.feed_batch([b"{not json"]) == []
    with pytest.raises(GatewayError) as raised:
        state.feed_batch([b'{"errors":[{"code":3040,"message":"AiError: Capacity temporarily exceeded (abcdef12)"}]}'])
    assert raised.value.status_code == 429 and "Capacity temporarily exceeded" in raised.value.message


def test_chunk_writer_template_matches_the_object_it_stands_for() -> None:
    from app.serving.streams import ChunkWriter

    for chat in (True, False):
        writer = ChunkWriter("@cf/meta/llama-3.1-8b-instruct-fast", 1700000000, chat=chat)
        framed = writer.delta(1, {"content": 'he said "hi"\n'})
        assert framed.startswith(b"data: ") and framed.endswith(b"\n\n")
        chunk = orjson.loads(framed[6:])
        choice = {"index": 1, "logprobs": None, "finish_reason": None}
        if chat:
            choice["delta"] = {"content": 'he said "hi"\n'}
        else:
            choice["text"] = 'he said "hi"\n'
        assert chunk == {
            "id": writer.id,
            "object": "chat.completion.chunk" if chat else "text_completion",
            "created": 1700000000,
            "model": "@cf/meta/llama-3.1-8b-instruct-fast",
            "choices": [choice],
        }
