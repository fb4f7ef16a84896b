"""Arrow schemas at the stage boundaries of the jamwatch pipeline.

Every stage takes and returns Arrow tables or record batches with one of these schemas.
Column names are public: later stages and outside scripts rely on them. Units are in
the names (``_ft``, ``_kt``, ``_fpm``, ``_deg``). "Not available" is always null, never 0.

Raw frames (stage ``io`` -> ``decode``)
    ``time``    receive time, timestamp[ns, UTC]; null when the source has none.
    ``frame``   the Mode S frame as bytes: 7 (56-bit) or 14 (112-bit); 2 for Mode A/C
                (Beast type '1'), which the decoder keeps with a null ``df``.
    ``signal``  receiver signal level byte (Beast), null elsewhere.

Decoded frames (stage ``decode`` -> ``signals``): see :data:`DECODED_COLUMNS`.

Cell counts (gpsjam.org's daily files, and the first columns of the ``aggregate`` output):
see :data:`GPSJAM_SCHEMA`.

Events (stage ``detect`` -> ``serve``): see :data:`EVENTS`; ``events.json`` is its
serialization (:mod:`jamwatch.io.events`, ``docs/events.schema.json``).
"""

from __future__ import annotations

import pyarrow as pa

TIME_TYPE = pa.timestamp("ns", tz="UTC")

RAW_FRAMES = pa.schema(
    [
        pa.field("time", TIME_TYPE, nullable=True),
        pa.field("frame", pa.binary(), nullable=False),
        pa.field("signal", pa.uint8(), nullable=True),
    ]
)

#: Decoded columns, their Arrow type and their documentation.
DECODED_COLUMNS: dict[str, tuple[pa.DataType, str]] = {
    "time": (TIME_TYPE, "receive time, UTC (Beast: start time + 12 MHz counter)"),
    "df": (pa.uint8(), "downlink format (0-24); null for Mode A/C and unparseable frames"),
    "icao": (
        pa.string(),
        "ICAO 24-bit address, 6 lower-case hex digits: from bits 9-32 for DF11/17/18, "
        "from the address/parity field for DF0/4/5/16/20/21 (not verifiable there)",
    ),
    "crc_ok": (
        pa.bool_(),
        "CRC-24 parity check: DF17/18 residual is 0, DF11 residual has no bits above the "
        "interrogator code; null where the parity is overlaid with the address",
    ),
    "ca": (
        pa.uint8(),
        "capability (DF11/17) or control field CF (DF18); DF18 CF>=2 is TIS-B/ADS-R",
    ),
    "tc": (pa.uint8(), "ADS-B type code (DF17/18, bits 33-37)"),
    "callsign": (pa.string(), "identification (TC 1-4), trailing spaces stripped"),
    "latitude": (
        pa.float64(),
        "degrees; CPR decoded: global from an even/odd pair within 10 s, then local against "
        "the aircraft's last position",
    ),
    "longitude": (pa.float64(), "degrees, as latitude"),
    "cpr_odd": (pa.bool_(), "CPR format bit of a position message (true = odd)"),
    "altitude_baro_ft": (pa.float64(), "barometric altitude, feet (TC 9-18)"),
    "altitude_gnss_ft": (pa.float64(), "GNSS height, feet (TC 20-22)"),
    "nic": (
        pa.uint8(),
        "navigation integrity category 0-11 of a position message: from the type code, the "
        "NIC supplement B bit of the message (version 2) and supplements A/C and the ADS-B "
        "version from the latest TC31 of the same aircraft (version 0 if none seen yet)",
    ),
    "nacp": (
        pa.uint8(),
        "navigation accuracy category for position 0-11: from TC29/TC31, carried forward per "
        "aircraft so every later message of that aircraft carries its latest NACp",
    ),
    "sil": (pa.uint8(), "source integrity level 0-3 (TC29/TC31), carried forward per aircraft"),
    "version": (pa.uint8(), "ADS-B version 0-2 (TC31), carried forward per aircraft"),
    "groundspeed_kt": (pa.float64(), "ground speed, knots (TC19 subtypes 1-2, surface movement)"),
    "track_deg": (pa.float64(), "track angle, degrees clockwise from true north"),
    "airspeed_kt": (pa.float64(), "airspeed, knots (TC19 subtypes 3-4)"),
    "heading_deg": (pa.float64(), "magnetic heading, degrees (TC19 subtypes 3-4)"),
    "vertical_rate_fpm": (pa.float64(), "vertical rate, feet per minute (TC19)"),
    "gnss_baro_diff_ft": (pa.float64(), "GNSS height minus barometric altitude, feet (TC19)"),
    "signal": (pa.uint8(), "receiver signal level byte (Beast), passed through"),
}

