"""The shared UI kit: cards, graphs and grids look the same on every tab, and no tab
imports another tab's layout helpers.

AG Grid uses its 33+ theming API (not legacy CSS classes); numbers stay numbers in the
grid (a column formatter shows them), so sorting and filtering work on values.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import dash_ag_grid as dag
import dash_bootstrap_components as dbc
from dash import ClientsideFunction, Dash, Input, Output, State, dcc, html
from dash.exceptions import PreventUpdate

from dashboard.components.status import loading_line
from dashboard.visualizations.figures import skeleton_figure

# Evaluated by dash-ag-grid in the browser; colours match assets/10-dashboard.css.
_GRID_PARAMS = (
    "backgroundColor: '#15101a', foregroundColor: '#e8e3ec',"
    " headerBackgroundColor: '#1d1622', oddRowBackgroundColor: '#181220',"
    " borderColor: '#2d2435', accentColor: '#5bc0de', fontFamily: 'inherit',"
    " fontSize: 12, rowHeight: 28, headerHeight: 30"
)


def grid_theme(cell_padding: int | None = None) -> dict[str, str]:
    """The grids' theme, made once per parameter set in the browser
    (assets/12-grid-theme.js), not once per grid render."""
    extra = "" if cell_padding is None else f", cellHorizontalPadding: {cell_padding}"
    return {"function": f"sharedTheme(themeAlpine, {{{_GRID_PARAMS}{extra}}})"}


GRID_THEME = grid_theme()
# Dense numeric grids (the option chain): less padding per cell, so two dozen columns
# fit a 1400 px window.
COMPACT_GRID_THEME = grid_theme(6)
GRAPH_CONFIG: Any = {"displaylogo": False, "responsive": True}


def data_grid(
    id_: str,
    columns: list[dict[str, Any]],
    height: str = "300px",
    *,
    grid_options: dict[str, Any] | None = None,
    column_defaults: dict[str, Any] | None = None,
    **kwargs: Any,
) -> dag.AgGrid:
    """A sortable, resizable grid; ``grid_options`` adds to the shared options and
    ``column_defaults`` to the shared column defaults. It has no rows until its callback
    answers, so AG Grid shows its loading overlay, not "No Rows To Show"."""
    options: dict[str, Any] = {
        "theme": GRID_THEME,
        "animateRows": False,
        "suppressCellFocus": True,
    }
    options.update(grid_options or {})
    return dag.AgGrid(
        id=id_,
        columnDefs=columns,
        defaultColDef={
            "sortable": True,
            "resizable": True,
            "filter": True,
            **(column_defaults or {}),
        },
        style={"height": height, "width": "100%"},
        dashGridOptions=options,
        **kwargs,
    )


def _d3(fmt: str) -> dict[str, str]:
    return {"function": f"params.value == null ? '' : d3.format('{fmt}')(params.value)"}


SIGNED_CLASSES = {"text-bull": "params.value > 0", "text-bear": "params.value < 0"}


def money_col(field: str, header: str, *, coloured: bool = False, **extra: Any) -> dict[str, Any]:
    """A right-aligned dollar column ($1,234.56); ``coloured`` greens gains, reds losses."""
    col: dict[str, Any] = {
        "field": field,
        "headerName": header,
        "type": "rightAligned",
        "filter": "agNumberColumnFilter",
        "valueFormatter": _d3("$,.2f"),
        **extra,
    }
    if coloured:
        col["cellClassRules"] = SIGNED_CLASSES
    return col


def num_col(
    field: str, header: str, fmt: str = ",.2f", *, coloured: bool = False, **extra: Any
) -> dict[str, Any]:
    """A right-aligned number column in a d3 format (",.2f", "+.0f", ".2f" …)."""
    col: dict[str, Any] = {
        "field": field,
        "headerName": header,
        "type": "rightAligned",
        "filter": "agNumberColumnFilter",
        "valueFormatter": _d3(fmt),
        **extra,
    }
    if coloured:
        col["cellClassRules"] = SIGNED_CLASSES
    return col


def graph(id_: str, height: str | None = "320px", loading_text: str = "loading…") -> dcc.Graph:
    """A chart slot that shows its loading state until the first callback draws it;
    ``height=None`` leaves the figure's own height."""
    return dcc.Graph(
        id=id_,
        figure=skeleton_figure(loading_text),
        config=GRAPH_CONFIG,
        style={"height": height} if height else {},
        className="chart-skeleton",
    )


