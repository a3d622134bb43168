"""Prometheus metrics on a registry per app (official `prometheus_client`).

The account pool wires its figures with `failover(model)`, `retry(reason)`, `neurons(n)` and
`account_states(fn)`: `fn()` returns {state: count} and is read at scrape time, nothing per request.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
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


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter("gateway_requests", "Requests answered.", ["route", "model", "status"], registry=r)
        self.upstream_seconds = Histogram(
            "gateway_upstream_seconds", "Workers AI call time.", ["model"], buckets=LATENCY_BUCKETS, registry=r
        )
        self.tokens = Counter("gateway_tokens", "Tokens used.", ["model", "kind"], registry=r)
        self.neurons_used = Counter("gateway_neurons", "Neurons used.", registry=r)
        self.retries = Counter("gateway_upstream_retries", "Upstream calls retried.", ["reason"], registry=r)
        self.failovers = Counter("gateway_account_failovers", "Calls moved to another account.", ["model"], registry=r)
        self.cache = Counter("gateway_translation_cache", "Translation cache lookups.", ["result"], registry=r)
        self._states = _AccountStates()
        r.register(self._states)
        self._children: dict[tuple[str, str, int], Counter] = {}
        self._token_children: dict[str, tuple[Counter, Counter]] = {}

    def request(self, route: str, model: str, status: int) -> None:
        """One answered request; the labelled child is bound once per (route, model, status)."""
        key = (route, model, status)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = self.requests.labels(route, model, str(status))
        child.inc()

    def upstream(self, model: str, seconds: float) -> None:
        self.upstream_seconds.labels(model).observe(seconds)

    def usage(self, model: str, prompt: int, completion: int) -> None:
        """Tokens of one answer; the children of a model are bound once."""
        children = self._token_children.get(model)
        if children is None:
            children = self._token_children[model] = (
                self.tokens.labels(model, "prompt"),
                self.tokens.labels(model, "completion"),
            )
        children[0].inc(prompt)
        children[1].inc(completion)

    def neurons(self, count: float) -> None:
        self.neurons_used.inc(count)

    def retry(self, reason: str) -> None:
        self.retries.labels(reason).inc()

    def failover(self, model: str) -> None:
        self.failovers.labels(model).inc()

    def cache_lookup(self, hit: bool) -> None:
        self.cache.labels("hit" if hit else "miss").inc()

    def account_states(self, source: Callable[[], dict[str, int]]) -> None:
        self._states.source = source

    def render(self) -> bytes:
        return generate_latest(self.registry)
