"""Qwen Code (`qwen -p`) against the gateway's Chat Completions API on the emulator, as an OpenAI provider.
The recipe in docs/agents.md is SETTINGS and this test's environment and command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.agents.agents import binary, home_env, run, tool_sessions, tool_traffic
from tests.conftest import TEST_KEY
from tests.servers import Emulator

pytestmark = pytest.mark.agents
MODEL = "@cf/mistralai/mistral-small-3.1-24b-instruct"  # tool calling, a 128k window
SETTINGS = {
    "security": {"auth": {"selectedType": "openai"}},
    "privacy": {"usageStatisticsEnabled": False},
    "general": {"disableAutoUpdate": True, "disableUpdateNag": True},
    "telemetry": {"enabled": False},
}


def test_qwen_code_reads_edits_and_runs_a_command(tmp_path: Path, gateway_url: str, upstream: Emulator) -> None:
    qwen = binary("qwen")
    home, work = tmp_path / "home", tmp_path / "work"
    (home / ".qwen").mkdir(parents=True)
    (home / ".qwen" / "settings.json").write_text(json.dumps(SETTINGS))
    work.mkdir()
    notes = work / "notes.txt"
    notes.write_text("hello world\n")
    step = {"model": MODEL, "with_tool": "edit"}
    edit = {"file_path": str(notes), "old_string": "hello world", "new_string": "hello gateway"}
    upstream.script(
        {**step, "tool_calls": [{"name": "read_file", "arguments": {"file_path": str(notes)}}]},
        {**step, "tool_calls": [{"name": "edit", "arguments": edit}]},
        {**step, "tool_calls": [{"name": "run_shell_command", "arguments": {"command": "cp notes.txt checked.txt"}}]},
        {**step, "text": "Done: notes.txt greets the gateway."},
    )
    env = home_env(home, OPENAI_BASE_URL=f"{gateway_url}/v1", OPENAI_API_KEY=TEST_KEY, OPENAI_MODEL=MODEL)
    done = run([str(qwen), "-p", "Make notes.txt greet the gateway", "--approval-mode", "yolo"], env, work)
    assert done.returncode == 0, done.explain()
    assert done.stdout.strip().endswith("Done: notes.txt greets the gateway."), done.explain()
    assert notes.read_text() == "hello gateway\n"
    assert (work / "checked.txt").read_text() == "hello gateway\n"
    assert upstream.script_state() == {"pending": [], "served": 4}
    assert done.connects == [], done.connects
    calls, results = tool_traffic(tool_sessions(upstream, MODEL)[-1])
    assert calls == ["read_file", "edit", "run_shell_command"] and len(results) == 3 and "hello world" in results[0]
