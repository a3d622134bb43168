"""Anthropic Messages <-> the chat path: request conversion and the event framing, as pure functions."""

from __future__ import annotations

import json
from typing import Any

import pytest

from app.catalog import BUILTIN
from app.convert.anthropic import chat_request, estimate_input_tokens, thinking
from app.convert.stream import StreamState
from app.errors import InvalidRequest
from app.protocol.anthropic import MessagesRequest
from app.serving.messages import MessageWriter


def _request(**fields: Any) -> MessagesRequest:
    body = {"model": "m", "max_tokens": 100, "messages": [{"role": "user", "content": "Hi"}], **fields}
    return MessagesRequest.__pydantic_validator__.validate_json(json.dumps(body))  # type: ignore[no-any-return]


def test_tool_results_come_first_as_tool_messages_then_the_rest() -> None:
    content = [
        {"type": "tool_result", "tool_use_id": "toolu_1", "content": [{"type": "text", "text": "42"}]},
        {"type": "tool_result", "tool_use_id": "toolu_2", "content": "boom", "is_error": True},
        {"type": "text", "text": "and now?"},
    ]
    chat = chat_request(
        _request(
            system=[{"type": "text", "text": "A"}, {"type": "text", "text": "B"}],
            messages=[{"role": "user", "content": content}],
        )
    )
    assert [(m.role, m.content, m.tool_call_id) for m in chat.messages] == [
        ("system", "A\n\nB", None),
        ("tool", "42", "toolu_1"),
        ("tool", "Error: boom", "toolu_2"),
        ("user", "and now?", None),
    ]


def test_system_turns_are_folded_into_the_system_prompt_and_user_turns_combined() -> None:
    """Claude Code's shape: a user turn, a system turn (its environment), another user turn."""
    chat = chat_request(
        _request(
            system=[{"type": "text", "text": "A", "cache_control": {"type": "ephemeral"}}],
            messages=[
                {"role": "user", "content": [{"type": "text", "text": "reminder"}]},
                {"role": "system", "content": [{"type": "text", "text": "# Environment"}]},
                {"role": "user", "content": "fix it"},
                {"role": "system", "content": "later"},
            ],
        )
    )
    assert [(m.role, m.content) for m in chat.messages] == [
        ("system", "A\n\n# Environment\n\nlater"),
        ("user", "reminder\n\nfix it"),
    ]
    with pytest.raises(InvalidRequest) as caught:
        chat_request(_request(messages=[{"role": "system", "content": [{"type": "image", "source": None}]}]))
    assert caught.value.param == "messages[0].content[0].type"


def test_consecutive_assistant_turns_keep_every_tool_call() -> None:
    call = {"type": "tool_use", "id": "toolu_1", "name": "Read", "input": {"file_path": "/a"}}
    chat = chat_request(
        _request(
            messages=[
                {"role": "user", "content": "go"},
                {"role": "assistant", "content": "Reading."},
                {"role": "assistant", "content": [call]},
            ]
        )
    )
    last = chat.messages[-1]
    assert last.role == "assistant" and [c.function.name for c in last.tool_calls or ()] == ["Read"]
    assert [part.text for part in last.content or ()] == ["Reading."]  # type: ignore[union-attr]


