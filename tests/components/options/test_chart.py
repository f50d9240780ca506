"""The signal chart and the payoff of the ticket's contract, against the simulator."""

from __future__ import annotations

import numpy as np

from dashboard.components.options import chart as CH
from dashboard.components.options import signals as S
from tests.components.options.conftest import OptionsTab


def _inside(fig, name: str) -> None:
    """Every point of the level trace ``name`` lies in the figure's x and y ranges."""
    x0, x1 = fig.layout.xaxis.range
    y0, y1 = fig.layout.yaxis.range
    (trace,) = [t for t in fig.data if t.name == name]
    xs, ys = np.asarray(trace.x, float), np.asarray(trace.y, float)
    xs, ys = xs[np.isfinite(xs)], ys[np.isfinite(ys)]
    assert x0 <= xs.min() and xs.max() <= x1, name
    assert y0 <= ys.min() and ys.max() <= y1, name


def test_signal_chart_frames_and_tags_the_board_rows_setup(tab: OptionsTab) -> None:
    fig, title, status = CH.signal_chart(tab.services, tab.reads, None, ["labels"])
    assert fig.layout.meta["empty_kind"] == "empty" and "no signal selected" in str(status)
    rows, _ = S.refresh_signals(tab.services, "all")
    assert len(rows) >= 3
    for row in rows[:3]:  # three signals of the seeded market
        plan = S.load_signal(tab.reads, [row], None)["signal"]
        fig, title, status = CH.signal_chart(tab.services, tab.reads, plan, ["labels"])
        assert title.startswith(f"Signal chart · {plan['symbol']} {plan['timeframe']}")
        assert "no longer" not in str(status)  # the board's own setup, found by its id
        assert any(t.type == "candlestick" for t in fig.data)
        assert fig.layout.uirevision == f"signal-{plan['symbol']}-{plan['timeframe']}-{row['id']}"
        tags = {a.text for a in fig.layout.annotations}
        assert {f"Entry {row['entry']:,.2f}", f"Stop {row['stop']:,.2f}"} <= tags
        if row["target1"] is not None:
            assert f"T1 {row['target1']:,.2f}" in tags
            _inside(fig, "Targets")
        _inside(fig, "Entry")
        _inside(fig, "Stop")
        first, last = fig.layout.meta["frame"]
        assert 40 <= last - first + 1 <= 81
        assert not [t for t in fig.data if (t.name or "").startswith("Other")]
    others, *_ = CH.signal_chart(tab.services, tab.reads, plan, ["labels", "others"])
    names = {t.name for t in others.data}
    assert names >= {"Entry", "Stop"}  # the selected setup is still the one drawn in full


def test_payoff_of_the_ticket_contract(tab: OptionsTab) -> None:
    values = tab.ticket(contracts=2)
    fig, title, status = CH.payoff(tab.reads, values, None)
    assert "fresh" in str(status)
    names = {t.name for t in fig.data}
    assert {"today"} <= names and fig.layout.uirevision.startswith("payoff-SPY")
    assert "2× @" in title and title.startswith("Payoff · SPY")
    # the x range is the trade (stop −1 % to T1 +1 %) with a margin, not ±30 % of spot
    lo, hi = fig.layout.xaxis.range
    assert lo < values["stop"] and values["target"] < hi
    assert hi - lo < 0.05 * values["entry"]
    blank, _, _ = CH.payoff(tab.reads, {**values, "strike": None}, None)
    assert blank.layout.meta["empty_kind"] == "empty"
    bad, _, _ = CH.payoff(tab.reads, {**values, "strike": "0.0001"}, None)
    assert bad.layout.meta["empty_kind"] == "error"


def test_payoff_refuses_a_contract_missing_from_the_chain(tab: OptionsTab) -> None:
    values = tab.ticket(strike="1")
    fig, _, _ = CH.payoff(tab.reads, values, None)
    assert fig.layout.meta["empty_kind"] == "error"
    assert "is not in the chain" in fig.layout.annotations[0].text


def test_the_signal_chart_stops_drawing_a_signal_the_ticket_left(tab: OptionsTab) -> None:
    from dashboard.views.options.ticket import bind, unbind

    rows, _ = S.refresh_signals(tab.services, "all")
    row = rows[0]
    plan = S.load_signal(tab.reads, [row], None)["signal"]
    binding = bind(plan, row, {"symbol": row["symbol"], "direction": row["direction"]})
    drawn, *_ = CH.signal_chart(tab.services, tab.reads, plan, ["labels"], binding)
    assert any(t.type == "candlestick" for t in drawn.data)  # bound: the signal is drawn

    other = "QQQ" if row["symbol"] != "QQQ" else "SPY"
    left = unbind(binding, {"symbol": other, "direction": row["direction"]})
    fig, title, status = CH.signal_chart(tab.services, tab.reads, plan, ["labels"], left)
    assert not [t for t in fig.data if t.type == "candlestick"]
    assert title == "Signal chart "
    assert fig.layout.meta["empty_kind"] == "empty"
    message = " ".join(a.text for a in fig.layout.annotations)
    assert f"left {row['symbol']} {row['timeframe']} {row['label']}" in message
    assert f"now holds {other}" in message
    assert "Reset to signal" in str(status)

    # "Reset to signal" binds it again, and the chart draws it again.
    back = {**left, "state": "bound"}
    again, *_ = CH.signal_chart(tab.services, tab.reads, plan, ["labels"], back)
    assert any(t.type == "candlestick" for t in again.data)
