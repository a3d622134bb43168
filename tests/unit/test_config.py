from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from app.config import Settings

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = {name.upper() for name in Settings.model_fields}


def test_env_example_lists_every_setting_and_nothing_else() -> None:
    listed = set(re.findall(r"^([A-Z_]+)=", (ROOT / ".env.example").read_text(), re.MULTILINE))
    assert listed == SETTINGS


def test_readme_configuration_table_lists_every_setting() -> None:
    readme = (ROOT / "README.md").read_text()
    missing = [name for name in SETTINGS if f"`{name}`" not in readme]
    assert not missing


def test_env_example_values_are_the_defaults() -> None:
    values = dict(re.findall(r"^([A-Z_]+)=(.*)$", (ROOT / ".env.example").read_text(), re.MULTILINE))
    settings = Settings(_env_file=ROOT / ".env.example")  # type: ignore[call-arg]
    defaults = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings == defaults, values


def test_lists_and_aliases_parse_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GATEWAY_API_KEYS", " a, b ,,c")
    monkeypatch.setenv("MODEL_ALIASES", '{"fast": "@cf/meta/llama-3.2-1b-instruct"}')
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.gateway_api_keys == ["a", "b", "c"]
    assert settings.model_aliases == {"fast": "@cf/meta/llama-3.2-1b-instruct"}
    assert not settings.managed


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("CF_ACCOUNT_ID", "../zones"),
        ("CF_API_BASE", "ftp://x"),
        ("PORT", "0"),
        ("MODEL_ALIASES", "{not json"),
        ("CF_AI_GATEWAY", "gw/../../x"),
        ("CF_AI_GATEWAY", "gw?x=1"),
        ("CF_AI_GATEWAY_BASE", "gateway.ai.cloudflare.com/v1"),
        ("CF_AI_GATEWAY_BASE", "https://gateway.ai.cloudflare.com/v1?x=1"),
        ("CF_AI_GATEWAY_CACHE_TTL", "59"),
    ],
)
def test_bad_settings_fail_at_start(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises((ValidationError, ValueError)):
        Settings(_env_file=None)  # type: ignore[call-arg]


def test_ai_gateway_headers_are_fixed_from_the_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings(_env_file=None).ai_gateway() is None  # type: ignore[call-arg]
    monkeypatch.setenv("CF_AI_GATEWAY", "my-gw")
    plain = Settings(_env_file=None).ai_gateway()  # type: ignore[call-arg]
    assert plain is not None and plain.headers == {}
    assert plain.base_url == "https://gateway.ai.cloudflare.com/v1"
    monkeypatch.setenv("CF_AI_GATEWAY_CACHE_TTL", "2592000")
    monkeypatch.setenv("CF_AI_GATEWAY_SKIP_CACHE", "true")
    monkeypatch.setenv("CF_AI_GATEWAY_TOKEN", "secret-aig")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    full = settings.ai_gateway()
    assert full is not None and full.headers == {
        "cf-aig-cache-ttl": "2592000",
        "cf-aig-skip-cache": "true",
        "cf-aig-authorization": "Bearer secret-aig",
    }
    assert "secret-aig" not in repr(full) and "secret-aig" not in repr(settings)
