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

import glob
from collections.abc import Callable, Sequence
from pathlib import Path

from jamwatch.cli.app import fail, warn


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


def is_reports(path: Path) -> bool:
    """Raw frames, decoded Parquet or a positions file (OpenSky, traffic, trace)."""
    return _kind(path) in ("frames", "decoded", "positions")


def is_map_input(path: Path) -> bool:
    """Anything ``jamwatch map`` reads: reports, gpsjam CSVs and events files."""
    return _kind(path) != ""


def _globbed(paths: Sequence[Path]) -> list[Path]:
    """``paths`` with every glob pattern that names no file as such (``*``, ``?``, ``[...]``,
    ``**`` for any depth; quoted so the shell left it) replaced by the paths it matches, in
    path order; a pattern that matches nothing is an error."""
    out: list[Path] = []
    for path in paths:
        text = str(path)
        if path.exists() or not any(ch in text for ch in "*?["):
            out.append(path)
            continue
        found = sorted(Path(p) for p in glob.glob(text, recursive=True))
        if not found:
            raise fail(f"no file matches {text}")
        out += found
    return out


def expand_inputs(
    paths: Sequence[Path], accept: Callable[[Path], bool], strict: bool = True
) -> list[Path]:
    """``paths`` with every folder replaced by the files under it that ``accept`` keeps (see
    the module documentation); files named directly are kept as they are. Without ``strict``
    a missing path is kept too, for the reader to report beside the good inputs."""
    out: list[Path] = []
    skipped: list[str] = []
    for path in _globbed(paths):
        if path.is_dir():
            found = sorted(
                f for f in path.rglob("*")
                if f.is_file() and not any(p.startswith(".") for p in f.relative_to(path).parts)
            )  # fmt: skip
            keep = [accept(f) for f in found]
            kept = [f for f, k in zip(found, keep, strict=True) if k]
            if not kept:
                raise fail(
                    f"{path}: no input in this folder ({len(found)} files looked at, none of "
                    "them a recording, decoded table or positions file jamwatch reads)"
                )
            skipped += [
                str(f.relative_to(path.parent)) for f, k in zip(found, keep, strict=True) if not k
            ]
            out += kept
        elif path.is_file() or not strict:
            out.append(path)
        else:
            raise fail(f"not a file or folder: {path}")
    if skipped:
        more = f" and {len(skipped) - 5} more" if len(skipped) > 5 else ""
        warn(f"skipped {len(skipped)} files that are not inputs: {', '.join(skipped[:5])}{more}")
    return out


__all__ = ["expand_inputs", "is_map_input", "is_recording", "is_reports"]
