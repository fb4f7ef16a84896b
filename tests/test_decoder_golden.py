"""Golden tests: every real frame of ../shared/data/adsb decoded by jamwatch and by pyModeS 3.6.

Every field jamwatch decodes is compared with pyModeS's single-message decode. Where the two
disagree and jamwatch follows the standard, the test names the case and the reference
(``KNOWN``); any other disagreement fails. Positions are compared with pyModeS's
``PipeDecoder`` results copied at the moment each call returns (its batch API later rewrites
older positions, see DESIGN.md).
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

import pyarrow as pa
import pytest

import jamwatch
from conftest import shared_path
from golden import beast_sample, helsinki_file, mixed_2015, pymodes_sample, raw_table, vectors
from jamwatch.decoder.cpr import distance_km

pms = pytest.importorskip("pyModeS")

CORPORA = {
    "pymodes_sample": (("adsb", "pymodes_sample_data_adsb.csv"), pymodes_sample),
    "mixed_2015": (("adsb", "pymodes_mixed_2015-03-03.txt"), mixed_2015),
    "test_vectors": (("adsb", "testvectors_adsb.json"), vectors),
    "dump1090_beast": (("adsb", "dump1090_sample.beast"), beast_sample),
    # a real Helsinki recording during Baltic jamming: 2026-01-06 05:15-05:30 UTC, 131,601 frames
    "helsinki_0515": (("helsinki", "raw_adsb_20260106_071532.bin.xz"), helsinki_file),
}

# Cases where pyModeS 3.6 and jamwatch disagree and jamwatch follows the standard.
KNOWN = {
    # DF18 CF=2 (fine TIS-B) TC31 with version bits 6: DO-260B 2.2.3.2.7.2.5 defines versions
    # 0-2 only, and NACp has no code 12 (Table 2-71). pyModeS reports version 6, NACp 12;
    # jamwatch rejects the frame's integrity fields (null) and counts it as invalid_field.
    "92479249FCB22E16FBDC3BAC5B56",
    # DF18 TC19 with subtype 0: DO-260B 2.2.3.2.6.1.2 reserves subtypes 0 and 5-7, so the
    # rest of the message has no defined layout. pyModeS decodes a vertical rate of
    # -28,864 ft/min and a GNSS-baro difference anyway; jamwatch leaves them null.
    "911C059D9805A452CF109F64924F",
}


def _ours(hexes: list[str], times: list[float]) -> list[dict[str, Any]]:
    table = jamwatch.decode(raw_table(hexes, times))
    assert table.num_rows == len(hexes)
    rows: list[dict[str, Any]] = table.to_pylist()
    return rows


def _close(a: float | None, b: float | None, tol: float) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return abs(a - b) <= tol


def _compare(msg: str, ours: dict[str, Any], ref: dict[str, Any]) -> list[str]:
    """Field-by-field differences between one jamwatch row and pyModeS's decode."""
    diffs: list[str] = []

    def check(name: str, ok: bool, mine: Any, theirs: Any) -> None:
        if not ok:
            diffs.append(f"{msg} {name}: jamwatch {mine!r} pyModeS {theirs!r}")

    def near(name: str, key: str, tol: float) -> None:
        check(name, _close(ours[name], ref.get(key), tol), ours[name], ref.get(key))

    df = ref.get("df")
    check("df", ours["df"] == df, ours["df"], df)
    if ref.get("icao") is not None and df in (0, 4, 5, 11, 16, 17, 18, 20, 21):
        check("icao", ours["icao"] == ref["icao"].lower(), ours["icao"], ref["icao"])
    if ref.get("crc_valid") is not None:
        check("crc_ok", ours["crc_ok"] == ref["crc_valid"], ours["crc_ok"], ref["crc_valid"])
    if df not in (17, 18) or not ref.get("crc_valid"):
        return diffs
    tc = ref.get("typecode")
    if ours["tc"] is None and df == 18:
        return diffs  # coarse TIS-B / management: jamwatch does not decode the ME field
    check("tc", ours["tc"] == tc, ours["tc"], tc)
    if tc is None:
        return diffs
    if 1 <= tc <= 4:
        theirs = ref.get("callsign")
        check(
            "callsign", ours["callsign"] == (theirs or "").rstrip("_# "), ours["callsign"], theirs
        )
    if 9 <= tc <= 18:
        near("altitude_baro_ft", "altitude", 0)
    if 20 <= tc <= 22:
        alt = ref.get("altitude")
        mine = ours["altitude_gnss_ft"]
        check("altitude_gnss_ft", _close(None if mine is None else int(mine), alt, 0), mine, alt)
    if 5 <= tc <= 8:
        near("groundspeed_kt", "groundspeed", 1e-9)
        near("track_deg", "track", 1e-9)
    if tc == 19:
        st = ref.get("subtype")
        if st in (1, 2):
            gs = ours["groundspeed_kt"]
            # pyModeS truncates ground speed to whole knots (DESIGN.md): compare the floor
            check(
                "groundspeed_kt",
                _close(None if gs is None else math.floor(gs + 1e-9), ref.get("groundspeed"), 0),
                gs,
                ref.get("groundspeed"),
            )
            near("track_deg", "track", 1e-9)
        if st in (3, 4):
            near("airspeed_kt", "airspeed", 0)
            near("heading_deg", "heading", 1e-9)
        near("vertical_rate_fpm", "vertical_rate", 0)
        near("gnss_baro_diff_ft", "geo_minus_baro", 0)
    if tc == 29 and ref.get("subtype") == 1:
        check("nacp", ours["nacp"] == ref.get("nac_p"), ours["nacp"], ref.get("nac_p"))
        check("sil", ours["sil"] == ref.get("sil"), ours["sil"], ref.get("sil"))
    if tc == 31:
        check("version", ours["version"] == ref.get("version"), ours["version"], ref.get("version"))
        if (ref.get("version") or 0) >= 1:
            check("nacp", ours["nacp"] == ref.get("nac_p"), ours["nacp"], ref.get("nac_p"))
            check("sil", ours["sil"] == ref.get("sil"), ours["sil"], ref.get("sil"))
    return diffs


