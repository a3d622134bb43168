"""OpenAI's Batch API through the official `openai` client, against the gateway (a real process) on the
emulator: batches run to completion, cancelled midway, resumed after the gateway is killed, paced to a
share of the day's neurons; bad input files; one key's files and batches hidden from another."""

from __future__ import annotations

import io
import json
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import openai
import pytest
from openai.types import Batch

from tests.conftest import TEST_KEY
from tests.e2e.test_accounts import seconds_to_midnight
from tests.http import call
from tests.servers import Emulator, gateway, gateway_process, managed_env

EMBED = "@cf/baai/bge-small-en-v1.5"
LLAMA = "@cf/meta/llama-3.1-8b-instruct-fast"
FINAL = ("completed", "failed", "cancelled", "expired")
# A waiting batch looks again this often (30 s by default); these tests are of the gateway's own line-by-line
# queue, so Workers AI's queue (which takes the bge models, tests/e2e/test_batch_queue.py) is off.
FAST = {"BATCH_POLL_SECONDS": "0.2", "BATCH_UPSTREAM_QUEUE": "off"}


def embedding_line(i: int, model: str = EMBED, url: str = "/v1/embeddings") -> dict[str, Any]:
    return {"custom_id": f"emb-{i}", "method": "POST", "url": url, "body": {"model": model, "input": f"text {i}"}}


def chat_line(i: int, **extra: Any) -> dict[str, Any]:
    body = {"model": LLAMA, "messages": [{"role": "user", "content": f"Say hello {i}"}], **extra}
    return {"custom_id": f"chat-{i}", "method": "POST", "url": "/v1/chat/completions", "body": body}


def upload(client: openai.OpenAI, lines: list[dict[str, Any]] | bytes) -> str:
    data = lines if isinstance(lines, bytes) else "\n".join(json.dumps(line) for line in lines).encode()
    return client.files.create(file=("requests.jsonl", io.BytesIO(data)), purpose="batch").id


def create(client: openai.OpenAI, file_id: str, endpoint: str = "/v1/embeddings", **extra: Any) -> Batch:
    return client.batches.create(input_file_id=file_id, endpoint=endpoint, completion_window="24h", **extra)  # type: ignore[arg-type]


def start(client: openai.OpenAI, lines: list[dict[str, Any]] | bytes, endpoint: str = "/v1/embeddings") -> Batch:
    return create(client, upload(client, lines), endpoint)


def wait_for(client: openai.OpenAI, batch_id: str, until: Any = None, timeout: float = 60.0) -> Batch:
    """The batch once `until(batch)` holds (by default: once it has ended)."""
    until = until or (lambda batch: batch.status in FINAL)
    deadline = time.monotonic() + timeout
    while True:
        batch = client.batches.retrieve(batch_id)
        if until(batch):
            return batch
        assert time.monotonic() < deadline, f"batch still {batch.status}: {batch.request_counts}"
        time.sleep(0.1)


def results(client: openai.OpenAI, file_id: str | None) -> list[dict[str, Any]]:
    if file_id is None:
        return []
    return [json.loads(line) for line in client.files.content(file_id).text.splitlines()]


def run_texts(upstream: Emulator) -> Counter[str]:
    """How many times each embedding text reached the emulator (of its last 100 requests)."""
    runs = [r["body_json"] for r in upstream.requests() if "/ai/run/" in r["path"]]
    return Counter(text for body in runs for text in body.get("text", []))


@contextmanager
def batch_gateway(upstream: Emulator, **settings: str) -> Iterator[tuple[openai.OpenAI, str, Path]]:
    env = managed_env(upstream.api_base, **({"GATEWAY_API_KEYS": f"other-key,{TEST_KEY}"} | FAST | settings))
    with gateway(env) as (url, log):
        with openai.OpenAI(base_url=f"{url}/v1", api_key=TEST_KEY, max_retries=0) as client:
            yield client, url, log


