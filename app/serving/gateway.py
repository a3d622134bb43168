"""`Gateway`: everything that lives for the app's lifetime, built by app/main.py and kept on
`app.state.gateway`; handlers reach it through app/deps.py."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from app.accounts.calls import PooledWorkersAI
from app.accounts.pool import AccountPool
from app.cache.answers import AnswerCache
from app.catalog import Catalog
from app.config import Settings
from app.fetch.lazy import LazyImageFetcher
from app.serving.models import ModelDirectory
from app.serving.translate import Translator
from app.state import MemoryState, SharedState
from app.upstream.client import Credentials


@dataclass(slots=True)
class Gateway:
    """Everything that lives for the app's lifetime; kept on `app.state.gateway`."""

    settings: Settings
    catalog: Catalog
    models: ModelDirectory
    upstream: PooledWorkersAI  # Workers AI through the account pool (app/accounts/calls.py)
    server_credentials: Credentials | None = None  # managed mode: the server's own token
    demo: bool = False
    translator: Translator | None = None  # /translate, /v2/translate (app/serving/translate.py)

    image_fetcher: LazyImageFetcher | None = None  # fetches image URLs; None when IMAGE_URL_FETCH is off
    state: SharedState = field(default_factory=MemoryState)  # shared by workers and replicas (app/state/)
    # Managed mode: the accounts calls run on (app/accounts/); None in passthrough. Not passed: it is the
    # upstream's own pool, read once here so the per-request reads (app/caller.py, deps.py) stay an attribute.
    accounts: AccountPool | None = field(init=False)
    # Per-key credentials, when keys are pinned or limited (the key's hash travels, never the key).
    key_credentials: dict[str, Credentials] = field(default_factory=dict)
    response_stores: dict[str | None, Any] = field(default_factory=dict)  # serving/responses.py, per key
    answers: AnswerCache | None = None  # the response cache (app/serving/cached.py)

    def __post_init__(self) -> None:
        self.accounts = self.upstream.accounts
