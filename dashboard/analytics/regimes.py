"""The market regimes: one type for the model, the journal and every screen.

Kept apart from the regime model (``regime.py``) so that the theme and the views can
name and colour a regime without importing the model's fitting libraries.
"""

from __future__ import annotations

import enum

__all__ = ["REGIME_ORDER", "Regime"]


class Regime(enum.StrEnum):
    """A market regime: its code (what the model and the journal store), its on-screen
    name and its colour. Every screen shows a regime through these, and nothing else."""

    TREND_BULL = "TREND_BULL"
    TREND_NEUTRAL = "TREND_NEUTRAL"
    TREND_BEAR = "TREND_BEAR"
    CRASH = "CRASH"

    @property
    def label(self) -> str:
        return _REGIME_LABELS[self]

    @property
    def colour(self) -> str:
        return _REGIME_COLOURS[self]

    @classmethod
    def parse(cls, value: object) -> Regime | None:
        """The regime a stored code names, or None for anything else (unknown, missing)."""
        try:
            return cls(str(value))
        except ValueError:
            return None


_REGIME_LABELS = {
    Regime.TREND_BULL: "Bull trend",
    Regime.TREND_NEUTRAL: "Neutral",
    Regime.TREND_BEAR: "Bear trend",
    Regime.CRASH: "Crash",
}
_REGIME_COLOURS = {
    Regime.TREND_BULL: "#26a69a",  # the theme's bull green
    Regime.TREND_NEUTRAL: "#78909c",
    Regime.TREND_BEAR: "#ff8a65",
    Regime.CRASH: "#c62828",
}


REGIME_ORDER: tuple[Regime, ...] = (
    Regime.TREND_BULL,
    Regime.TREND_NEUTRAL,
    Regime.TREND_BEAR,
    Regime.CRASH,
)
