"""Reads, one module per concept: access.py (what a user may see), config.py (the widget config of a site),
counters.py (what the tally wrote), tally.py (the tally's lag, for /readyz), visitor_data.py (one person's data)."""
