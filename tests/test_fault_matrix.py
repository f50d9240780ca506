"""The fault matrix in the suite: every upstream family × every fault, through the real
callbacks (POSTed as the browser does) against the simulator.

Short here: a 1.5 s read deadline while the fault is on (30 s while recovery is
checked, so a busy 2-core machine's slow reads are not taken for a failure), refreshes
0.1 s apart (0.3 s after a 429), and only each family's own callbacks.
``bench/bench_faults.py`` runs the full version (production deadline, every callback)
and writes docs/reliability.md. Each cell must show: no callback failure, stale shown
as stale, never "fresh" with an as-of from before the fault, and the baseline back
within ``RECOVERY_REFRESHES`` refreshes after the fault clears.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest

from bench._faultmatrix import FAMILIES, FAULTS, Matrix, layout_values
from dashboard.data_loaders.alpaca import OrderRequest
from dashboard.data_loaders.loop import run_async
from dashboard.services import build_services
from dashboard.simulator.embedded import SimulatorConfig, start_simulator_thread
from tests.conftest import settings_for

READ_DEADLINE = 1.5
PAUSE = 0.1  # between refreshes (production: 5 s), plus a 429's Retry-After (0.2 s)
RECOVERY_REFRESHES = 1  # the stated bound: the first refresh after the fault clears


@pytest.fixture(scope="module")
def matrix(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Matrix]:
    from dashboard.app import create_app

    handle = start_simulator_thread(SimulatorConfig(seed=11, speed=0.0, port=0))
    handle.advance_to_open()
    tmp = tmp_path_factory.mktemp("faults")
    settings = settings_for(handle, tmp).with_overrides(
        simulator_url=handle.url,
        cache_ttl_seconds=30.0,  # refreshes expire reads explicitly (the worst tick)
        read_deadline_seconds=30.0,  # for the warm-up; the cells run on READ_DEADLINE
        alpaca_rate_limit_per_minute=100_000,  # the budget is not under test here
        watchlist=("SPY", "QQQ"),
    )
    services = build_services(settings, exit_monitor=False)
    data = services.data
    run_async(data.submit_order(OrderRequest("SPY", Decimal("2"), "buy", "market")))
    # A resting order, so the open-orders body is more than "[]" (a trickle takes time).
    resting = OrderRequest("QQQ", Decimal("1"), "buy", "limit", limit_price=Decimal("1.00"))
    run_async(data.submit_order(resting))
    handle.advance(5)
    app = create_app(services=services)
    values = layout_values(app)
    expiries = run_async(data.listed_expiries("SPY"))
    values.update(
        {
            "options-symbol.value": "SPY",
            "options-chain-expiry.value": expiries[0].isoformat() if expiries else None,
            "options-selected-signal.data": {
                "symbol": "SPY",
                "timeframe": "1Day",
                "label": "2-1-2U",
            },
            "portfolio-period.value": "1M",
        }
    )
    keys = [k for f in FAMILIES.values() for k in f.callbacks]
    warm = Matrix(app, services, lambda cfg: None, values, read_deadline=30.0, pause=0.0)
    warm.refresh([warm._key(k) for k in dict.fromkeys(keys)], None)  # cold caches, pools
    data.cache.read_deadline = READ_DEADLINE
    m = Matrix(
        app,
        services,
        lambda cfg: handle.set_faults(cfg) if cfg else handle.clear_faults(),
        values,
        read_deadline=READ_DEADLINE,
        pause=PAUSE,
        recovery_deadline=30.0,  # a busy CI machine's slow read is not a failure to recover
    )
    try:
        yield m
    finally:
        handle.clear_faults()
        services.close()
        handle.stop()


@pytest.mark.parametrize("fault", list(FAULTS))
@pytest.mark.parametrize("family", list(FAMILIES))
def test_fault_cell(matrix: Matrix, family: str, fault: str) -> None:
    cell = matrix.run_cell(family, fault, max_recovery=RECOVERY_REFRESHES + 1)
    assert cell.failed == 0, cell.failures
    assert cell.frozen_fresh == [], cell.frozen_fresh
    if FAMILIES[family].stale_expected:
        assert cell.stale_shown, f"{family} × {fault}: no stale/error label during the fault"
    assert cell.refreshes_to_recover is not None, f"{family} × {fault}: did not recover"
    assert cell.refreshes_to_recover <= RECOVERY_REFRESHES


def test_matrix_covers_every_family_and_fault() -> None:
    names = set(FAMILIES)
    assert names == {
        "account",
        "positions",
        "orders",
        "bars",
        "clock",
        "option chains",
        "thetadata",
    }
    assert set(FAULTS) == {
        "429 + Retry-After",
        "500",
        "503",
        "time-out",
        "dropped connection",
        "malformed JSON",
        "trickled body",
    }
