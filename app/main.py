"""create_app(settings) -> the ASGI app: the lifespan, and the edge (app/edge.py) in front of the declared routes."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import replace
from pathlib import Path

from fastapi import FastAPI

from app.accounts.calls import PooledWorkersAI
from app.accounts.check import CredentialCheck
from app.accounts.pool import AccountPool
from app.accounts.rates import RateTable
from app.catalog import Catalog
from app.config import Settings
from app.deps import Gateway
from app.edge import Edge, discover
from app.fetch.lazy import LazyImageFetcher
from app.openapi import document_bodies
from app.ops.logs import requests_logged
from app.ops.metrics import Metrics
from app.ops.readiness import Readiness, storage_writable, upstream_configured
from app.ops.requests import LineSink, RequestLog
from app.route import Routes
from app.serving.batches import BatchRunner, Pacer
from app.serving.batches.queued import UpstreamQueue
from app.serving.cached import answer_cache
from app.serving.models import ModelDirectory
from app.serving.translate import Translator
from app.state import SharedState, open_state
from app.storage import open_store
from app.storage.batches import BatchStore
from app.upstream.client import Credentials, WorkersAI

log = logging.getLogger("app")
YOUNG_GC_THRESHOLD = 10_000


def create_app(settings: Settings | None = None, *, demo: bool = False, routes: Iterable[Routes] | None = None) -> Edge:
    """The gateway. `demo` marks a gateway serving from the built-in emulator (it says so everywhere);
    `routes` are the declared routes it serves (app/route.py), by default every one in app/routers/."""
    settings = settings or Settings()
    catalog = Catalog(settings.model_aliases, retired=settings.retired_models)
    app = FastAPI(
        title="workers-ai-gateway",
        version="0.1.0",
        summary="OpenAI-compatible API in front of Cloudflare Workers AI.",
        lifespan=_lifespan(settings, catalog, demo),
        # FastAPI's built-in OpenTelemetry hooks look providers up on every request; nothing here uses them.
        telemetry={"tracing": False, "metrics": False, "logs": False, "operation_spans": False},
    )
    app.state.metrics = Metrics()
    requests = RequestLog(
        app.state.metrics,
        enabled=requests_logged(settings),
        json=settings.log_format == "json",
        prompts=settings.log_prompts,
        sink=LineSink(),
    )
    app.state.request_log = requests
    routes = discover() if routes is None else list(routes)
    edge = Edge(
        app, routes, max_body_bytes=settings.max_body_bytes, cors_origins=settings.cors_origins, requests=requests
    )
    document_bodies(app, {d.path: d.body for r in routes for d in r.declared if d.body is not None})
    app.state.entry = edge  # batch lines enter here too (app/serving/batches/dispatch.py)
    return edge


def _lifespan(
    settings: Settings, catalog: Catalog, demo: bool
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        upstream = _upstream(settings)
        await upstream.start()
        fetcher = LazyImageFetcher(settings) if settings.image_url_fetch else None  # started on first use
        app.state.files = open_store(settings)
        app.state.readiness = _readiness(settings)
        state = open_state(settings)
        translator = Translator(settings, catalog, state)
        app.state.metrics.translation_cache(translator.cache)
        # The account pool wraps the client: it chooses the account of each call (app/accounts/calls.py).
        pool = _accounts(settings, catalog, state) if settings.managed else None
        answers = answer_cache(settings, state)  # the response cache (docs/cache.md)
        app.state.metrics.response_cache(answers.tally)
        app.state.gateway = Gateway(
            settings,
            catalog,
            ModelDirectory(catalog, ttl=settings.models_cache_seconds),
            PooledWorkersAI(upstream, pool),
            server_credentials=Credentials(*settings.account_credentials()[0]) if settings.managed else None,
            demo=demo,
            translator=translator,
            image_fetcher=fetcher,
            state=state,
            answers=answers,
        )
        if pool is not None:
            pool.metrics = app.state.metrics
            app.state.metrics.account_states(pool.states)
            app.state.metrics.neurons(lambda: pool.neurons_total, lambda: pool.neurons_estimated)
            if not demo:  # the emulator accepts any token: nothing to learn
                app.state.credential_check = CredentialCheck(pool, upstream)
                app.state.credential_check.start()
        if settings.redis_url:  # (only then is the redis client imported: 7 MB of idle memory otherwise)
            from app.state.redis import RedisState

            if isinstance(state, RedisState):
                app.state.readiness.add("redis", state.check)
                app.state.metrics.redis_state(state)
        app.state.batch_store, app.state.batch_runner = _batches(settings, app.state.gateway, app.state.entry)
        if settings.managed:  # in passthrough mode there is no token to run a line on later (routes say 400)
            app.state.batch_runner.start()
        _announce(settings, demo)
        _tune_gc()
        try:
            yield
        finally:
            await app.state.batch_runner.close()  # first: lines in flight still need the upstream client
            if hasattr(app.state, "credential_check"):
                await app.state.credential_check.close()
            if app.state.gateway.accounts is not None:
                await app.state.gateway.accounts.flush()
            await app.state.gateway.state.close()
            await upstream.close()
            if fetcher is not None:
                await fetcher.close()
            app.state.request_log.sink.flush()

    return lifespan


def _accounts(settings: Settings, catalog: Catalog, state: SharedState) -> AccountPool:
    pairs = settings.account_credentials()
    known = {account for account, _ in pairs}
    unknown = sorted(set(settings.account_key_pins.values()) - known)
    if unknown:
        raise ValueError(f"ACCOUNT_KEY_PINS names {len(unknown)} account id(s) that are not in the pool")
    pool = AccountPool(
        [Credentials(account, token) for account, token in pairs],
        state=state,
        catalog=catalog,
        rates=RateTable(settings.rate_limits),
        allowance=settings.account_daily_neurons,
        pins=settings.account_key_pins,
        max_wait=settings.rate_limit_wait_seconds,
        retries=settings.upstream_retries,
        backoff=settings.upstream_retry_backoff_seconds,
        key_rpm=settings.gateway_key_rpm,
        key_neurons=settings.gateway_key_neurons_per_day,
        recheck=settings.account_recheck_seconds,
        pooled=bool(settings.cf_accounts.strip()),
        plans=settings.account_plans(),
        affinity_seconds=settings.session_affinity_seconds,
    )
    if len(pairs) > 1:
        log.info("account pool: %d Cloudflare accounts (%s)", len(pairs), ", ".join(a.masked for a in pool.accounts))
    return pool


def _batches(settings: Settings, gw: Gateway, entry: Edge) -> tuple[BatchStore, BatchRunner]:
    """The Batch API's store and its background runner; lines run through `entry`, the app's own front."""
    store = BatchStore(Path(settings.data_dir) / "batches")
    server = gw.server_credentials

    def owner_credentials(owner: str) -> Credentials:  # what app/caller.py gives the owner's key
        assert server is not None  # batches are refused in passthrough mode
        per_key = owner and gw.accounts is not None and gw.accounts.per_key
        return replace(server, key=owner) if per_key else server

    runner = BatchRunner(
        store,
        entry,
        Pacer(gw.accounts, settings.batch_daily_neuron_share),
        owner_credentials,
        concurrency=settings.batch_concurrency,
        poll_seconds=settings.batch_poll_seconds,
        queue=UpstreamQueue(
            gw.catalog,
            gw.upstream,
            settings.batch_queue_chunk_lines,
            enabled=settings.batch_upstream_queue == "auto",
            max_tokens=settings.default_max_tokens,
        ),
    )
    return store, runner


def _readiness(settings: Settings) -> Readiness:
    readiness = Readiness()
    first = settings.account_credentials()[:1]
    account = first[0][0] if first else settings.cf_account_id
    readiness.add("upstream", upstream_configured(settings.cf_api_base, settings.managed, account))
    readiness.add("storage", storage_writable(settings.data_dir))
    return readiness


def _upstream(settings: Settings) -> WorkersAI:
    ai_gateway = settings.ai_gateway()
    upstream = WorkersAI(
        settings.cf_api_base,
        connect_timeout=settings.upstream_connect_timeout,
        timeout=settings.upstream_timeout,
        read_timeout=settings.upstream_read_timeout,
        max_connections=settings.upstream_max_connections,
        proxy=settings.proxy_for(settings.cf_api_base),
        max_response_bytes=settings.upstream_max_response_bytes,
        ai_gateway=ai_gateway,
        ai_gateway_proxy=settings.proxy_for(ai_gateway.base_url) if ai_gateway else None,
    )
    if upstream.proxy is not None:
        log.info("Workers AI is reached through the proxy %s", upstream.proxy.safe_url)
    if ai_gateway is not None:  # the gateway id and what is sent, never the token
        sent = ", ".join(name for name in ai_gateway.headers) or "no cf-aig-* headers"
        log.info(
            "Run calls go through Cloudflare AI Gateway `%s` at %s (%s)",
            ai_gateway.gateway_id,
            ai_gateway.base_url,
            sent,
        )
    return upstream


def _tune_gc() -> None:
    # Everything built so far (modules, routes, schemas: ~100k objects) lives as long as the process.
    # Frozen, it is no longer walked by every full collection, which took p99 at c=64 from 59-72 ms
    # to 26-38 ms in the benchmark.
    gc.freeze()
    # The default young-generation threshold (700 objects allocated and not freed) is crossed by the
    # transient objects of 64 concurrent requests: at c=64 that was a collection every 34 requests,
    # 5.7 us of GC a request (measured with gc.callbacks), none at c=16. At 10,000 it hardly runs;
    # garbage in reference cycles still counts towards it, so such garbage stays bounded.
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_GC_THRESHOLD, older, oldest)


def _announce(settings: Settings, demo: bool) -> None:
    if demo:
        log.warning(
            "DEMO MODE: no Cloudflare credentials are set (CF_ACCOUNT_ID / CF_API_TOKEN), so answers come "
            "from the built-in Workers AI emulator at %s, not from Cloudflare.",
            settings.cf_api_base,
        )
    elif not settings.managed:
        log.warning(
            "Passthrough mode: no CF_API_TOKEN is set, so each client's Bearer token is used as its "
            "Cloudflare API token."
        )
    if settings.managed and not settings.gateway_api_keys and not demo:
        log.warning(
            "GATEWAY_API_KEYS is empty: this gateway serves anyone who can reach it, on your Cloudflare account."
        )
    limits = [name for name, on in _KEY_LIMITS.items() if getattr(settings, on)]
    if limits and not settings.managed:
        log.warning("%s do not apply in passthrough mode: each caller runs on its own Cloudflare token.", _and(limits))
    elif limits and not settings.gateway_api_keys:
        log.warning(
            "GATEWAY_API_KEYS is empty, so any token is let in: all callers share one allowance of %s.", _and(limits)
        )


_KEY_LIMITS = {"GATEWAY_KEY_RPM": "gateway_key_rpm", "GATEWAY_KEY_NEURONS_PER_DAY": "gateway_key_neurons_per_day"}


def _and(names: list[str]) -> str:
    return " and ".join(names)
