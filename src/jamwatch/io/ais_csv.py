"""The two common open AIS exports, read as decoded AIS columns
(:data:`jamwatch.schema.AIS_DECODED`).

``dma-csv``: the Danish Maritime Authority's daily file ``aisdk-YYYY-MM-DD.csv``, 26 columns::

    # Timestamp,Type of mobile,MMSI,Latitude,Longitude,Navigational status,ROT,SOG,COG,
    Heading,IMO,Callsign,Name,Ship type,Cargo type,Width,Length,
    Type of position fixing device,Draught,Destination,ETA,Data source type,A,B,C,D

with times as ``dd/mm/yyyy HH:MM:SS`` (UTC), the navigational status, ship type and
position-fixing device as words ("Under way using engine", "Cargo", "GPS"), and "Unknown" or
an empty field where nothing is known.

``marinecadastre-csv``: the US MarineCadastre (NOAA / BOEM) file ``AIS_YYYY_MM_DD.csv``, 17
columns, decimated to about one report a minute::

    MMSI,BaseDateTime,LAT,LON,SOG,COG,Heading,VesselName,IMO,CallSign,VesselType,Status,
    Length,Width,Draft,Cargo,TransceiverClass

with ISO times (``2023-01-01T00:00:04``, UTC), numeric ship type and status, ``IMO1234567``
and ``TranscieverClass`` (so spelled in many published years) accepted.

Neither export carries the message type: ``msg_type`` is 1 for class A and 18 for class B
rows (4 for a DMA base station), null otherwise. A ship type given as a word becomes the
first code of its ITU-R M.1371 category (Fishing 30, Passenger 60, Cargo 70, Tanker 80,
...). The "not available" codes (latitude 91, longitude 181, SOG 102.3, COG 360, heading
511) become null as in the NMEA decoder. A row with the wrong number of fields is counted
(``bad_line``) and skipped; a field that does not parse is null and counted
(``bad_value``).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from jamwatch.io.base import ReadReport
from jamwatch.io.readers import GuardedStream
from jamwatch.io.streams import open_stream, read_head
from jamwatch.schema import AIS_DECODED, TIME_TYPE

DMA_HEADER = b"# Timestamp,Type of mobile,MMSI,Latitude,Longitude"
MARINECADASTRE_HEADER = b"MMSI,BaseDateTime,LAT,LON"
AIS_CSV_FORMATS = ("dma-csv", "marinecadastre-csv")

#: ITU-R M.1371 navigational status, as the DMA export words it
NAV_STATUS = {
    "under way using engine": 0,
    "at anchor": 1,
    "not under command": 2,
    "restricted manoeuverability": 3,
    "restricted maneuverability": 3,
    "constrained by her draught": 4,
    "moored": 5,
    "aground": 6,
    "engaged in fishing": 7,
    "under way sailing": 8,
    "reserved for future amendment [hsc]": 9,
    "reserved for future amendment [wig]": 10,
    "power-driven vessel towing astern": 11,
    "power-driven vessel pushing ahead or towing alongside": 12,
    "reserved for future use": 13,
    "ais-sart": 14,
    "unknown value": 15,
}
#: ship type words -> the first code of their ITU-R M.1371 category
SHIP_TYPE = {
    "undefined": 0,
    "reserved": 0,
    "wig": 20,
    "fishing": 30,
    "towing": 31,
    "towing long/wide": 32,
    "dredging": 33,
    "diving": 34,
    "military": 35,
    "sailing": 36,
    "pleasure": 37,
    "hsc": 40,
    "pilot": 50,
    "sar": 51,
    "tug": 52,
    "port tender": 53,
    "anti-pollution": 54,
    "law enforcement": 55,
    "medical": 58,
    "not party to conflict": 59,
    "passenger": 60,
    "cargo": 70,
    "tanker": 80,
    "other": 90,
}
#: position-fixing device words -> EPFD code
EPFD = {
    "undefined": 0,
    "gps": 1,
    "glonass": 2,
    "combined gps/glonass": 3,
    "loran-c": 4,
    "chayka": 5,
    "integrated navigation system": 6,
    "surveyed": 7,
    "galileo": 8,
}
#: "Type of mobile" / TransceiverClass -> the message type that would carry such a row
MOBILE = {"class a": 1, "a": 1, "class b": 18, "b": 18, "base station": 4}

_DMA_COLUMNS = {
    "time": "# Timestamp",
    "mobile": "Type of mobile",
    "mmsi": "MMSI",
    "latitude": "Latitude",
    "longitude": "Longitude",
    "nav_status": "Navigational status",
    "sog_kt": "SOG",
    "cog_deg": "COG",
    "heading_deg": "Heading",
    "imo": "IMO",
    "callsign": "Callsign",
    "ship_name": "Name",
    "ship_type": "Ship type",
    "epfd": "Type of position fixing device",
}
_MARINECADASTRE_COLUMNS = {
    "mmsi": "MMSI",
    "time": "BaseDateTime",
    "latitude": "LAT",
    "longitude": "LON",
    "sog_kt": "SOG",
    "cog_deg": "COG",
    "heading_deg": "Heading",
    "ship_name": "VesselName",
    "imo": "IMO",
    "callsign": "CallSign",
    "ship_type": "VesselType",
    "nav_status": "Status",
    "mobile": "TransceiverClass",
}
_TIME_FORMATS = {"dma-csv": "%d/%m/%Y %H:%M:%S", "marinecadastre-csv": "%Y-%m-%dT%H:%M:%S"}
#: raw "not available" codes, and the limits beyond which a value is not one
_NOT_AVAILABLE = {"latitude": 91.0, "longitude": 181.0, "sog_kt": 102.3, "cog_deg": 360.0}
_LIMITS = {"latitude": 90.0, "longitude": 180.0, "sog_kt": 102.2, "cog_deg": 359.95,
           "heading_deg": 359.0}  # fmt: skip


def ais_csv_format_of_head(head: bytes) -> str | None:
    """``dma-csv`` or ``marinecadastre-csv`` from a file's first bytes, or None."""
    first = head.lstrip(b"\xef\xbb\xbf").split(b"\n", 1)[0].strip()
    if first.startswith(DMA_HEADER):
        return "dma-csv"
    if first.startswith(MARINECADASTRE_HEADER):
        return "marinecadastre-csv"
    return None