@pytest.mark.parametrize("corpus", sorted(CORPORA))
def test_every_field_agrees_with_pymodes(corpus: str) -> None:
    name, loader = CORPORA[corpus]
    hexes, times = loader(shared_path(*name))
    ours = _ours(hexes, times)
    diffs: list[str] = []
    compared = Counter[str]()
    for msg, row in zip(hexes, ours, strict=True):
        ref = pms.decode(msg)
        found = _compare(msg, row, ref)
        if msg.upper() in KNOWN:
            assert found, f"{msg} is listed as a known difference but now agrees"
            continue
        diffs.extend(found)
        compared[f"DF{ref.get('df')}"] += 1
    assert not diffs, "\n".join(diffs[:30])
    assert sum(compared.values()) == len(hexes) - sum(m.upper() in KNOWN for m in hexes)


def test_known_tisb_frame_is_left_null() -> None:
    table = jamwatch.decode(raw_table(["92479249FCB22E16FBDC3BAC5B56"], [0.0]))
    row = table.to_pylist()[0]
    assert (row["df"], row["ca"], row["tc"]) == (18, 2, 31)
    assert row["version"] is None and row["nacp"] is None and row["sil"] is None


def test_no_pairing_jumps_on_the_real_sample() -> None:
    """No 180/360 NM pairing errors: consecutive positions of an aircraft imply a real speed."""
    hexes, times = pymodes_sample(shared_path("adsb", "pymodes_sample_data_adsb.csv"))
    table = jamwatch.decode(raw_table(hexes, times))
    pos = table.filter(pa.compute.is_valid(table["latitude"])).to_pylist()
    assert len(pos) >= 929  # pyModeS's PipeDecoder finds 929 on this file
    last: dict[str, dict[str, Any]] = {}
    for row in pos:
        prev = last.get(row["icao"])
        if prev is not None:
            d_km = distance_km(
                prev["latitude"], prev["longitude"], row["latitude"], row["longitude"]
            )
            # the file's times are whole seconds and frames within one second are not always
            # in order, so allow 2 s of slack; a pairing error would be 180 or 360 NM
            dt = (row["time"] - prev["time"]).total_seconds() + 2.0
            assert d_km < 300.0, f"jump of {d_km:.0f} km"
            assert d_km / dt < 0.35, f"{d_km / dt * 3600 / 1.852:.0f} kt between fixes"
        last[row["icao"]] = row


def test_helsinki_positions_agree_with_a_global_cpr_decode() -> None:
    """Every airborne position of a real Helsinki file against pyModeS's textbook global decode
    of the latest even/odd pair within 10 s (DESIGN.md: its batch API is no position oracle)."""
    from pyModeS.position._cpr import airborne_position_pair

    hexes, times = helsinki_file(shared_path("helsinki", "raw_adsb_20260106_071532.bin.xz"))
    rows = _ours(hexes, times)
    last: dict[tuple[str, int], tuple[int, int, float]] = {}
    compared = withheld = 0
    worst = 0.0
    for msg, t, row in zip(hexes, times, rows, strict=True):
        if row["df"] != 17 or not row["crc_ok"] or row["tc"] is None or not 9 <= row["tc"] <= 18:
            continue
        ref = pms.decode(msg)
        odd = int(ref["cpr_format"])
        last[(row["icao"], odd)] = (ref["cpr_lat"], ref["cpr_lon"], t)
        other = last.get((row["icao"], 1 - odd))
        if other is None or t - other[2] > 10.0:
            continue
        this = last[(row["icao"], odd)]
        even, odd_frame = (other, this) if odd else (this, other)
        pos = airborne_position_pair(
            even[0], even[1], odd_frame[0], odd_frame[1], even_is_newer=not odd
        )
        if pos is None:
            continue
        if row["latitude"] is None:
            withheld += 1
            continue
        compared += 1
        worst = max(worst, distance_km(row["latitude"], row["longitude"], pos[0], pos[1]))
    # thousands of pairs in this quarter hour; jamwatch withholds a position only while an
    # aircraft's first pairs are confirmed, or when a pair is inconsistent
    assert compared > 3000, compared
    assert withheld <= 0.01 * compared, (withheld, compared)
    assert worst < 0.01, f"a position {worst * 1000:.1f} m from the global decode"
