"""A stand-alone Cloudflare Workers AI emulator (its own ASGI app); the gateway never imports it."""

from __future__ import annotations

from app.emulator.app import create_emulator

__all__ = ["create_emulator"]
