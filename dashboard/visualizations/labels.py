"""Where chart labels go so they never overprint, and which part of the data a chart opens
on. Pure geometry: numbers in, numbers out (no plotly), so it is unit-tested directly.

Plotly does not move overlapping annotations apart. The charts that frame a trade (the
signal chart's price tags, the payoff chart's level tags) lay their labels out here, in
pixels, from the figure's known height (a fixed-height graph) or from the narrowest
width the figure is drawn at (labels that clear each other at that width clear each other
at any wider one, since their distances grow with the width and their sizes do not).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

# A conservative width per character, as a share of the font size, for the sans-serif
# stack in theme.py: digits and capitals are 0.55-0.62 em wide in Inter, Segoe and
# Liberation Sans; overestimating costs a little room, underestimating overprints.
CHAR_EM = 0.64


def text_width(text: str, font_size: float, pad: float = 0.0) -> float:
    """Width in pixels a label of ``text`` needs at ``font_size`` (an upper estimate),
    plus ``pad`` on each side."""
    return len(text) * CHAR_EM * font_size + 2.0 * pad


def spread_labels(
    positions: Sequence[float],
    sizes: float | Sequence[float],
    lo: float = -math.inf,
    hi: float = math.inf,
    gap: float = 0.0,
) -> list[float]:
    """Centres for labels of the given ``sizes`` near ``positions`` such that no two
    overlap (``gap`` apart at least) and all lie within ``[lo, hi]``; the labels keep
    their order, and each moves as little as the others allow.

    The classic merge: sorted by position, a label that overlaps the block before it joins
    that block, and a block sits centred on the mean of what its members want (the
    least-squares placement for a stack in a fixed order). Blocks pushed past ``lo`` or
    ``hi`` are moved back inside. When the labels cannot all fit in ``[lo, hi]`` they
    are stacked from ``lo`` and the last ones pass ``hi``: the caller sizes the room.

    Returned in the order of ``positions``.
    """
    n = len(positions)
    if n == 0:
        return []
    size_list = [float(sizes)] * n if isinstance(sizes, int | float) else [float(s) for s in sizes]
    if len(size_list) != n:
        raise ValueError(f"{len(size_list)} sizes for {n} labels")
    order = sorted(range(n), key=lambda i: (positions[i], i))
    # Each label's offset from its block's first edge, so a block is (start, members).
    blocks: list[tuple[float, list[int]]] = []

    def extent(members: list[int]) -> float:
        return sum(size_list[i] for i in members) + gap * (len(members) - 1)

    def best_start(members: list[int]) -> float:
        # Start that centres each member as near its wish as possible (least squares).
        offsets, acc = [], 0.0
        for i in members:
            offsets.append(acc + size_list[i] / 2.0)
            acc += size_list[i] + gap
        return sum(positions[i] - off for i, off in zip(members, offsets, strict=True)) / len(
            members
        )

    def clamp(start: float, members: list[int]) -> float:
        return max(lo, min(start, hi - extent(members)))

    for i in order:
        members = [i]
        start = clamp(best_start(members), members)
        while blocks:
            prev_start, prev = blocks[-1]
            if prev_start + extent(prev) + gap <= start + 1e-9:
                break
            blocks.pop()
            members = prev + members
            start = clamp(best_start(members), members)
        blocks.append((start, members))

    out = [0.0] * n
    for start, members in blocks:
        edge = start
        for i in members:
            out[i] = edge + size_list[i] / 2.0
            edge += size_list[i] + gap
    return out


def stack_rows(positions: Sequence[float], widths: Sequence[float], gap: float = 4.0) -> list[int]:
    """A row (0, 1, 2, …) for each horizontal label centred at ``positions`` with the given
    ``widths``: labels in one row never overlap (``gap`` apart at least), and each takes
    the lowest row with room. Returned in the order of ``positions``."""
    if len(widths) != len(positions):
        raise ValueError(f"{len(widths)} widths for {len(positions)} labels")
    order = sorted(range(len(positions)), key=lambda i: (positions[i], i))
    row_ends: list[float] = []  # right edge of the last label in each row
    rows = [0] * len(positions)
    for i in order:
        left = positions[i] - widths[i] / 2.0
        row = next((r for r, end in enumerate(row_ends) if end + gap <= left), len(row_ends))
        if row == len(row_ends):
            row_ends.append(0.0)
        row_ends[row] = positions[i] + widths[i] / 2.0
        rows[i] = row
    return rows


def frame_bars(
    n: int, first: int, last: int, *, bars: int = 40, most: int = 80, context: int = 5
) -> tuple[int, int]:
    """The bars (first index, last index) a chart of ``n`` bars opens on so that the bars
    ``first``..``last`` (a setup and its levels' run) are large and in view.

    The window ends at the latest bar (the price now) and holds ``bars`` bars; if the
    setup starts before that, it reaches back to ``context`` bars before ``first``. Past
    ``most`` bars, the window ends ``context`` bars after ``last`` instead of at the
    latest bar, so an old setup stays large. ``first``..``last`` is always inside.
    """
    if n <= 0:
        raise ValueError("no bars to frame")
    if most < bars:
        raise ValueError("most must be at least bars")
    first = max(0, min(first, n - 1))
    last = max(first, min(last, n - 1))
    end = n - 1
    start = max(0, end - bars + 1)
    want = max(0, first - context)
    if want < start:
        start = want
        if end - start + 1 > most:
            end = min(n - 1, max(last + context, start + most - 1))
    return start, end


def padded_range(values: Sequence[float], pad: float = 0.06) -> tuple[float, float]:
    """(low, high) of the finite ``values`` widened by ``pad`` of their span on each side
    (by ``pad`` of the level itself when they are all equal)."""
    finite = [v for v in values if math.isfinite(v)]
    if not finite:
        raise ValueError("no finite values to range")
    low, high = min(finite), max(finite)
    span = high - low or abs(high) or 1.0
    return low - pad * span, high + pad * span
