"""What a view returns in place of a chart's data when there is nothing to draw.

"No data" and "broken" must never look alike, so a ``Blank`` says which it is and why;
the tab renders it as ``empty_figure(message, kind=...)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["Blank", "BlankKind"]

BlankKind = Literal["empty", "error", "loading"]


@dataclass(frozen=True, slots=True)
class Blank:
    message: str
    kind: BlankKind = "empty"
