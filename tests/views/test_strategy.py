"""Strategy view: edge tables, journal rows and the date range on hand-worked values."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal
from types import SimpleNamespace

import pandas as pd

from dashboard.analytics.strategy import strategy_by_id
from dashboard.views import strategy as tab
from tests.views._backtests import NOW, NY, TRADES, _runs, _trade


def test_edge_rows_format_the_edge_table() -> None:
    table = pd.DataFrame(
        [
            {
                "pattern": "2-1-2",
                "timeframe": "1Day",
                "trades": 4,
                "wins": 3,
                "win_rate": 0.75,
                "win_rate_low": 0.30059,
                "win_rate_high": 0.95442,
                "expectancy_r": 0.5,
                "expectancy_low": -1.2345,
                "expectancy_high": 2.2345,
                "profit_factor": 2.5,
                "avg_win_r": 1.0,
                "avg_loss_r": -1.0,
                "total_r": 2.0,
            }
        ]
    )
    (row,) = tab.edge_rows(table)
    assert row["id"] == "2-1-2|1Day"
    assert row["win_rate_pct"] == 75.0
    assert row["win_rate_ci"] == "30.1 … 95.4"
    assert row["expectancy_ci"] == "-1.23R … +2.23R"
    assert (row["expectancy_r"], row["profit_factor"], row["total_r"]) == (0.5, 2.5, 2.0)
    (stat,) = tab.pattern_stats(table, multi_timeframe=True)
    assert (stat.pattern, stat.trades, stat.wins, stat.expectancy_r) == ("2-1-2 · 1Day", 4, 3, 0.5)


def test_journal_rows_group_closed_trades() -> None:
    def t(status: str, pnl: str, pattern: str = "2-1-2") -> SimpleNamespace:
        return SimpleNamespace(
            status=status, pattern=pattern, timeframe="1Day", realized_pnl=Decimal(pnl)
        )

    rows = tab.journal_rows([t("closed", "120"), t("closed", "-80"), t("open", "999")])
    assert rows == [
        {
            "group": "2-1-2 · 1Day",
            "trades": 2,
            "wins": 1,
            "win_rate_pct": 50.0,
            "realized_pnl": 40.0,
        }
    ]


def test_edge_by_regime_tags_each_trade_with_the_regime_known_before_its_entry() -> None:
    from types import SimpleNamespace

    import pandas as pd

    days = pd.date_range("2026-01-05", periods=4, freq="D", tz="America/New_York")
    regimes = pd.Series(["TREND_BULL", "TREND_BULL", "CRASH", "CRASH"], index=days)

    def trade(r: float | None, day: int, hour: int = 10) -> SimpleNamespace:
        when = days[day] + pd.Timedelta(hours=hour)
        return SimpleNamespace(r_multiple=r, entry_time=when.to_pydatetime())

    trades = [trade(2.0, 0), trade(-1.0, 1), trade(-1.0, 2), trade(None, 3), trade(1.5, 3)]
    rows = {r["id"]: r for r in tab.edge_by_regime(trades, regimes)}
    # Each trade gets the previous session's label: Jan 5 has none yet, Jan 6 and 7 get
    # Jan 5's and 6's TREND_BULL, Jan 8 gets Jan 7's CRASH (the open trade is left out).
    assert rows["before the model"]["trades"] == 1
    assert rows["TREND_BULL"]["trades"] == 2 and rows["TREND_BULL"]["expectancy_r"] == -1.0
    assert rows["CRASH"]["trades"] == 1 and rows["CRASH"]["expectancy_r"] == 1.5
    assert rows["CRASH"]["regime"] == "Crash"
    assert tab.edge_by_regime(trades, None) == []


def test_parse_date_range() -> None:
    assert tab.parse_date_range(None, None) == tab.DateRange()
    r = tab.parse_date_range("2024-01-02", "2024-01-05T00:00:00")
    assert (r.start, r.end, r.error) == (date(2024, 1, 2), date(2024, 1, 5), None)
    assert "after end" in (tab.parse_date_range("2024-02-01", "2024-01-01").error or "")
    assert "not a date" in (tab.parse_date_range("junk", None).error or "")


def test_option_rows_bucket_dte_and_delta() -> None:
    opt = [
        _trade("2024-01-02", "2024-01-03 15:00", 0.8, 1, dte_at_entry=14, delta_at_entry=0.52),
        _trade("2024-01-03", "2024-01-05 16:00", -0.4, 2, dte_at_entry=35, delta_at_entry=-0.3),
        _trade("2024-01-03", "2024-01-05 16:00", -0.6, 4, dte_at_entry=14, delta_at_entry=0.45),
    ]
    rows = {r["id"]: r for r in tab.option_rows(opt)}
    assert rows["14–29 DTE"]["trades"] == 2 and rows["14–29 DTE"]["expectancy_r"] == 0.1
    assert rows["30–59 DTE"]["expectancy_r"] == -0.4
    assert rows["0.40–0.60"]["bucket"] == "|Δ| 0.40–0.60" and rows["0.40–0.60"]["trades"] == 2
    assert rows["0.20–0.40"]["win_rate"] == 0.0
    view = tab.strategy_view(
        _runs(opt), [], [], ["1Day"], strategy_by_id("opt50"), tab.DateRange(), NOW
    )
    assert view.option_rows == tab.option_rows(opt) and view.option_note.startswith("modelled")


def test_journal_dte_rows() -> None:
    frame = pd.DataFrame(
        {
            "dte_bucket": ["14–29 DTE", "14–29 DTE", "0–6 DTE", None],
            "realized_pnl": [125.0, -50.0, -500.0, 10.0],
            "r_multiple": [0.25, -0.1, -1.0, 0.5],
        }
    )
    rows = {r["id"]: r for r in tab.journal_dte_rows(frame)}
    assert set(rows) == {"14–29 DTE", "0–6 DTE"}
    assert rows["14–29 DTE"] == {
        "id": "14–29 DTE",
        "bucket": "14–29 DTE",
        "trades": 2,
        "win_rate": 50.0,
        "expectancy_r": 0.07,
        "realized_pnl": 75.0,
    }


def test_trades_csv_follows_the_range() -> None:
    csv = tab.trades_csv(_runs(TRADES), tab.DateRange(None, date(2024, 1, 3)))
    frame = pd.read_csv(io.StringIO(csv))
    assert frame["entry_index"].tolist() == [1, 2]
    assert frame["tfc_aligned"].tolist() == [True, False]


def test_period_end_closes_date_a_bar_when_its_close_is_known() -> None:
    starts = pd.DatetimeIndex(["2024-01-01", "2024-02-01", "2024-03-01"], tz=NY)
    monthly = tab.period_end_closes(pd.Series([1.0, 2.0, 3.0], index=starts), "1Month")
    # January's close is known on Jan 31; the last (forming) bar keeps its start.
    assert monthly.index.strftime("%Y-%m-%d").tolist() == ["2024-01-31", "2024-02-29", "2024-03-01"]
    mondays = pd.DatetimeIndex(["2024-01-08", "2024-01-15"], tz=NY)
    weekly = tab.period_end_closes(pd.Series([1.0, 2.0], index=mondays), "1Week")
    assert weekly.index.strftime("%Y-%m-%d").tolist() == ["2024-01-12", "2024-01-15"]
    daily = tab.period_end_closes(pd.Series([1.0, 2.0], index=mondays), "1Day")
    assert daily.index.strftime("%Y-%m-%d").tolist() == ["2024-01-08", "2024-01-15"]
