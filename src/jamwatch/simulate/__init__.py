"""Stage ``simulate``."""
