"""``python -m jamwatch``: the same as the ``jamwatch`` command."""

from jamwatch.cli import app

app()
