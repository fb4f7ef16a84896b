"""The ``jamwatch`` command: thin commands over the library, one module per command."""

import inspect as _inspect

from jamwatch.cli import decode as _decode  # noqa: F401  (registers the command)
from jamwatch.cli import demo as _demo  # noqa: F401
from jamwatch.cli import detect as _detect  # noqa: F401  (registers the command)
from jamwatch.cli import eval as _eval  # noqa: F401  (registers the command)
from jamwatch.cli import ingest as _ingest  # noqa: F401  (registers the command)
from jamwatch.cli import map as _map  # noqa: F401  (registers the command)
from jamwatch.cli import simulate as _simulate  # noqa: F401  (registers the command)
from jamwatch.cli import watch as _watch  # noqa: F401  (registers watch and replay)
from jamwatch.cli.app import app, reflow

for _info in app.registered_commands:  # every command's help, wrapped at the terminal's width
    _info.help = reflow(_info.help or _inspect.getdoc(_info.callback) or "")

__all__ = ["app"]
