"""Managing an active trade: the Manage modal, new levels for the exit monitor, close
now (a managed exit at the bid) and a broker-held stop at the option value the
projection gives for the underlying stop: their layout and callbacks."""

from __future__ import annotations

import uuid
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

import dash_bootstrap_components as dbc
from dash import ALL, Dash, Input, Output, State, ctx, html, no_update
from dash.exceptions import PreventUpdate

from dashboard.components.options.trades import TOAST_OUTPUTS, TRADES_VERSION
from dashboard.components.ui import form_field, number_input
from dashboard.data_loaders.loop import run_all, run_async
from dashboard.options.occ import display_occ
from dashboard.options.projection import project_quote
from dashboard.trading.orders import place_broker_stop, place_exit
from dashboard.trading.records import JournalError, TradeStatus
from dashboard.trading.ticket import round_to_tick
from dashboard.views.options.ticket import parse_float

if TYPE_CHECKING:
    from dashboard.services import Services


def close_modal() -> dbc.Modal:
    return dbc.Modal(
        [
            dbc.ModalHeader(dbc.ModalTitle("Close or modify trade")),
            dbc.ModalBody(
                [
                    html.Div(id="options-manage-body", className="mb-2"),
                    dbc.Row(
                        [
                            form_field(
                                "New target",
                                number_input("options-modify-target"),
                                "options-modify-target-error",
                            ),
                            form_field(
                                "New stop",
                                number_input("options-modify-stop"),
                                "options-modify-stop-error",
                            ),
                        ]
                    ),
                    html.Hr(),
                    html.Div(
                        "Broker-held stop (optional safety net): a sell-to-close stop order "
                        "on the option, held by the broker, at the option value the "
                        "projection gives for the underlying stop. The software exit stays "
                        "primary and cancels it before it sells; if the broker stop fills "
                        "first, the trade closes with that fill.",
                        className="small text-muted mb-1",
                    ),
                    html.Div(id="options-broker-stop-why", className="small mb-1"),
                    dbc.Row(
                        [
                            form_field(
                                "Option stop $",
                                number_input("options-broker-stop-price", 0.01, 0),
                                "options-broker-stop-price-error",
                            ),
                            form_field(
                                "Stop-limit $ (blank: stop)",
                                number_input("options-broker-stop-limit", 0.01, 0),
                                "options-broker-stop-limit-error",
                            ),
                        ]
                    ),
                ]
            ),
            dbc.ModalFooter(
                [
                    dbc.Button("Save levels", id="options-modify-save", color="primary", size="sm"),
                    dbc.Button(
                        "Place broker stop",
                        id="options-broker-stop-place",
                        color="warning",
                        size="sm",
                    ),
                    dbc.Button(
                        "Close position now", id="options-close-confirm", color="danger", size="sm"
                    ),
                    dbc.Button("Cancel", id="options-manage-cancel", color="secondary", size="sm"),
                ]
            ),
        ],
        id="options-manage-modal",
        is_open=False,
    )


def broker_stop_default(services: Services, trade: Any) -> tuple[float | None, str]:
    """The option value the projection gives for the underlying stop (full Black-Scholes
    repricing at the stop after the timeframe's expected hold, at the quote's IV), rounded
    down to the tick; or why there is none."""
    if trade.status is not TradeStatus.OPEN:
        return None, f"The trade is {trade.status}; a broker stop needs an open trade."
    quotes, options, clock = run_all(
        services.data.fetch_quotes([trade.underlying]),
        services.data.fetch_option_quotes([trade.contract_symbol]),
        services.data.fetch_clock(),
    )
    q = (quotes.value or {}).get(trade.underlying)
    o = (options.value or {}).get(trade.contract_symbol)
    if q is None or o is None or clock.value is None:
        return None, "No current quote for the projection; enter the option stop yourself."
    try:
        proj = project_quote(
            o,
            spot=q.mid,
            now=clock.value.timestamp,
            stop=trade.stop_level,
            t1=trade.target_level,
            timeframe=trade.timeframe or "1Day",
            entry_price=float(trade.entry_fill_price or o.mid or 0),
        )
    except ValueError as exc:
        return None, f"No projection ({exc}); enter the option stop yourself."
    value = proj.levels["stop"].value
    ticks = services.settings.tick_table()
    price = round_to_tick(trade.underlying, Decimal(str(max(value, 0.01))), down=True, table=ticks)
    if price <= 0:
        return None, "The projected value at the stop is below one tick."
    return float(price), (
        f"Projection: the option is worth about ${value:.2f} with {trade.underlying} at the "
        f"stop {trade.stop_level:,.2f} after {proj.hold_days:g} days at IV {proj.iv:.0%}."
    )


def open_manage(services: Services, trade_id: int | None, cancelled: bool) -> tuple[Any, ...]:
    """(modal open, body, trade id, target, stop, broker stop price, its why) for a
    trade's Manage button."""
    if cancelled:
        return False, no_update, None, no_update, no_update, no_update, no_update
    trade = services.journal.get(int(trade_id)) if trade_id is not None else None
    if trade is None:
        raise PreventUpdate
    body = html.Div(
        [
            html.Div(display_occ(trade.contract_symbol), className="fw-bold"),
            html.Div(
                f"{trade.direction} {trade.underlying} · entry {trade.entry_level:.2f} · "
                f"target {trade.target_level:.2f} · stop {trade.stop_level:.2f} · "
                f"status {trade.status}",
                className="small",
            ),
        ]
    )
    stop_px, why = broker_stop_default(services, trade)
    return True, body, trade.id, trade.target_level, trade.stop_level, stop_px, why


