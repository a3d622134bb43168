"""The landing page at `/`, drawn: what the router's facts say, as HTML for a browser, and which of HTML or
JSON a request's `Accept` asks for (app/routers/home.py serves it). No I/O."""

from __future__ import annotations

from html import escape
from typing import Any

SUMMARY = "An OpenAI-compatible API (and Anthropic Messages, DeepL and DeepLX) in front of Cloudflare Workers AI."
# The project has no public address to link to; the recipes ship with it, in its README.
RECIPES = "README.md, section Recipes"
RECIPES_FOR = "OpenAI SDKs, Anthropic SDK and coding agents, curl, OneAPI, Immersive Translate, DeepL clients, images"
GATEWAY_KEY = "a key from GATEWAY_API_KEYS as `Authorization: Bearer <key>` (any, if the operator set none)"
KEYS = {"managed": GATEWAY_KEY, "demo": GATEWAY_KEY, "passthrough": "your Cloudflare API token as a Bearer token"}


def wants_html(accept: str) -> bool:
    """True when the client names `text/html` and likes it at least as much as `application/json` (a browser);
    `*/*` alone (curl, the SDKs) or an API client's `application/json` gets JSON."""
    html = json = 0.0
    for item in accept.split(","):
        media_type, *params = (part.strip() for part in item.split(";"))
        quality = next((_quality(p[2:]) for p in params if p.lower().startswith("q=")), 1.0)
        if media_type.lower() == "text/html":
            html = max(html, quality)
        elif media_type.lower() == "application/json":
            json = max(json, quality)
    return html > 0 and html >= json


def _quality(value: str) -> float:
    try:
        return min(max(float(value), 0.0), 1.0)
    except ValueError:
        return 0.0


STYLE = """
body{margin:0;background:#f3f5f8;color:#1f2933;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,
"DejaVu Sans",sans-serif}
main{max-width:760px;margin:0 auto;padding:32px 24px}
h1{font-size:26px;margin:0 0 4px}
.demo{background:#fff8e6;border:1px solid #f1d9a6;border-radius:10px;padding:12px 16px;margin:16px 0}
dl{display:grid;grid-template-columns:max-content 1fr;gap:6px 16px;margin:16px 0}
dt{color:#6b7785}
code{font:14px ui-monospace,"DejaVu Sans Mono",monospace;overflow-wrap:anywhere}
a{color:#2457c5}
"""


def render(facts: dict[str, Any]) -> str:
    """The page for a browser, from `facts` (the JSON answer's fields)."""
    urls = facts["base_urls"]
    mode = facts["mode"]
    demo = (
        '<p class="demo" data-mode="demo"><b>Demo mode:</b> no Cloudflare credentials are set, so answers come from '
        "the built-in Workers AI emulator, not from Cloudflare.</p>"
        if facts["demo"]
        else ""
    )
    rows = "".join(
        f"<dt>{label}</dt><dd><code>{escape(urls[kind])}</code></dd>"
        for kind, label in (
            ("openai", "OpenAI clients"),
            ("anthropic", "Anthropic clients"),
            ("deeplx", "DeepLX"),
            ("deepl", "DeepL"),
        )
    )
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>workers-ai-gateway</title><style>{STYLE}</style></head><body><main>"
        f"<h1>workers-ai-gateway <small>{escape(facts['version'])}</small></h1><p>{escape(SUMMARY)}</p>{demo}"
        f'<p>Mode: <b data-mode="{mode}">{mode}</b>. Key: {_code(facts["key"])}.</p>'
        f"<dl>{rows}</dl><ul>"
        '<li><a href="/status">Status</a>: the accounts\' neurons and models today '
        "(with gateway keys set, open it as <code>/status?key=&lt;key&gt;</code>)</li>"
        '<li><a href="/docs">API docs</a> (OpenAPI: <a href="/openapi.json">/openapi.json</a>)</li>'
        '<li><a href="/health">Health</a></li>'
        f"<li>Recipes ({RECIPES_FOR}): {RECIPES}</li>"
        "</ul></main></body></html>"
    )


def _code(text: str) -> str:
    """Plain text with `quoted` parts set as code, escaped."""
    parts = escape(text).split("`")
    return "".join(f"<code>{part}</code>" if index % 2 else part for index, part in enumerate(parts))
