"""The view layer: what each tab shows, as typed data, computed from the records a
refresh read. No Dash, no plotly, no I/O: see README.md in this folder."""
