"""Errors raised by the upstream clients.

The data service turns these into ``DataResult`` states; order paths let them reach the
UI, so ``message`` is always safe to show (upstream text, never a secret).
"""

from __future__ import annotations

__all__ = [
    "BadResponse",
    "DeadlineExceeded",
    "NetworkError",
    "OrderRejected",
    "RateBudgetExhausted",
    "RateLimited",
    "UpstreamError",
]


class UpstreamError(Exception):
    """An upstream call failed; ``status`` is None when no HTTP answer arrived."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        source: str = "",
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.source = source
        self.retry_after = retry_after

    def __str__(self) -> str:
        prefix = f"{self.source}: " if self.source else ""
        code = f"HTTP {self.status}: " if self.status is not None else ""
        return f"{prefix}{code}{self.message}"


class RateLimited(UpstreamError):
    """429 after the retry budget (``retry_after`` is the server's last hint)."""


class BadResponse(UpstreamError):
    """The body was not the JSON (or the shape) the endpoint promises."""


class OrderRejected(UpstreamError):
    """A 4xx on an order route; ``message`` is the broker's text, e.g. "insufficient buying power"."""


class NetworkError(UpstreamError):
    """No HTTP answer: connect failure, reset or time-out.

    ``maybe_sent`` is True when the request may have reached the server (a read time-out
    or a reset after sending), which is what decides whether a POST can be resent blindly.
    """

    def __init__(self, message: str, *, source: str = "", maybe_sent: bool = True) -> None:
        super().__init__(message, source=source)
        self.maybe_sent = maybe_sent


class DeadlineExceeded(NetworkError):
    """No complete answer within the read's overall deadline (slow headers, a trickled
    body, or a wait on another caller's fetch); reads turn it into their last good value."""

    def __init__(self, message: str, *, source: str = "") -> None:
        super().__init__(message, source=source, maybe_sent=True)


class RateBudgetExhausted(UpstreamError):
    """The deployment's shared request budget has no room for this request now: an
    interval refresh yields (and shows cached data) so order entry keeps its headroom.
    Nothing was sent."""