def test_a_batch_of_1000_embedding_lines_runs_to_completion(upstream: Emulator) -> None:
    with batch_gateway(upstream, BATCH_CONCURRENCY="8") as (client, _, _):
        created = start(client, [embedding_line(i) for i in range(1000)])
        assert created.status == "validating" and created.request_counts is not None
        batch = wait_for(client, created.id)
        assert batch.status == "completed", batch.errors
        assert batch.request_counts is not None
        assert (batch.request_counts.total, batch.request_counts.completed, batch.request_counts.failed) == (
            1000,
            1000,
            0,
        )
        assert batch.error_file_id is None and batch.output_file_id is not None
        assert batch.model == EMBED
        for moment in (batch.created_at, batch.in_progress_at, batch.finalizing_at, batch.completed_at):
            assert isinstance(moment, int) and moment >= created.created_at
        out = results(client, batch.output_file_id)
        output_file = client.files.retrieve(batch.output_file_id)
        reached = run_texts(upstream)
    assert output_file.purpose == "batch_output" and output_file.bytes > 0
    assert sorted(line["custom_id"] for line in out) == sorted(f"emb-{i}" for i in range(1000))
    first = out[0]
    assert first["id"].startswith("batch_req_") and first["error"] is None
    assert first["response"]["status_code"] == 200 and first["response"]["request_id"]
    body = first["response"]["body"]
    assert body["object"] == "list" and body["model"] == EMBED and len(body["data"][0]["embedding"]) == 384
    assert isinstance(body["usage"]["prompt_tokens"], int)
    # What reached Workers AI: each line's own text, once (the emulator keeps its last 100 requests).
    assert reached and all(count == 1 for count in reached.values())
    assert set(reached) <= {f"text {i}" for i in range(1000)}


def test_a_batch_of_100_chat_lines_answers_each_and_puts_a_refused_line_in_the_error_file(
    upstream: Emulator,
) -> None:
    lines = [chat_line(i) for i in range(99)] + [chat_line(99, max_tokens=-1)]
    with batch_gateway(upstream) as (client, _, _):
        batch = wait_for(client, start(client, lines, "/v1/chat/completions").id)
        out, errors = results(client, batch.output_file_id), results(client, batch.error_file_id)
        interactive = client.chat.completions.with_raw_response.create(
            model=LLAMA, messages=[{"role": "user", "content": "Say hello 0"}]
        )
    assert batch.status == "completed" and batch.request_counts is not None
    assert (batch.request_counts.total, batch.request_counts.completed, batch.request_counts.failed) == (100, 99, 1)
    assert sorted(line["custom_id"] for line in out) == sorted(f"chat-{i}" for i in range(99))
    answer = out[0]["response"]["body"]
    assert answer["object"] == "chat.completion" and answer["choices"][0]["message"]["content"]
    assert isinstance(answer["usage"]["completion_tokens"], int) and isinstance(answer["created"], int)
    assert set(answer) == set(interactive.http_response.json())  # the interactive route's very shape
    assert batch.usage is not None
    assert batch.usage.input_tokens == sum(line["response"]["body"]["usage"]["prompt_tokens"] for line in out) > 0
    assert batch.usage.output_tokens == sum(line["response"]["body"]["usage"]["completion_tokens"] for line in out)
    assert batch.usage.total_tokens == batch.usage.input_tokens + batch.usage.output_tokens
    [refused] = errors
    assert refused["custom_id"] == "chat-99" and refused["response"]["status_code"] == 400
    assert refused["response"]["body"]["error"]["param"] == "max_tokens"


def test_a_batch_cancelled_midway_keeps_what_was_done_and_runs_nothing_more(upstream: Emulator) -> None:
    upstream.fault(model=EMBED, latency_ms=150, times=1000)
    with batch_gateway(upstream, BATCH_CONCURRENCY="2") as (client, _, _):
        batch = start(client, [embedding_line(i) for i in range(60)])
        wait_for(client, batch.id, lambda b: b.request_counts.completed >= 4)
        cancelling = client.batches.cancel(batch.id)
        assert cancelling.status == "cancelling" and isinstance(cancelling.cancelling_at, int)
        ended = wait_for(client, batch.id)
        time.sleep(0.5)  # nothing more leaves after `cancelled`
        reached = sum(run_texts(upstream).values())
        out, errors = results(client, ended.output_file_id), results(client, ended.error_file_id)
        with pytest.raises(openai.BadRequestError, match="only a batch still running"):
            client.batches.cancel(batch.id)
    assert ended.status == "cancelled" and isinstance(ended.cancelled_at, int)
    assert ended.request_counts is not None and 4 <= ended.request_counts.completed < 60
    assert len(out) == ended.request_counts.completed == reached
    assert {line["error"]["code"] for line in errors} == {"batch_cancelled"}
    assert sorted(line["custom_id"] for line in out + errors) == sorted(f"emb-{i}" for i in range(60))