def _text(column: pa.ChunkedArray | pa.Array) -> pa.Array:
    """Trimmed text, null where empty or "Unknown"."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    text = pc.utf8_trim_whitespace(column.cast(pa.string()))
    empty = pc.or_(pc.equal(text, ""), pc.equal(pc.utf8_lower(text), "unknown"))
    return pc.if_else(empty, pa.scalar(None, pa.string()), text)


_NUMBER = r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$"


def _numbers(column: pa.ChunkedArray | pa.Array, report: ReadReport) -> pa.Array:
    """Floats from text; a field that is not a number is null and counted (``bad_value``)."""
    text = _text(column)
    ok = pc.match_substring_regex(text, _NUMBER)
    bad = pc.sum(pc.invert(ok)).as_py() or 0  # (nulls stay null: not counted)
    if bad:
        report.rejects["bad_value"] += bad
    return pc.cast(pc.if_else(ok, text, pa.scalar(None, pa.string())), pa.float64())


def _coded(
    column: pa.ChunkedArray | pa.Array, words: dict[str, int], report: ReadReport
) -> pa.Array:
    """Codes from a column of numbers or of the words in ``words`` (any case); others null,
    and counted when they are neither."""
    text = _text(column)
    lower = pc.utf8_lower(text)
    keys = pa.array(list(words), pa.string())
    index = pc.index_in(lower, value_set=keys)
    from_words = pc.take(pa.array(list(words.values()), pa.int64()), index)
    numeric = pc.match_substring_regex(text, r"^\d{1,3}$")
    from_numbers = pc.cast(pc.if_else(numeric, text, pa.scalar(None, pa.string())), pa.int64())
    out = pc.coalesce(from_words, from_numbers)
    bad = pc.sum(pc.and_(text.is_valid(), out.is_null())).as_py() or 0
    if bad:
        report.rejects["bad_value"] += bad
    return out


def _available(name: str, values: pa.Array) -> pa.Array:
    """``values`` with the "not available" code and impossible values null."""
    arr = np.asarray(values.to_numpy(zero_copy_only=False), np.float64)
    ok = ~np.isnan(arr)
    if name in _NOT_AVAILABLE:
        ok &= arr != _NOT_AVAILABLE[name]
    low = -_LIMITS[name] if name in ("latitude", "longitude") else 0.0
    ok &= (arr >= low) & (arr <= _LIMITS[name])
    return pa.array(arr, pa.float64(), mask=~ok)


def _table(chunk: pa.RecordBatch, names: dict[str, str], fmt: str, report: ReadReport) -> pa.Table:
    """AIS_DECODED columns from one parsed chunk of text columns."""
    col = {key: chunk.column(name) for key, name in names.items()}
    n = chunk.num_rows
    times = pc.strptime(_text(col["time"]), format=_TIME_FORMATS[fmt], unit="s", error_is_null=True)
    bad_times = pc.sum(pc.and_(_text(col["time"]).is_valid(), times.is_null())).as_py() or 0
    if bad_times:
        report.rejects["bad_timestamp"] += bad_times
    mmsi = _numbers(col["mmsi"], report)
    mmsi_ok = pc.and_(pc.greater(mmsi, 0), pc.less(mmsi, 2**30))
    imo_digits = pc.replace_substring_regex(_text(col["imo"]), r"^IMO", "")
    imo = _numbers(imo_digits, report)
    out: dict[str, Any] = {
        "time": times.cast(TIME_TYPE),
        "mmsi": pc.cast(pc.if_else(mmsi_ok, mmsi, pa.scalar(None, pa.float64())), pa.uint32()),
        "msg_type": pc.cast(_coded(col["mobile"], MOBILE, ReadReport("")), pa.uint8()),
    }
    for name in ("latitude", "longitude", "sog_kt", "cog_deg", "heading_deg"):
        out[name] = _available(name, _numbers(col[name], report))
    position = pc.and_(out["latitude"].is_valid(), out["longitude"].is_valid())
    for name in ("latitude", "longitude"):  # a position is both or neither
        out[name] = pc.if_else(position, out[name], pa.scalar(None, pa.float64()))
    status = _coded(col["nav_status"], NAV_STATUS, report)
    out["nav_status"] = pc.cast(
        pc.if_else(pc.less_equal(status, 15), status, pa.scalar(None, pa.int64())), pa.uint8()
    )
    out["position_accuracy"] = pa.nulls(n, pa.bool_())
    out["raim"] = pa.nulls(n, pa.bool_())
    epfd = _coded(col["epfd"], EPFD, report) if "epfd" in col else pa.nulls(n, pa.int64())
    out["epfd"] = pc.cast(epfd, pa.uint8())
    out["ship_name"] = _text(col["ship_name"])
    ship_type = _coded(col["ship_type"], SHIP_TYPE, report)
    ship_ok = pc.and_(pc.greater(ship_type, 0), pc.less(ship_type, 100))
    out["ship_type"] = pc.cast(
        pc.if_else(ship_ok, ship_type, pa.scalar(None, pa.int64())), pa.uint8()
    )
    out["utc_second"] = pa.nulls(n, pa.uint8())
    out["station_time"] = pa.nulls(n, TIME_TYPE)
    out["callsign"] = _text(col["callsign"])
    imo_ok = pc.and_(pc.greater(imo, 0), pc.less(imo, 2**30))
    out["imo"] = pc.cast(pc.if_else(imo_ok, imo, pa.scalar(None, pa.float64())), pa.uint32())
    out["channel"] = pa.nulls(n, pa.string())
    out["station"] = pa.nulls(n, pa.string())
    return pa.table(out, schema=AIS_DECODED)


def read_ais_csv(
    source: str | Path,
    fmt: str,
    report: ReadReport | None = None,
    block_bytes: int = 16 << 20,
) -> Iterator[pa.Table]:
    """Decoded AIS (:data:`AIS_DECODED`) of a DMA or MarineCadastre CSV file (plain or
    compressed), block by block."""
    if fmt not in AIS_CSV_FORMATS:
        raise ValueError(f"unknown AIS CSV format {fmt!r}; choose one of {AIS_CSV_FORMATS}")
    report = report if report is not None else ReadReport(str(source), fmt)
    report.format = fmt

    def on_invalid(row: Any) -> str:
        report.rejects["bad_line"] += 1
        return "skip"

    names = dict(_DMA_COLUMNS if fmt == "dma-csv" else _MARINECADASTRE_COLUMNS)
    header = read_head(Path(source)).lstrip(b"\xef\xbb\xbf").split(b"\n", 1)[0]
    if b"TransceiverClass" not in header and b"TranscieverClass" in header:
        names["mobile"] = "TranscieverClass"  # so spelled in many published years
    with open_stream(Path(source)) as raw:
        reader = pacsv.open_csv(
            GuardedStream(raw, report),
            pacsv.ReadOptions(block_size=block_bytes),
            pacsv.ParseOptions(invalid_row_handler=on_invalid),
            pacsv.ConvertOptions(
                column_types=dict.fromkeys(names.values(), pa.string()),
                include_columns=list(names.values()),
                include_missing_columns=True,
            ),
        )
        for batch in reader:
            if batch.num_rows:
                report.frames += batch.num_rows
                yield _table(batch, names, fmt, report)


__all__ = ["AIS_CSV_FORMATS", "ais_csv_format_of_head", "read_ais_csv"]
