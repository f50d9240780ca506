"""data_loaders."""
