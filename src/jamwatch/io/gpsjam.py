"""gpsjam.org's daily files both ways: ``YYYY-MM-DD-h3_4.csv``.

Columns ``hex,count_good_aircraft,count_bad_aircraft``, one H3 cell per line, one UTC day a file.

:func:`read_gpsjam` returns :data:`jamwatch.schema.GPSJAM_SCHEMA` rows in file order (the day
from the file name as ``window_start``, one day as ``window_s``);
:func:`jamwatch.aggregate.cells_from_counts` adds the score and class. :func:`write_gpsjam`
writes the three columns back in row order, so reading and writing a file gives the same bytes.
A file with a missing column, a bad H3 index, or a negative or non-numeric count raises one
:class:`GpsjamFormatError` naming the file and the line.
"""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from h3ronpy import cells_parse, cells_resolution  # type: ignore[import-untyped]

from jamwatch.schema import GPSJAM_SCHEMA, TIME_TYPE

COLUMNS = ("hex", "count_good_aircraft", "count_bad_aircraft")
DAY_S = 86_400
_NAME = re.compile(r"(\d{4}-\d{2}-\d{2})-h3_(\d+)\.csv$")


class GpsjamFormatError(ValueError):
    """A gpsjam file that does not follow the format (message: file, line, what is wrong)."""


def gpsjam_name(day: str, resolution: int = 4) -> str:
    """File name of a day's map: ``YYYY-MM-DD-h3_4.csv``."""
    return f"{day}-h3_{resolution}.csv"


def _fail(path: Path, line: int, what: str) -> GpsjamFormatError:
    return GpsjamFormatError(f"{path}:{line}: {what}")


def is_gpsjam_head(path: Path, head: bytes) -> bool:
    """Whether ``path`` is a gpsjam.org daily CSV: its name (``YYYY-MM-DD-h3_R.csv``, the day
    and resolution) and its header (``hex``, ``count_good_aircraft``, ``count_bad_aircraft``)."""
    if not _NAME.search(path.name):
        return False
    header = head.split(b"\n", 1)[0].decode("utf-8", "replace").strip().split(",")
    return all(c in header for c in COLUMNS)


def read_gpsjam(path: str | os.PathLike[str]) -> pa.Table:
    """Read one gpsjam file; the day comes from its name (``YYYY-MM-DD-h3_R.csv``)."""
    p = Path(path)
    match = _NAME.search(p.name)
    if not match:
        raise _fail(p, 0, "file name is not YYYY-MM-DD-h3_R.csv (the day and resolution)")
    day = datetime.strptime(match.group(1), "%Y-%m-%d").replace(tzinfo=UTC)
    resolution = int(match.group(2))
    with p.open("rb") as fh:
        header = fh.readline().decode("utf-8", "replace").strip().split(",")
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise _fail(p, 1, f"missing column(s) {', '.join(missing)} (header: {','.join(header)})")
    try:
        raw = pacsv.read_csv(
            p,
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(COLUMNS, pa.string()), include_columns=list(COLUMNS)
            ),
        )
    except pa.ArrowInvalid as exc:
        raise _fail(p, 0, f"not a CSV table: {exc}") from exc
    hexes = raw.column("hex").combine_chunks()
    ok_text = pc.fill_null(pc.match_substring_regex(hexes, r"^[0-9a-f]{15}$"), False)
    cells = cells_parse(pc.if_else(ok_text, hexes, pa.scalar(None, pa.string())), True)
    cells = pa.array(cells).cast(pa.uint64())
    res = pa.array(cells_resolution(cells))
    bad_hex = np.asarray(pc.fill_null(pc.or_(cells.is_null(), pc.not_equal(res, resolution)), True))
    if bad_hex.any():
        i = int(np.argmax(bad_hex))
        raise _fail(p, i + 2, f"bad H3 index {hexes[i].as_py()!r} (resolution {resolution})")
    counts = {}
    for name in COLUMNS[1:]:
        text = raw.column(name).combine_chunks()
        digits = np.asarray(pc.fill_null(pc.match_substring_regex(text, r"^[0-9]+$"), False))
        if not digits.all():
            i = int(np.argmin(digits))
            what = "negative" if str(text[i].as_py()).startswith("-") else "non-numeric"
            raise _fail(p, i + 2, f"{what} {name} {text[i].as_py()!r}")
        counts[name] = np.asarray(text.cast(pa.int64()), np.int64)
    n = len(cells)
    start = np.full(n, int(day.timestamp()) * 1_000_000_000, np.int64)
    return pa.table(
        [
            hexes.cast(pa.string()),
            cells,
            pa.array(start).cast(TIME_TYPE),
            pa.array(np.full(n, DAY_S, np.int64)),
            pa.array(counts["count_good_aircraft"]),
            pa.array(counts["count_bad_aircraft"]),
        ],
        schema=GPSJAM_SCHEMA,
    )


def write_gpsjam(table: pa.Table, path: str | os.PathLike[str]) -> None:
    """Write ``hex,count_good_aircraft,count_bad_aircraft`` of ``table`` in row order."""
    rows = pc.binary_join_element_wise(
        table.column("hex"),
        table.column("count_good_aircraft").cast(pa.string()),
        table.column("count_bad_aircraft").cast(pa.string()),
        ",",
    )
    Path(path).write_text("\n".join([",".join(COLUMNS), *rows.to_pylist()]) + "\n")


def write_gpsjam_days(
    cells: pa.Table, out_dir: str | os.PathLike[str], resolution: int
) -> list[Path]:
    """One gpsjam file per UTC day of a daily cell table (``window_s`` == 86400); their paths."""
    written: list[Path] = []
    if cells.num_rows == 0:
        return written
    days = pc.strftime(cells.column("window_start"), format="%Y-%m-%d")
    for day in sorted(set(days.to_pylist())):
        rows = cells.filter(pc.equal(days, day))
        rows = rows.filter(
            pc.greater(pc.add(rows["count_good_aircraft"], rows["count_bad_aircraft"]), 0)
        )
        path = Path(out_dir) / gpsjam_name(day, resolution)
        write_gpsjam(rows, path)
        written.append(path)
    return written
