"""Prometheus metrics on a registry per app (official `prometheus_client`).

The account pool wires its figures with `failover(model)`, `retry(reason)`, `neurons(fn)` and
`account_states(fn)`: `fn()` returns {state: count} and is read at scrape time, nothing per request; so are
the translation cache's own count of hits and misses (`translation_cache(cache)`) and whether Redis answers
(`redis_state(state)`).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)


class _AccountStates(Collector):
    def __init__(self) -> None:
        self.source: Callable[[], dict[str, int]] | None = None

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily("gateway_accounts", "Cloudflare accounts by state.", labels=["state"])
        for state, count in (self.source() if self.source else {}).items():
            family.add_metric([state], count)
        yield family


class _Neurons(Collector):
    def __init__(self) -> None:
        self.source: Callable[[], float] | None = None
        self.estimated: Callable[[], float] | None = None

    def collect(self) -> Iterator[CounterMetricFamily]:
        total = self.source() if self.source else 0.0
        yield CounterMetricFamily("gateway_neurons", "Neurons used (this process, since it started).", value=total)
        yield CounterMetricFamily(
            "gateway_neurons_estimated",
            "The part of gateway_neurons counted at the gateway's estimate: models Cloudflare publishes no price for.",
            value=self.estimated() if self.estimated else 0.0,
        )


class _CacheLookups(Collector):
    """The translation cache's own hit and miss counts (`hits`, `misses`), read at scrape time."""

    def __init__(self) -> None:
        self.cache: object = None

    def collect(self) -> Iterator[CounterMetricFamily]:
        family = CounterMetricFamily("gateway_translation_cache", "Translation cache lookups.", labels=["result"])
        family.add_metric(["hit"], getattr(self.cache, "hits", 0))
        family.add_metric(["miss"], getattr(self.cache, "misses", 0))
        yield family


class _ResponseCache(Collector):
    """The response cache's lookups and neurons saved by route and model (`cache.answers.Tally`), read at
    scrape time."""

    def __init__(self) -> None:
        self.tally: Any = None

    def collect(self) -> Iterator[CounterMetricFamily]:
        lookups = CounterMetricFamily(
            "gateway_response_cache", "Response cache lookups.", labels=["route", "model", "result"]
        )
        saved = CounterMetricFamily(
            "gateway_neurons_saved",
            "Neurons the response cache saved (answers given without a call).",
            labels=["route", "model"],
        )
        if self.tally is not None:
            for (route, model, result), count in list(self.tally.lookups.items()):
                lookups.add_metric([route, model, result], count)
            for (route, model), neurons in list(self.tally.saved.items()):
                saved.add_metric([route, model], neurons)
        yield lookups
        yield saved


class _Redis(Collector):
    """Whether the shared state is on Redis or on the in-process fallback, read at scrape time (only with
    REDIS_URL: without it there is nothing to report)."""

    def __init__(self) -> None:
        self.state: object = None

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        if self.state is None:
            return
        yield GaugeMetricFamily(
            "gateway_redis_up",
            "1: shared state on Redis; 0: Redis unreachable, serving from this process's memory.",
            value=1 if getattr(self.state, "up", False) else 0,
        )
        yield CounterMetricFamily(
            "gateway_redis_outages", "Times Redis stopped answering.", value=getattr(self.state, "outages", 0)
        )


class _PerRequest(Collector):
    """The figures fed on every request (requests, tokens, upstream time), kept as plain dict entries and
    lists and turned into Prometheus families at scrape time: a bound `Counter` child's `inc` takes a lock
    (480 ns on the dev machine), a whole `Metrics.request` with a dict entry 245 ns; a `Histogram` child's
    `observe` takes two locks, a bucket count here is one `bisect` and two list additions."""

    def __init__(self) -> None:
        self.requests: dict[tuple[str, str, int], int] = {}
        self.tokens: dict[str, list[int]] = {}  # per model: [prompt tokens, completion tokens]
        # per model: a count per bucket of LATENCY_BUCKETS (not cumulative), one for +Inf, then the sum
        self.upstream: dict[str, list[float]] = {}

    def collect(self) -> Iterator[CounterMetricFamily | HistogramMetricFamily]:
        requests = CounterMetricFamily("gateway_requests", "Requests answered.", labels=["route", "model", "status"])
        for (route, model, status), count in list(self.requests.items()):
            requests.add_metric([route, model, str(status)], count)
        yield requests
        tokens = CounterMetricFamily("gateway_tokens", "Tokens used.", labels=["model", "kind"])
        for model, (prompt, completion) in list(self.tokens.items()):
            tokens.add_metric([model, "prompt"], prompt)
            tokens.add_metric([model, "completion"], completion)
        yield tokens
        upstream = HistogramMetricFamily("gateway_upstream_seconds", "Workers AI call time.", labels=["model"])
        for model, counts in list(self.upstream.items()):
            buckets: list[tuple[str, float]] = []
            total = 0.0
            for bound, seen in zip((*LATENCY_BUCKETS, float("inf")), counts, strict=False):
                total += seen
                buckets.append((_bound(bound), total))
            upstream.add_metric([model], buckets, counts[-1])
        yield upstream


