"""`translate_text`, the entry other gateway code calls (the audio translation fallback), in-process
against the emulator over loopback."""

from __future__ import annotations

import asyncio
import gc

import pytest

from app.config import Settings
from app.deps import Gateway
from app.errors import InvalidRequest
from app.main import create_app
from app.serving.translate import translate_text
from tests.conftest import ACCOUNT, CF_TOKEN
from tests.servers import Emulator


def test_translate_text_detects_converts_and_refuses_unknown_targets(upstream: Emulator) -> None:
    settings = Settings(_env_file=None, cf_api_base=upstream.api_base, cf_account_id=ACCOUNT, cf_api_token=CF_TOKEN)  # type: ignore[call-arg]
    app = create_app(settings).app

    async def scenario() -> None:
        async with app.router.lifespan_context(app):
            gw: Gateway = app.state.gateway
            assert gw.server_credentials is not None
            text = await translate_text(
                gw.translator,
                gw.upstream,
                gw.server_credentials,
                "Good morning, everyone.\nSee you later.",
                None,
                "zh-TW",
            )
            assert text == "[zh] 譯文 Good morning, everyone.\n[zh] 譯文 See you later."
            with pytest.raises(InvalidRequest, match="'tlh'"):
                await translate_text(gw.translator, gw.upstream, gw.server_credentials, "Hello", "auto", "tlh")

    threshold = gc.get_threshold()
    try:
        asyncio.run(scenario())
    finally:  # the app's lifespan tunes the collector for a server process; this one is pytest's
        gc.unfreeze()
        gc.set_threshold(*threshold)
    sent = [r["body_json"] for r in upstream.requests() if "/ai/run/" in r["path"]]
    assert sorted(s["text"] for s in sent) == ["Good morning, everyone.", "See you later."]
    assert {(s["source_lang"], s["target_lang"]) for s in sent} == {("en", "zh")}
