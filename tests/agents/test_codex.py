"""Codex CLI (`codex exec`, its default tools) against the gateway's Responses API on the emulator.

The recipe in docs/agents.md is CONFIG and this test's command line.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.agents.agents import binary, home_env, run, tool_sessions, tool_traffic
from tests.conftest import TEST_KEY
from tests.servers import Emulator

pytestmark = pytest.mark.agents
MODEL = "@cf/openai/gpt-oss-120b"  # tool calling, a 128k window
CONFIG = """\
model = "{model}"
model_provider = "workers-ai-gateway"
model_context_window = 128000
check_for_update_on_startup = false

[model_providers.workers-ai-gateway]
name = "Workers AI gateway"
base_url = "{base_url}/v1"
env_key = "GATEWAY_API_KEY"
wire_api = "responses"

[analytics]
enabled = false

[features]
plugins = false
remote_plugin = false
apps = false
in_app_updates = false
"""


def test_codex_exec_edits_a_file_with_its_default_tools(tmp_path: Path, gateway_url: str, upstream: Emulator) -> None:
    codex = binary("codex")
    home, work = tmp_path / "home", tmp_path / "work"
    (home / ".codex").mkdir(parents=True)
    (home / ".codex" / "config.toml").write_text(CONFIG.format(model=MODEL, base_url=gateway_url))
    work.mkdir()
    notes = work / "notes.txt"
    notes.write_text("hello world\n")
    step = {"model": MODEL, "with_tool": "exec_command"}
    upstream.script(
        {**step, "tool_calls": [{"name": "exec_command", "arguments": {"cmd": "sed -i s/world/gateway/ notes.txt"}}]},
        {**step, "tool_calls": [{"name": "close_agent", "arguments": {"target": "nobody"}}]},  # in a namespace
        {**step, "text": "Done: notes.txt greets the gateway."},
    )
    argv = [
        str(codex),
        "exec",
        "--skip-git-repo-check",
        "--sandbox",
        "workspace-write",
        "Make notes.txt greet the gateway",
    ]
    env = home_env(home, CODEX_HOME=str(home / ".codex"), GATEWAY_API_KEY=TEST_KEY)
    done = run(argv, env, work)
    assert done.returncode == 0, done.explain()
    assert done.stdout.strip().endswith("Done: notes.txt greets the gateway."), done.explain()
    assert notes.read_text() == "hello gateway\n"
    assert upstream.script_state() == {"pending": [], "served": 3}
    assert done.connects == [], done.connects
    sessions = tool_sessions(upstream, MODEL)
    offered = {tool["function"]["name"] for tool in sessions[0]["tools"]}
    assert "exec_command" in offered and "spawn_agent" in offered  # a namespace's functions, one by one
    assert sessions[0]["messages"][0]["role"] == "system"  # its developer messages are instructions
    calls, results = tool_traffic(sessions[-1])
    assert calls == ["exec_command", "close_agent"] and len(results) == 2  # the calls went out, results came back
    # The namespaced call reached its tool (which knows no such agent), as its item named the namespace.
    assert "invalid agent id nobody" in results[1] and "unsupported call" not in results[1]
