"""One assessment of the ticket: the form read against the chain, the account, the
broker's clock, the current price and the journal in one round.

Every step (check, bind, review, send) takes this path, so what the page shows and what
is sent are judged by the same rules. Also the risk sizing that gives a freshly bound
ticket its default quantity.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from dashboard.components.options.reads import Reads
from dashboard.conventions import right_for_direction
from dashboard.data_loaders.loop import run_all
from dashboard.models import OptionChain, OptionQuote
from dashboard.options.occ import build_occ
from dashboard.settings import Settings
from dashboard.trading.records import JournalTrade
from dashboard.trading.ticket import (
    EntryLimits,
    PriceCheck,
    RiskSize,
    TicketValidation,
    active_for_signal,
    check_against_price,
    risk_budget,
    size_by_risk,
    validate_ticket,
)
from dashboard.views.formatting import format_et
from dashboard.views.options.ticket import (
    ProjectionView,
    QuoteView,
    foreign_levels,
    is_bound,
    parse_float,
    projection_view,
    quote_view,
    ticket_fields,
)
from dashboard.watchlist_store import watchlist_symbols

if TYPE_CHECKING:
    from dashboard.services import Services


def entry_limits(settings: Settings) -> EntryLimits:
    return EntryLimits(settings.late_entry_share, settings.min_remaining_rr)


@dataclass(frozen=True, slots=True)
class Assessment:
    """Everything the ticket knows about one set of form values, read in one round."""

    result: TicketValidation
    now: datetime
    clock_ok: bool
    chain: OptionChain | None
    equity: float | None
    price: PriceCheck | None
    foreign: Mapping[str, str]
    duplicates: list[JournalTrade]
    override: bool
    quote: QuoteView | None
    bound: bool
    timeframe: str | None = None  # the bound signal's: the projection's expected hold
    warnings: list[str] = field(default_factory=list)

    @property
    def errors(self) -> dict[str, str]:
        """Per-field messages: the validator's, then levels carried from another signal."""
        out = dict(self.result.errors)
        for name, msg in self.foreign.items():
            out.setdefault(name, msg)
        return out

    @property
    def refusal(self) -> str | None:
        return self.price.refusal if self.price is not None else None

    @property
    def blocked_by_duplicate(self) -> bool:
        return bool(self.duplicates) and not self.override

    @property
    def sendable(self) -> bool:
        return (
            self.result.ok
            and not self.foreign
            and self.refusal is None
            and not self.blocked_by_duplicate
        )

    @property
    def pending(self) -> bool:
        return self.price is not None and self.price.pending

    @property
    def as_of(self) -> str:
        return format_et(self.now) if self.clock_ok else "broker clock unavailable"


def duplicate_text(trades: list[JournalTrade]) -> str:
    ids = ", ".join(f"#{t.id} ({t.status})" for t in trades)
    return (
        f"This signal already has a working or open trade: {ids}. Tick the override to "
        "send another order for it."
    )


