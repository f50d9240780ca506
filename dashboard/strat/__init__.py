"""strat."""
