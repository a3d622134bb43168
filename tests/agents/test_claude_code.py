"""Claude Code (headless `claude -p`, its default tools) against the gateway's Messages API on the emulator.

The recipe in docs/agents.md is this test's environment and command line.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.agents.agents import binary, home_env, run, tool_sessions, tool_traffic
from tests.conftest import TEST_KEY
from tests.servers import Emulator

pytestmark = pytest.mark.agents
MODEL = "@cf/qwen/qwen3-30b-a3b-fp8"  # tool calling, a 32k window: Claude Code's prompt is about 12k tokens
SMALL = "@cf/meta/llama-3.1-8b-instruct-fp8-fast"  # its "small, fast" model, for side calls


def claude_env(home: Path, gateway_url: str) -> dict[str, str]:
    return home_env(
        home,
        ANTHROPIC_BASE_URL=gateway_url,
        ANTHROPIC_AUTH_TOKEN=TEST_KEY,
        ANTHROPIC_MODEL=MODEL,
        ANTHROPIC_SMALL_FAST_MODEL=SMALL,
        ANTHROPIC_DEFAULT_HAIKU_MODEL=SMALL,
        CLAUDE_CODE_AUTO_COMPACT_WINDOW="32768",  # the model's window: Claude Code assumes 1M for unknown ids
        CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC="1",  # no telemetry, error reports or update checks
        DISABLE_AUTOUPDATER="1",
        DISABLE_TELEMETRY="1",
        DISABLE_ERROR_REPORTING="1",
    )


def _step(**reply: Any) -> dict[str, Any]:
    # Only the main loop's requests offer Edit: a side call (a title, a summary) is answered as usual.
    return {"model": MODEL, "with_tool": "Edit", **reply}


def _call(name: str, **arguments: Any) -> dict[str, Any]:
    return _step(tool_calls=[{"name": name, "arguments": arguments}])


def test_claude_code_reads_edits_and_runs_a_command(tmp_path: Path, gateway_url: str, upstream: Emulator) -> None:
    claude = binary("claude")
    work = tmp_path / "work"
    work.mkdir()
    notes = work / "notes.txt"
    notes.write_text("hello world\n")
    upstream.script(
        _call("Read", file_path=str(notes)),
        _call("Edit", file_path=str(notes), old_string="hello world", new_string="hello gateway"),
        _call("Bash", command="cp notes.txt checked.txt", description="Copy the file"),
        _step(text="Done: notes.txt greets the gateway."),
    )
    argv = [str(claude), "-p", "Make notes.txt greet the gateway", "--output-format", "json"]
    argv += ["--allowedTools", "Read Edit Bash"]
    done = run(argv, claude_env(tmp_path / "home", gateway_url), work)
    assert done.returncode == 0, done.explain()
    answer = json.loads(done.stdout)
    assert answer["is_error"] is False and answer["result"] == "Done: notes.txt greets the gateway."
    assert notes.read_text() == "hello gateway\n"
    assert (work / "checked.txt").read_text() == "hello gateway\n"  # the command ran, after the edit
    assert upstream.script_state() == {"pending": [], "served": 4}
    assert done.connects == [], done.connects
    sessions = tool_sessions(upstream, MODEL)
    first, last = sessions[0], sessions[-1]
    # Its mid-conversation system turn (the environment) is folded into the one system prompt.
    assert first["messages"][0]["role"] == "system" and "Primary working directory" in first["messages"][0]["content"]
    assert [m["role"] for m in first["messages"]].count("system") == 1
    assert {"Read", "Edit", "Bash"} <= {tool["function"]["name"] for tool in first["tools"]}
    # Each tool call went out to Claude Code and each result came back in to the model.
    calls, results = tool_traffic(last)
    assert calls == ["Read", "Edit", "Bash"]
    assert len(results) == 3 and "hello world" in results[0]
