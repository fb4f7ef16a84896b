"""Stage ``signals``: per-report and per-aircraft integrity and spoofing indicators."""