@pytest.mark.parametrize("stop", ["kill", "terminate"])
def test_a_batch_resumes_after_a_restart_and_runs_no_line_twice(upstream: Emulator, tmp_path: Path, stop: str) -> None:
    """SIGKILL cuts the lines in flight: they are reported `batch_interrupted`, never sent again. SIGTERM lets
    them finish first: nothing is lost."""
    upstream.fault(model=EMBED, latency_ms=150, times=1000)
    env = managed_env(upstream.api_base, DATA_DIR=str(tmp_path), BATCH_CONCURRENCY="2", **FAST)
    with gateway_process(env) as (url, process, _):
        with openai.OpenAI(base_url=f"{url}/v1", api_key=TEST_KEY, max_retries=0) as client:
            batch = start(client, [embedding_line(i) for i in range(60)])
            before = wait_for(client, batch.id, lambda b: b.request_counts.completed >= 10)
        getattr(process, stop)()
        process.wait(30)
    with gateway(env) as (url, _):
        with openai.OpenAI(base_url=f"{url}/v1", api_key=TEST_KEY, max_retries=0) as client:
            ended = wait_for(client, batch.id)
            out, errors = results(client, ended.output_file_id), results(client, ended.error_file_id)
    reached = run_texts(upstream)
    assert ended.status == "completed" and ended.request_counts is not None
    assert before.request_counts is not None and ended.request_counts.completed > before.request_counts.completed
    ids = Counter(line["custom_id"] for line in out + errors)
    assert ids == Counter(f"emb-{i}" for i in range(60))  # each line exactly once, in one file or the other
    assert max(reached.values()) == 1  # and Workers AI saw none twice
    assert len(out) == ended.request_counts.completed
    if stop == "terminate":
        assert errors == []
    else:  # a line in flight at the kill may have run: it is reported, never sent again
        assert all(line["error"]["code"] == "batch_interrupted" for line in errors) and len(errors) <= 2


def test_a_batch_past_its_time_expires_with_what_it_did(upstream: Emulator) -> None:
    upstream.fault(model=EMBED, latency_ms=300, times=1000)
    with batch_gateway(upstream, BATCH_CONCURRENCY="1", BATCH_EXPIRE_SECONDS="2") as (client, _, _):
        batch = wait_for(client, start(client, [embedding_line(i) for i in range(30)]).id)
        out, errors = results(client, batch.output_file_id), results(client, batch.error_file_id)
    assert batch.status == "expired" and isinstance(batch.expired_at, int)
    assert batch.expired_at >= batch.created_at + 2
    assert batch.request_counts is not None and 1 <= batch.request_counts.completed == len(out) < 30
    assert {line["error"]["code"] for line in errors} == {"batch_expired"}
    assert len(out) + len(errors) == 30


def test_a_responses_batch_answers_as_the_responses_route(client: openai.OpenAI) -> None:
    lines = [
        {"custom_id": f"r-{i}", "method": "POST", "url": "/v1/responses", "body": {"model": LLAMA, "input": f"Hi {i}"}}
        for i in range(3)
    ]
    batch = wait_for(client, start(client, lines, "/v1/responses").id)
    out = results(client, batch.output_file_id)
    assert batch.status == "completed" and len(out) == 3
    body = out[0]["response"]["body"]
    assert body["object"] == "response" and body["status"] == "completed"
    message = next(item for item in body["output"] if item["type"] == "message")
    assert message["content"][0]["text"] and isinstance(body["usage"]["input_tokens"], int)
    assert batch.usage is not None
    assert batch.usage.input_tokens == sum(line["response"]["body"]["usage"]["input_tokens"] for line in out) > 0


