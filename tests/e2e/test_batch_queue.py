"""Workers AI's own batch queue (`?queueRequest=true`) behind OpenAI's Batch API, through the official `openai`
client against the gateway (a real process) on the emulator: a bge batch goes upstream in a few submits and
polls, not a call a line, and answers exactly as the line-by-line path does; a model the queue does not take
runs line by line; a restart with requests queued polls them again and submits nothing twice; a refused
submit lands in the error file; BATCH_UPSTREAM_QUEUE=off keeps the gateway's own queue."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path
from typing import Any

import openai

from tests.conftest import TEST_KEY
from tests.e2e.test_batches import EMBED, batch_gateway, chat_line, embedding_line, results, start, wait_for
from tests.http import call
from tests.servers import Emulator, gateway, gateway_process, managed_env

QUEUE = {"BATCH_POLL_SECONDS": "0.2", "BATCH_UPSTREAM_QUEUE": "auto"}
NOT_QUEUED = "@cf/google/embeddinggemma-300m"  # an embedding model the queue's docs do not list


def runs(upstream: Emulator) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The run calls the emulator saw (its last 100): those on the queue, and the others."""
    calls = [r for r in upstream.requests() if "/ai/run/" in r["path"]]
    queued = [r for r in calls if r["query"].get("queueRequest") == "true"]
    return queued, [r for r in calls if r not in queued]


def test_a_bge_batch_runs_on_workers_ai_s_queue_and_answers_as_the_line_path(upstream: Emulator) -> None:
    upstream.queue(seconds=0.5)
    lines = [embedding_line(i) for i in range(1000)]
    lines[7]["body"]["encoding_format"] = "base64"
    with batch_gateway(upstream, BATCH_QUEUE_CHUNK_LINES="300", **QUEUE) as (client, url, _):
        batch = wait_for(client, start(client, lines).id)
        out, errors = results(client, batch.output_file_id), results(client, batch.error_file_id)
        counts = upstream.queue()
        queued, direct = runs(upstream)
        interactive = client.embeddings.with_raw_response.create(model=EMBED, input="text 3", encoding_format="float")
        status = call("GET", f"{url}/status.json", headers={"Authorization": f"Bearer {TEST_KEY}"}).json()
    assert batch.status == "completed" and errors == []
    assert batch.request_counts is not None and (batch.request_counts.completed, batch.request_counts.failed) == (
        1000,
        0,
    )
    assert counts["submits"] == 4  # 1000 lines in chunks of 300
    assert 4 <= counts["polls"] < 200  # a few polls each, never one call a line
    assert queued and not direct  # nothing went upstream line by line
    submitted = [r["body_json"] for r in queued if "requests" in r["body_json"]]
    assert [len(body["requests"]) for body in submitted] == [300, 300, 300, 100]
    by_id = {line["custom_id"]: line for line in out}
    assert sorted(by_id) == sorted(f"emb-{i}" for i in range(1000))
    line = by_id["emb-3"]
    assert line["id"].startswith("batch_req_") and line["error"] is None
    assert line["response"]["status_code"] == 200 and line["response"]["request_id"]
    assert line["response"]["body"] == interactive.http_response.json()  # the interactive route's very answer
    assert isinstance(by_id["emb-7"]["response"]["body"]["data"][0]["embedding"], str)  # base64, as asked
    assert batch.usage is not None and batch.usage.input_tokens == sum(
        line["response"]["body"]["usage"]["prompt_tokens"] for line in out
    )
    assert status["accounts"][0]["neurons_used"] > 0  # the queue's results are counted like any call


def test_an_embedding_model_the_queue_does_not_take_runs_line_by_line(upstream: Emulator) -> None:
    lines = [embedding_line(i, model=NOT_QUEUED) for i in range(5)]
    with batch_gateway(upstream, **QUEUE) as (client, _, _):
        batch = wait_for(client, start(client, lines).id)
        out = results(client, batch.output_file_id)
    queued, direct = runs(upstream)
    assert batch.status == "completed" and len(out) == 5
    assert upstream.queue()["submits"] == 0 and not queued
    assert sorted(text for r in direct for text in r["body_json"]["text"]) == [f"text {i}" for i in range(5)]


