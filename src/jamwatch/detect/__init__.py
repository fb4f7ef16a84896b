"""Stage ``detect``."""
