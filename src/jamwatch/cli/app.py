"""The typer application every command module registers on."""

from __future__ import annotations

import typer
from rich.console import Console

app = typer.Typer(
    name="jamwatch",
    help="Find GNSS jamming and spoofing in ADS-B and AIS position reports.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

#: summaries and progress go to stderr so that stdout stays clean for data
console = Console(stderr=True)


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print an error the user can act on and return the exit to raise."""
    console.print(f"[bold red]error:[/] {message}")
    return typer.Exit(code)
