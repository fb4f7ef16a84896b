"""Inputs named on the command line: files as given, folders expanded to the files jamwatch reads.

A glob pattern (quoted, so that the shell leaves it: ``'day/**/*.bin.xz'``) stands for the
paths it matches. A folder of recordings is the most common input (a receiver's day, a
shared data set with its notes beside it): it is walked recursively, in path order, hidden
files and folders left out, and each file kept when the command reads its kind (judged from
its content, as the readers judge it). Files a folder holds that are not inputs (a README,
a CSV of start times) are skipped with one warning that names them; a folder with no input
at all is an error, as is a path that does not exist or a pattern that matches nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from jamwatch.cli.app import console, fail, warn

if TYPE_CHECKING:
    from jamwatch.io.inputs import ReadSummary


def _kind(path: Path) -> str:
    """The kind of input ``path`` is (:func:`jamwatch.io.sniff.sniff`), "" for none."""
    from jamwatch.io import FormatError
    from jamwatch.io.sniff import sniff

    try:
        return sniff(path).kind
    except (FormatError, OSError):
        return ""


def is_recording(path: Path) -> bool:
    """Whether ``path`` holds raw frames in a format :func:`jamwatch.io.read_frames` reads."""
    return _kind(path) == "frames"


def is_archive(path: Path) -> bool:
    """Whether ``path`` is a tar archive (plain or compressed)."""
    return _kind(path) == "archive"


def is_ais(path: Path) -> bool:
    """Whether ``path`` holds AIS: NMEA sentences, or the DMA or MarineCadastre CSV export."""
    return _kind(path) == "ais"


def is_raw_input(path: Path) -> bool:
    """Raw frames, AIS, or a tar archive (of frames: ``jamwatch decode`` finds out member by
    member)."""
    return _kind(path) in ("frames", "ais", "archive")


def is_reports(path: Path) -> bool:
    """Raw frames, decoded Parquet, a positions file (OpenSky, traffic, trace) or a tar
    archive of them."""
    from jamwatch.io.inputs import REPORT_KINDS

    return _kind(path) in REPORT_KINDS


def is_map_input(path: Path) -> bool:
    """Anything ``jamwatch map`` reads: reports, gpsjam CSVs and events files."""
    return _kind(path) != ""


def expand_inputs(
    paths: Sequence[Path], accept: Callable[[Path], bool], strict: bool = True
) -> list[Path]:
    """``paths`` with glob patterns and folders expanded (:func:`jamwatch.io.inputs.input_files`:
    see the module documentation); the files a folder holds that are not inputs are named in
    one warning. Without ``strict`` a missing path is kept, for the reader to report beside
    the good inputs."""
    from jamwatch.io.inputs import input_files

    try:
        out, skipped = input_files(paths, accept, strict)
    except FileNotFoundError as exc:
        raise fail(str(exc)) from exc
    if skipped:
        more = f" and {len(skipped) - 5} more" if len(skipped) > 5 else ""
        warn(f"skipped {len(skipped)} files that are not inputs: {', '.join(skipped[:5])}{more}")
    return out


def print_rejects(summary: ReadSummary, sources: int = 5) -> None:
    """Print what was dropped, by reason, then by source for the ``sources`` sources with
    the most rejects."""
    from rich.markup import escape

    if not summary.rejects:
        return
    console.print("dropped: " + ", ".join(f"{k} {v:,}" for k, v in summary.rejects.most_common()))
    ranked = sorted(summary.source_rejects.items(), key=lambda kv: -sum(kv[1].values()))
    for source, counts in ranked[:sources]:
        said = ", ".join(f"{k} {v:,}" for k, v in counts.most_common())
        console.print(f"  {escape(source)}: {escape(said)}", highlight=False)
    if len(ranked) > sources:
        console.print(f"  and {len(ranked) - sources} more sources with rejects")


__all__ = ["expand_inputs", "is_map_input", "is_recording", "is_reports", "print_rejects"]
