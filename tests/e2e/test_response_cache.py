"""The response cache (docs/cache.md) through the official clients: hits and misses on each cached route,
whole and streamed; the client's opt-out; per-key separation; coalescing; seeded images; what is not cached.
Each test asks with text of its own, so the module's gateway never answers one test from another's entry."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import anthropic
import openai
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.http import call
from tests.redis_server import RedisServer
from tests.servers import ACCOUNT, CF_TOKEN, TEST_KEY, Emulator, gateway, managed_env

CHAT = "@cf/meta/llama-3.1-8b-instruct-fast"
EMBED = "@cf/baai/bge-small-en-v1.5"
IMAGE = "@cf/stabilityai/stable-diffusion-xl-base-1.0"
OTHER_KEY = "second-tenant-key"
_serial = itertools.count()


def fresh(text: str) -> str:
    return f"{text} #{next(_serial)}"


def upstream_runs(upstream: Emulator) -> int:
    return sum("/ai/run/" in r["path"] for r in upstream.requests())


@pytest.fixture(scope="module")
def cache_url(upstream: Emulator) -> Iterator[str]:
    env = managed_env(upstream.api_base, GATEWAY_API_KEYS=f"{TEST_KEY},{OTHER_KEY}")
    with gateway(env) as (url, _):
        yield url


@pytest.fixture
def gpt(cache_url: str) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=f"{cache_url}/v1", api_key=TEST_KEY, max_retries=0) as client:
        yield client


@pytest.fixture
def claude(cache_url: str) -> Iterator[anthropic.Anthropic]:
    with anthropic.Anthropic(base_url=cache_url, api_key=TEST_KEY, max_retries=0) as client:
        yield client


def ask(client: openai.OpenAI, text: str, **options: Any) -> tuple[str, str]:
    """(x-cache, the answer's text) of a whole chat completion."""
    raw = client.chat.completions.with_raw_response.create(
        model=CHAT, messages=[{"role": "user", "content": text}], **options
    )
    return raw.headers["x-cache"], raw.parse().choices[0].message.content or ""


def ask_streamed(client: openai.OpenAI, text: str, **options: Any) -> tuple[str, str, Any]:
    """(x-cache, the text, the last chunk's usage) of a streamed chat completion."""
    messages = [{"role": "user", "content": text}]
    with client.chat.completions.with_streaming_response.create(
        model=CHAT, messages=messages, stream=True, stream_options={"include_usage": True}, **options
    ) as raw:
        chunks = list(raw.parse())
        status = raw.headers["x-cache"]
    content = "".join(chunk.choices[0].delta.content or "" for chunk in chunks if chunk.choices)
    return status, content, chunks[-1].usage


def test_a_deterministic_chat_answer_is_answered_from_the_cache(gpt: openai.OpenAI, upstream: Emulator) -> None:
    text = fresh("Name three colours.")
    first = ask(gpt, text, temperature=0)
    second = ask(gpt, text, temperature=0)
    assert first[0] == "MISS" and second[0] == "HIT"
    assert second[1] == first[1] and first[1]
    assert upstream_runs(upstream) == 1


def test_a_streamed_answer_is_replayed_as_a_stream_with_its_usage(gpt: openai.OpenAI, upstream: Emulator) -> None:
    text = fresh("Count to five.")
    first = ask_streamed(gpt, text, temperature=0)
    second = ask_streamed(gpt, text, temperature=0)
    assert (first[0], second[0]) == ("MISS", "HIT")
    assert second[1] == first[1] and first[1]
    assert second[2] is not None and second[2].completion_tokens == first[2].completion_tokens > 0
    assert upstream_runs(upstream) == 1


def test_a_whole_answer_also_answers_the_same_request_streamed(gpt: openai.OpenAI, upstream: Emulator) -> None:
    text = fresh("Say yes.")
    whole = ask(gpt, text, temperature=0)
    streamed = ask_streamed(gpt, text, temperature=0)
    assert (whole[0], streamed[0]) == ("MISS", "HIT") and streamed[1] == whole[1]
    assert upstream_runs(upstream) == 1


def test_a_sampled_answer_is_not_cached_unless_the_client_asks(gpt: openai.OpenAI, upstream: Emulator) -> None:
    text = fresh("Write a poem.")
    assert ask(gpt, text)[0] == "BYPASS" and ask(gpt, text, temperature=0.8)[0] == "BYPASS"
    assert upstream_runs(upstream) == 2
    asked = {"extra_headers": {"Cache-Control": "max-age=600"}, "temperature": 0.8}
    assert ask(gpt, text, **asked)[0] == "MISS" and ask(gpt, text, **asked)[0] == "HIT"
    assert upstream_runs(upstream) == 3


def test_no_store_neither_reads_nor_writes_and_no_cache_refreshes(gpt: openai.OpenAI, upstream: Emulator) -> None:
    text = fresh("What is two and two?")
    no_store = {"extra_headers": {"Cache-Control": "no-store"}, "temperature": 0}
    no_cache = {"extra_headers": {"Cache-Control": "no-cache"}, "temperature": 0}
    assert ask(gpt, text, **no_store)[0] == "BYPASS"
    assert ask(gpt, text, temperature=0)[0] == "MISS"  # the no-store answer was not kept
    assert ask(gpt, text, **no_store)[0] == "BYPASS"  # nor read, though there is one now
    assert ask(gpt, text, **no_cache)[0] == "MISS"
    assert ask(gpt, text, temperature=0)[0] == "HIT"
    assert upstream_runs(upstream) == 4


def test_legacy_completions_are_cached(gpt: openai.OpenAI, upstream: Emulator) -> None:
    prompt = fresh("Once upon a time")
    seen = []
    for _ in range(2):
        raw = gpt.completions.with_raw_response.create(model=CHAT, prompt=prompt, temperature=0, max_tokens=20)
        seen.append((raw.headers["x-cache"], raw.parse().choices[0].text))
    assert [s for s, _ in seen] == ["MISS", "HIT"] and seen[0][1] == seen[1][1]
    assert upstream_runs(upstream) == 1


def test_embeddings_are_always_cached(gpt: openai.OpenAI, upstream: Emulator) -> None:
    texts = [fresh("alpha"), fresh("beta")]
    answers = [gpt.embeddings.with_raw_response.create(model=EMBED, input=texts) for _ in range(2)]
    assert [a.headers["x-cache"] for a in answers] == ["MISS", "HIT"]
    first, second = (a.parse() for a in answers)
    assert [d.embedding for d in second.data] == [d.embedding for d in first.data]
    assert second.usage.prompt_tokens == first.usage.prompt_tokens > 0
    assert upstream_runs(upstream) == 1


def test_responses_are_cached_whole_and_streamed(gpt: openai.OpenAI, upstream: Emulator) -> None:
    text = fresh("Describe the sea.")
    whole = [gpt.responses.with_raw_response.create(model=CHAT, input=text, temperature=0) for _ in range(2)]
    assert [w.headers["x-cache"] for w in whole] == ["MISS", "HIT"]
    assert whole[1].parse().output_text == whole[0].parse().output_text
    assert whole[1].parse().id != whole[0].parse().id  # a new response, with the cached answer
    streamed = fresh("Describe the sky.")
    seen = []
    for _ in range(2):
        with gpt.responses.with_streaming_response.create(
            model=CHAT, input=streamed, temperature=0, stream=True
        ) as raw:
            events = list(raw.parse())
            seen.append((raw.headers["x-cache"], events))
    assert [s for s, _ in seen] == ["MISS", "HIT"]
    completed = [events[-1] for _, events in seen]
    assert all(event.type == "response.completed" for event in completed)
    assert completed[1].response.output_text == completed[0].response.output_text
    assert completed[1].response.usage.output_tokens == completed[0].response.usage.output_tokens > 0
    assert upstream_runs(upstream) == 2


def test_messages_are_cached_whole_and_streamed(claude: anthropic.Anthropic, upstream: Emulator) -> None:
    text = fresh("Hello Claude.")
    deterministic = {"extra_body": {"temperature": 0}}
    messages: Any = [{"role": "user", "content": text}]
    whole = [
        claude.messages.with_raw_response.create(model=CHAT, max_tokens=64, messages=messages, **deterministic)
        for _ in range(2)
    ]
    assert [w.headers["x-cache"] for w in whole] == ["MISS", "HIT"]
    assert whole[1].parse().content == whole[0].parse().content
    messages = [{"role": "user", "content": fresh("Hello again.")}]
    seen = []
    for _ in range(2):
        with claude.messages.stream(model=CHAT, max_tokens=64, messages=messages, **deterministic) as stream:
            final = stream.get_final_message()
            seen.append((stream.response.headers["x-cache"], final))
    assert [s for s, _ in seen] == ["MISS", "HIT"]
    assert seen[1][1].content == seen[0][1].content and seen[1][1].usage.output_tokens > 0
    assert upstream_runs(upstream) == 2


def test_each_key_has_its_own_entries(cache_url: str, gpt: openai.OpenAI, upstream: Emulator) -> None:
    text = fresh("A private question.")
    assert ask(gpt, text, temperature=0)[0] == "MISS"
    with openai.OpenAI(base_url=f"{cache_url}/v1", api_key=OTHER_KEY, max_retries=0) as other:
        assert ask(other, text, temperature=0)[0] == "MISS"
        assert ask(other, text, temperature=0)[0] == "HIT"
    assert upstream_runs(upstream) == 2


def test_an_operator_may_share_entries_across_keys(upstream: Emulator) -> None:
    env = managed_env(
        upstream.api_base, GATEWAY_API_KEYS=f"{TEST_KEY},{OTHER_KEY}", RESPONSE_CACHE_SHARED_ACROSS_KEYS="true"
    )
    text = fresh("A shared question.")
    with gateway(env) as (url, _):
        with openai.OpenAI(base_url=f"{url}/v1", api_key=TEST_KEY, max_retries=0) as one:
            assert ask(one, text, temperature=0)[0] == "MISS"
        with openai.OpenAI(base_url=f"{url}/v1", api_key=OTHER_KEY, max_retries=0) as other:
            assert ask(other, text, temperature=0)[0] == "HIT"
    assert upstream_runs(upstream) == 1


@pytest.mark.parametrize("streamed", [False, True], ids=["whole", "streamed"])
def test_twenty_identical_requests_at_once_make_one_upstream_call(
    gpt: openai.OpenAI, upstream: Emulator, streamed: bool
) -> None:
    text = fresh("Everyone asks this at once.")
    upstream.fault(latency_ms=1500, times=1)  # the first call is slow: the other 19 arrive while it runs
    with ThreadPoolExecutor(20) as pool:
        if streamed:
            answers = list(pool.map(lambda _: ask_streamed(gpt, text, temperature=0)[:2], range(20)))
        else:
            answers = list(pool.map(lambda _: ask(gpt, text, temperature=0), range(20)))
    assert upstream_runs(upstream) == 1
    assert len({content for _, content in answers}) == 1
    assert sorted(status for status, _ in answers) == ["HIT"] * 19 + ["MISS"]


def test_an_image_with_a_seed_is_cached_and_one_without_is_not(gpt: openai.OpenAI, upstream: Emulator) -> None:
    prompt = fresh("a red bicycle")
    seeded = [
        gpt.images.with_raw_response.generate(
            model=IMAGE, prompt=prompt, response_format="b64_json", extra_body={"seed": 7}
        )
        for _ in range(2)
    ]
    assert [s.headers["x-cache"] for s in seeded] == ["MISS", "HIT"]
    assert seeded[1].parse().data[0].b64_json == seeded[0].parse().data[0].b64_json
    unseeded = [gpt.images.with_raw_response.generate(model=IMAGE, prompt=prompt) for _ in range(2)]
    assert [u.headers["x-cache"] for u in unseeded] == ["BYPASS", "BYPASS"]
    assert upstream_runs(upstream) == 3


def test_metrics_count_hits_misses_and_neurons_saved(cache_url: str, gpt: openai.OpenAI) -> None:
    before = cache_metrics(cache_url)
    text = fresh("Count me.")
    for _ in range(3):
        ask(gpt, text, temperature=0)
    after = cache_metrics(cache_url)
    route = ("/v1/chat/completions", CHAT)
    assert after[(*route, "miss")] - before.get((*route, "miss"), 0) == 1
    assert after[(*route, "hit")] - before.get((*route, "hit"), 0) == 2
    assert after[(*route, "saved")] > before.get((*route, "saved"), 0)


def cache_metrics(url: str) -> dict[tuple[str, ...], float]:
    text = call("GET", f"{url}/metrics").body.decode()
    found: dict[tuple[str, ...], float] = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == "gateway_response_cache_total":
                found[(s.labels["route"], s.labels["model"], s.labels["result"])] = s.value
            elif s.name == "gateway_neurons_saved_total":
                found[(s.labels["route"], s.labels["model"], "saved")] = s.value
    return found


def test_with_the_cache_off_nothing_is_cached(upstream: Emulator) -> None:
    text = fresh("Never cached.")
    with gateway(managed_env(upstream.api_base, RESPONSE_CACHE="off")) as (url, _):
        with openai.OpenAI(base_url=f"{url}/v1", api_key=TEST_KEY, max_retries=0) as client:
            assert [ask(client, text, temperature=0)[0] for _ in range(2)] == ["BYPASS", "BYPASS"]
            raw = client.embeddings.with_raw_response.create(model=EMBED, input="x")
            assert raw.headers["x-cache"] == "BYPASS"
    assert upstream_runs(upstream) == 3


def test_the_header_is_exposed_to_browsers(cache_url: str) -> None:
    body = {"model": EMBED, "input": fresh("cors")}
    headers = {
        "Authorization": f"Bearer {TEST_KEY}",
        "Content-Type": "application/json",
        "Origin": "https://app.example",
    }
    answer = call("POST", f"{cache_url}/v1/embeddings", body, headers)
    assert answer.status == 200
    exposed = answer.headers.get("access-control-expose-headers", "").lower()
    assert "x-cache" in exposed and "cf-aig-cache-status" in exposed
    assert answer.headers["cf-aig-cache-status"] == answer.headers["x-cache"] == "MISS"


def test_two_gateways_on_one_redis_share_their_entries(upstream: Emulator, redis_server: RedisServer) -> None:
    env = managed_env(upstream.api_base, REDIS_URL=redis_server.url)
    text, texts = fresh("Asked of one replica, answered by another."), [fresh("shared vector")]
    with gateway(env) as (first, _), gateway(env) as (second, _):
        with openai.OpenAI(base_url=f"{first}/v1", api_key=TEST_KEY, max_retries=0) as one:
            made = ask_streamed(one, text, temperature=0)
            assert ask_streamed(one, text, temperature=0)[0] == "HIT"
            vector = one.embeddings.with_raw_response.create(model=EMBED, input=texts)
        with openai.OpenAI(base_url=f"{second}/v1", api_key=TEST_KEY, max_retries=0) as other:
            whole = ask(other, text, temperature=0)  # kept as a stream: a whole request asks again
            replayed = ask_streamed(other, text, temperature=0)
            again = other.embeddings.with_raw_response.create(model=EMBED, input=texts)
        saved = [neurons_saved(url) for url in (first, second, first)]  # each read adds its own latest
        by_metrics = sum(n for url in (first, second) for key, n in cache_metrics(url).items() if key[2] == "saved")
    assert made[0] == "MISS" and replayed[0] == "HIT" and replayed[1] == made[1]
    assert whole[0] == "MISS" and whole[1] == made[1]
    assert vector.headers["x-cache"] == "MISS" and again.headers["x-cache"] == "HIT"
    assert again.parse().data[0].embedding == vector.parse().data[0].embedding
    assert upstream_runs(upstream) == 3
    assert saved[1] == saved[2] == pytest.approx(by_metrics, abs=1e-3) and by_metrics > 0  # /status.json rounds
    assert saved[0] < saved[2]  # the first replica's own hit alone, before the second's were added


def neurons_saved(url: str) -> float:
    status = call("GET", f"{url}/status.json", headers={"Authorization": f"Bearer {TEST_KEY}"})
    assert status.status == 200
    saved: float = status.json()["neurons_saved"]
    return saved


def test_a_stream_cut_short_is_not_kept(cache_url: str, gpt: openai.OpenAI, upstream: Emulator) -> None:
    text = fresh("Tell a long story.")
    body = {"model": CHAT, "messages": [{"role": "user", "content": text}], "temperature": 0, "stream": True}
    headers = {"Authorization": f"Bearer {TEST_KEY}", "Content-Type": "application/json"}
    upstream.fault(cut_stream_after=2, times=1)
    cut = call("POST", f"{cache_url}/v1/chat/completions", body, headers)
    assert cut.status == 200 and cut.headers["x-cache"] == "MISS" and b'"error"' in cut.body
    assert ask_streamed(gpt, text, temperature=0)[0] == "MISS"  # asked again: the cut answer was not kept
    assert ask_streamed(gpt, text, temperature=0)[0] == "HIT"
    assert upstream_runs(upstream) == 2


def test_in_passthrough_mode_each_cloudflare_account_has_its_own_entries(upstream: Emulator) -> None:
    text = fresh("Whose account pays?")
    other = "fedcba9876543210fedcba9876543210"
    with gateway({"CF_API_BASE": upstream.api_base, "CF_ACCOUNT_ID": ACCOUNT}) as (url, _):
        with openai.OpenAI(base_url=f"{url}/v1", api_key=CF_TOKEN, max_retries=0) as own:
            assert [ask(own, text, temperature=0)[0] for _ in range(2)] == ["MISS", "HIT"]
        with openai.OpenAI(base_url=f"{url}/v1", api_key=f"{other}:{CF_TOKEN}", max_retries=0) as theirs:
            assert [ask(theirs, text, temperature=0)[0] for _ in range(2)] == ["MISS", "HIT"]
    paths = [r["path"] for r in upstream.requests() if "/ai/run/" in r["path"]]
    assert len(paths) == 2 and f"/accounts/{ACCOUNT}/" in paths[0] and f"/accounts/{other}/" in paths[1]


def test_a_chat_request_for_a_picture_says_it_was_not_cached(gpt: openai.OpenAI) -> None:
    raw = gpt.chat.completions.with_raw_response.create(
        model="dall-e-3", messages=[{"role": "user", "content": fresh("a kite")}], temperature=0
    )
    assert raw.headers["x-cache"] == "BYPASS" and "![" in (raw.parse().choices[0].message.content or "")


def test_a_hit_costs_neither_the_account_nor_the_key_any_neurons(upstream: Emulator) -> None:
    prompt = fresh("a lighthouse at dusk")
    env = managed_env(upstream.api_base, GATEWAY_KEY_NEURONS_PER_DAY="100")  # a seeded SDXL image: 57.6
    with gateway(env) as (url, _):
        with openai.OpenAI(base_url=f"{url}/v1", api_key=TEST_KEY, max_retries=0) as client:
            seen = []
            for _ in range(4):  # counted, the second picture would pass the key's 100 and the third be refused
                raw = client.images.with_raw_response.generate(model=IMAGE, prompt=prompt, extra_body={"seed": 11})
                seen.append(raw.headers["x-cache"])
                time.sleep(0.2)  # the key's count is written just after the answer
        status = call("GET", f"{url}/status.json", headers={"Authorization": f"Bearer {TEST_KEY}"}).json()
    assert seen == ["MISS", "HIT", "HIT", "HIT"]
    assert status["neurons_used"] == pytest.approx(57.6) and status["neurons_saved"] == pytest.approx(3 * 57.6)


def test_an_entry_older_than_the_clients_max_age_is_not_used(gpt: openai.OpenAI, upstream: Emulator) -> None:
    text = fresh("How old is this answer?")
    assert ask(gpt, text, temperature=0)[0] == "MISS"
    time.sleep(1.5)
    assert ask(gpt, text, temperature=0, extra_headers={"Cache-Control": "max-age=600"})[0] == "HIT"
    assert ask(gpt, text, temperature=0, extra_headers={"Cache-Control": "max-age=1"})[0] == "MISS"  # 1.5 s old
    assert ask(gpt, text, temperature=0, extra_headers={"Cache-Control": "max-age=1"})[0] == "HIT"  # refreshed
    assert upstream_runs(upstream) == 2


def test_n_deterministic_choices_are_one_call(gpt: openai.OpenAI, upstream: Emulator) -> None:
    messages: Any = [{"role": "user", "content": fresh("Pick a number.")}]
    raw = gpt.chat.completions.with_raw_response.create(model=CHAT, messages=messages, temperature=0, n=3)
    choices = raw.parse().choices
    assert len(choices) == 3 and len({choice.message.content for choice in choices}) == 1
    assert raw.headers["x-cache"] == "MISS" and upstream_runs(upstream) == 1
    sampled = gpt.chat.completions.with_raw_response.create(
        model=CHAT, messages=messages, temperature=0.9, n=2, extra_headers={"Cache-Control": "max-age=60"}
    )
    assert sampled.headers["x-cache"] == "BYPASS" and upstream_runs(upstream) == 3  # n sampled choices must differ
