"""``python -m bench [--quick] [--only NAME ...]``: run every benchmark in one process and
write docs/performance.md (machine, date, each figure and each ratio of the same run, the
goals of issues 13 and 24 and how far each is). With ``--only``, only the sections and goal
rows of the benchmarks named are rewritten, each marked with its own date and load.

The hand-written notes between the ``notes`` markers of docs/performance.md are kept
across runs. Benchmarks never run inside pytest.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import math
import os
import platform
import sys
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "performance.md"
MICRO = ("bench_strat", "bench_options", "bench_charts", "bench_data_service", "bench_analytics")
WHOLE = ("bench_refresh", "bench_load", "bench_deployment", "bench_pageload", "bench_scanner")
BEGIN, END = "<!-- notes:begin -->", "<!-- notes:end -->"
DEFAULT_NOTES = "_No notes yet._"


def machine() -> dict[str, str]:
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = "unknown"
    try:
        kb = int(Path("/proc/meminfo").read_text().split("MemTotal:")[1].split()[0])
        mem = f"{kb / 2**20:.1f} GiB"
    except (OSError, IndexError, ValueError):
        pass
    load = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    return {
        "CPUs": str(os.cpu_count()),
        "CPU model": model,
        "RAM": mem,
        "Python": platform.python_version(),
        "OS": platform.platform(),
        "Load average (1/5/15 min) at start": load,
    }


def run_one(name: str, quick: bool) -> tuple[dict[str, float] | None, str | None, float]:
    t0 = time.perf_counter()
    try:
        mod = importlib.import_module(f"bench.{name}")
        fn = mod.run
        res = fn(quick=quick) if "quick" in inspect.signature(fn).parameters else fn()
        return dict(res), None, time.perf_counter() - t0
    except Exception:
        return None, traceback.format_exc(limit=6), time.perf_counter() - t0


def _f(v: float) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "—"
    a = abs(v)
    if a >= 1e6:
        return f"{v:,.0f}"
    if a >= 100:
        return f"{v:,.1f}"
    if a >= 1:
        return f"{v:.2f}"
    return f"{v:.4g}"


def _table(head: list[str], rows: list[list[str]]) -> list[str]:
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return out


def _kv(res: dict[str, float]) -> list[str]:
    return _table(["figure", "value"], [[f"`{k}`", _f(v)] for k, v in res.items()])


def refresh_section(r: dict[str, float]) -> list[str]:
    from bench.bench_refresh import BOOKS, LATENCIES_MS, TABS

    lines = [
        "Server time per interval callback (ms, p50 / p95 over "
        f"{int(r.get('repeats', 0))} cold refreshes). *Excl. upstream* = total − upstream wait.",
        "",
    ]
    head = ["tab.callback", "positions", "latency", "total", "upstream", "compute",
            "serialise", "framework", "excl. upstream", "response KB"]  # fmt: skip
    rows = []
    for tab, cbs in TABS.items():
        for name in cbs:
            for n in BOOKS:
                for lat in LATENCIES_MS:
                    tag = f"cb_{tab}_{name}_{n}_{int(lat)}ms"
                    if f"{tag}_total_p50_ms" not in r:
                        continue
                    cells = [
                        f"{_f(r[f'{tag}_{p}_p50_ms'])} / {_f(r[f'{tag}_{p}_p95_ms'])}"
                        for p in ("total", "upstream", "compute", "serialise", "framework",
                                  "excl_upstream")
                    ]  # fmt: skip
                    kb = _f(r[f"{tag}_bytes"] / 1024)
                    rows.append([f"{tab}.{name}", str(n), f"{int(lat)} ms", *cells, kb])
    lines += _table(head, rows)
    lines += ["", "Tab refresh: the tab's callbacks fired at once (wall ms, p50 / p95):", ""]
    rows = []
    for tab in TABS:
        for n in BOOKS:
            for lat in LATENCIES_MS:
                tag = f"tab_{tab}_{n}_{int(lat)}ms"
                if f"{tag}_wall_p50_ms" not in r:
                    continue
                x = r.get(f"{tag}_wall_p50_x_latency")
                rounds = r.get(f"{tag}_upstream_rounds_max")
                rows.append([tab, str(n), f"{int(lat)} ms",
                             f"{_f(r[f'{tag}_wall_p50_ms'])} / {_f(r[f'{tag}_wall_p95_ms'])}",
                             f"{x:.2f}×" if x else "—",
                             f"{rounds:.0f}" if rounds is not None else "—"])  # fmt: skip
    lines += _table(["tab", "positions", "latency", "wall", "p50 ÷ latency", "upstream rounds"],
                    rows)  # fmt: skip
    lines += ["", "*Upstream rounds* (most over the refreshes, each callback traced alone; "
              "meaningful with latency, where concurrent requests overlap): the longest chain of "
              "upstream requests in which each started after the previous one ended "
              "(`bench/_rounds.py`); 1 = every read of the refresh in one concurrent round. The "
              "rest of a refresh's wall time is CPU: the simulator answering (one process) and "
              "the app parsing, on 2 cores."]  # fmt: skip
    seeds = [f"{n}: {_f(r.get(f'book_{n}_filled', 0))} filled" for n in BOOKS]
    lines += ["", "Books opened through the journal and the broker: " + ", ".join(seeds) + "."]
    return lines


def load_section(r: dict[str, float]) -> list[str]:
    from bench.bench_load import DETAILS

    levels = sorted(int(k[1:].split("_")[0]) for k in r if k.endswith("_p50_ms"))
    head = ["viewers", "requests", "p50 ms", "p95 ms", "p99 ms", "errors", "worker CPU (cores)",
            "sim CPU", "max worker RSS MB", "upstream calls/min", "busiest read /min",
            "max calls per read per TTL"]  # fmt: skip
    rows = []
    for n in levels:
        t = f"n{n}"
        rows.append([str(n), _f(r[f"{t}_requests"]), _f(r[f"{t}_p50_ms"]), _f(r[f"{t}_p95_ms"]),
                     _f(r[f"{t}_p99_ms"]), f"{r[f'{t}_error_rate'] * 100:.1f}%",
                     _f(r[f"{t}_cpu_cores"]), _f(r[f"{t}_sim_cpu_cores"]),
                     _f(r[f"{t}_rss_max_mb"]), _f(r[f"{t}_upstream_per_min"]),
                     _f(r[f"{t}_busiest_per_min"]), _f(r[f"{t}_max_calls_per_ttl"])])  # fmt: skip
    lines = [
        f"{int(r.get('callbacks_per_tick', 0))} interval callbacks per viewer every "
        f"{_f(r.get('period_s', 5))} s for {_f(r.get('duration_s', 0))} s per level; "
        f"{int(r.get('workers', 0))} gunicorn workers × {int(r.get('threads', 0))} threads "
        "(gunicorn.conf.py); "
        f"{int(r.get('book', 0))} option positions.",
        "",
        *_table(head, rows),
        "",
    ]
    if levels:
        base = r[f"n{levels[0]}_upstream_per_min"]
        ratios = ", ".join(
            f"{n}: {r[f'n{n}_upstream_per_min'] / base:.2f}×" for n in levels if base
        )
        lines.append(f"Upstream calls/min relative to {levels[0]} viewer(s): {ratios}.")
    for k, v in DETAILS.items():
        lines.append(f"- `{k}`: `{v}`")
    return lines


def deployment_section(r: dict[str, float]) -> list[str]:
    from bench.bench_deployment import section

    return section(r)


def pageload_section(r: dict[str, float]) -> list[str]:
    from bench.bench_pageload import STOCK, TABS

    rows = [
        [
            label,
            _f(r[f"{t}_first_render_s"]),
            _f(r.get(f"{t}_callbacks_answered_s", math.nan)),
            _f(r[f"{t}_drawn_s"]),
            f"{r[f'{t}_x_stock']:.2f}×" if f"{t}_x_stock" in r else "—",
            _f(r.get(f"{t}_filled_s", math.nan)),
            f"{r[f'{t}_filled_x_stock']:.2f}×" if f"{t}_filled_x_stock" in r else "—",
            _f(r.get(f"{t}_script_s", math.nan)),
            _f(r.get(f"{t}_task_s", math.nan)),
            _f(r[f"{t}_graphs"]),
            _f(r[f"{t}_kb"]),
            _f(r.get(f"{t}_js_kb", math.nan)),
        ]
        for t, label in (*STOCK, *TABS)
        if f"{t}_drawn_s" in r
    ]
    head = ["page", "first render s", "callbacks answered s", "all figures drawn s",
            "÷ stock page", "grids filled too s", "÷ stock page", "script s", "busy s",
            "graphs", "KB transferred", "of which JS KB"]  # fmt: skip
    rounds = int(r.get("rounds", 1))
    timed_out = sum(r.get(f"{t}_timed_out", 0) for t, _ in (*STOCK, *TABS))
    return [
        f"Medians of {rounds} rounds, each loading every page once in a fresh browser "
        "context (empty cache), after warm-up loads until each page had drawn once; the "
        "stock page and the tabs side by side in the same run (`bench/bench_pageload.py`), "
        "the simulator's clock at real time. *÷ stock page*: the "
        'median "drawn" over the stock Dash page\'s (one 200-bar candlestick graph, full '
        "plotly.js). *Grids filled too*: drawn, and every AG Grid on the page shows its "
        "rows or says it has none (for Options, the signal board). "
        "*Script s* / *busy s*: Chromium's main thread running JavaScript / "
        'busy at all, up to "drawn". KB are as sent (the app compresses; stock Dash '
        "does not)."
        + (f" {timed_out:.0f} load(s) timed out and are left out." if timed_out else ""),
        "",
        *_table(head, rows),
    ]


def goals(results: dict[str, dict[str, float] | None]) -> list[list[str]]:
    rows: list[list[str]] = []
    r = results.get("bench_refresh") or {}
    if r:
        from bench.bench_refresh import TABS

        worst = max(
            ((f"{t}.{c}", r.get(f"cb_{t}_{c}_100_0ms_excl_upstream_p95_ms", math.nan))
             for t, cbs in TABS.items() for c in cbs),
            key=lambda kv: kv[1],
        )  # fmt: skip
        rows.append(["Interval callback server time excl. upstream, p95, 100 positions",
                     "< 30 ms", f"{_f(worst[1])} ms ({worst[0]})",
                     _verdict(worst[1] < 30, worst[1] / 30)])  # fmt: skip
        for tab in TABS:
            x = r.get(f"tab_{tab}_100_100ms_wall_p50_x_latency", math.nan)
            rows.append([f"{tab} refresh with 100 ms upstream latency (p50, 100 positions)",
                         "< 1.15× latency", f"{x:.2f}×", _verdict(x < 1.15, x / 1.15)])  # fmt: skip
            k = r.get(f"tab_{tab}_100_100ms_upstream_rounds_max", math.nan)
            rows.append([f"{tab} refresh: sequential upstream rounds (100 positions, most)",
                         "1", f"{k:.0f}", _verdict(k <= 1, k)])  # fmt: skip
    ld = results.get("bench_load") or {}
    if "n50_p95_ms" in ld:
        p95, err, per_ttl = ld["n50_p95_ms"], ld["n50_error_rate"], ld["n50_max_calls_per_ttl"]
        rows.append(
            ["50 viewers: p95", "< 250 ms", f"{_f(p95)} ms", _verdict(p95 < 250, p95 / 250)]
        )
        rows.append(["50 viewers: errors", "0", f"{err * 100:.1f}%", _verdict(err == 0, None)])
        rows.append(["50 viewers: upstream calls per endpoint per TTL", "≤ 1",
                     _f(per_ttl), _verdict(per_ttl <= 1.0, per_ttl)])  # fmt: skip
    if ld:
        rss = max((v for k, v in ld.items() if k.endswith("_rss_max_mb")), default=math.nan)
        rows.append(["RSS per worker (max over the load test)", "< 300 MB", f"{_f(rss)} MB",
                     _verdict(rss < 300, rss / 300)])  # fmt: skip
    dp = results.get("bench_deployment") or {}
    if "refused_pct" in dp:
        pct, order = dp["refused_pct"], dp["order_max_ms"]
        rows.append([f"{int(dp['viewers'])} viewers + exit worker under 200/min: 429s", "< 1%",
                     f"{pct:.2f}%", _verdict(pct < 1.0, pct)])  # fmt: skip
        rows.append(["Order entry under that load (slowest)", "< 2 s", f"{order / 1000:.2f} s",
                     _verdict(order < 2000, order / 2000)])  # fmt: skip
    pl = results.get("bench_pageload") or {}
    if pl:
        from bench.bench_pageload import TABS

        def slowest(suffix: str) -> tuple[str, float]:
            worst = max(
                ((t, pl.get(f"{t}{suffix}", math.nan)) for t, _label in TABS),
                key=lambda kv: math.inf if math.isnan(kv[1]) else kv[1],
            )
            return worst[0], math.inf if math.isnan(worst[1]) else worst[1]

        tab, v = slowest("_drawn_s")
        rows.append(["Each tab fully drawn (slowest tab)", "< 1.5 s", f"{_f(v)} s ({tab})",
                     _verdict(v < 1.5, v / 1.5)])  # fmt: skip
        tab, x = slowest("_x_stock")
        rows.append(["Each tab drawn ÷ a stock Dash page drawn (slowest tab; issue 24)",
                     "≤ 1.0×", f"{x:.2f}× ({tab})", _verdict(x <= 1.0, x)])  # fmt: skip
        tab, x = slowest("_filled_x_stock")
        rows.append(["The same with every grid filled too (slowest tab)",
                     "≤ 1.0×", f"{x:.2f}× ({tab})", _verdict(x <= 1.0, x)])  # fmt: skip
    sc = results.get("bench_scanner") or {}
    if sc:
        tfs, plan = sc["timeframes"], sc["planned_requests_30x8_iex"]
        rows.append(["Scanner: upstream requests per cold refresh, 30 symbols × 8 timeframes "
                     "(planned, IEX feed)", f"≤ {tfs:.0f}", f"{plan:.0f}",
                     _verdict(plan <= tfs, plan / tfs)])  # fmt: skip
        got = sc["batched_requests"]
        rows.append([f"Scanner: requests measured, {sc['symbols_fetched']:.0f} symbols × "
                     f"{tfs:.0f} timeframes (sequential: {sc['sequential_requests']:.0f})",
                     f"≤ {tfs:.0f}", f"{got:.0f}", _verdict(got <= tfs, got / tfs)])  # fmt: skip
        ms = sc["scan_compute_ms"]
        rows.append(["Scanner compute per refresh (warm memo), 30 symbols × 8 timeframes",
                     "< 50 ms", f"{_f(ms)} ms",
                     _verdict(ms < 50, ms / 50)])  # fmt: skip
    return rows


def _verdict(ok: bool, factor: float | None) -> str:
    if ok:
        return "met"
    return f"missed ({factor:.1f}× the goal)" if factor and math.isfinite(factor) else "missed"


def notes() -> str:
    if DOC.exists():
        text = DOC.read_text()
        if BEGIN in text and END in text:
            return text.split(BEGIN, 1)[1].split(END, 1)[0].strip()
    return DEFAULT_NOTES


def write_doc(
    facts: dict[str, str],
    results: dict[str, dict[str, float] | None],
    errors: dict[str, str],
    seconds: dict[str, float],
    quick: bool,
    started: datetime,
    end_load: str,
) -> None:
    lines = [
        "# Performance",
        "",
        "Generated by `make bench` (`python -m bench"
        + (" --quick" if quick else "")
        + f"`) on {started:%Y-%m-%d %H:%M} UTC. Every figure and ratio below comes from this "
        f"one run{RERUN_EXCEPT}; nothing is copied from an earlier run. Edit only the notes "
        "section: the runner keeps it and rewrites the rest.",
        "",
        "## Machine",
        "",
        *_table(["", ""], [[k, v] for k, v in facts.items()]),
        f"| Load average at end | {end_load} |",
        "",
        "The machine is shared: a load average above the CPU count means other work ran "
        "alongside the benchmarks and every time below is inflated by it.",
        "",
        GOALS_HEADING,
        "",
        *_table(["goal", "target", "measured", "verdict"], goals(results)),
        "",
        "## What we did about it",
        "",
        BEGIN,
        notes(),
        END,
        "",
    ]
    for name in SECTIONS:
        if name in results:
            lines += _whole_block(name, results, errors, f"_{seconds[name]:.0f} s._")
    lines += _profile_section()
    lines += ["## Micro-benchmarks", ""]
    for name in MICRO:
        if name in results:
            lines += _micro_block(name, results, errors, seconds[name], None)
    DOC.parent.mkdir(parents=True, exist_ok=True)
    DOC.write_text("\n".join(lines).rstrip() + "\n")


SECTIONS = {
    "bench_refresh": ("Refresh cycle (Live Portfolio and Options tabs)", refresh_section),
    "bench_load": ("Load test (gunicorn, production config)", load_section),
    "bench_pageload": ("Page load (headless Chromium)", pageload_section),
    "bench_deployment": ("The deployment under Alpaca's rate limit (issue 23)", deployment_section),
}
GOALS_HEADING = "## Goals (issues 13, 23 and 24)"
RERUN_EXCEPT = " (except any section marked as re-run alone, which gives its own date and load)"


def _failed(name: str, errors: dict[str, str]) -> list[str]:
    return ["Failed:", "", "```", errors[name].strip(), "```", ""]


def _whole_block(
    name: str, results: dict[str, dict[str, float] | None], errors: dict[str, str], note: str
) -> list[str]:
    title, fn = SECTIONS[name]
    res = results[name]
    return [f"## {title}", "", note, "", *(_failed(name, errors) if res is None else fn(res)), ""]


def _micro_block(
    name: str,
    results: dict[str, dict[str, float] | None],
    errors: dict[str, str],
    secs: float,
    note: str | None,
) -> list[str]:
    doc = (importlib.import_module(f"bench.{name}").__doc__ or "").strip().splitlines()
    res = results[name]
    return [
        f"### `bench/{name}.py` ({secs:.0f} s)",
        "",
        *([note, ""] if note else []),
        doc[0] if doc else "",
        "",
        *(_failed(name, errors) if res is None else _kv(res)),
        "",
    ]


def _replace_block(text: str, heading: str, block: list[str], before: str | None) -> str:
    """Replace the block that starts with the line ``heading…`` and runs to the next heading
    of its level or above; without one, insert ``block`` before the line ``before`` (or at
    the end)."""
    lines = text.splitlines()
    level = len(heading) - len(heading.lstrip("#"))
    start = next((i for i, ln in enumerate(lines) if ln.startswith(heading)), None)
    if start is None:
        at = next((i for i, ln in enumerate(lines) if before and ln == before), len(lines))
        return "\n".join([*lines[:at], *block, *lines[at:]])
    end = next(
        (
            i
            for i in range(start + 1, len(lines))
            if lines[i].startswith("#") and 0 < len(lines[i]) - len(lines[i].lstrip("#")) <= level
        ),
        len(lines),
    )
    return "\n".join([*lines[:start], *block, *lines[end:]])


def _merge_goals(text: str, results: dict[str, dict[str, float] | None]) -> str:
    """The goals table with the rows of the benchmarks just run replaced (matched by goal)
    or added, and every other row kept."""
    lines = text.splitlines()
    start = next(i for i, ln in enumerate(lines) if ln.startswith("## Goals"))
    stop = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
    rows_at = [i for i in range(start + 1, stop) if lines[i].startswith("| ")]
    new = {row[0]: row for row in goals(results)}
    kept = []
    for i in rows_at[1:]:  # the first is the header row
        cells = [c.strip() for c in lines[i].strip().strip("|").split("|")]
        kept.append(new.pop(cells[0], cells))
    table = _table(["goal", "target", "measured", "verdict"], [*kept, *new.values()])
    end = rows_at[-1] + 1 if rows_at else start + 1
    return "\n".join([*lines[:start], GOALS_HEADING, "", *table, *lines[end:]])


def update_doc(
    results: dict[str, dict[str, float] | None],
    errors: dict[str, str],
    seconds: dict[str, float],
    started: datetime,
    start_load: str,
    end_load: str,
) -> None:
    """``--only``: rewrite the sections of the benchmarks run and their goal rows in the
    existing docs/performance.md, each marked as re-run alone; keep the rest as it was."""
    text = DOC.read_text()
    text = text.replace("comes from this one run;", f"comes from this one run{RERUN_EXCEPT};")
    text = _merge_goals(text, results)
    for name in results:
        note = (
            f"_{seconds[name]:.0f} s; re-run alone on {started:%Y-%m-%d %H:%M} UTC "
            f"(`python -m bench --only {name}`), load average (1/5/15 min) {start_load} at "
            f"start and {end_load} at end. The other sections are from the run in the header._"
        )
        if name in SECTIONS:
            block = _whole_block(name, results, errors, note)
            text = _replace_block(text, f"## {SECTIONS[name][0]}", block, "## Micro-benchmarks")
        else:
            block = _micro_block(name, results, errors, seconds[name], note)
            text = _replace_block(text, f"### `bench/{name}.py`", block, None)
        if name == "bench_refresh" and (profile := _profile_section()):
            text = _replace_block(text, profile[0], profile, "## Micro-benchmarks")
    DOC.write_text(text.rstrip() + "\n")


def _profile_section() -> list[str]:
    try:
        from bench.bench_refresh import PROFILED
    except ImportError:
        return []
    if not PROFILED:
        return []
    path = Path(PROFILED["path"])
    text = path.read_text().splitlines() if path.exists() else []
    body = [ln for ln in text if ln.strip()][:45]
    return [
        "## Profile of the slowest callback",
        "",
        f"`{PROFILED['callback']}` with {PROFILED['book']} positions, no injected latency, "
        f"cache emptied before each of 10 calls (pyinstrument; full text: "
        f"[{path.relative_to(ROOT)}]({path.relative_to(DOC.parent)})). Time in `run_async` "
        "is the data layer's, on its event-loop thread.",
        "",
        "```",
        *body,
        "```",
        "",
    ]


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    p.add_argument("--quick", action="store_true", help="fewer repeats, shorter load levels")
    p.add_argument(
        "--only",
        nargs="*",
        help="benchmark module names to run (default: all); their sections and goal rows "
        "are rewritten in the existing docs/performance.md and the rest is kept",
    )
    ns = p.parse_args(argv)
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    names = [n for n in (*WHOLE, *MICRO) if not ns.only or n in ns.only]
    started = datetime.now(UTC)
    facts = machine()
    results: dict[str, dict[str, float] | None] = {}
    errors: dict[str, str] = {}
    seconds: dict[str, float] = {}
    for name in names:
        print(f"[bench] {name} …", flush=True)
        res, err, secs = run_one(name, ns.quick)
        results[name], seconds[name] = res, secs
        if err:
            errors[name] = err
            print(f"[bench] {name} failed:\n{err}", flush=True)
        else:
            print(f"[bench] {name} done in {secs:.0f} s", flush=True)
    end_load = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    if ns.only and DOC.exists():
        start_load = facts["Load average (1/5/15 min) at start"]
        update_doc(results, errors, seconds, started, start_load, end_load)
    else:
        write_doc(facts, results, errors, seconds, ns.quick, started, end_load)
    print(f"[bench] wrote {DOC.relative_to(ROOT)}")
    if errors:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