def test_with_the_queue_off_a_bge_batch_runs_line_by_line(upstream: Emulator) -> None:
    with batch_gateway(upstream, BATCH_UPSTREAM_QUEUE="off") as (client, _, _):
        batch = wait_for(client, start(client, [embedding_line(i) for i in range(5)]).id)
    queued, direct = runs(upstream)
    assert batch.status == "completed" and batch.request_counts is not None and batch.request_counts.completed == 5
    counts = upstream.queue()
    assert (counts["submits"], counts["polls"]) == (0, 0)
    assert not queued and len(direct) == 5


def test_a_restart_with_requests_queued_polls_them_again_and_submits_nothing_twice(
    upstream: Emulator, tmp_path: Path
) -> None:
    upstream.queue(seconds=4.0)  # long enough to kill the gateway while every chunk waits in the queue
    env = managed_env(upstream.api_base, DATA_DIR=str(tmp_path), BATCH_QUEUE_CHUNK_LINES="10", **QUEUE)
    with gateway_process(env) as (url, process, _):
        with openai.OpenAI(base_url=f"{url}/v1", api_key=TEST_KEY, max_retries=0) as client:
            batch = start(client, [embedding_line(i) for i in range(30)])
            journal = tmp_path / "batches" / "runs" / f"{batch.id}.log"
            deadline = time.monotonic() + 30
            while not (journal.exists() and journal.read_text().count('"q":') == 3):  # each request id kept
                assert time.monotonic() < deadline, "the three chunks were not queued"
                time.sleep(0.05)
            pending = client.batches.retrieve(batch.id)
        process.kill()
        process.wait(30)
    before = upstream.queue()
    with gateway(env) as (url, _):
        with openai.OpenAI(base_url=f"{url}/v1", api_key=TEST_KEY, max_retries=0) as client:
            ended = wait_for(client, batch.id)
            out, errors = results(client, ended.output_file_id), results(client, ended.error_file_id)
    after = upstream.queue()
    assert pending.status == "in_progress" and pending.request_counts is not None
    assert pending.request_counts.completed == 0
    assert before["submits"] == after["submits"] == 3  # polled again after the restart, never submitted again
    assert after["polls"] > before["polls"]
    assert ended.status == "completed" and errors == []
    assert Counter(line["custom_id"] for line in out) == Counter(f"emb-{i}" for i in range(30))


def test_a_submit_the_queue_refuses_puts_its_lines_in_the_error_file_and_a_429_waits(upstream: Emulator) -> None:
    upstream.queue(seconds=0.2)
    upstream.fault(model=EMBED, status=429, times=1)  # the first submit: tried again later
    upstream.fault(model=EMBED, status=400, message="AiError: Bad input: Error: refused", times=1)  # the second
    with batch_gateway(upstream, BATCH_QUEUE_CHUNK_LINES="2", **QUEUE) as (client, _, _):
        batch = wait_for(client, start(client, [embedding_line(i) for i in range(4)]).id)
        out, errors = results(client, batch.output_file_id), results(client, batch.error_file_id)
    assert batch.status == "completed" and batch.request_counts is not None
    assert (batch.request_counts.completed, batch.request_counts.failed) == (2, 2)
    assert sorted(line["custom_id"] for line in errors) == ["emb-0", "emb-1"]
    refused = errors[0]["response"]
    assert refused["status_code"] == 400 and "refused" in refused["body"]["error"]["message"]
    assert sorted(line["custom_id"] for line in out) == ["emb-2", "emb-3"]
    assert upstream.queue()["submits"] == 1  # only the accepted submit was queued


LLAMA_QUEUED = "@cf/meta/llama-3.3-70b-instruct-fp8-fast"