DECODED = pa.schema([pa.field(name, typ) for name, (typ, _) in DECODED_COLUMNS.items()])

#: Assembled AIS messages (stage ``io`` -> ``decode``): one row per message, its 6-bit
#: armoured payload joined over its sentences (:mod:`jamwatch.io.nmea`).
AIS_SENTENCES = pa.schema(
    [
        pa.field("time", TIME_TYPE, nullable=True),
        pa.field("payload", pa.string(), nullable=False),
        pa.field("fill_bits", pa.uint8(), nullable=False),
        pa.field("channel", pa.string(), nullable=True),
        pa.field("station", pa.string(), nullable=True),
    ]
)

#: Decoded AIS columns (``jamwatch decode`` of AIS input), their type and documentation.
AIS_COLUMNS: dict[str, tuple[pa.DataType, str]] = {
    "time": (TIME_TYPE, "receive time, UTC (tag block, Gatehouse line, time prefix or CSV)"),
    "mmsi": (pa.uint32(), "Maritime Mobile Service Identity"),
    "msg_type": (pa.uint8(), "AIS message type 1-27"),
    "latitude": (
        pa.float64(),
        "degrees (types 1-4, 11, 18, 19, 27); null for 91 (not available) or out of range",
    ),
    "longitude": (pa.float64(), "degrees; null for 181 (not available) or out of range"),
    "sog_kt": (pa.float64(), "speed over ground, knots; null for 102.3 (type 27: 63)"),
    "cog_deg": (pa.float64(), "course over ground, degrees; null for 360 (type 27: 511)"),
    "heading_deg": (pa.float64(), "true heading, degrees; null for 511"),
    "nav_status": (pa.uint8(), "navigation status 0-15 (15: not defined), types 1-3 and 27"),
    "position_accuracy": (pa.bool_(), "position accuracy flag: true < 10 m (DGNSS)"),
    "raim": (pa.bool_(), "RAIM (receiver autonomous integrity monitoring) in use"),
    "epfd": (
        pa.uint8(),
        "type of electronic position-fixing device 0-15 (0 undefined, 1 GPS, 2 GLONASS, "
        "3 combined, ..., 15 internal GNSS); types 4, 5, 11, 19",
    ),
    "ship_name": (pa.string(), "name (types 5, 19, 24 part A), '@' padding removed"),
    "ship_type": (pa.uint8(), "ship and cargo type 1-99 (types 5, 19, 24 part B); null for 0"),
    "utc_second": (pa.uint8(), "UTC second of the position fix 0-59; null for 60-63"),
    "station_time": (TIME_TYPE, "UTC date and time a base station reports (types 4, 11)"),
    "callsign": (pa.string(), "call sign (types 5, 24 part B)"),
    "imo": (pa.uint32(), "IMO number (type 5); null for 0"),
    "channel": (pa.string(), "VHF channel of the sentence (A, B, 1, 2), null if not given"),
    "station": (pa.string(), "receiving station (tag block ``s:``), null if not given"),
}

AIS_DECODED = pa.schema([pa.field(name, typ) for name, (typ, _) in AIS_COLUMNS.items()])

#: Decoded positions read from state-vector tables, traces or trajectories share the decoded
#: column names; these are the columns a position source must provide (others may be null).
POSITION_COLUMNS: tuple[str, ...] = ("time", "icao", "latitude", "longitude")

