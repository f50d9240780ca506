"""The Options Trading tab's views, one module per feature: the signal board
(``signals``), the order ticket (``ticket``), the chain and flow (``chain``), and the
active trades with their P&L (``trades``)."""
