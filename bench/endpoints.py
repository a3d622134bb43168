"""The two sides every figure is measured on: straight to the fake upstream, and through the gateway.

Both send the same conversation; "direct" speaks Workers AI (the body the gateway itself sends
upstream), "gateway" speaks OpenAI.
"""

from __future__ import annotations

from dataclasses import dataclass

import orjson

from bench.drivers import Request
from bench.stream_client import StreamRequest, TextOf, openai_text, workers_ai_text

ACCOUNT = "bench"
UPSTREAM_TOKEN = "bench-token"
GATEWAY_KEY = "bench-key"
CHAT_MODEL = "@cf/meta/llama-3.1-8b-instruct-fast"
EMBED_MODEL = "@cf/baai/bge-small-en-v1.5"
MESSAGES = [{"role": "user", "content": "Hello"}]


def run_path(model: str) -> str:
    return f"/client/v4/accounts/{ACCOUNT}/ai/run/{model}"


def embedding_inputs(count: int) -> list[str]:
    return [f"benchmark sentence number {i} for the embedding fan-out" for i in range(count)]


@dataclass(frozen=True)
class Endpoint:
    """How one side is addressed: port, paths, bodies, auth, and how to read text from its stream."""

    name: str
    port: int
    chat_path: str
    chat_body: bytes
    stream_body: bytes
    embed_path: str
    token: str
    text_of: TextOf

    @property
    def headers(self) -> tuple[tuple[str, str], ...]:
        return (("Content-Type", "application/json"), ("Authorization", f"Bearer {self.token}"))

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def chat(self) -> Request:
        return Request(self.port, self.chat_path, self.chat_body, self.headers)

    def stream(self) -> Request:
        return Request(self.port, self.chat_path, self.stream_body, self.headers)

    def stream_request(self) -> StreamRequest:
        return StreamRequest(self.base_url + self.chat_path, self.stream_body, dict(self.headers), self.text_of)

    def embed_body(self, inputs: list[str]) -> bytes:
        if self.name == "direct":
            return orjson.dumps({"text": inputs})
        return orjson.dumps({"model": EMBED_MODEL, "input": inputs})


def direct(port: int) -> Endpoint:
    body = {"messages": MESSAGES, "max_tokens": 256}
    return Endpoint(
        name="direct",
        port=port,
        chat_path=run_path(CHAT_MODEL),
        chat_body=orjson.dumps(body),
        stream_body=orjson.dumps({**body, "stream": True}),
        embed_path=run_path(EMBED_MODEL),
        token=UPSTREAM_TOKEN,
        text_of=workers_ai_text,
    )


def gateway(port: int) -> Endpoint:
    body = {"model": CHAT_MODEL, "messages": MESSAGES}
    return Endpoint(
        name="gateway",
        port=port,
        chat_path="/v1/chat/completions",
        chat_body=orjson.dumps(body),
        stream_body=orjson.dumps({**body, "stream": True}),
        embed_path="/v1/embeddings",
        token=GATEWAY_KEY,
        text_of=openai_text,
    )