#: One row per H3 cell and time window: the cell as text (``hex``) and as a number, the
#: window's start and length, and the distinct good and bad aircraft seen in it.
GPSJAM_SCHEMA = pa.schema(
    [
        pa.field("hex", pa.string()),
        pa.field("cell", pa.uint64()),
        pa.field("window_start", TIME_TYPE),
        pa.field("window_s", pa.int64()),
        pa.field("count_good_aircraft", pa.int64()),
        pa.field("count_bad_aircraft", pa.int64()),
    ]
)

#: A transmitter found for a jamming event: where, its 95 % radius, and the span of the
#: reports it explains (null when not known).
SOURCE = pa.struct(
    [
        pa.field("latitude", pa.float64(), nullable=False),
        pa.field("longitude", pa.float64(), nullable=False),
        pa.field("radius_95_km", pa.float64(), nullable=False),
        pa.field("start", TIME_TYPE),
        pa.field("end", TIME_TYPE),
    ]
)
#: A source the fit proposed that radio physics rules out, and why (never drawn as located).
REJECTED_SOURCE = pa.struct([*SOURCE, pa.field("reason", pa.string())])
#: The false position a spoofed aircraft (or ship) reported, and how many aircraft (or
#: ships) converged on it.
FALSE_POSITION = pa.struct(
    [
        pa.field("latitude", pa.float64(), nullable=False),
        pa.field("longitude", pa.float64(), nullable=False),
        pa.field("converging_aircraft", pa.int64()),
        pa.field("converging_vessels", pa.int64()),
    ]
)

#: One row per jamming event or spoofing episode, in start order. Both kinds: ``kind``
#: ("jamming" or "spoofing"), ``start`` and ``end`` (to the millisecond), ``aircraft`` (ICAO
#: addresses). Jamming only (null for spoofing): ``affected_aircraft``, ``peak_share`` (the
#: largest share of degraded aircraft in a window), ``area`` (GeoJSON Polygon or
#: MultiPolygon, as text), ``source`` (the best located transmitter, null when not
#: observable), ``sources`` and ``rejected_sources``. Spoofing only: ``icao`` (an
#: aircraft's) or ``mmsi`` (a ship's; ``aircraft`` is then empty and ``vessels`` holds the
#: MMSI), ``reports``, ``evidence`` (kinds of evidence seen), ``false_position``. ``vessels``
#: is null where no ship takes part. Coordinates are rounded to
#: 5 decimals (about 1 m) and ``peak_share`` to 4, as published.
EVENTS = pa.schema(
    [
        pa.field("kind", pa.string(), nullable=False),
        pa.field("start", TIME_TYPE, nullable=False),
        pa.field("end", TIME_TYPE, nullable=False),
        pa.field("aircraft", pa.list_(pa.string()), nullable=False),
        pa.field("affected_aircraft", pa.int64()),
        pa.field("peak_share", pa.float64()),
        pa.field("area", pa.string()),
        pa.field("source", SOURCE),
        pa.field("sources", pa.list_(SOURCE)),
        pa.field("rejected_sources", pa.list_(REJECTED_SOURCE)),
        pa.field("icao", pa.string()),
        pa.field("reports", pa.int64()),
        pa.field("evidence", pa.list_(pa.string())),
        pa.field("false_position", FALSE_POSITION),
        pa.field("mmsi", pa.int64()),
        pa.field("vessels", pa.list_(pa.int64())),
    ]
)


def int_times(table: pa.Table) -> pa.Table:
    """``table`` with its ``start`` and ``end`` columns (those it has) as int nanoseconds
    (``to_pylist`` cannot give datetimes to the nanosecond)."""
    for name in ("start", "end"):
        if name in table.column_names:
            i = table.schema.get_field_index(name)
            table = table.set_column(i, name, table.column(name).cast(pa.int64()))
    return table


def empty(schema: pa.Schema) -> pa.Table:
    """An empty table with ``schema``."""
    return schema.empty_table()
