"""``jamwatch ingest SOURCE... --store DIR``: open archives into a store of decoded reports."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import pyarrow as pa
import typer

from jamwatch.cli.app import app, console, fail, warn

if TYPE_CHECKING:
    from jamwatch.io.archives import ArchiveSummary, Source
    from jamwatch.io.store import Store

#: reports kept in memory before they are written to the store
FLUSH_ROWS = 4_000_000


@app.command("ingest")
def ingest_command(
    sources: Annotated[
        list[Path],
        typer.Argument(
            help="adsb.lol daily tars (whole, or their .tar.aa, .tar.ab, ... parts, or the "
            "folder that holds them), globe_history or traces/ folders, trace_full files, "
            "readsb-hist folders of aircraft.json snapshots"
        ),
    ],
    store: Annotated[Path, typer.Option(metavar="DIR", help="the store to write (made if new)")],
    workers: Annotated[
        int | None, typer.Option(help="processes parsing traces (default: every core)")
    ] = None,
) -> None:
    """Read open ADS-B archives into a store of decoded reports, by UTC day and hour.

    The archives are read as streams (a split tar as one, never unpacked to disk) and their
    traces parsed in parallel. Ingesting a source the store already holds changes nothing;
    a source whose ingestion was stopped halfway is ingested again from the start. `jamwatch
    map --store DIR` and `jamwatch detect --store DIR` read the store (with --from and --to).
    """
    from jamwatch.io.archives import ArchiveError, archive_sources
    from jamwatch.io.store import Store, StoreError

    if workers is not None and workers < 1:
        raise fail("--workers must be at least 1")
    try:
        found = archive_sources(sources)
        target = Store.open(store)
    except (ArchiveError, StoreError) as exc:
        raise fail(str(exc)) from None
    total = 0
    try:
        for source in found:
            key = source.key()
            if key in target.sources:
                console.print(f"already in the store: {source.name}", markup=False)
                continue
            if again := target.forget(key):
                warn(f"{source.name}: an earlier ingestion stopped halfway; its {again:,} "
                     "reports were removed and it is read again")  # fmt: skip
            summary = _ingest(source, key, target, workers)
            total += summary.reports
            what = f"{summary.traces:,} traces" if source.kind != "hist" else (
                f"{summary.snapshots:,} snapshots"
            )  # fmt: skip
            console.print(f"{source.name}: {what}, {summary.reports:,} reports", markup=False)
            for reason, n in summary.failures.items():
                warn(f"{source.name}: {n:,} skipped: {reason}")
    except (OSError, StoreError) as exc:
        raise fail(str(exc)) from None
    finally:
        target.close()
    console.print(f"store {store}: {target.rows:,} reports; {total:,} added", markup=False)


def _ingest(source: Source, key: str, target: Store, workers: int | None) -> ArchiveSummary:
    """Read ``source`` into ``target`` (``FLUSH_ROWS`` at a time: a file per hour each) and
    record it as ingested under ``key``; what was read."""
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from jamwatch.io.archives import ArchiveSummary, read_archive

    summary = ArchiveSummary()
    columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task(f"reading {source.name}")
        kept: list[pa.Table] = []
        held = 0
        for table in read_archive(source, summary, workers):
            kept.append(table)
            held += table.num_rows
            if held >= FLUSH_ROWS:
                target.append(kept, source=key)
                kept = []
                held = 0
            progress.update(
                task, description=f"reading {source.name}: {summary.traces:,} traces, "
                f"{summary.snapshots:,} snapshots, {summary.reports:,} reports",
            )  # fmt: skip
        if kept:
            target.append(kept, source=key)
    about = {
        "name": source.name, "kind": source.kind, "traces": summary.traces,
        "snapshots": summary.snapshots, "reports": summary.reports,
        "skipped_members": summary.skipped, "failures": dict(summary.failures),
    }  # fmt: skip
    target.finish(key, about)
    return summary
