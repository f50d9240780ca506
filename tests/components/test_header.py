"""The header's badges from the live services: the broker's clock and the connection."""

from __future__ import annotations

from pathlib import Path

from dashboard.components import header
from dashboard.services import build_services
from dashboard.simulator.embedded import SimulatorHandle
from tests.conftest import settings_for


def test_badges_read_the_broker_clock_and_the_connection(
    sim: SimulatorHandle, tmp_path: Path
) -> None:
    services = build_services(settings_for(sim, tmp_path), exit_monitor=False)
    try:
        conn, conn_colour, clock, clock_colour, title = header.update_badges(services)
        assert conn == "CONNECTED" and conn_colour == "success"
        assert clock.startswith(("MARKET OPEN · closes in", "MARKET CLOSED · opens in"))
        assert clock_colour == ("success" if clock.startswith("MARKET OPEN") else "secondary")
        assert title.startswith("Broker clock ") and title.endswith(" · simulator")
        assert " ET · " in title  # New York time, not the machine's zone
        layout = header.layout(services.settings)
        assert "header-regime-badge" in str(layout) and "DEMO" in str(layout)
    finally:
        services.close()
