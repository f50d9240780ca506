"""The dashboard's figure library, in one import: pure functions from data to ``go.Figure``.

Each chart lives in the module of the tab that shows it (``strat_chart``,
``options_charts``, ``portfolio_charts``, ``risk_charts``, ``regime_charts``,
``strategy_charts``); shared helpers are in ``figures``. This module only gathers their
public names, so callers and tests can use one name for the library.
"""

from dashboard.visualizations.figures import empty_figure
from dashboard.visualizations.options_charts import (
    create_options_flow_chart,
    create_payoff_chart,
    create_trade_progress_chart,
)
from dashboard.visualizations.portfolio_charts import create_equity_curve, create_pnl_waterfall
from dashboard.visualizations.regime_charts import (
    create_feature_evolution,
    create_regime_heatmap,
    create_regime_timeline,
)
from dashboard.visualizations.risk_charts import (
    create_greeks_exposure_chart,
    create_heat_chart,
    create_var_histogram,
)
from dashboard.visualizations.strat_chart import create_strat_candlestick_chart
from dashboard.visualizations.strategy_charts import (
    create_pattern_performance_chart,
    create_r_multiple_histogram,
    create_rolling_ratio_chart,
)

__all__ = [
    "create_equity_curve",
    "create_feature_evolution",
    "create_greeks_exposure_chart",
    "create_heat_chart",
    "create_options_flow_chart",
    "create_pattern_performance_chart",
    "create_payoff_chart",
    "create_pnl_waterfall",
    "create_r_multiple_histogram",
    "create_regime_heatmap",
    "create_regime_timeline",
    "create_rolling_ratio_chart",
    "create_strat_candlestick_chart",
    "create_trade_progress_chart",
    "create_var_histogram",
    "empty_figure",
]
