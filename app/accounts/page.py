"""The status page: a Snapshot as one self-contained HTML document (inline CSS and SVG, no script).

Pure: a Snapshot in, a string out. Every string from outside (ids, reasons, model names) is escaped.
"""

from __future__ import annotations

import time
from html import escape

from app.accounts.snapshot import AccountStatus, ModelUsage, Snapshot

COLOURS = {"ok": "#2f9e6e", "exhausted": "#d9822b", "disabled": "#9aa3ad"}
TOTAL = "#3b6fd8"
ESTIMATE_MARK = "(est.)"  # after neurons counted at an estimated price
CHART_W, CHART_H, CHART_TOP = 480, 96, 8

STYLE = """
*{box-sizing:border-box}
body{margin:0;background:#f3f5f8;color:#1f2933;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,
"DejaVu Sans",sans-serif}
main{max-width:1080px;margin:0 auto;padding:28px 24px 40px}
header{display:flex;flex-wrap:wrap;align-items:baseline;justify-content:space-between;gap:8px;margin-bottom:18px}
h1{font-size:24px;margin:0;font-weight:650;letter-spacing:-.01em}
h1 span{color:#6b7785;font-weight:400}
h2{font-size:17px;margin:0;font-weight:600}
.meta{color:#6b7785;font-size:13.5px}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(180px,1fr));gap:12px;margin-bottom:18px}
.card,.account{background:#fff;border:1px solid #e1e5ea;border-radius:10px;padding:14px 16px}
.card b{display:block;font-size:24px;font-weight:650;font-variant-numeric:tabular-nums}
.card small{color:#6b7785;font-size:12.5px;text-transform:uppercase;letter-spacing:.04em}
.account{margin-bottom:14px}
.top{display:flex;flex-wrap:wrap;align-items:center;gap:10px;margin-bottom:10px}
.id{font:600 16px ui-monospace,"DejaVu Sans Mono",monospace}
.state{border-radius:999px;padding:2px 10px;font-size:12.5px;font-weight:600;color:#fff}
.figures{margin-left:auto;color:#4a5561;font-variant-numeric:tabular-nums;font-size:14px}
.bar{height:14px;border-radius:7px;background:#e6e9ee;overflow:hidden;margin:2px 0 12px}
.bar i{display:block;height:100%;border-radius:7px}
.cols{display:grid;grid-template-columns:minmax(0,2fr) minmax(0,3fr);gap:18px;align-items:start}
@media(max-width:760px){.cols{grid-template-columns:minmax(0,1fr)}}
.label{color:#6b7785;font-size:12.5px;margin-bottom:4px}
table{width:100%;border-collapse:collapse;font-size:13.5px;font-variant-numeric:tabular-nums}
th{font-weight:600;color:#6b7785;text-align:right;border-bottom:1px solid #e1e5ea;padding:4px 6px}
td{text-align:right;border-bottom:1px solid #f0f2f5;padding:4px 6px}
th:first-child,td:first-child{text-align:left}
td,th{white-space:nowrap}
td.model{white-space:normal}
td.model span{white-space:nowrap}
.scroll{overflow-x:auto}
td.err{color:#c2410c;font-weight:600}
.note{background:#fff8e6;border:1px solid #f1d9a6;border-radius:10px;padding:12px 16px;margin-bottom:14px}
.demo{background:#fdecea;border:1px solid #f0b4ad;border-radius:10px;padding:12px 16px;margin-bottom:14px}
h1 .badge{background:#c2410c;color:#fff;border-radius:6px;padding:1px 8px;font-size:14px;font-weight:650;
vertical-align:middle;letter-spacing:.04em}
.empty{color:#6b7785;font-style:italic}
svg text{font:10px system-ui,"DejaVu Sans",sans-serif;fill:#6b7785}
@media(max-width:480px){main{padding:16px 10px 28px}.card,.account{padding:12px 10px}th,td{padding:4px 3px}
table{font-size:12.5px}}
"""


DEMO = (
    "Demo mode: no Cloudflare credentials are set (CF_ACCOUNT_ID / CF_API_TOKEN), so every answer comes from "
    "the built-in Workers AI emulator, not from Cloudflare, and the figures below are the emulator's. Set them "
    "(README, 'Use real Cloudflare') to serve real models."
)


