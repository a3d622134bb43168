"""Settings: the only place that reads the environment (and `.env`)."""

from __future__ import annotations

import re
from typing import Annotated, Literal

import orjson
from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from app.ai_gateway import DEFAULT_BASE as DEFAULT_AI_GATEWAY_BASE
from app.ai_gateway import MAX_CACHE_TTL, MIN_CACHE_TTL, AIGateway
from app.cf_accounts import ACCOUNT_ID, parse_accounts, parse_plans
from app.proxies import DIRECT, Proxy, parse_proxy, proxy_for

DEFAULT_CF_API_BASE = "https://api.cloudflare.com/client/v4"


class Settings(BaseSettings):
    """Every setting the gateway reads, with its environment variable name (case-insensitive)."""

    # hide_input_in_errors: a bad setting's message names it, never echoes its value (tokens, proxy passwords).
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", hide_input_in_errors=True
    )

    # Cloudflare
    cf_account_id: str = Field("", description="Cloudflare account id used for upstream calls.")
    cf_api_token: str = Field("", description="Cloudflare API token (Workers AI Read + Edit).")
    cf_api_base: str = Field(DEFAULT_CF_API_BASE, description="Base the run URL is built on.")

    # Cloudflare AI Gateway (app/ai_gateway.py, docs/operations.md "AI Gateway")
    cf_ai_gateway: str = Field("", description="AI Gateway id: run calls go through it; empty: straight to Workers AI.")
    cf_ai_gateway_base: str = Field(DEFAULT_AI_GATEWAY_BASE, description="Base the AI Gateway run URL is built on.")
    cf_ai_gateway_cache_ttl: int = Field(
        0, description=f"cf-aig-cache-ttl in seconds ({MIN_CACHE_TTL}..{MAX_CACHE_TTL}); 0: not sent."
    )
    cf_ai_gateway_skip_cache: bool = Field(False, description="Send cf-aig-skip-cache: true.")
    cf_ai_gateway_token: str = Field(
        "", repr=False, description="Authenticated gateways: sent as cf-aig-authorization: Bearer <token>."
    )

    # Account pool (app/accounts/, README "Several accounts")
    cf_accounts: str = Field(
        "",
        description="Several accounts: ACCOUNT_ID:TOKEN pairs (ACCOUNT_ID:TOKEN:paid or :free to state the plan), "
        "comma-separated, or @/path/to/file (one a line).",
    )
    account_daily_neurons: float = Field(
        10_000, gt=0, description="Each account's daily allowance in neurons (the free plan's 10,000)."
    )
    account_key_pins: Annotated[dict[str, str], NoDecode] = Field(
        default_factory=dict, description='Pin gateway keys to accounts: JSON {"key": "account_id"}.'
    )
    rate_limits: Annotated[dict[str, int], NoDecode] = Field(
        default_factory=dict,
        description='Requests per minute per account overriding Cloudflare\'s: JSON {"model id or task": n}; 0: off.',
    )
    rate_limit_wait_seconds: float = Field(
        2.0, ge=0, le=60, description="How long a request waits for a rate-limit slot before a 429."
    )
    upstream_retries: int = Field(2, ge=0, le=10, description="Retries on other accounts (3040, 429, 5xx, timeouts).")
    upstream_retry_backoff_seconds: float = Field(0.1, ge=0, le=10, description="Pause before such a retry.")
    account_recheck_seconds: float = Field(
        900, ge=0, description="How long an exhausted or rejected account is passed over before one call checks it."
    )
    gateway_key_rpm: int = Field(0, ge=0, description="Requests per minute per gateway key (0: no limit).")
    gateway_key_neurons_per_day: float = Field(0, ge=0, description="Neurons per UTC day per key (0: no limit).")
    session_affinity_seconds: float = Field(
        3600, ge=0, description="How long a conversation stays on the account it last ran on (0: off)."
    )

    # Clients
    gateway_api_keys: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="Comma-separated keys clients present as Bearer tokens."
    )

    # Server
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    workers: int = Field(1, ge=1, description="Worker processes on one port (one per core; see REDIS_URL).")
    log_level: Literal["critical", "error", "warning", "info", "debug"] = "info"
    access_log: bool = False
    max_body_bytes: int = Field(25 * 1024 * 1024, ge=1024, description="Largest request body accepted.")
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=lambda: ["*"])

    # Upstream
    upstream_connect_timeout: float = Field(10.0, gt=0)
    upstream_timeout: float = Field(300.0, gt=0, description="Whole-request timeout (non-streaming).")
    upstream_read_timeout: float = Field(120.0, gt=0, description="Longest silence inside a stream.")
    upstream_max_connections: int = Field(4096, ge=1, description="Pool size; each open stream holds one.")
    models_cache_seconds: int = Field(3600, ge=0, description="How long the upstream model list is kept.")

    # Outbound proxies (app/proxies.py): for Workers AI and for image URLs fetched on a client's behalf.
    upstream_proxy: str = Field("", description="Proxy for every outbound call; wins over the *_PROXY variables.")
    https_proxy: str = Field("", description="Proxy for https URLs (the standard variable).")
    http_proxy: str = Field("", description="Proxy for http URLs (the standard variable).")
    no_proxy: str = Field("", description="Hosts reached directly (the standard variable).")

    # Server limits (app/server.py): what one connection may cost before it is answered and closed.
    header_timeout: float = Field(10.0, gt=0, description="Seconds a request head may take to arrive (408).")
    body_timeout: float = Field(30.0, gt=0, description="Longest silence inside a request body (408).")
    keepalive_timeout: float = Field(5.0, gt=0, description="Seconds an idle keep-alive connection is kept.")
    max_header_bytes: int = Field(
        32 * 1024, ge=1024, le=1024 * 1024, description="Largest request head (request line + headers; 431)."
    )

    # Behaviour
    default_max_tokens: int = Field(4096, ge=1, description="max_tokens sent when the client sends none.")
    model_aliases: dict[str, str] = Field(
        default_factory=dict, description="JSON object merged over the built-in aliases."
    )
    retired_models: Literal["substitute", "refuse"] = Field(
        "substitute",
        description="A model Cloudflare retired: answered by its replacement (named in x-model-substituted), "
        "or refused with a 404 that names the replacement.",
    )

    # Translation (/translate, /v2/translate, /translate/batch; docs/translation.md)
    translate_model: str = Field(
        "@cf/meta/m2m100-1.2b", description="Translation engine: m2m100, or a text-generation model (fixed prompt)."
    )
    translate_cache_entries: int = Field(100_000, ge=0, description="Translations kept in memory (0: no cache).")
    translate_cache_seconds: int = Field(86_400, ge=0, description="How long a cached translation is kept.")
    translate_max_concurrency: int = Field(
        32, ge=1, description="Upstream translation calls in flight at once; more wait their turn."
    )
    translate_character_limit: int = Field(
        500_000, ge=1, description="character_limit that GET /v2/usage reports (informational, not enforced)."
    )

    # Response cache (docs/cache.md): repeated requests that must give the same answer cost no neuron.
    response_cache: Literal["off", "deterministic", "all"] = Field(
        "deterministic",
        description="What is answered from the cache: embeddings and seeded images always, chat, completions, "
        "Responses and Messages at temperature 0 (deterministic); every text answer too (all); nothing (off).",
    )
    response_cache_seconds: int = Field(3600, ge=0, description="How long a cached answer is kept (0: no cache).")
    response_cache_max_bytes: int = Field(
        64 * 1024 * 1024, ge=0, description="Memory the cached answers may take in this process (0: no cache)."
    )
    response_cache_max_entries: int = Field(10_000, ge=0, description="Cached answers kept in memory (0: no cache).")
    response_cache_shared_across_keys: bool = Field(
        False, description="One key's cached answers also answer another key's identical requests."
    )

    # Upstream limits (app/upstream/connection_pool.py): what a broken or hostile upstream can make the gateway hold.
    upstream_max_response_bytes: int = Field(
        64 * 1024 * 1024, ge=1024, description="Largest upstream answer, decompressed; a larger one is a 502."
    )

    # Image URLs (app/fetch/): web addresses in `image_url` parts, fetched for vision models as data URIs.
    image_url_fetch: bool = Field(True, description="Fetch image URLs; false: only data URIs are accepted.")
    image_url_allow_http: bool = Field(False, description="Also fetch plain http:// image URLs.")
    image_url_allow_private: bool = Field(
        False, description="Also fetch from loopback, private, link-local and CGNAT addresses."
    )
    image_url_max_bytes: int = Field(10 * 1024 * 1024, ge=1, description="Largest image fetched.")
    image_url_timeout: float = Field(10.0, gt=0, description="Seconds one image may take, redirects included.")
    image_url_max_redirects: int = Field(3, ge=0, le=20, description="Redirects followed per image.")

    # Images
    data_dir: str = Field("data", description="Directory generated files are kept in (images under images/).")
    image_retention_seconds: int = Field(
        7 * 24 * 3600, ge=1, description="How long a hosted image is kept before it is removed."
    )
    image_store_max_bytes: int = Field(
        1024**3, ge=1024, description="Most bytes of hosted images kept; the oldest go first."
    )
    image_upload_max_bytes: int = Field(
        4 * 1024 * 1024, ge=1024, description="Largest image or mask accepted by /v1/images/edits (413 above)."
    )
    public_base_url: str = Field("", description="Base of hosted file URLs (https://ai.example.com).")
    trust_proxy_headers: bool = Field(False, description="Build file URLs from X-Forwarded-Proto/-Host.")

    # Audio
    audio_max_upload_bytes: int = Field(
        25_000_000,
        ge=1,
        description="Largest audio `file` for transcriptions and translations (OpenAI's 25 MB); MAX_BODY_BYTES "
        "still caps the whole request.",
    )

    # Responses API
    responses_retention_seconds: int = Field(
        30 * 86_400, ge=1, description="How long a stored response is kept (OpenAI keeps them 30 days)."
    )
    responses_max_stored_bytes: int = Field(
        1 << 20, ge=1, description="Largest stored response (its input and output); a larger one is not kept."
    )

    # Batch API (app/serving/batches/, docs/batches.md)
    batch_daily_neuron_share: float = Field(
        1.0,
        gt=0,
        le=1,
        description="Share of each day's neurons batch lines may start under (0.5: only while today's use is "
        "under half the allowance); the rest waits for the 00:00 UTC reset.",
    )
    batch_concurrency: int = Field(4, ge=1, le=64, description="Batch lines run at once (all batches together).")
    batch_poll_seconds: float = Field(
        30.0, gt=0, description="How often a waiting batch (share or rate limit reached) looks again."
    )
    batch_file_max_bytes: int = Field(
        25_000_000, ge=1024, description="Largest batch input file (413 above); MAX_BODY_BYTES caps the upload too."
    )
    batch_expire_seconds: int = Field(
        7 * 86_400, ge=1, description="A batch not done this long after its creation expires (its results kept)."
    )
    batch_upstream_queue: Literal["auto", "off"] = Field(
        "auto",
        description="auto: a batch on a model Workers AI queues itself (queueRequest: bge, llama-3.3-70b-fp8-fast) "
        "goes there in chunks; off: every batch runs line by line through the gateway's own throttled queue.",
    )
    batch_queue_chunk_lines: int = Field(
        500, ge=1, le=10_000, description="Batch lines sent in one Workers AI queue request (kept under 10 MB)."
    )

    # Shared state (Redis)
    redis_url: str = Field(
        "",
        description="redis://[:password@]host:port/db (or rediss://): counters, limits and the translation "
        "cache shared by every worker and replica; empty keeps them in this process.",
    )
    redis_prefix: str = Field("wag:", description="Prefix of every key the gateway writes in Redis.")
    redis_timeout_seconds: float = Field(
        0.05, gt=0, le=10, description="Connect and reply timeout per Redis call; past it, in-process state."
    )

    # Operations (app/ops/, docs/operations.md): health, readiness, Prometheus metrics.
    metrics_enabled: bool = Field(True, description="Serve Prometheus metrics at /metrics.")
    metrics_token: str = Field("", description="If set, /metrics needs it as a Bearer token (else open).")
    log_format: Literal["plain", "json"] = Field("plain", description="Log lines as text, or one JSON object each.")
    log_requests: bool = Field(True, description="One log line per request (id, route, model, status, times).")
    log_prompts: bool = Field(
        False, description="Debugging only: request lines include the request body (prompts); never on by default."
    )
    shutdown_timeout: float = Field(
        30.0, gt=0, description="Seconds open requests and streams get to finish after SIGTERM; then they are cut."
    )

    @field_validator("gateway_api_keys", "cors_origins", mode="before")
    @classmethod
    def _split_csv(cls, value: object) -> object:
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    @field_validator("account_key_pins", "rate_limits", mode="before")
    @classmethod
    def _parse_json_map(cls, value: object) -> object:
        if isinstance(value, str):
            try:
                return orjson.loads(value) if value.strip() else {}
            except orjson.JSONDecodeError:
                raise ValueError("must be a JSON object") from None
        return value

    @field_validator("cf_accounts")
    @classmethod
    def _check_accounts(cls, value: str) -> str:
        if value.strip():
            try:
                parse_accounts(value)
            except OSError as exc:
                raise ValueError(f"CF_ACCOUNTS names a file that cannot be read ({type(exc).__name__})") from None
        return value

    def account_credentials(self) -> list[tuple[str, str]]:
        """Every account of the pool: CF_ACCOUNTS, else CF_ACCOUNT_ID with CF_API_TOKEN."""
        if self.cf_accounts.strip():
            return parse_accounts(self.cf_accounts)
        return [(self.cf_account_id, self.cf_api_token)] if self.cf_api_token else []

    def account_plans(self) -> dict[str, str]:
        """The Workers plan CF_ACCOUNTS states for each account that states one ("paid" or "free")."""
        return dict(parse_plans(self.cf_accounts)) if self.cf_accounts.strip() else {}

    @field_validator("model_aliases", mode="before")
    @classmethod
    def _parse_aliases(cls, value: object) -> object:
        if isinstance(value, str):
            return orjson.loads(value) if value.strip() else {}
        return value

    @field_validator("cf_account_id")
    @classmethod
    def _check_account(cls, value: str) -> str:
        value = value.strip()
        if not ACCOUNT_ID.fullmatch(value or "x"):
            raise ValueError("CF_ACCOUNT_ID may hold only letters, digits, '-' and '_'")
        return value

    @field_validator("cf_api_base")
    @classmethod
    def _strip_base(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if not value.startswith(("http://", "https://")):
            raise ValueError("CF_API_BASE must be an http(s) URL")
        return value

    @field_validator("cf_ai_gateway")
    @classmethod
    def _check_ai_gateway(cls, value: str) -> str:
        value = value.strip()
        if value and not ACCOUNT_ID.fullmatch(value):  # it goes into the URL path as it is
            raise ValueError("CF_AI_GATEWAY (the gateway id) may hold only letters, digits, '-' and '_'")
        return value

    @field_validator("cf_ai_gateway_base")
    @classmethod
    def _check_ai_gateway_base(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if not re.fullmatch(r"https?://[^/?#\s]+(/[^?#\s]*)?", value):
            raise ValueError("CF_AI_GATEWAY_BASE must be an http(s) URL with no query or fragment")
        return value

    @field_validator("cf_ai_gateway_cache_ttl")
    @classmethod
    def _check_cache_ttl(cls, value: int) -> int:
        if value and not MIN_CACHE_TTL <= value <= MAX_CACHE_TTL:
            raise ValueError(
                f"CF_AI_GATEWAY_CACHE_TTL must be 0 (not sent) or {MIN_CACHE_TTL}..{MAX_CACHE_TTL} seconds "
                "(AI Gateway's limits: one minute to one month)"
            )
        return value

    def ai_gateway(self) -> AIGateway | None:
        """The AI Gateway run calls go through (None: CF_AI_GATEWAY is empty, straight to Workers AI)."""
        if not self.cf_ai_gateway:
            return None
        return AIGateway(
            self.cf_ai_gateway_base,
            self.cf_ai_gateway,
            cache_ttl=self.cf_ai_gateway_cache_ttl,
            skip_cache=self.cf_ai_gateway_skip_cache,
            token=self.cf_ai_gateway_token.strip(),
        )

    @field_validator("upstream_proxy", "https_proxy", "http_proxy")
    @classmethod
    def _check_proxy(cls, value: str) -> str:
        value = value.strip()
        if value and value.lower() != DIRECT:
            parse_proxy(value)  # ValueError names the problem, never the credentials
        return value

    @field_validator("public_base_url")
    @classmethod
    def _check_public_base(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if value and not re.fullmatch(r"https?://[^/?#\s]+(/[^?#\s]*)?", value):
            raise ValueError("PUBLIC_BASE_URL must be an http(s) URL with no query or fragment")
        return value

    def proxy_for(self, url: str) -> Proxy | None:
        """The proxy an outbound request to `url` goes through (None: direct)."""
        return proxy_for(
            url,
            explicit=self.upstream_proxy,
            https_proxy=self.https_proxy,
            http_proxy=self.http_proxy,
            no_proxy=self.no_proxy,
        )

    @property
    def managed(self) -> bool:
        """Server credentials are set: clients present gateway keys, the server token goes upstream."""
        return bool(self.cf_api_token or self.cf_accounts.strip())
