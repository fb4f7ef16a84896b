"""The ``jamwatch`` command: thin commands over the library, one module per command."""

from jamwatch.cli import decode as _decode  # noqa: F401  (registers the command)
from jamwatch.cli import demo as _demo  # noqa: F401
from jamwatch.cli import detect as _detect  # noqa: F401  (registers the command)
from jamwatch.cli import eval as _eval  # noqa: F401  (registers the command)
from jamwatch.cli import map as _map  # noqa: F401  (registers the command)
from jamwatch.cli import simulate as _simulate  # noqa: F401  (registers the command)
from jamwatch.cli.app import app

__all__ = ["app"]
