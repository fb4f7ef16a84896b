"""Options shared by the commands that read raw recordings: when each recording started.

A Beast recording (and an AVR one with ``@`` counters) holds a receiver counter, not a time
(see :mod:`jamwatch.io.clock`): its UTC start comes from the user. ``--start`` is given once
per recording, in the order of the inputs (or once for a single input); ``--starts FILE``
names a CSV with a ``file`` column (a name or path) and a ``start`` or ``start_utc`` column,
one row per recording. A recording with neither gets the start derived from its file (the
modification time minus its span), with a warning.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from jamwatch.cli.app import fail, warn
from jamwatch.io import ReadReport

if TYPE_CHECKING:
    from jamwatch.io.store import Store

StartOption = Annotated[
    list[str] | None,
    typer.Option(
        "--start",
        help="UTC time of the first frame of a Beast or AVR recording (ISO 8601, e.g. "
        "2026-01-06T04:14:52Z): once per recording, in the order of the inputs. Default: "
        "the file's modification time minus the recording's span.",
    ),
]
StartsOption = Annotated[
    Path | None,
    typer.Option(
        "--starts",
        exists=True,
        dir_okay=False,
        help="CSV giving each recording's start: columns 'file' (name or path) and "
        "'start' or 'start_utc' (ISO 8601 UTC).",
    ),
]


EngineOption = Annotated[
    str, typer.Option(help="embedded (this machine's processes) or dask (a cluster)")
]
SchedulerOption = Annotated[
    str | None,
    typer.Option(
        metavar="ADDRESS",
        help="with --engine dask: the scheduler, tcp://HOST:PORT (default: a local "
        "cluster of --workers processes)",
    ),
]


def check_engine(engine: str, scheduler: str | None) -> None:
    """A clear error for an unknown engine, or a scheduler without the dask engine."""
    if engine not in ("embedded", "dask") or (scheduler is not None and engine != "dask"):
        raise fail("--engine is embedded or dask; --scheduler goes with --engine dask")


ReceiverOption = Annotated[
    str | None,
    typer.Option(
        "--receiver", metavar="LAT,LON",
        help="the receiver's position (degrees): the reference of surface positions of "
        "aircraft with no recent position of their own, as dump1090's --lat/--lon",
    ),
]  # fmt: skip


def parse_receiver(value: str | None) -> tuple[float, float] | None:
    """``LAT,LON`` in degrees as a pair (None stays None); a clear error otherwise."""
    if value is None:
        return None
    try:
        lat, lon = (float(v) for v in value.split(","))
    except ValueError:
        raise fail(f"--receiver {value!r}: give LAT,LON in degrees, e.g. 60.3196,24.8308") from None
    if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
        raise fail(f"--receiver {value!r}: latitude within +-90, longitude within +-180")
    return lat, lon


def parse_time(value: str, what: str = "--start") -> datetime:
    """An ISO 8601 time as an aware UTC datetime (a naive time is taken as UTC)."""
    try:
        when = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        example = "2024-09-12T10:00:00Z"
        raise fail(f"{what} {value!r} is not an ISO 8601 time such as {example}") from exc
    return when.astimezone(UTC) if when.tzinfo else when.replace(tzinfo=UTC)


def read_starts_csv(path: Path) -> dict[str, datetime]:
    """The ``file`` -> start rows of a starts CSV (see the module docstring)."""
    try:
        with path.open(newline="") as f:
            rows = list(csv.DictReader(f))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise fail(f"{path}: cannot read the starts file ({exc})") from exc
    if not rows:
        raise fail(f"{path}: the starts file has no rows")
    column = next((c for c in ("start", "start_utc") if c in rows[0]), None)
    if "file" not in rows[0] or column is None:
        raise fail(f"{path}: a starts file needs the columns 'file' and 'start' (or 'start_utc')")
    out = {}
    for n, row in enumerate(rows, start=2):
        out[(row["file"] or "").strip()] = parse_time(row[column] or "", f"{path}:{n}: start")
    return out


def recording_starts(
    inputs: Sequence[Path], start: Sequence[str] | None, starts_file: Path | None
) -> dict[str, datetime]:
    """The start of each input that has one, by ``str(path)``: ``--start`` values in input
    order, then ``--starts`` rows matched by the path as given or by the file name; every
    ``--starts`` row also by its own name (a member of an archive is matched by its name in
    the archive or its file name)."""
    given = list(start or [])
    if given and len(given) != len(inputs):
        raise fail(
            f"{len(given)} --start for {len(inputs)} inputs: give one --start per input, in "
            "the same order, or a --starts FILE"
        )
    out = {str(p): parse_time(v) for p, v in zip(inputs, given, strict=False)}
    if starts_file is not None:
        table = read_starts_csv(starts_file)
        for p in inputs:
            when = table.get(str(p), table.get(p.name))
            if when is not None and str(p) not in out:
                out[str(p)] = when
        for name, when in table.items():  # (for members of archives, found as they are read)
            out.setdefault(name, when)
    return out


def warn_derived_starts(recordings: Sequence[ReadReport]) -> None:
    """Warn about every recording whose start was derived from its file, not given."""
    derived = [Path(r.source).name for r in recordings if r.start == "derived"]
    if derived:
        warn(
            f"no --start for {', '.join(derived)}: each starts at its file's modification time "
            "minus its span; give --start or --starts if the files were copied or touched"
        )


StoreOption = Annotated[
    Path | None,
    typer.Option(
        "--store", metavar="DIR",
        help="read the reports of a store (jamwatch ingest, jamwatch watch --store)",
    ),
]  # fmt: skip
FromOption = Annotated[
    str | None,
    typer.Option(
        "--from", metavar="TIME", help="with --store: from this UTC time (ISO 8601) on"
    ),
]  # fmt: skip
ToOption = Annotated[
    str | None,
    typer.Option("--to", metavar="TIME", help="with --store: up to this UTC time (excluded)"),
]


def store_range(
    store: Path | None, start: str | None, end: str | None
) -> tuple[int | None, int | None]:
    """``--from`` and ``--to`` as ns (None: open), checked; they need ``--store``."""
    if store is None and (start is not None or end is not None):
        raise fail("--from and --to select the reports of a --store")
    lo = None if start is None else _ns(parse_time(start, "--from"))
    hi = None if end is None else _ns(parse_time(end, "--to"))
    if lo is not None and hi is not None and hi <= lo:
        raise fail("--to must come after --from")
    return lo, hi


def _ns(when: datetime) -> int:
    return int(when.timestamp()) * 1_000_000_000 + when.microsecond * 1000


def open_store(store: Path) -> Store:
    """The store at ``store``, opened for reading, or a clear error."""
    from jamwatch.io.store import Store, StoreError

    try:
        return Store.open(store, writable=False)
    except StoreError as exc:
        raise fail(str(exc)) from None
