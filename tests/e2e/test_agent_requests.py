"""/v1/messages as coding agents call it: the body Claude Code 2.1.337 sends (recorded on the wire), and a
clear refusal naming the model's window when a request does not fit it."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import TEST_KEY
from tests.http import call
from tests.servers import Emulator

ROOMY = "@cf/qwen/qwen3-30b-a3b-fp8"  # 32,768 tokens
SMALL = "@cf/qwen/qwen1.5-14b-chat-awq"  # 7,500 tokens
HEADERS = {
    "Authorization": f"Bearer {TEST_KEY}",
    "anthropic-version": "2023-06-01",
    "anthropic-beta": "claude-code-20250219,interleaved-thinking-2025-05-14,context-management-2025-06-27,"
    "mid-conversation-system-2026-04-07,advanced-tool-use-2025-11-20,effort-2025-11-24",
    "x-app": "cli",
}


def _tool(index: int) -> dict[str, Any]:
    """A tool the size of Claude Code's (a long description, a schema with several described properties)."""
    properties = {
        f"option_{n}": {"type": "string", "description": f"What option {n} of tool {index} changes. " * 4}
        for n in range(6)
    }
    return {
        "name": f"Tool{index}",
        "description": "Does one of the many things a coding agent does. " * 20,
        "input_schema": {"type": "object", "properties": properties, "required": ["option_0"]},
    }


def claude_code_body(model: str) -> dict[str, Any]:
    """Claude Code's first request: every field it sends, with 24 tools (one deferred)."""
    cached = {"type": "ephemeral"}
    return {
        "model": model,
        "max_tokens": 32000,
        "stream": True,
        "system": [
            {"type": "text", "text": "x-anthropic-billing-header: cc_version=2.1.337;"},
            {"type": "text", "text": "You are a Claude agent.", "cache_control": cached},
            {"type": "text", "text": "You are an agent working with the user.", "cache_control": cached},
        ],
        "messages": [
            {"role": "user", "content": [{"type": "text", "text": "<system-reminder>notes</system-reminder>"}]},
            {"role": "system", "content": [{"type": "text", "text": "# Environment\n - Platform: linux"}]},
            {"role": "user", "content": [{"type": "text", "text": "Say hi", "cache_control": cached}]},
        ],
        "tools": [_tool(n) for n in range(23)] + [{**_tool(23), "defer_loading": True}],
        "metadata": {"user_id": '{"device_id":"abc","session_id":"s"}'},
        "thinking": {"type": "adaptive", "display": "omitted"},
        "context_management": {"edits": [{"type": "clear_thinking_20251015", "keep": "all"}]},
        "output_config": {"effort": "high"},
    }


def test_claude_codes_request_is_served(gateway_url: str, upstream: Emulator) -> None:
    answer = call("POST", f"{gateway_url}/v1/messages?beta=true", claude_code_body(ROOMY), HEADERS)
    assert answer.status == 200, answer.body
    events = [line[7:] for line in answer.body.decode().splitlines() if line.startswith("event: ")]
    assert events[0] == "message_start" and events[-1] == "message_stop"
    sent = upstream.last_run()
    roles = [message["role"] for message in sent["messages"]]
    assert roles == ["system", "user"]  # the system turn folded in, the two user turns combined
    assert sent["messages"][0]["content"].endswith("# Environment\n - Platform: linux")
    assert len(sent["tools"]) == 23  # the deferred tool stays hidden until a tool search finds it
    counted = call("POST", f"{gateway_url}/v1/messages/count_tokens?beta=true", claude_code_body(ROOMY), HEADERS)
    assert counted.status == 200 and 8000 < counted.json()["input_tokens"] < 32768


@pytest.mark.parametrize("stream", [True, False])
def test_a_request_too_large_for_the_model_names_its_window(gateway_url: str, stream: bool) -> None:
    body = {**claude_code_body(SMALL), "stream": stream}
    answer = call("POST", f"{gateway_url}/v1/messages?beta=true", body, HEADERS)
    assert answer.status == 400
    error = answer.json()["error"]
    assert error["type"] == "invalid_request_error" and "Max context reached" in error["message"]
    assert f"The context window of {SMALL} is 7500 tokens, tool definitions included" in error["message"]
    assert "docs/agents.md" in error["message"]


def codex_body(model: str) -> dict[str, Any]:
    """Codex CLI 0.169's request: its default tools include a namespace and a hosted web search."""
    function = {"type": "function", "name": "exec_command", "strict": False, "parameters": {"type": "object"}}
    spawn = {"type": "function", "name": "spawn_agent", "parameters": {"type": "object", "properties": {}}}
    namespace = {"type": "namespace", "name": "multi_agent_v1", "description": "Sub-agents.", "tools": [spawn]}
    developer = {"type": "message", "role": "developer", "content": [{"type": "input_text", "text": "Be Codex."}]}
    user = {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "Say hi"}]}
    return {
        "model": model,
        "stream": True,
        "input": [developer, user],
        "tools": [function, namespace, {"type": "web_search", "external_web_access": False}],
        "tool_choice": "auto",
        "parallel_tool_calls": True,
        "reasoning": {"summary": "auto"},
        "store": False,
        "include": ["reasoning.encrypted_content"],
        "prompt_cache_key": "01a25186-14eb-7073-bb02-292a39c78393",
        "client_metadata": {"x-codex-installation-id": "943c595b"},
    }


def test_codexs_request_is_served(gateway_url: str, upstream: Emulator) -> None:
    headers = {"Authorization": f"Bearer {TEST_KEY}", "originator": "codex_exec"}
    answer = call("POST", f"{gateway_url}/v1/responses", codex_body("@cf/openai/gpt-oss-120b"), headers)
    assert answer.status == 200, answer.body
    assert b"event: response.completed" in answer.body
    sent = upstream.last_run()
    assert [tool["function"]["name"] for tool in sent["tools"]] == ["exec_command", "spawn_agent"]  # no web search
    assert [message["role"] for message in sent["messages"]] == ["system", "user"]


def test_a_namespaced_function_call_names_its_namespace(gateway_url: str, upstream: Emulator) -> None:
    """Codex routes a call by the item's `namespace`: without it, "unsupported call: spawn_agent"."""
    spawn = {"tool_calls": [{"name": "spawn_agent", "arguments": {}}]}
    upstream.script(spawn, spawn)
    headers = {"Authorization": f"Bearer {TEST_KEY}"}
    body = codex_body("@cf/openai/gpt-oss-120b")
    whole = call("POST", f"{gateway_url}/v1/responses", {**body, "stream": False}, headers).json()
    (item,) = [item for item in whole["output"] if item["type"] == "function_call"]
    assert item["name"] == "spawn_agent" and item["namespace"] == "multi_agent_v1"
    streamed = call("POST", f"{gateway_url}/v1/responses", body, headers).body.decode()
    assert streamed.count('"name":"spawn_agent","namespace":"multi_agent_v1"') == 3  # added, done, completed