def test_a_small_daily_share_stops_the_batch_until_the_reset_and_leaves_the_rest_to_users(
    upstream: Emulator,
) -> None:
    settings = {"ACCOUNT_DAILY_NEURONS": "2", "BATCH_DAILY_NEURON_SHARE": "0.5"}
    with batch_gateway(upstream, BATCH_CONCURRENCY="1", **settings) as (client, url, _):
        batch = start(client, [chat_line(i) for i in range(40)], "/v1/chat/completions")
        waiting = wait_for(client, batch.id, lambda b: b.waiting_for == "daily_neuron_share")
        time.sleep(1.0)  # several looks of the pacer later, still where it stopped
        later = client.batches.retrieve(batch.id)
        status = call("GET", f"{url}/status.json", headers={"Authorization": f"Bearer {TEST_KEY}"}).json()
        interactive = client.chat.completions.create(model=LLAMA, messages=[{"role": "user", "content": "Hi"}])
    assert waiting.status == later.status == "in_progress"
    assert waiting.request_counts is not None and later.request_counts is not None
    assert 1 <= later.request_counts.completed == waiting.request_counts.completed < 40
    assert abs(later.model_extra["waiting_until"] - (time.time() + seconds_to_midnight())) < 10  # type: ignore[index]
    used = status["accounts"][0]["neurons_used"]
    assert used >= 1.0  # the share (0.5 of 2) was reached: then the batch stopped
    assert interactive.choices[0].message.content  # the rest of the day is the users'


def test_lines_run_as_the_batch_s_key_within_its_daily_neurons(upstream: Emulator) -> None:
    """GATEWAY_KEY_NEURONS_PER_DAY of the key that made the batch applies to its lines, as to its own requests;
    another key is not held back."""
    with batch_gateway(upstream, BATCH_CONCURRENCY="1", GATEWAY_KEY_NEURONS_PER_DAY="0.5") as (client, url, _):
        batch = start(client, [chat_line(i) for i in range(20)], "/v1/chat/completions")
        waiting = wait_for(client, batch.id, lambda b: b.waiting_for == "daily_limit_exceeded")
        with pytest.raises(openai.RateLimitError):
            client.chat.completions.create(model=LLAMA, messages=[{"role": "user", "content": "Hi"}])
        with openai.OpenAI(base_url=f"{url}/v1", api_key="other-key", max_retries=0) as other:
            assert other.chat.completions.create(model=LLAMA, messages=[{"role": "user", "content": "Hi"}]).choices
    assert waiting.status == "in_progress" and waiting.request_counts is not None
    assert 1 <= waiting.request_counts.completed < 20 and waiting.request_counts.failed == 0  # a 429 waits


@pytest.mark.parametrize(
    ("lines", "code", "line"),
    [
        (json.dumps(embedding_line(0)).encode() + b"\n{not json", "invalid_json_line", 2),
        ([embedding_line(0), embedding_line(1, url="/v1/chat/completions")], "invalid_url", 2),
        ([embedding_line(0), embedding_line(0)], "duplicate_custom_id", 2),
        ([embedding_line(0), embedding_line(1, model="@cf/baai/bge-base-en-v1.5")], "mismatched_model", 2),
        ([{"custom_id": "x", "method": "GET", "url": "/v1/embeddings", "body": {"model": EMBED}}], "invalid_method", 1),
        (b"\n\n", "empty_file", None),
    ],
)
def test_a_bad_input_file_fails_the_batch_naming_the_line(
    client: openai.OpenAI, lines: Any, code: str, line: int | None
) -> None:
    batch = wait_for(client, start(client, lines).id)
    assert batch.status == "failed" and isinstance(batch.failed_at, int)
    assert batch.errors is not None and batch.errors.data
    assert (batch.errors.data[0].code, batch.errors.data[0].line) == (code, line)
    assert batch.output_file_id is None and batch.request_counts is not None and batch.request_counts.completed == 0


