"""Stage ``signals``: per-report and per-aircraft integrity and spoofing indicators."""

from jamwatch.signals.integrity import (
    SIGNAL_COLUMNS,
    IntegrityConfig,
    IntegrityState,
    integrity_signals,
)

__all__ = ["SIGNAL_COLUMNS", "IntegrityConfig", "IntegrityState", "integrity_signals"]
