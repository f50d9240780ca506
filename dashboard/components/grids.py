"""One AG Grid look for every table, on AG Grid 33+'s theming API (not legacy CSS classes)."""

from __future__ import annotations

from typing import Any

import dash_ag_grid as dag

# Evaluated by dash-ag-grid in the browser; colours match assets/10-dashboard.css.
GRID_THEME = {
    "function": (
        "themeAlpine.withParams({backgroundColor: '#15101a', foregroundColor: '#e8e3ec',"
        " headerBackgroundColor: '#1d1622', oddRowBackgroundColor: '#181220',"
        " borderColor: '#2d2435', accentColor: '#5bc0de', fontFamily: 'inherit',"
        " fontSize: 12, rowHeight: 28, headerHeight: 30})"
    )
}


def data_grid(
    id_: str,
    columns: list[dict[str, Any]],
    height: str = "300px",
    *,
    grid_options: dict[str, Any] | None = None,
    **kwargs: Any,
) -> dag.AgGrid:
    """A sortable, resizable grid; ``grid_options`` adds to the shared options."""
    options: dict[str, Any] = {
        "theme": GRID_THEME,
        "animateRows": False,
        "suppressCellFocus": True,
    }
    options.update(grid_options or {})
    return dag.AgGrid(
        id=id_,
        columnDefs=columns,
        rowData=[],
        defaultColDef={"sortable": True, "resizable": True, "filter": True},
        style={"height": height, "width": "100%"},
        dashGridOptions=options,
        **kwargs,
    )
