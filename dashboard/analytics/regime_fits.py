"""A finished regime fit as the app keeps and shows it: the model's result with the closes
it was fitted on, where they came from and when; and the snapshot the Regime tab reads.

Pure records, apart from the fitting (``regime_service``) so that views can read them
without importing the service or the model's fitting libraries.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal

import pandas as pd

from dashboard.models import DataResult, DataState

if TYPE_CHECKING:
    from dashboard.analytics.regime import RegimeResult

__all__ = ["RegimeFit", "RegimeSnapshot"]


@dataclass(frozen=True, slots=True, eq=False)
class RegimeFit:
    """One finished fit with the closes it was fitted on (the tab plots and measures
    against exactly these)."""

    symbol: str
    result: RegimeResult
    close: pd.Series
    vix: pd.Series | None
    source: str
    day: date  # the trading day this fit belongs to (its cache key)
    data_as_of: datetime  # timestamp of the last daily bar used
    fitted_at: datetime  # wall-clock time the fit finished
    notes: tuple[str, ...] = ()

    def __reduce__(self) -> tuple[Any, ...]:
        # RegimeResult.thresholds is a MappingProxyType, which pickle refuses.
        r = self.result
        fields = {name: getattr(r, name) for name in type(r).__dataclass_fields__}
        fields["thresholds"] = dict(r.thresholds)
        own = {name: getattr(self, name) for name in RegimeFit.__dataclass_fields__}
        own.pop("result")
        return (_rebuild_fit, (fields, own))


def _rebuild_fit(result_fields: dict[str, Any], own: dict[str, Any]) -> RegimeFit:
    from dashboard.analytics.regime import RegimeResult

    result_fields = dict(result_fields)
    result_fields["thresholds"] = MappingProxyType(result_fields["thresholds"])
    return RegimeFit(result=RegimeResult(**result_fields), **own)


@dataclass(frozen=True, slots=True)
class RegimeSnapshot:
    """What the Regime tab shows: the latest fit (maybe older than today while a refresh
    runs), whether a fit is running, and the last error."""

    status: Literal["fitting", "ready", "error"]
    fit: RegimeFit | None
    running: bool
    error: str | None = None

    def as_result(self) -> DataResult[RegimeFit]:
        """The snapshot as a ``DataResult`` for ``status_line``."""
        fit = self.fit
        if fit is None:
            state = DataState.ERROR if self.status == "error" else DataState.EMPTY
            return DataResult(None, "regime model", None, state, self.error)
        source = f"jump model on {fit.symbol} daily · {fit.source}"
        if self.error:
            return DataResult(
                fit, source, fit.fitted_at, DataState.STALE, self.error, fit.fitted_at
            )
        return DataResult(fit, source, fit.fitted_at, DataState.FRESH)
