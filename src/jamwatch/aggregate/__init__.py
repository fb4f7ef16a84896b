"""Stage ``aggregate``."""
