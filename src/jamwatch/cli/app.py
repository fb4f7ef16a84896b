"""The typer application every command module registers on."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

app = typer.Typer(
    name="jamwatch",
    help="Find GNSS jamming and spoofing in ADS-B and AIS position reports.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

#: summaries and progress go to stderr so that stdout stays clean for data; lines are never
#: wrapped at the terminal width (paths in them are copied by users, and read by tests)
console = Console(stderr=True, soft_wrap=True)


def reflow(text: str) -> str:
    """A command's help as the terminal should wrap it: the lines of each paragraph joined
    (the help renderer keeps single line breaks, which then break again at the width), a
    line that starts a list item (``-``) kept on its own."""
    paragraphs = []
    for par in text.strip().split("\n\n"):
        lines: list[str] = []
        for line in par.splitlines():
            line = line.strip()
            if lines and not line.startswith("- "):
                lines[-1] += " " + line
            else:
                lines.append(line)
        paragraphs.append("\n".join(lines))
    return "\n\n".join(paragraphs)


def error(message: str) -> None:
    """Print an error as it is: never wrapped at the terminal width (a user copies the paths
    in it) and never read as markup (a path may hold brackets)."""
    console.print(f"[bold red]error:[/] {escape(message)}", soft_wrap=True)


def warn(message: str) -> None:
    """Print a warning, unwrapped and unmarked like :func:`error`."""
    console.print(f"[bold yellow]warning:[/] {escape(message)}", soft_wrap=True)


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print an error the user can act on (see :func:`error`) and return the exit to raise."""
    error(message)
    return typer.Exit(code)


def iso_span(first_ns: int, last_ns: int) -> str:
    """``first - last`` as ISO 8601 UTC times to the second."""

    def iso(ns: int) -> str:
        return datetime.fromtimestamp(ns // 10**9, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    return f"{iso(first_ns)} - {iso(last_ns)}"


def add_rejects(table: Table, counters: Iterable[Counter[str]], label: str) -> None:
    """One summary row per reason, the counts of every reader and decoder added up, the
    most frequent first."""
    total: Counter[str] = Counter()
    for counter in counters:
        total.update(counter)
    for reason, n in sorted(total.items(), key=lambda kv: -kv[1]):
        table.add_row(f"{label}: {reason}", f"{n:,}")