def assess(
    services: Services,
    reads: Reads,
    values: Mapping[str, Any],
    binding: Mapping[str, Any] | None,
    override: bool = False,
) -> Assessment:
    """The ticket validated against the chain, the options buying power, the broker's
    clock, the current price and the journal."""
    settings = services.settings
    symbol = str(values.get("symbol") or "").strip().upper()
    chain_read = reads.chain(symbol, values.get("expiry")) if symbol else None
    chain_result, account, clock = run_all(
        chain_read, services.data.fetch_account(), services.data.fetch_clock()
    )
    clock_ok = clock.value is not None
    # The expiry rule needs a time even when the clock read failed; it is never shown.
    now = clock.value.timestamp if clock_ok else datetime.now(UTC)
    chain = chain_result.value if chain_result is not None else None
    acct = account.value
    bp = acct.options_buying_power if acct is not None else None
    known = set(watchlist_symbols(services))
    if symbol and symbol not in known and chain is not None and chain.quotes:
        known.add(symbol)  # listed options prove the underlying exists
    bound = is_bound(binding, values)
    fields = ticket_fields(values, binding)
    result = validate_ticket(
        fields,
        chain=chain,
        buying_power=bp,
        now=now,
        max_contracts=settings.max_contracts,
        known_symbols=known,
        tick_table=settings.tick_table(),
    )
    warnings = list(result.warnings)
    price_check = None
    spot = chain.underlying_price if chain is not None else None
    levels = [parse_float(values.get(k)) for k in ("entry", "stop", "target")]
    direction = values.get("direction")
    level_errors = {"entry", "stop", "target"} & set(result.errors)
    if spot and direction in ("long", "short") and None not in levels and not level_errors:
        entry, stop, target = (float(x) for x in levels if x is not None)
        price_check = check_against_price(
            direction,
            price=spot,
            entry=entry,
            stop=stop,
            target=target,
            scan_triggered=bool(bound and binding and binding.get("status") == "triggered"),
            limits=entry_limits(settings),
        )
        warnings.extend(price_check.warnings)
    quote = result.quote
    if quote is None and chain is not None and result.ticket is None:
        quote = _form_quote(chain, values)
    qview = quote_view(quote, now, settings.max_spread_pct) if quote is not None else None
    if qview is not None and qview.warning:
        warnings.append(qview.warning)
    signal_id = fields.get("signal_id") if bound else None
    duplicates = active_for_signal(services.journal.active_trades(), signal_id)
    return Assessment(
        result=result,
        now=now,
        clock_ok=clock_ok,
        chain=chain,
        equity=float(acct.equity) if acct is not None else None,
        price=price_check,
        foreign=foreign_levels(values, binding),
        duplicates=duplicates,
        override=bool(override),
        quote=qview,
        bound=bound,
        timeframe=fields.get("timeframe") or None,
        warnings=warnings,
    )


def _form_quote(chain: OptionChain, values: Mapping[str, Any]) -> OptionQuote | None:
    """The chain row of the contract the form names, even while other fields are invalid."""
    try:
        expiry = date.fromisoformat(str(values.get("expiry")))
        strike = Decimal(str(values.get("strike")))
        symbol = build_occ(
            chain.underlying, expiry, right_for_direction(str(values.get("direction"))), strike
        )
    except (TypeError, ValueError, InvalidOperation):
        return None
    return next((q for q in chain.quotes if q.contract.symbol == symbol), None)


def size_for(settings: Settings, equity: float | None, view: ProjectionView | None) -> RiskSize:
    """Sizing by risk from a one-contract projection's loss at the stop."""
    budget, text = risk_budget(
        equity, pct=settings.risk_per_trade_pct, dollars=settings.risk_per_trade_dollars
    )
    proj = view.projection if view is not None else None
    loss = proj.risk / proj.contracts if proj is not None and proj.risk is not None else None
    return size_by_risk(loss, budget=budget, max_contracts=settings.max_contracts, budget_text=text)


def one_contract_view(a: Assessment, values: Mapping[str, Any]) -> ProjectionView | None:
    """The projection for one contract of the form's contract at its limit, for sizing."""
    q = a.result.quote
    if q is None and a.chain is not None:
        q = _form_quote(a.chain, values)
    limit = parse_float(values.get("limit"))
    stop = parse_float(values.get("stop"))
    spot = a.chain.underlying_price if a.chain is not None else None
    if q is None or limit is None or limit <= 0 or stop is None or not spot:
        return None
    return projection_view(
        q,
        spot=spot,
        now=a.now,
        stop=stop,
        target=parse_float(values.get("target")),
        target2=None,
        timeframe=a.timeframe,
        limit=limit,
        contracts=1,
    )


def sized_contracts(
    services: Services, reads: Reads, values: Mapping[str, Any], binding: Mapping[str, Any]
) -> int | None:
    """The default quantity for a freshly bound ticket (None when risk cannot size it;
    the sizing line says why)."""
    a = assess(services, reads, {**values, "contracts": 1}, binding)
    if a.refusal:
        return None
    return size_for(services.settings, a.equity, one_contract_view(a, values)).contracts or None
