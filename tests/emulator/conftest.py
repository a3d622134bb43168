"""Emulators on loopback ports (uvicorn in a thread) and a tiny http.client helper for the tests."""

from __future__ import annotations

import http.client
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson
import pytest
import uvicorn

from app.emulator import create_emulator

TOKEN = "test-token"
ACCOUNT = "acc123"


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return orjson.loads(self.body)

    def events(self) -> list[str]:
        """The `data:` payloads of an SSE body, in order."""
        text = self.body.decode()
        assert text.endswith("\n\n"), "every event must end with a blank line"
        return [block.removeprefix("data: ") for block in text.strip("\n").split("\n\n")]


@dataclass
class Emulator:
    host: str
    port: int
    account: str = ACCOUNT
    default_headers: dict[str, str] = field(default_factory=dict)

    def connect(self, timeout: float = 10) -> http.client.HTTPConnection:
        return http.client.HTTPConnection(self.host, self.port, timeout=timeout)

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        data: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        all_headers = {**self.default_headers, **(headers or {})}
        if json is not None:
            data = orjson.dumps(json)
            all_headers.setdefault("Content-Type", "application/json")
        connection = self.connect()
        try:
            connection.request(method, path, body=data, headers=all_headers)
            response = connection.getresponse()
            body = response.read()
            return Reply(response.status, {k.lower(): v for k, v in response.getheaders()}, body)
        finally:
            connection.close()

    def run(self, model: str, json: Any = None, **kwargs: Any) -> Reply:
        return self.request("POST", f"/client/v4/accounts/{self.account}/ai/run/{model}", json=json, **kwargs)

    def ai(self, method: str, rest: str, **kwargs: Any) -> Reply:
        return self.request(method, f"/client/v4/accounts/{self.account}/ai/{rest}", **kwargs)

    def fault(self, **spec: Any) -> None:
        reply = self.request("POST", "/__emulator/faults", json=spec)
        assert reply.status == 201, reply.body

    def reset(self) -> None:
        self.request("DELETE", "/__emulator/faults")
        self.request("DELETE", "/__emulator/requests")
        self.request("DELETE", "/__emulator/script")

    def script(self, *replies: dict[str, Any]) -> None:
        reply = self.request("POST", "/__emulator/script", json=list(replies))
        assert reply.status == 201, reply.body


@dataclass
class _Server:
    server: uvicorn.Server
    thread: threading.Thread
    sock: socket.socket


def _start(**options: Any) -> _Server:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(create_emulator(**options), log_level="critical", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "emulator did not start"
        time.sleep(0.01)
    return _Server(server, thread, sock)


def _stop(running: _Server) -> None:
    running.server.should_exit = True
    running.thread.join(10)
    running.sock.close()


def _serve(**options: Any) -> Iterator[Emulator]:
    running = _start(**options)
    try:
        yield Emulator("127.0.0.1", running.sock.getsockname()[1])
    finally:
        _stop(running)


@pytest.fixture(scope="session")
def _open_emulator() -> Iterator[Emulator]:
    yield from _serve()


@pytest.fixture(scope="session")
def _locked_emulator() -> Iterator[Emulator]:
    yield from _serve(token=TOKEN, account_id=ACCOUNT)


@pytest.fixture
def emu(_open_emulator: Emulator) -> Emulator:
    """An emulator that accepts any token and account, with no faults queued and an empty request log."""
    _open_emulator.reset()
    return _open_emulator


@pytest.fixture
def locked(_locked_emulator: Emulator) -> Emulator:
    """An emulator that requires TOKEN and ACCOUNT."""
    _locked_emulator.reset()
    return _locked_emulator
