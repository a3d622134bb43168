"""OpenAI's legacy billing answers (what OneAPI's and new-api's balance check read), from a Snapshot.

OneAPI computes a channel's balance as `hard_limit_usd - total_usage / 100` (total_usage is in cents,
as OpenAI's was). Workers AI's free allowance is daily, so both figures are for today: the allowance of
every usable account, and how much of it is gone. The balance OneAPI shows is then what is left today.
"""

from __future__ import annotations

from typing import Any

from app.accounts.snapshot import Snapshot

USD_PER_NEURON = 0.011 / 1000  # Workers AI's price past the free allowance
FREE_NEURONS = 10_000  # each account's free allowance a day


def usd(neurons: float) -> float:
    return round(neurons * USD_PER_NEURON, 6)


def allowance(snapshot: Snapshot, *, pooled: bool) -> float:
    """Today's allowance in neurons; without a pool, the one account the caller's key runs on."""
    return snapshot.daily_allowance if pooled else FREE_NEURONS


def subscription(snapshot: Snapshot, *, pooled: bool = True) -> dict[str, Any]:
    """`GET /v1/dashboard/billing/subscription`: the limits are today's allowance in USD."""
    limit = usd(allowance(snapshot, pooled=pooled))
    return {
        "object": "billing_subscription",
        "has_payment_method": False,
        "canceled": False,
        "canceled_at": None,
        "delinquent": None,
        "access_until": snapshot.reset_at,  # the allowance is good until the next 00:00 UTC
        "soft_limit_usd": limit,
        "hard_limit_usd": limit,
        "system_hard_limit_usd": limit,
        "plan": {"title": "Workers AI free allowance", "id": "workers-ai-free"},
        "account_name": "workers-ai-gateway",
        "po_number": None,
        "billing_email": None,
        "tax_ids": None,
        "billing_address": None,
        "business_address": None,
    }


def usage(snapshot: Snapshot, *, pooled: bool = True) -> dict[str, Any]:
    """`GET /v1/dashboard/billing/usage`: today's spent allowance in cents. An exhausted account counts
    whole (Cloudflare said it is used up), a disabled one not at all, so that hard_limit_usd minus this
    is exactly what is left."""
    spent = snapshot.daily_allowance - snapshot.neurons_left if pooled else 0.0
    cents = round(max(spent, 0.0) * USD_PER_NEURON * 100, 6)
    return {
        "object": "list",
        "total_usage": cents,
        "daily_costs": [
            {"timestamp": snapshot.reset_at - 86_400, "line_items": [{"name": "Workers AI neurons", "cost": cents}]}
        ],
    }
