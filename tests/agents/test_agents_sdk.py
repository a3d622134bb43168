"""The OpenAI Agents SDK (`openai-agents`) with a function tool, on Chat Completions and on Responses.

Each recipe below is docs/agents.md's, run as a user runs it (its own process, a throwaway HOME, under strace):
tracing off, so nothing is sent to OpenAI, and the model given as a model object, so the SDK does not read
`@cf/` as a provider prefix (`UserError: Unknown prefix: @cf`).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.agents.agents import home_env, require_strace, run, tool_sessions, tool_traffic
from tests.conftest import TEST_KEY
from tests.servers import Emulator

pytestmark = pytest.mark.agents
pytest.importorskip("agents", reason="openai-agents is a dev dependency: `make install`")

RECIPE = '''
from agents import Agent, OpenAI{kind}Model, Runner, function_tool, set_tracing_disabled
from openai import AsyncOpenAI

set_tracing_disabled(True)  # else the SDK sends traces to OpenAI, with the key it was given
client = AsyncOpenAI(base_url="{base_url}/v1", api_key="{key}")


@function_tool
def get_weather(city: str) -> str:
    """The weather in a city."""
    return f"Sunny and 21C in {{city}}"


agent = Agent(
    name="helper",
    instructions="Answer with the weather tool.",
    model=OpenAI{kind}Model(model="{model}", openai_client=client),
    tools=[get_weather],
)
print(Runner.run_sync(agent, "What is the weather in Paris?").final_output)
'''


@pytest.mark.parametrize(
    ("kind", "model"),
    [("ChatCompletions", "@cf/meta/llama-4-scout-17b-16e-instruct"), ("Responses", "@cf/openai/gpt-oss-120b")],
)
def test_agent_calls_a_function_tool_and_answers(
    tmp_path: Path, gateway_url: str, upstream: Emulator, kind: str, model: str
) -> None:
    require_strace()
    upstream.script(
        {"model": model, "tool_calls": [{"name": "get_weather", "arguments": {"city": "Paris"}}]},
        {"model": model, "text": "It is sunny in Paris."},
    )
    script = tmp_path / "recipe.py"
    script.write_text(RECIPE.format(kind=kind, base_url=gateway_url, key=TEST_KEY, model=model))
    done = run([sys.executable, str(script)], home_env(tmp_path / "home"), tmp_path)
    assert done.returncode == 0, done.explain()
    assert done.stdout.strip() == "It is sunny in Paris."
    assert done.connects == [], done.connects
    calls, results = tool_traffic(tool_sessions(upstream, model)[-1])
    assert calls == ["get_weather"] and results == ["Sunny and 21C in Paris"]  # the tool ran, its result went back
