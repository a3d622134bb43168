"""opencode (`opencode run`) against the gateway's Chat Completions API on the emulator, as an OpenAI-compatible
provider. The recipe in docs/agents.md is CONFIG and this test's environment and command line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.agents.agents import binary, home_env, run, tool_sessions, tool_traffic
from tests.conftest import TEST_KEY
from tests.servers import Emulator

pytestmark = pytest.mark.agents
MODEL = "@cf/meta/llama-4-scout-17b-16e-instruct"  # tool calling, a 131k window


def config(base_url: str) -> dict[str, Any]:
    return {
        "$schema": "https://opencode.ai/config.json",
        "autoupdate": False,
        "share": "disabled",
        "model": f"workers-ai-gateway/{MODEL}",
        "provider": {
            "workers-ai-gateway": {
                "npm": "@ai-sdk/openai-compatible",
                "name": "Workers AI gateway",
                "options": {"baseURL": f"{base_url}/v1", "apiKey": "{env:GATEWAY_API_KEY}"},
                "models": {
                    MODEL: {"name": "Llama 4 Scout", "tool_call": True, "limit": {"context": 131000, "output": 8192}}
                },
            }
        },
    }


def test_opencode_reads_and_edits_a_file(tmp_path: Path, gateway_url: str, upstream: Emulator) -> None:
    opencode = binary("opencode")
    home, work = tmp_path / "home", tmp_path / "work"
    (home / ".config" / "opencode").mkdir(parents=True)
    (home / ".config" / "opencode" / "opencode.json").write_text(json.dumps(config(gateway_url)))
    work.mkdir()
    notes = work / "notes.txt"
    notes.write_text("hello world\n")
    step = {"model": MODEL, "with_tool": "edit"}  # its title request offers no tools
    edit = {"filePath": str(notes), "oldString": "hello world", "newString": "hello gateway"}
    upstream.script(
        {**step, "tool_calls": [{"name": "read", "arguments": {"filePath": str(notes)}}]},
        {**step, "tool_calls": [{"name": "edit", "arguments": edit}]},
        {**step, "text": "Done: notes.txt greets the gateway."},
    )
    env = home_env(
        home,
        GATEWAY_API_KEY=TEST_KEY,
        OPENCODE_DISABLE_MODELS_FETCH="1",  # no models.dev catalogue
        OPENCODE_DISABLE_AUTOUPDATE="1",
        OPENCODE_DISABLE_SHARE="1",
        OPENCODE_DISABLE_LSP_DOWNLOAD="1",
        OPENCODE_DISABLE_DEFAULT_PLUGINS="1",
        npm_config_offline="true",  # its plugin install reads npm's cache only, never the registry
    )
    done = run([str(opencode), "run", "Make notes.txt greet the gateway"], env, work)
    assert done.returncode == 0, done.explain()
    assert "Done: notes.txt greets the gateway." in done.stdout, done.explain()
    assert notes.read_text() == "hello gateway\n"
    assert upstream.script_state() == {"pending": [], "served": 3}
    assert done.connects == [], done.connects
    calls, results = tool_traffic(tool_sessions(upstream, MODEL)[-1])
    assert calls == ["read", "edit"] and len(results) == 2 and "hello world" in results[0]
