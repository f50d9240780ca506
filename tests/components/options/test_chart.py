"""The signal chart and the payoff of the ticket's contract, against the simulator."""

from __future__ import annotations

from dashboard.components.options import chart as CH
from dashboard.components.options import signals as S
from tests.components.options.conftest import OptionsTab


def test_signal_chart_draws_the_selected_setup(tab: OptionsTab) -> None:
    fig, title, status = CH.signal_chart(tab.services, tab.reads, None, ["labels"])
    assert fig.layout.meta["empty_kind"] == "empty" and "no signal selected" in str(status)
    rows, _ = S.refresh_signals(tab.services, "all")
    plan = S.load_signal(tab.reads, [rows[0]], None)["signal"]
    fig, title, status = CH.signal_chart(tab.services, tab.reads, plan, ["labels"])
    assert title.startswith(f"Signal chart · {plan['symbol']} {plan['timeframe']}")
    assert any(t.type == "candlestick" for t in fig.data)
    assert fig.layout.uirevision == f"signal-{plan['symbol']}-{plan['timeframe']}"


def test_payoff_of_the_ticket_contract(tab: OptionsTab) -> None:
    values = tab.ticket(contracts=2)
    fig, status = CH.payoff(tab.reads, values, None)
    assert "fresh" in str(status)
    names = {t.name for t in fig.data}
    assert {"today"} <= names and fig.layout.uirevision.startswith("payoff-SPY")
    assert "2× @" in fig.layout.title.text
    blank, _ = CH.payoff(tab.reads, {**values, "strike": None}, None)
    assert blank.layout.meta["empty_kind"] == "empty"
    bad, _ = CH.payoff(tab.reads, {**values, "strike": "0.0001"}, None)
    assert bad.layout.meta["empty_kind"] == "error"


def test_payoff_refuses_a_contract_missing_from_the_chain(tab: OptionsTab) -> None:
    values = tab.ticket(strike="1")
    fig, _ = CH.payoff(tab.reads, values, None)
    assert fig.layout.meta["empty_kind"] == "error"
    assert "is not in the chain" in fig.layout.annotations[0].text