def _bound(value: float) -> str:
    """A bucket's `le` label as prometheus_client writes it ("0.05", "1.0", "+Inf")."""
    return "+Inf" if value == float("inf") else repr(float(value))


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.retries = Counter("gateway_upstream_retries", "Upstream calls retried.", ["reason"], registry=r)
        self.failovers = Counter("gateway_account_failovers", "Calls moved to another account.", ["model"], registry=r)
        self.substitutions = Counter(
            "gateway_model_substitutions",
            "Requests for a model Cloudflare retired, answered by its replacement.",
            ["retired", "replacement"],
            registry=r,
        )
        self._cache = _CacheLookups()
        r.register(self._cache)
        self._states = _AccountStates()
        r.register(self._states)
        self._neurons = _Neurons()
        r.register(self._neurons)
        self._redis = _Redis()
        r.register(self._redis)
        self._answers = _ResponseCache()
        r.register(self._answers)
        self._per_request = _PerRequest()
        r.register(self._per_request)
        self._requests = self._per_request.requests  # {(route, model, status): count}
        self._tokens = self._per_request.tokens
        self._upstream = self._per_request.upstream

    def request(self, route: str, model: str, status: int, prompt: int = 0, completion: int = 0) -> None:
        """One answered request, and the tokens of its answer."""
        key = (route, model, status)
        requests = self._requests
        requests[key] = requests.get(key, 0) + 1
        if prompt or completion:
            counts = self._tokens.get(model)
            if counts is None:
                counts = self._tokens[model] = [0, 0]
            counts[0] += prompt
            counts[1] += completion

    def upstream(self, model: str, seconds: float) -> None:
        """One Workers AI call's time."""
        counts = self.upstream_counts(model)
        counts[bisect_left(LATENCY_BUCKETS, seconds)] += 1
        counts[-1] += seconds

    def upstream_counts(self, model: str) -> list[float]:
        """The upstream-time histogram of `model` as a list a caller may bind and count into itself: a count
        per bucket of LATENCY_BUCKETS (`bisect_left` gives the index), one for +Inf, then the sum."""
        counts = self._upstream.get(model)
        if counts is None:
            counts = self._upstream[model] = [0.0] * (len(LATENCY_BUCKETS) + 2)
        return counts

    def neurons(self, source: Callable[[], float], estimated: Callable[[], float] | None = None) -> None:
        """`source()`: neurons counted so far; `estimated()`: the part at estimated prices (at scrape time)."""
        self._neurons.source = source
        self._neurons.estimated = estimated

    def substitution(self, retired: str, replacement: str) -> None:
        """A request for a retired model answered by `replacement` (rare: a Counter's lock is fine)."""
        self.substitutions.labels(retired, replacement).inc()

    def retry(self, reason: str) -> None:
        self.retries.labels(reason).inc()

    def failover(self, model: str) -> None:
        self.failovers.labels(model).inc()

    def translation_cache(self, cache: object) -> None:
        """`cache.hits` and `cache.misses` (the translator's cache counts them) are read at scrape time."""
        self._cache.cache = cache

    def response_cache(self, tally: object) -> None:
        """`tally.lookups` and `tally.saved` (the response cache counts them) are read at scrape time."""
        self._answers.tally = tally

    def redis_state(self, state: object) -> None:
        """`state.up` and `state.outages` (a RedisState) are read at scrape time."""
        self._redis.state = state

    def account_states(self, source: Callable[[], dict[str, int]]) -> None:
        self._states.source = source

    def render(self) -> bytes:
        return generate_latest(self.registry)
