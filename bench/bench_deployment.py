"""The Procfile deployment under Alpaca's rate limit (issue 23): gunicorn's two workers
plus the exit worker, 50 viewers on the Options tab for 3 minutes (1 with ``--quick``) and
an order every 15 s, against the simulator refusing past 200 Alpaca requests in any 60 s.

The scenario lives in ``bench_load.run_deployment`` (same gunicorn set-up as the load
levels); this module names it for ``python -m bench --only bench_deployment`` and lays
out its section of docs/performance.md. Goals: under 1 % of requests refused with 429,
and every order entered in under 2 s.
"""

from __future__ import annotations

from bench.bench_load import (
    BOOK,
    BROKER_LIMIT,
    DETAILS,
    ORDER_EVERY_S,
    PERIOD_S,
    run_deployment,
)


def run(quick: bool = False) -> dict[str, float]:
    return run_deployment(quick)


def _fmt(v: float) -> str:
    return f"{v:,.0f}" if abs(v) >= 100 or float(v).is_integer() else f"{v:.2f}"


def section(r: dict[str, float]) -> list[str]:
    """The docs/performance.md section for ``run``'s figures."""
    rows = [
        ["upstream (Alpaca) requests", _fmt(r["upstream_requests"]),
         f"{_fmt(r['upstream_per_min'])}/min"],
        ["busiest 60 s window (simulator's count)", _fmt(r["busiest_60s"]),
         f"limit {BROKER_LIMIT}; budget {_fmt(r['budget_per_minute'])}/min, at most "
         f"{_fmt(r['budget_window_bound'])} in any 60 s"],
        ["refused with 429", _fmt(r["refused_429"]), f"{r['refused_pct']:.2f}% (goal < 1%)"],
        ["viewer callbacks", _fmt(r["callbacks"]),
         f"{_fmt(r['callback_errors'])} errors; p50 {_fmt(r['callback_p50_ms'])} ms, "
         f"p95 {_fmt(r['callback_p95_ms'])} ms"],
        ["callback responses with a stale label", f"{r['callbacks_showing_stale_pct']:.1f}%",
         "reads the budget deferred past their grace, or that missed the read deadline"],
        ["ticks rendered / shared / previous render / no update (204)",
         f"{r.get('ticks_rendered_pct', 0):.1f}% / {r.get('ticks_shared_pct', 0):.1f}% / "
         f"{r.get('ticks_previous_pct', 0):.1f}% / {r.get('ticks_no_update_pct', 0):.1f}%",
         "a tick never waits: with its render in progress or every render slot taken it gets "
         "the previous render or 204 (the page keeps what it shows)"],
        ["orders entered (submit callback)", _fmt(r["orders"]),
         f"{_fmt(r['orders_sent'])} sent; p50 {_fmt(r['order_p50_ms'])} ms, "
         f"max {_fmt(r['order_max_ms'])} ms (goal < 2,000 ms)"],
        ["budget at the end (`/healthz`)", _fmt(r["budget_sent_last_minute"]),
         f"sent in the last minute; {_fmt(r['budget_yielded_last_minute'])} refreshes yielded"],
    ]  # fmt: skip
    lines = [
        f"{int(r['viewers'])} viewers on the Options tab ({int(r['callbacks_per_tick'])} interval "
        f"callbacks every {PERIOD_S:g} s each) for {r['duration_s']:.0f} s, an order every "
        f"{ORDER_EVERY_S:g} s through the submit callback, gunicorn (2 workers) plus the exit "
        f"worker on one data directory (one request budget in diskcache), against the "
        f"simulator refusing past {BROKER_LIMIT} Alpaca requests in any 60 s "
        f"(`rate_limit_per_minute`); {BOOK} option positions under the exit monitor.",
        "",
        "| figure | value | note |",
        "|---|---|---|",
        *[f"| {a} | {b} | {c} |" for a, b, c in rows],
    ]
    if DETAILS.get("deployment_orders_not_sent"):
        lines += ["", f"Orders not sent: {DETAILS['deployment_orders_not_sent']}"]
    return lines
