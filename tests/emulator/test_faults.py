"""Fault injection over /__emulator/faults: every kind, consumption and clearing."""

from __future__ import annotations

import http.client
import time

import orjson
import pytest

from tests.emulator.conftest import Emulator
from tests.emulator.test_text import user

LLAMA = "@cf/meta/llama-3.1-8b-instruct-fast"
STREAM = {**user("Repeat after me: a b c d e"), "stream": True}


def test_status_and_code_fault_is_consumed(emu: Emulator) -> None:
    emu.fault(model=LLAMA, code=4006, times=2)
    for _ in range(2):
        reply = emu.run(LLAMA, user("x"))
        assert reply.status == 429
        body = reply.json()
        assert body["result"] == {} and body["errors"][0]["code"] == 4006
        assert body["errors"][0]["message"].startswith("AiError: AiError: you have used up your daily free allocation")
    assert emu.run(LLAMA, user("x")).status == 200


def test_fault_matches_only_its_model_unless_wildcard(emu: Emulator) -> None:
    emu.fault(model="@cf/qwen/qwq-32b", status=503, code=3040, message="busy")
    assert emu.run(LLAMA, user("x")).status == 200
    busy = emu.run("@cf/qwen/qwq-32b", user("x"))
    assert busy.status == 503 and busy.json()["errors"] == [{"message": "busy", "code": 3040}]
    emu.fault(model="*", status=429)
    capacity = emu.run("@cf/baai/bge-m3", {"text": "x"})
    assert capacity.status == 429 and capacity.json()["errors"][0]["code"] == 3040


def test_success_false_200_result_null_and_no_code(emu: Emulator) -> None:
    emu.fault(code=3040, success_false_200=True, result_null=True, no_code=True)
    reply = emu.run(LLAMA, user("x"))
    assert reply.status == 200
    body = reply.json()
    assert body["success"] is False and body["result"] is None
    assert list(body["errors"][0]) == ["message"]


def test_non_json_fault_answers_cloudflare_html(emu: Emulator) -> None:
    emu.fault(non_json=True)
    reply = emu.run(LLAMA, user("x"))
    assert reply.status == 502
    assert reply.headers["content-type"].startswith("text/html")
    assert b"502 Bad Gateway" in reply.body and b"cloudflare" in reply.body


def test_latency_fault_delays_a_successful_answer(emu: Emulator) -> None:
    emu.fault(latency_ms=300)
    started = time.monotonic()
    reply = emu.run(LLAMA, user("x"))
    assert time.monotonic() - started >= 0.3
    assert reply.status == 200
    assert emu.request("GET", "/__emulator/faults").json() == [], "the fault was used up"


def test_cut_stream_drops_connection_without_done(emu: Emulator) -> None:
    emu.fault(cut_stream_after=2)
    connection = emu.connect()
    try:
        connection.request("POST", f"/client/v4/accounts/x/ai/run/{LLAMA}", body=orjson.dumps(STREAM))
        response = connection.getresponse()
        assert response.status == 200
        with pytest.raises(http.client.IncompleteRead) as info:
            response.read()
    finally:
        connection.close()
    partial = info.value.partial.decode()
    assert partial.count("data: ") == 2 and "[DONE]" not in partial


def test_malformed_event_is_inserted_and_stream_continues(emu: Emulator) -> None:
    emu.fault(malformed_event_after=1)
    events = emu.run(LLAMA, STREAM).events()
    assert events[1] == "{not json"
    assert orjson.loads(events[0])["response"] == "a" and orjson.loads(events[2])["response"] == " b"
    assert events[-1] == "[DONE]"


def test_chunk_delay_spreads_events(emu: Emulator) -> None:
    emu.fault(chunk_delay_ms=60)
    started = time.monotonic()
    events = emu.run(LLAMA, STREAM).events()
    # 5 tokens + empty + usage + [DONE] = 8 events, 7 gaps.
    assert len(events) == 8 and time.monotonic() - started >= 7 * 0.06


def test_faults_queue_in_order_and_clear(emu: Emulator) -> None:
    emu.fault(code=3040)
    emu.fault(code=4006)
    assert [fault["code"] for fault in emu.request("GET", "/__emulator/faults").json()] == [3040, 4006]
    assert emu.run(LLAMA, user("x")).json()["errors"][0]["code"] == 3040
    emu.request("DELETE", "/__emulator/faults")
    assert emu.run(LLAMA, user("x")).status == 200


def test_bad_fault_spec_is_rejected(emu: Emulator) -> None:
    reply = emu.request("POST", "/__emulator/faults", json={"model": LLAMA, "stauts": 500})
    assert reply.status == 400 and "stauts" in reply.json()["error"]
    assert emu.request("POST", "/__emulator/faults", json={"times": 0}).status == 400


@pytest.mark.parametrize("at", [0, 3])
def test_chunk_delay_at_makes_one_silence_before_that_event(emu: Emulator, at: int) -> None:
    emu.fault(chunk_delay_ms=600, chunk_delay_at=at)
    conn = emu.connect()
    headers = {**emu.default_headers, "Content-Type": "application/json"}
    conn.request("POST", f"/client/v4/accounts/{emu.account}/ai/run/{LLAMA}", orjson.dumps(STREAM), headers)
    response = conn.getresponse()
    started = time.monotonic()
    arrivals: list[float] = []
    while chunk := response.read1(65536):  # each event is written on its own, as it is sent
        arrivals += [time.monotonic() - started] * chunk.count(b"data: ")
    conn.close()
    gaps = [later - earlier for earlier, later in zip([0.0, *arrivals], arrivals, strict=False)]
    assert len(arrivals) == 8 and gaps[at] >= 0.55, gaps
    assert all(gap < 0.3 for index, gap in enumerate(gaps) if index != at), gaps
