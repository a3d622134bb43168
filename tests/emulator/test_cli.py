"""`python -m app.emulator` serves the emulator with the options it is given."""

from __future__ import annotations

import http.client
import socket
import subprocess
import sys
import time

import orjson


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _get(port: int, path: str, headers: dict[str, str]) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def test_module_cli_serves_with_token() -> None:
    port = _free_port()
    command = [sys.executable, "-m", "app.emulator", "--port", str(port), "--token", "T", "--account-id", "A"]
    with subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) as process:
        try:
            deadline = time.monotonic() + 15
            while True:
                try:
                    status, body = _get(port, "/__emulator/health", {})
                    break
                except OSError:
                    assert time.monotonic() < deadline, "the CLI did not start"
                    time.sleep(0.05)
            assert (status, orjson.loads(body)) == (200, {"status": "ok"})
            assert _get(port, "/client/v4/accounts/A/ai/tasks/search", {})[0] == 401
            ok, _ = _get(port, "/client/v4/accounts/A/ai/tasks/search", {"Authorization": "Bearer T"})
            assert ok == 200
            wrong, _ = _get(port, "/client/v4/accounts/B/ai/models/search", {"Authorization": "Bearer T"})
            assert wrong == 404
        finally:
            process.terminate()
            process.wait(10)