def test_deferred_tools_are_hidden_until_a_tool_search_references_them() -> None:
    schema = {"type": "object", "properties": {}}
    tools = [
        {"name": "ToolSearch", "input_schema": schema},
        {"name": "WebFetch", "input_schema": schema, "defer_loading": True},
        {"name": "Cron", "input_schema": schema, "defer_loading": True},
    ]
    before = chat_request(_request(tools=tools))
    assert [tool.function.name for tool in before.tools or ()] == ["ToolSearch"]
    found = [{"type": "tool_reference", "tool_name": "WebFetch"}]
    messages = [
        {"role": "user", "content": "fetch it"},
        {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "ToolSearch", "input": {}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1", "content": found}]},
    ]
    after = chat_request(_request(tools=tools, messages=messages))
    assert [tool.function.name for tool in after.tools or ()] == ["ToolSearch", "WebFetch"]
    assert after.messages[-1].content == "Tool WebFetch is now available."


def test_tool_choice_and_server_tools() -> None:
    tools = [
        {"type": "web_search_20250305", "name": "web_search"},
        {"name": "f", "input_schema": {"type": "object"}},
    ]
    chat = chat_request(_request(tools=tools, tool_choice={"type": "any"}))
    assert [t.function.name for t in chat.tools or []] == ["f"] and chat.tool_choice == "required"
    named = chat_request(_request(tools=tools, tool_choice={"type": "tool", "name": "f"}))
    assert named.tool_choice is not None and not isinstance(named.tool_choice, str)
    assert chat_request(_request(tools=tools, tool_choice={"type": "none"})).tools is None
    with pytest.raises(InvalidRequest) as caught:
        chat_request(_request(tools=[{"name": "g"}]))
    assert caught.value.param == "tools[0].input_schema"


@pytest.mark.parametrize(
    ("config", "effort", "shown"),
    [
        ({"thinking": {"type": "enabled", "budget_tokens": 1024}}, "low", True),
        ({"thinking": {"type": "enabled", "budget_tokens": 8000}}, "medium", True),
        ({"thinking": {"type": "enabled", "budget_tokens": 20000}}, "high", True),
        ({"thinking": {"type": "adaptive"}, "output_config": {"effort": "max"}}, "high", True),
        ({"thinking": {"type": "enabled", "budget_tokens": 2048, "display": "omitted"}}, "low", False),
        ({"thinking": {"type": "disabled"}}, None, False),
        ({}, None, False),
    ],
)
def test_thinking_maps_to_reasoning_effort(config: dict[str, Any], effort: str | None, shown: bool) -> None:
    request = _request(**config)
    assert chat_request(request).reasoning_effort == effort and thinking(request) is shown


def test_count_tokens_counts_tools_and_images() -> None:
    image = {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "AAAA"}}
    plain = estimate_input_tokens(chat_request(_request()))
    with_image = estimate_input_tokens(chat_request(_request(messages=[{"role": "user", "content": [image]}])))
    tools = [{"name": "f", "description": "x" * 400, "input_schema": {"type": "object"}}]
    assert plain < with_image and plain + 100 < estimate_input_tokens(chat_request(_request(tools=tools)))


def _events(raw: bytes) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for block in raw.decode().strip().split("\n\n"):
        name, data = block.split("\n")
        out.append((name.removeprefix("event: "), json.loads(data.removeprefix("data: "))))
    return out


def test_writer_opens_a_block_per_kind_and_ends_the_message() -> None:
    writer = MessageWriter("@cf/x/y", show_thinking=True)
    call = {"index": 0, "id": "call_1", "type": "function", "function": {"name": "f", "arguments": '{"a"'}}
    raw = writer.opening(7) + writer.frames(
        0,
        [
            {"reasoning_content": "hm"},
            {"content": "Hi"},
            {"content": " there"},
            {"tool_calls": [call]},
            {"tool_calls": [{"index": 0, "function": {"arguments": ": 1}"}}]},
        ],
    )
    state = StreamState(BUILTIN["@cf/meta/llama-3.1-8b-instruct-fast"], max_tokens=10, stops=())
    usage = (
        b'{"response":"","tool_calls":[{"name":"f","arguments":{}}],"usage":{"prompt_tokens":5,"completion_tokens":3}}'
    )
    state.feed_batch([usage, b"[DONE]"])  # the upstream side of the same answer: a call, Workers AI's usage
    events = _events(raw + writer.finish([state], False, lambda: 0))
    assert [name for name, _ in events] == [
        "message_start", "ping",
        "content_block_start", "content_block_delta", "content_block_stop",
        "content_block_start", "content_block_delta", "content_block_delta", "content_block_stop",
        "content_block_start", "content_block_delta", "content_block_delta", "content_block_stop",
        "message_delta", "message_stop",
    ]  # fmt: skip
    assert events[0][1]["message"]["usage"] == {"input_tokens": 7, "output_tokens": 0}
    assert [e["index"] for n, e in events if n == "content_block_start"] == [0, 1, 2]
    assert events[3][1]["delta"] == {"type": "thinking_delta", "thinking": "hm"}
    assert events[7][1]["delta"] == {"type": "text_delta", "text": " there"}
    assert events[9][1]["content_block"] == {"type": "tool_use", "id": "call_1", "name": "f", "input": {}}
    assert events[11][1]["delta"] == {"type": "input_json_delta", "partial_json": ": 1}"}
    assert events[13][1]["delta"] == {"stop_reason": "tool_use", "stop_sequence": None}
    assert events[13][1]["usage"] == {"input_tokens": 5, "output_tokens": 3}


def test_writer_hides_thinking_unless_asked() -> None:
    writer = MessageWriter("m", show_thinking=False)
    assert writer.frames(0, [{"reasoning_content": "secret"}]) == b""