def test_a_chat_batch_on_llama_3_3_runs_on_the_queue_and_a_line_the_route_refuses_runs_alone(
    upstream: Emulator,
) -> None:
    upstream.queue(seconds=0.3)
    lines = [chat_line(i) for i in range(20)] + [chat_line(20, max_tokens=-1)]
    for line in lines:
        line["body"]["model"] = LLAMA_QUEUED
    with batch_gateway(upstream, **QUEUE) as (client, _, _):
        batch = wait_for(client, start(client, lines, "/v1/chat/completions").id)
        out, errors = results(client, batch.output_file_id), results(client, batch.error_file_id)
        interactive = client.chat.completions.with_raw_response.create(
            model=LLAMA_QUEUED, messages=[{"role": "user", "content": "Say hello 4"}]
        ).http_response.json()
    queued, direct = runs(upstream)
    assert batch.status == "completed" and batch.request_counts is not None
    assert (batch.request_counts.completed, batch.request_counts.failed) == (20, 1)
    assert upstream.queue()["submits"] == 1
    assert [len(r["body_json"]["requests"]) for r in queued if "requests" in r["body_json"]] == [20]
    # Line by line: only the interactive check above (the refused line never left the gateway).
    assert [r["body_json"]["messages"] for r in direct] == [[{"role": "user", "content": "Say hello 4"}]]
    body = next(line for line in out if line["custom_id"] == "chat-4")["response"]["body"]
    assert set(body) == set(interactive) and body["object"] == "chat.completion"
    assert body["choices"][0]["message"] == interactive["choices"][0]["message"]
    assert body["usage"] == interactive["usage"] and isinstance(body["created"], int)
    [refused] = errors
    assert refused["custom_id"] == "chat-20" and refused["response"]["status_code"] == 400
    assert refused["response"]["body"]["error"]["param"] == "max_tokens"


def test_a_small_daily_share_stops_queue_submits_until_the_reset(upstream: Emulator) -> None:
    """The queue's results are counted as they come back; past the share no chunk is submitted."""
    upstream.queue(seconds=0.2)
    settings = {"ACCOUNT_DAILY_NEURONS": "1", "BATCH_DAILY_NEURON_SHARE": "0.00001", "BATCH_CONCURRENCY": "1"}
    with batch_gateway(upstream, BATCH_QUEUE_CHUNK_LINES="5", **QUEUE, **settings) as (client, _, _):
        batch = start(client, [embedding_line(i) for i in range(20)])
        waiting = wait_for(client, batch.id, lambda b: b.model_extra.get("waiting_for") == "daily_neuron_share")
        time.sleep(1.0)  # several looks later, still where it stopped
        later = client.batches.retrieve(batch.id)
    assert waiting.status == later.status == "in_progress" and later.request_counts is not None
    assert later.request_counts.completed == 5  # the first chunk, then the share was used
    assert upstream.queue()["submits"] == 1


def test_a_cancel_lets_the_queued_chunk_finish_and_submits_no_more(upstream: Emulator) -> None:
    upstream.queue(seconds=1.5)
    with batch_gateway(upstream, BATCH_QUEUE_CHUNK_LINES="5", BATCH_CONCURRENCY="1", **QUEUE) as (client, _, _):
        batch = start(client, [embedding_line(i) for i in range(20)])
        deadline = time.monotonic() + 30
        while upstream.queue()["submits"] < 1:
            assert time.monotonic() < deadline, "nothing was queued"
            time.sleep(0.05)
        assert client.batches.cancel(batch.id).status == "cancelling"
        ended = wait_for(client, batch.id)
        out, errors = results(client, ended.output_file_id), results(client, ended.error_file_id)
    assert ended.status == "cancelled" and ended.request_counts is not None
    assert ended.request_counts.completed == len(out) == 5  # the chunk already queued was read back
    assert {line["error"]["code"] for line in errors} == {"batch_cancelled"} and len(errors) == 15
    assert upstream.queue()["submits"] == 1


def test_a_poll_that_fails_for_now_is_asked_again(upstream: Emulator) -> None:
    upstream.queue(seconds=1.0)
    with batch_gateway(upstream, **QUEUE) as (client, _, _):
        batch = start(client, [embedding_line(i) for i in range(3)])
        deadline = time.monotonic() + 30
        while upstream.queue()["submits"] < 1:
            assert time.monotonic() < deadline, "nothing was queued"
            time.sleep(0.05)
        upstream.fault(model=EMBED, status=503, times=2)  # the next two polls
        upstream.fault(model=EMBED, status=429, times=1)  # and the one after
        ended = wait_for(client, batch.id)
        out, errors = results(client, ended.output_file_id), results(client, ended.error_file_id)
    assert ended.status == "completed" and errors == [] and len(out) == 3
    assert upstream.queue()["submits"] == 1  # polled again, never submitted again
    assert faults_left(upstream) == []  # all three failed polls happened


def faults_left(upstream: Emulator) -> list[dict[str, Any]]:
    left: list[dict[str, Any]] = upstream._call("GET", "/__emulator/faults")
    return left
