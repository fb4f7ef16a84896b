"""Stage ``serve``."""