def card(title: Any, body: Any, *, status_id: str | None = None, extra: Any = None) -> dbc.Card:
    """A titled card; ``status_id`` adds the block's status line (loading until the first
    refresh), ``extra`` sits in the header after the title (a control, a note)."""
    header: list[Any] = [html.Span(title) if isinstance(title, str) else title]
    if extra is not None:
        header.append(extra)
    content = list(body) if isinstance(body, list) else [body]
    if status_id is not None:
        content.append(html.Div(loading_line(), id=status_id, className="mt-1"))
    return dbc.Card(
        [
            dbc.CardHeader(header, className="d-flex flex-wrap gap-2 align-items-center"),
            dbc.CardBody(content),
        ],
        className="mb-3",
    )


def slow_loading(child: Any) -> dcc.Loading:
    """A spinner only when an update is slow, over content that stays visible: interval
    refreshes must not blank the grids and charts every few seconds."""
    return dcc.Loading(
        child,
        type="dot",
        delay_show=1500,
        overlay_style={"visibility": "visible", "opacity": 0.6},
    )


def lazy_block(id_: str, placeholder: str) -> html.Div:
    """A block below the fold that mounts when it is scrolled near (``register_lazy``):
    a page load that never reaches it pays for none of its graphs, grids or callbacks.
    The page-wide watcher in assets/20-tabs.js finds it by its ``lazy-block`` class and
    reports it in ``<id_>-seen``."""
    return html.Div(
        [
            html.Div(placeholder, id=id_, className="small text-muted lazy-block"),
            dcc.Store(id=f"{id_}-seen", data=False),
        ]
    )


def shown_block(id_: str) -> html.Div:
    """A block that mounts the first time the page shows it: a clientside callback sets
    its ``<id_>-seen`` store (``register_lazy``). Until then it holds nothing, so a load
    that never shows it draws none of its graphs and needs no plotly.js for them."""
    return html.Div([html.Div(id=id_), dcc.Store(id=f"{id_}-seen", data=False)])


def register_lazy(app: Dash, id_: str, build: Callable[[], Any]) -> None:
    """Fill ``lazy_block(id_)`` with ``build()`` once the browser reports it within
    200 px of the viewport (the page-wide watcher in assets/20-tabs.js sets its ``-seen``
    store: from the page's first scroll, or 1.5 s after the block appears, once the tab's
    layout has its heights), or ``shown_block(id_)`` once it is shown. Callbacks whose
    outputs are in the built block then run, as for any layout Dash adds."""

    # Not on a page load: the block is unseen then, and the watcher's report triggers it.
    @app.callback(Output(id_, "children"), Input(f"{id_}-seen", "data"), prevent_initial_call=True)
    def _mount(seen: bool | None) -> Any:
        if not seen:
            raise PreventUpdate
        return build()


def form_field(label: str, control: Any, feedback_id: str, width: int = 6) -> dbc.Col:
    """A labelled form control with its inline message slot (``feedback_id``) below."""
    return dbc.Col(
        [
            dbc.Label(label, className="small mb-0"),
            control,
            html.Div(id=feedback_id, className="invalid-feedback d-block small"),
        ],
        xs=12,
        sm=width,
        className="mb-2",
    )


def number_input(
    id_: str, step: float | str = "any", min_: float | None = None, value: float | None = None
) -> dbc.Input:
    """A small numeric input that reports its value when the user stops typing."""
    return dbc.Input(
        id=id_, type="number", step=step, min=min_, size="sm", debounce=True, value=value
    )


def zoom_memory(graph_id: str) -> dcc.Store:
    """Where the browser keeps ``graph_id``'s zoom between refreshes (``register_zoom``)."""
    return dcc.Store(id=f"{graph_id}-zoom")


def register_zoom(app: Dash, graph_id: str) -> None:
    """Keep ``graph_id``'s zoom in its ``zoom_memory`` store; the figure's callback reads it
    as State and passes it to ``figures.apply_zoom``."""
    app.clientside_callback(
        ClientsideFunction(namespace="charts", function_name="keepZoom"),
        Output(f"{graph_id}-zoom", "data"),
        Input(graph_id, "relayoutData"),
        State(graph_id, "figure"),
        State(f"{graph_id}-zoom", "data"),
        prevent_initial_call=True,
    )


def fixed_graph(id_: str, height: int, figure: Any = None) -> dcc.Graph:
    """A chart slot of a fixed pixel height that the first callback draws into; a
    skeleton in its shape until then, unless ``figure`` says what it shows before."""
    return dcc.Graph(
        id=id_,
        figure=skeleton_figure() if figure is None else figure,
        config=GRAPH_CONFIG,
        style={"height": f"{height}px"},
        className="chart-skeleton",
    )