def test_uploads_and_batches_are_refused_clearly(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError, match="purpose `batch`") as caught:
        client.files.create(file=("x.jsonl", io.BytesIO(b"{}")), purpose="fine-tune")
    assert caught.value.body["param"] == "purpose"  # type: ignore[index]
    with pytest.raises(openai.NotFoundError):
        create(client, "file-000000000000000000000000")
    with pytest.raises(openai.BadRequestError):
        create(client, upload(client, [embedding_line(0)]), "/v1/moderations")
    base, auth = str(client.base_url).removesuffix("/v1/"), {"Authorization": f"Bearer {TEST_KEY}"}
    for path in ("/v1/files/..%2F..%2Fetc%2Fpasswd", "/v1/files/file-../content", "/v1/batches/batch_..%2Fx"):
        answer = call("GET", base + path, headers=auth)
        assert answer.status == 404 and answer.error["type"] == "invalid_request_error"


def test_files_and_batches_are_the_key_s_own(client: openai.OpenAI, gateway_url: str) -> None:
    file_id = upload(client, [embedding_line(0)])
    batch = wait_for(client, create(client, file_id, metadata={"job": "nightly"}).id)
    assert batch.status == "completed" and batch.output_file_id is not None
    assert batch.metadata == {"job": "nightly"}
    with openai.OpenAI(base_url=f"{gateway_url}/v1", api_key="other-key", max_retries=0) as other:
        for attempt in (
            lambda: other.files.retrieve(file_id),
            lambda: other.files.content(batch.output_file_id),  # type: ignore[arg-type]
            lambda: other.files.delete(file_id),
            lambda: other.batches.retrieve(batch.id),
            lambda: other.batches.cancel(batch.id),
            lambda: create(other, file_id),
        ):
            with pytest.raises(openai.NotFoundError):
                attempt()
        assert batch.id not in [b.id for b in other.batches.list()]
        assert file_id not in [f.id for f in other.files.list()]
    assert file_id in [f.id for f in client.files.list(purpose="batch")]
    assert client.files.delete(file_id).deleted
    with pytest.raises(openai.NotFoundError):
        client.files.retrieve(file_id)


def test_batches_list_pages_newest_first(client: openai.OpenAI) -> None:
    ids = [start(client, [embedding_line(0)]).id for _ in range(3)]
    first = client.batches.list(limit=2)
    assert [b.id for b in first.data] == ids[::-1][:2] and first.has_more
    rest = client.batches.list(limit=2, after=first.data[-1].id)
    assert rest.data[0].id == ids[0]


def test_passthrough_mode_refuses_batches_clearly(upstream: Emulator) -> None:
    with gateway({"CF_API_BASE": upstream.api_base, "CF_ACCOUNT_ID": "0123456789abcdef0123456789abcdef"}) as (url, _):
        with openai.OpenAI(base_url=f"{url}/v1", api_key="cf-test-token", max_retries=0) as client:
            with pytest.raises(openai.BadRequestError, match="managed gateway") as caught:
                upload(client, [embedding_line(0)])
            with pytest.raises(openai.BadRequestError, match="managed gateway"):
                client.batches.list()
    assert caught.value.body["code"] == "batches_need_managed_mode"  # type: ignore[index]


def test_batch_lines_use_the_response_cache_as_their_owner(upstream: Emulator) -> None:
    """A batch line is cached as its batch's owner: the same lines from the same key are answered from the
    cache, from another key they reach Workers AI again (one tenant never reads another's answers)."""
    lines = [embedding_line(i) | {"body": {"model": EMBED, "input": [f"owned text {i}"]}} for i in range(5)]

    def reached() -> int:
        texts = run_texts(upstream)
        return sum(count for text, count in texts.items() if text.startswith("owned text"))

    with batch_gateway(upstream) as (client, url, _):
        with openai.OpenAI(base_url=f"{url}/v1", api_key="other-key", max_retries=0) as other:
            upstream.reset()
            first = wait_for(client, start(client, lines).id)
            assert first.status == "completed" and reached() == 5
            again = wait_for(client, start(client, lines).id)
            assert again.status == "completed" and reached() == 5  # the owner's own entries: no new call
            theirs = wait_for(other, start(other, lines).id)
            assert theirs.status == "completed" and reached() == 10  # another owner: asked again
            mine = sorted(
                line["response"]["body"]["data"][0]["embedding"][:3] for line in results(client, again.output_file_id)
            )
            first_out = sorted(
                line["response"]["body"]["data"][0]["embedding"][:3] for line in results(client, first.output_file_id)
            )
            assert mine == first_out
