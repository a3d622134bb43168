"""aider (`aider --message`, its diff edit format) against the gateway's Chat Completions API on the emulator.
aider edits by SEARCH/REPLACE blocks in the model's text, not by tool calls. The recipe in docs/agents.md is
METADATA and this test's environment and command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.agents.agents import binary, home_env, run
from tests.conftest import TEST_KEY
from tests.servers import Emulator

pytestmark = pytest.mark.agents
MODEL = "@cf/meta/llama-4-scout-17b-16e-instruct"
# The model's window and prices: with them aider fetches no model list from the internet.
METADATA = {
    f"openai/{MODEL}": {
        "max_input_tokens": 131000,
        "max_output_tokens": 8192,
        "input_cost_per_token": 0,
        "output_cost_per_token": 0,
        "litellm_provider": "openai",
        "mode": "chat",
    }
}
EDIT = "notes.txt\n```\n<<<<<<< SEARCH\nhello world\n=======\nhello gateway\n>>>>>>> REPLACE\n```\n"


def test_aider_edits_a_file(tmp_path: Path, gateway_url: str, upstream: Emulator) -> None:
    aider = binary("aider")
    home, work = tmp_path / "home", tmp_path / "work"
    home.mkdir()
    (home / ".aider.model.metadata.json").write_text(json.dumps(METADATA))
    work.mkdir()
    notes = work / "notes.txt"
    notes.write_text("hello world\n")
    upstream.script({"model": MODEL, "text": EDIT})
    env = home_env(
        home,
        OPENAI_API_BASE=f"{gateway_url}/v1",
        OPENAI_API_KEY=TEST_KEY,
        LITELLM_LOCAL_MODEL_COST_MAP="True",  # LiteLLM's own price map, not the one online
    )
    argv = [str(aider), "--model", f"openai/{MODEL}", "--edit-format", "diff", "--yes-always", "--no-git"]
    argv += ["--no-check-update", "--no-show-release-notes", "--analytics-disable", "--no-auto-commits"]
    argv += ["--no-pretty", "--map-tokens", "0", "--message", "Make notes.txt greet the gateway", "notes.txt"]
    done = run(argv, env, work)
    assert done.returncode == 0, done.explain()
    assert "Applied edit to notes.txt" in done.stdout, done.explain()
    assert notes.read_text() == "hello gateway\n"
    assert upstream.script_state() == {"pending": [], "served": 1}
    assert done.connects == [], done.connects
    sent = upstream.last_run()
    assert sent["stream"] is True and "hello world" in json.dumps(sent["messages"])  # the file went to the model
