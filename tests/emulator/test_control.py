"""The request log and the independence of two emulators in one process."""

from __future__ import annotations

from app.emulator import create_emulator
from tests.emulator.conftest import Emulator
from tests.emulator.test_text import user

LLAMA = "@cf/meta/llama-3.1-8b-instruct-fast"


def test_request_log_records_what_reached_the_upstream(emu: Emulator) -> None:
    emu.run(LLAMA, {**user("hi"), "max_tokens": 7}, headers={"Authorization": "Bearer abc"})
    emu.run("@cf/openai/whisper", data=b"RIFF....", headers={"Content-Type": "audio/wav"})
    emu.ai("GET", "models/search?task=Translation")
    emu.request("GET", "/__emulator/health")  # control routes are not logged
    log = emu.request("GET", "/__emulator/requests").json()
    assert len(log) == 3
    chat, audio, search = log
    assert chat["method"] == "POST" and chat["path"] == f"/client/v4/accounts/acc123/ai/run/{LLAMA}"
    assert chat["body_json"] == {"messages": [{"role": "user", "content": "hi"}], "max_tokens": 7}
    assert chat["headers"]["authorization"] == "Bearer abc"
    assert chat["content_type"] == "application/json"
    assert audio["body_json"] is None and audio["body_size"] == 8 and audio["content_type"] == "audio/wav"
    assert search["query"] == {"task": "Translation"}
    emu.request("DELETE", "/__emulator/requests")
    assert emu.request("GET", "/__emulator/requests").json() == []


def test_request_log_keeps_the_last_100(emu: Emulator) -> None:
    for index in range(105):
        emu.ai("GET", f"tasks/search?n={index}")
    log = emu.request("GET", "/__emulator/requests").json()
    assert len(log) == 100 and log[0]["query"] == {"n": "5"} and log[-1]["query"] == {"n": "104"}


def test_two_emulators_keep_separate_state() -> None:
    first, second = create_emulator(), create_emulator(token="t")
    assert first.state.emulator is not second.state.emulator
    assert first.state.emulator.faults is not second.state.emulator.faults
    assert first.state.emulator.token is None and second.state.emulator.token == "t"


def test_faults_do_not_leak_between_emulators(emu: Emulator, locked: Emulator) -> None:
    emu.fault(code=3040)
    assert locked.request("GET", "/__emulator/faults").json() == []
    assert emu.request("GET", "/__emulator/faults").json()[0]["code"] == 3040
