"""Embedded market simulator and paper broker speaking Alpaca's and ThetaData's REST APIs.

``start_simulator_thread(SimulatorConfig(...))`` serves it on loopback for the demo and
tests; ``python -m dashboard.simulator`` runs it standalone.
"""

from dashboard.simulator.faults import FaultConfig
from dashboard.simulator.simulation import Simulator, SimulatorConfig

__all__ = ["FaultConfig", "Simulator", "SimulatorConfig"]
