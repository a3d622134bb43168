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
    [("CF_ACCOUNT_ID", "../zones"), ("CF_API_BASE", "ftp://x"), ("PORT", "0"), ("MODEL_ALIASES", "{not json")],
)
def test_bad_settings_fail_at_start(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises((ValidationError, ValueError)):
        Settings(_env_file=None)  # type: ignore[call-arg]
