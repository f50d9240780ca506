"""The dashboard's one Plotly template ("strat_dark"): colours, fonts and chart defaults.

Every figure uses this template (``install_theme`` makes it plotly's default), so the dark theme, the STRAT type
colours and the regime colours are defined once. The values mirror the CSS variables in
``dashboard/assets/10-dashboard.css`` (background, card, text, bull/bear/warn), so charts
sit on the page without a visible seam. Fonts are a system stack (no web-font download:
the app must work offline and under a strict CSP).
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Final

import plotly.graph_objects as go
import plotly.io as pio

from dashboard.analytics.regimes import REGIME_ORDER as ANALYTICS_REGIME_ORDER
from dashboard.analytics.regimes import Regime

TEMPLATE_NAME: Final = "strat_dark"

# Surfaces and text (same as the CSS :root variables).
BACKGROUND: Final = "#090008"
CARD: Final = "#15101a"
BORDER: Final = "#2e2535"
GRID: Final = "#241c2a"
TEXT: Final = "#e6e1ea"
MUTED: Final = "#9c93a6"

# Direction and P&L.
BULL: Final = "#26a69a"
BEAR: Final = "#ef5350"
WARN: Final = "#f0b429"
NEUTRAL: Final = "#8a8494"
PROFIT: Final = BULL
LOSS: Final = BEAR
ACCENT: Final = "#7aa2f7"  # entry lines, equity, highlights
BENCHMARK: Final = "#b39ddb"

FONT_FAMILY: Final = (
    'Inter, "Segoe UI", Roboto, "Helvetica Neue", "Noto Sans", "Liberation Sans", Arial, sans-serif'
)
MONO_FAMILY: Final = (
    '"JetBrains Mono", "SFMono-Regular", Menlo, Consolas, "Liberation Mono", monospace'
)

# STRAT bar types by display label: 1 grey, 2U green, 2D red, 3 yellow ("" = first bar).
STRAT_COLORS: Final = MappingProxyType(
    {"1": "#9e9e9e", "2U": BULL, "2D": BEAR, "3": "#ffd54f", "": "#5c5566"}
)
# STRAT bar types by engine code (dashboard.strat.bars): 1, 2, -2, 3, 0.
STRAT_CODE_COLORS: Final = MappingProxyType(
    {1: STRAT_COLORS["1"], 2: BULL, -2: BEAR, 3: STRAT_COLORS["3"], 0: STRAT_COLORS[""]}
)

# Regime names and colours are the ``Regime`` type's; these are views of it by code.
REGIME_COLORS: Final = MappingProxyType({str(r): r.colour for r in Regime})
REGIME_NAMES: Final = MappingProxyType({str(r): r.label for r in Regime})
REGIME_ORDER: Final = tuple(str(r) for r in reversed(ANALYTICS_REGIME_ORDER))  # crash first
UNKNOWN_REGIME_COLOR: Final = "#3a3340"

# Level lines on the STRAT chart.
LEVEL_COLORS: Final = MappingProxyType({"entry": ACCENT, "stop": BEAR, "target": BULL})

COLORWAY: Final = (ACCENT, BULL, WARN, BENCHMARK, BEAR, "#4dd0e1", "#f06292", "#aed581")


def _build_template() -> go.layout.Template:
    axis = {
        "gridcolor": GRID,
        "linecolor": BORDER,
        "zerolinecolor": BORDER,
        "tickcolor": BORDER,
        "tickfont": {"color": MUTED},
        "title": {"font": {"color": MUTED}},
        "automargin": True,
    }
    layout = go.Layout(
        paper_bgcolor=BACKGROUND,
        plot_bgcolor=BACKGROUND,
        font={"family": FONT_FAMILY, "color": TEXT, "size": 12},
        title={"font": {"size": 14, "color": TEXT}, "x": 0.01, "xanchor": "left"},
        colorway=list(COLORWAY),
        xaxis=axis,
        yaxis=axis,
        legend={
            "bgcolor": "rgba(0,0,0,0)",
            "font": {"color": MUTED, "size": 11},
            "orientation": "h",
            "yanchor": "bottom",
            "y": 1.01,
            "xanchor": "left",
            "x": 0,
        },
        hoverlabel={
            "bgcolor": CARD,
            "bordercolor": BORDER,
            "font": {"family": MONO_FAMILY, "color": TEXT, "size": 11},
        },
        margin={"l": 48, "r": 16, "t": 36, "b": 32},
        hovermode="closest",
    )
    return go.layout.Template(layout=layout)


TEMPLATE: Final = _build_template()


def install_theme() -> None:
    """Make "strat_dark" plotly's default template and the stdlib its JSON engine.

    Called by ``create_app`` (and the tests' conftest), not at import: these are
    process-wide plotly settings. The default rather than a template named per figure:
    plotly deep-copies and re-validates a named template on every figure (about 5 ms
    each, most of a small figure's build time), while the default is attached as already
    validated. Dash serialises every callback response with plotly's JSON encoder; its
    orjson engine (the "auto" choice when orjson is installed) first walks the whole value
    in Python and measured 1.1-3.5x slower than the standard-library engine on our
    responses (bench/).
    """
    pio.templates[TEMPLATE_NAME] = TEMPLATE
    pio.templates.default = TEMPLATE_NAME
    pio.json.config.default_engine = "json"


def strat_color(label: str) -> str:
    """Colour for a bar-type label ("1", "2U", "2D", "3"; anything else = unclassified)."""
    return STRAT_COLORS.get(label, STRAT_COLORS[""])


def regime_color(regime: str) -> str:
    """Colour for a regime name; unknown regimes get a neutral dark colour, not an error."""
    return REGIME_COLORS.get(regime, UNKNOWN_REGIME_COLOR)


def pnl_color(value: float) -> str:
    """Green for ≥ 0, red for < 0."""
    if value != value:  # NaN
        return NEUTRAL
    return PROFIT if value >= 0 else LOSS
