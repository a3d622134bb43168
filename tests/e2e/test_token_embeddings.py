"""Embeddings from token ids: LangChain's OpenAIEmbeddings with its defaults (it tokenises with tiktoken's
cl100k_base and sends `input` as lists of ids), against a gateway that cannot reach the internet."""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

import pytest
from langchain_openai import ChatOpenAI, OpenAIEmbeddings

from tests.conftest import TEST_KEY
from tests.http import call
from tests.servers import Emulator, free_port, gateway, managed_env

AUTH = {"Authorization": f"Bearer {TEST_KEY}"}
CL100K_URL = "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken"


@pytest.fixture(scope="module")
def offline_gateway(upstream: Emulator) -> Iterator[str]:
    """A gateway whose tiktoken could only download through a dead proxy, with no cache to fall back on
    (TIKTOKEN_CACHE_DIR empty: tiktoken's cache is off)."""
    dead = f"http://127.0.0.1:{free_port()}"
    env = managed_env(upstream.api_base, TIKTOKEN_CACHE_DIR="", HTTPS_PROXY=dead, https_proxy=dead)
    with gateway(env) as (url, _):
        yield url


@pytest.fixture
def client_tiktoken(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """LangChain's own tiktoken (in this process) would download cl100k_base: give it the packaged file in
    its cache, under the key tiktoken looks it up by, so the test too runs without the internet."""
    packaged = resources.files("tiktoken_ext") / "data" / "cl100k_base.tiktoken"
    with resources.as_file(packaged) as source:
        shutil.copy(source, tmp_path / hashlib.sha1(CL100K_URL.encode()).hexdigest())
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path))


@pytest.mark.usefixtures("client_tiktoken")
def test_langchain_embeddings_reach_workers_ai_as_text(offline_gateway: str, upstream: Emulator) -> None:
    embeddings = OpenAIEmbeddings(base_url=f"{offline_gateway}/v1", api_key=TEST_KEY, max_retries=0)  # type: ignore[arg-type]
    texts = ["a cat", "a dog sat on the mat", "ünïcödé and emoji 🐈"]
    vectors = embeddings.embed_documents(texts)
    assert len(vectors) == 3 and all(len(v) == 1024 for v in vectors)  # text-embedding-ada-002 -> bge-m3
    sent = [text for r in upstream.requests() if "/ai/run/" in r["path"] for text in r["body_json"]["text"]]
    assert sent == texts
    query = embeddings.embed_query("a cat")
    assert query == pytest.approx(vectors[0], rel=1e-5)


def test_token_ids_decode_to_the_same_vector_as_text(offline_gateway: str, upstream: Emulator) -> None:
    model = "@cf/baai/bge-small-en-v1.5"
    by_ids = call("POST", f"{offline_gateway}/v1/embeddings", {"model": model, "input": [64, 8415]}, AUTH)
    by_text = call("POST", f"{offline_gateway}/v1/embeddings", {"model": model, "input": "a cat"}, AUTH)
    assert by_ids.status == 200 and by_ids.json()["data"][0]["embedding"] == by_text.json()["data"][0]["embedding"]
    assert upstream.requests()[0]["body_json"]["text"] == ["a cat"]
    assert by_ids.json()["usage"]["prompt_tokens"] > 0


@pytest.mark.parametrize(
    "value",
    [[100256], [[64, 8415], [100300]], [-1], [[]], [2**31], [[1], "text"]],
    ids=["unused-id", "past-the-end", "negative", "empty-list", "huge", "mixed"],
)
def test_bad_token_ids_are_a_400_naming_input(offline_gateway: str, upstream: Emulator, value: object) -> None:
    body = {"model": "@cf/baai/bge-small-en-v1.5", "input": value}
    answer = call("POST", f"{offline_gateway}/v1/embeddings", body, AUTH)
    assert answer.status == 400 and (answer.error["param"] or "").startswith("input"), answer.body
    assert upstream.requests() == []


def test_langchain_chat_openai_with_its_defaults(gateway_url: str, upstream: Emulator) -> None:
    llm = ChatOpenAI(base_url=f"{gateway_url}/v1", api_key=TEST_KEY, model="gpt-4o-mini", max_retries=0)  # type: ignore[arg-type]
    answer = llm.invoke("Hi from LangChain")
    assert (
        answer.content
        == "Hello from the Workers AI emulator (@cf/meta/llama-3.1-8b-instruct-fp8-fast). You said: Hi from LangChain"
    )
    assert "".join(str(chunk.content) for chunk in llm.stream("Streamed")).endswith("You said: Streamed")
    assert upstream.last_run()["stream"] is True
