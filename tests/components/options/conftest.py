"""An Options tab wired to a private simulator: services, the tab's reads, and a ticket
for a near-the-money SPY call whose levels are valid against the current price."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from dashboard.app import create_app
from dashboard.components.options.reads import Reads
from dashboard.data_loaders.loop import run_async
from dashboard.options.occ import format_strike
from dashboard.services import Services, build_services
from dashboard.simulator.embedded import SimulatorHandle
from dashboard.trading.orders import reconcile
from tests.conftest import settings_for


@dataclass
class OptionsTab:
    services: Services
    reads: Reads
    sim: SimulatorHandle

    def ticket(self, **overrides: Any) -> dict[str, Any]:
        """Form values for 1 near-the-money SPY call at its ask, entry at spot, T1 +1 %,
        stop −1 %."""
        chain = run_async(self.services.data.fetch_option_chain("SPY")).value
        assert chain is not None and chain.underlying_price is not None
        spot = chain.underlying_price
        quote = min(
            (q for q in chain.quotes if q.contract.right == "C"),
            key=lambda q: abs(float(q.contract.strike) - spot),
        )
        values = {
            "symbol": "SPY",
            "direction": "long",
            "contracts": 1,
            "expiry": quote.contract.expiry.isoformat(),
            "strike": format_strike(quote.contract.strike),  # as the form lists it: 600
            "limit": round(quote.ask, 2),
            "entry": round(spot, 2),
            "target": round(spot * 1.01, 2),
            "stop": round(spot * 0.99, 2),
        }
        values.update(overrides)
        return values

    def open_trade(self) -> int:
        """Review and send ``ticket()``, let the simulator fill it and reconcile: the
        journal's one open trade's id."""
        from dashboard.components.options import ticket as T

        values = self.ticket()
        nonce = T.review(self.services, self.reads, values, None, False)[3]
        assert T.submit(self.services, self.reads, values, None, nonce, None)[1] == "Order sent"
        self.sim.advance(2)  # the simulator fills a marketable limit on its next step
        run_async(reconcile(self.services.data, self.services.journal))
        [trade] = self.services.journal.active_trades()
        return trade.id

    def orders(self) -> list[dict[str, Any]]:
        with self.sim.client() as c:
            return c.get("/v2/orders", params={"status": "all"}).json()


@pytest.fixture
def tab(fresh_sim: SimulatorHandle, tmp_path: Path) -> Iterator[OptionsTab]:
    settings = settings_for(fresh_sim, tmp_path).with_overrides(simulator_url=fresh_sim.url)
    services = build_services(settings, exit_monitor=False)
    create_app(services=services)  # every callback of the tab registers against these ids
    yield OptionsTab(services, Reads(services.data), fresh_sim)
    services.close()