def render(snapshot: Snapshot, *, note: str = "", demo: bool = False) -> str:
    """The whole page; `note` (plain text) is shown above the accounts, e.g. why there are none; `demo` says
    that the gateway answers from the built-in emulator."""
    parts = [
        '<!doctype html><html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width,initial-scale=1">',
        '<meta http-equiv="refresh" content="60">',
        f"<title>Status · workers-ai-gateway · {escape(snapshot.day)}</title><style>{STYLE}</style></head>",
        "<body><main>",
        _header(snapshot, demo),
    ]
    if demo:
        parts.append(f'<div class="demo" id="demo">{escape(DEMO)}</div>')
    parts.append(_cards(snapshot))
    if note:
        parts.append(f'<div class="note">{escape(note)}</div>')
    parts += [_account(account, snapshot) for account in snapshot.accounts]
    if len(snapshot.accounts) > 1:  # with one account the totals would repeat its panel
        parts.append(_totals(snapshot))
    parts.append("</main></body></html>")
    return "".join(parts)


def _header(snapshot: Snapshot, demo: bool) -> str:
    left = max(snapshot.reset_at - snapshot.generated_at, 0)
    badge = ' <b class="badge">DEMO</b>' if demo else ""
    return (
        f"<header><h1>workers-ai-gateway <span>status</span>{badge}</h1>"
        f'<div class="meta">{escape(snapshot.day)} · as of {_clock(snapshot.generated_at, seconds=True)} UTC · '
        f"allowance resets at {_clock(snapshot.reset_at)} UTC (in {left // 3600} h {left % 3600 // 60:02d} min) · "
        f"counters in {escape(snapshot.backend)}</div></header>"
    )


def _cards(snapshot: Snapshot) -> str:
    requests = sum(m.requests for a in snapshot.accounts for m in a.models)
    errors = sum(m.errors for a in snapshot.accounts for m in a.models)
    states = [a.state for a in snapshot.accounts]
    accounts = f"{states.count('ok')} ok / {len(states)}" if states else "none"
    hits, misses = snapshot.cache.get("hits", 0), snapshot.cache.get("misses", 0)
    rate = f"{hits / (hits + misses):.0%}" if hits + misses else "none yet"
    cards = [
        ("Neurons used today", _n(snapshot.neurons_used)),
        ("Neurons saved today", f'<span id="saved">{_n(snapshot.neurons_saved)}</span> <small>by the cache</small>'),
        ("Neurons left today", f"{_n(snapshot.neurons_left)} <small>of {_n(snapshot.daily_allowance)}</small>"),
        ("Accounts", accounts),
        ("Requests · errors", f"{requests:,} · {errors:,}"),
        ("Translation cache", f"{rate} <small>{hits:,} / {hits + misses:,}</small>"),
    ]
    inner = "".join(f'<div class="card"><small>{label}</small><b>{value}</b></div>' for label, value in cards)
    return f'<section class="cards">{inner}</section>'


def _account(account: AccountStatus, snapshot: Snapshot) -> str:
    colour = COLOURS.get(account.state, COLOURS["disabled"])
    share = min(account.neurons_used / account.daily_allowance, 1.0) if account.daily_allowance > 0 else 0.0
    if account.state == "exhausted":
        share = 1.0  # Cloudflare said so, whatever was counted here
    return (
        f'<section class="account" data-account="{escape(account.id)}" data-state="{escape(account.state)}">'
        f'<div class="top"><span class="id">{escape(account.id)}</span>'
        f'<span class="state" style="background:{colour}">{escape(_state(account))}</span>'
        f'<span class="figures">{_n(account.neurons_used)} used · {_n(account.neurons_left)} left '
        f"of {_n(account.daily_allowance)} neurons</span></div>"
        f'<div class="bar" title="{share:.0%} used"><i style="width:{share * 100:.1f}%;background:{colour}"></i></div>'
        '<div class="cols"><div><div class="label">Neurons by UTC hour</div>'
        f"{_chart(account.hourly, colour, _hour(snapshot.generated_at))}</div>"
        f'<div><div class="label">By model</div>{_models(account.models)}</div></div></section>'
    )


def _state(account: AccountStatus) -> str:
    if account.state == "exhausted":
        return f"exhausted until {_clock(account.until)} UTC" if account.until else "exhausted"
    if account.state == "disabled":
        return f"disabled: {account.reason}" if account.reason else "disabled"
    return account.state


