"""STRAT options trading dashboard."""

__version__ = "0.1.0"
