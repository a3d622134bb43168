"""What the image-URL tests share: a gateway that fetches from loopback, and a chat request with images."""

from __future__ import annotations

import base64
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import openai
import pytest
import trustme

from tests.conftest import TEST_KEY
from tests.imageserver import ImageServer, serving
from tests.servers import Emulator, gateway, managed_env

VISION = "@cf/meta/llama-4-scout-17b-16e-instruct"


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> tuple[trustme.CA, Path]:
    """A throwaway certificate authority, and its certificate as a PEM file for SSL_CERT_FILE."""
    authority = trustme.CA()
    path = tmp_path_factory.mktemp("ca") / "ca.pem"
    authority.cert_pem.write_to_path(str(path))
    return authority, path


@pytest.fixture(scope="module")
def images() -> Iterator[ImageServer]:
    with serving() as server:
        yield server


@pytest.fixture(scope="module")
def tls_images(ca: tuple[trustme.CA, Path]) -> Iterator[ImageServer]:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca[0].issue_cert("localhost", "127.0.0.1", "::1").configure_cert(context)
    with serving(context) as server:
        yield server


@contextmanager
def image_gateway(upstream: Emulator, **settings: str) -> Iterator[openai.OpenAI]:
    """A managed gateway with extra settings, and an OpenAI client on it."""
    with (
        gateway(managed_env(upstream.api_base, **settings)) as (url, _),
        openai.OpenAI(base_url=f"{url}/v1", api_key=TEST_KEY, max_retries=0) as client,
    ):
        yield client


def ask(client: openai.OpenAI, *urls: str, model: str = VISION) -> str:
    """A chat request with a text part then one image part per URL; the answer's text."""
    parts: list[Any] = [{"type": "text", "text": "What is in these pictures?"}]
    parts += [{"type": "image_url", "image_url": {"url": url}} for url in urls]
    answer = client.chat.completions.create(model=model, messages=[{"role": "user", "content": parts}])
    return answer.choices[0].message.content or ""


def data_uri(media_type: str, data: bytes) -> str:
    return f"data:{media_type};base64,{base64.b64encode(data).decode()}"


def sent_images(upstream: Emulator) -> list[str]:
    """The image URLs of the last run call that reached Workers AI."""
    parts = upstream.last_run()["messages"][0]["content"]
    return [part["image_url"]["url"] for part in parts if part["type"] == "image_url"]


def runs(upstream: Emulator) -> int:
    return sum("/ai/run/" in r["path"] for r in upstream.requests())