def _chart(hourly: tuple[float, ...], colour: str, now_hour: int) -> str:
    """24 bars, h00..h23, scaled to the busiest hour; the current hour outlined."""
    top = max(hourly, default=0.0) or 1.0
    step = CHART_W / 24
    bars = [f'<line x1="0" y1="{CHART_H}" x2="{CHART_W}" y2="{CHART_H}" stroke="#d5dae0"/>']
    for hour, neurons in enumerate(hourly[:24]):
        height = neurons / top * (CHART_H - CHART_TOP)
        x = hour * step + 1.5
        if hour == now_hour:
            bars.append(
                f'<rect x="{x - 1:.1f}" y="0" width="{step - 1:.1f}" height="{CHART_H}" fill="#eef2f7" rx="2"/>'
            )
        bars.append(
            f'<rect x="{x:.1f}" y="{CHART_H - height:.1f}" width="{step - 3:.1f}" height="{height:.1f}" '
            f'fill="{colour}" rx="1.5"><title>{hour:02d}:00 UTC: {_n(neurons)} neurons</title></rect>'
        )
    labels = "".join(
        f'<text x="{hour * step + step / 2:.1f}" y="{CHART_H + 13}" text-anchor="middle">{hour:02d}</text>'
        for hour in range(0, 24, 3)
    )
    peak = f'<text x="{CHART_W}" y="9" text-anchor="end">peak {_n(max(hourly, default=0.0))}</text>'
    return (
        f'<svg viewBox="0 0 {CHART_W} {CHART_H + 16}" width="100%" role="img" aria-label="neurons by hour">'
        f"{''.join(bars)}{labels}{peak}</svg>"
    )


def _models(models: tuple[ModelUsage, ...]) -> str:
    if not models:
        return '<p class="empty">No requests today.</p>'
    rows = "".join(
        f'<tr><td class="model">{_model_id(m.model)}</td><td>{m.requests:,}</td>'
        f"<td{' class=err' if m.errors else ''}>{m.errors:,}</td><td>{_neurons(m)}</td></tr>"
        for m in models
    )
    note = ""
    if any(m.estimated for m in models):
        note = f'<p class="empty">{ESTIMATE_MARK} estimated: Cloudflare publishes no price for this model.</p>'
    return (
        '<div class="scroll"><table><tr><th>Model</th><th>Requests</th><th>Errors</th><th>Neurons</th></tr>'
        f"{rows}</table></div>{note}"
    )


def _model_id(model: str) -> str:
    """An id that may wrap after a `/` and nowhere else: `@cf/meta/llama-3.1-8b-instruct-fast` broken inside
    a name (after a hyphen, say) reads as two different ids."""
    *owners, name = model.split("/")
    return "<wbr>".join([*(f"<span>{escape(part)}/</span>" for part in owners), f"<span>{escape(name)}</span>"])


def _neurons(m: ModelUsage) -> str:
    if not m.estimated:
        return _n(m.neurons)
    hint = "estimated: Cloudflare publishes no price for this model"
    return f'<span title="{hint}">{_n(m.neurons)} {ESTIMATE_MARK}</span>'


def _totals(snapshot: Snapshot) -> str:
    """Every account added up: the gateway's day by hour and by model."""
    totals: dict[str, list[float]] = {}
    estimated: set[str] = set()
    for account in snapshot.accounts:
        for m in account.models:
            row = totals.setdefault(m.model, [0, 0, 0.0])
            row[0], row[1], row[2] = row[0] + m.requests, row[1] + m.errors, row[2] + m.neurons
            if m.estimated:
                estimated.add(m.model)
    models = tuple(
        ModelUsage(name, int(r), int(e), n, name in estimated)
        for name, (r, e, n) in sorted(totals.items(), key=lambda kv: -kv[1][0])
    )
    hourly = tuple(sum(a.hourly[h] for a in snapshot.accounts if h < len(a.hourly)) for h in range(24))
    return (
        '<section class="account" id="totals"><div class="top"><h2>Gateway totals</h2>'
        f'<span class="figures">{_n(snapshot.neurons_used)} neurons today</span></div>'
        '<div class="cols"><div><div class="label">Neurons by UTC hour, every account</div>'
        f"{_chart(hourly, TOTAL, _hour(snapshot.generated_at))}</div>"
        f'<div><div class="label">By model, every account</div>{_models(models)}</div></div></section>'
    )


def _n(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 or value == int(value) else f"{value:,.1f}"


def _clock(moment: int | None, *, seconds: bool = False) -> str:
    return time.strftime("%H:%M:%S" if seconds else "%H:%M", time.gmtime(moment or 0))


def _hour(moment: int) -> int:
    return time.gmtime(moment).tm_hour