def place_stop(services: Services, trade_id: Any, price: Any, limit: Any) -> tuple[Any, ...]:
    """Place the broker-held stop. Returns (toast open, header, message, icon, modal open,
    trades version, price error, limit error); bad input changes nothing."""
    if trade_id is None:
        raise PreventUpdate

    def money(raw: Any) -> Decimal | None:
        try:
            value = Decimal(str(raw))
        except (InvalidOperation, ValueError):
            return None
        return value if value.is_finite() and value > 0 else None

    stop_px = money(price)
    limit_px = money(limit) if limit not in (None, "") else None
    if stop_px is None or (limit not in (None, "") and limit_px is None):
        return (no_update,) * 6 + (
            "" if stop_px is not None else "Enter a price above zero.",
            "" if limit in (None, "") or limit_px is not None else "Enter a price above zero.",
        )
    result = run_async(
        place_broker_stop(services.data, services.journal, int(trade_id), stop_px, limit_px)
    )
    head = "Broker stop placed" if result.ok else "Broker stop not placed"
    icon = "success" if result.ok else "danger"
    return True, head, result.message, icon, not result.ok, uuid.uuid4().hex, "", ""


def manage(
    services: Services, trade_id: int | None, close_now: bool, target: Any, stop: Any
) -> tuple[Any, ...]:
    """Close now (a managed exit at the bid), or save new levels for the exit monitor.

    Returns (toast open, header, message, icon, modal open, trades version, target error,
    stop error)."""
    if trade_id is None:
        raise PreventUpdate
    if close_now:
        result = run_async(place_exit(services.data, services.journal, int(trade_id), "manual"))
        head = "Close sent" if result.ok else "Close not sent"
        icon = "success" if result.ok else "danger"
        return True, head, result.message, icon, False, uuid.uuid4().hex, "", ""
    new_target, new_stop = parse_float(target), parse_float(stop)
    if new_target is None or new_stop is None:
        return (no_update,) * 6 + (
            "" if new_target is not None else "Enter a number.",
            "" if new_stop is not None else "Enter a number.",
        )
    try:
        services.journal.update_levels(int(trade_id), target=new_target, stop=new_stop)
    except JournalError as exc:  # the trade moved on (closed, exiting)
        return True, "Levels not saved", str(exc), "danger", False, no_update, "", ""
    except ValueError as exc:
        return (no_update,) * 6 + (str(exc), "")
    msg = f"Target {new_target:.2f}, stop {new_stop:.2f} saved; the exit monitor uses them."
    return True, "Levels saved", msg, "success", False, uuid.uuid4().hex, "", ""


# Saving levels, closing now and placing a broker stop also close the manage modal; the
# toast and the trades version are ``trades``'s.
MODAL_OPEN = Output("options-manage-modal", "is_open", allow_duplicate=True)


def register(app: Dash, services: Services) -> None:
    @app.callback(
        Output("options-manage-modal", "is_open"),
        Output("options-manage-body", "children"),
        Output("options-manage-trade", "data"),
        Output("options-modify-target", "value"),
        Output("options-modify-stop", "value"),
        Output("options-broker-stop-price", "value"),
        Output("options-broker-stop-why", "children"),
        Input({"type": "options-manage", "index": ALL}, "n_clicks"),
        Input("options-manage-cancel", "n_clicks"),
        prevent_initial_call=True,
    )
    def _open(clicks: list[int | None], _cancel: int | None) -> tuple[Any, ...]:
        if ctx.triggered_id == "options-manage-cancel":
            return open_manage(services, None, cancelled=True)
        if not any(clicks) or not isinstance(ctx.triggered_id, dict):
            raise PreventUpdate
        return open_manage(services, ctx.triggered_id.get("index"), cancelled=False)

    @app.callback(
        *TOAST_OUTPUTS,
        MODAL_OPEN,
        TRADES_VERSION,
        Output("options-modify-target-error", "children"),
        Output("options-modify-stop-error", "children"),
        Input("options-modify-save", "n_clicks"),
        Input("options-close-confirm", "n_clicks"),
        State("options-manage-trade", "data"),
        State("options-modify-target", "value"),
        State("options-modify-stop", "value"),
        prevent_initial_call=True,
    )
    def _manage(_s: int | None, _c: int | None, trade_id: Any, target: Any, stop: Any) -> Any:
        close_now = ctx.triggered_id == "options-close-confirm"
        return manage(services, trade_id, close_now, target, stop)

    @app.callback(
        *TOAST_OUTPUTS,
        MODAL_OPEN,
        TRADES_VERSION,
        Output("options-broker-stop-price-error", "children"),
        Output("options-broker-stop-limit-error", "children"),
        Input("options-broker-stop-place", "n_clicks"),
        State("options-manage-trade", "data"),
        State("options-broker-stop-price", "value"),
        State("options-broker-stop-limit", "value"),
        prevent_initial_call=True,
    )
    def _broker_stop(_n: int | None, trade_id: Any, price: Any, limit: Any) -> Any:
        return place_stop(services, trade_id, price, limit)
