"""DF17 encoders of the simulator: encode, then decode with jamwatch and with pyModeS 3.6.

The expected values are the ones the encoder was asked for, quantised by the resolution of
each field (DO-260B): altitude 25 ft, GNSS height 1 m, velocity components 1 kt, vertical
rate 64 ft/min, GNSS-baro difference 25 ft, selected altitude 32 ft, CPR 17 bits.
"""

from __future__ import annotations

import math

import numpy as np
import pyModeS
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from conftest import shared_path
from jamwatch.decoder import Decoder
from jamwatch.decoder.crc import residual
from jamwatch.decoder.fields import FIELDS, get
from jamwatch.decoder.integrity import nic as nic_of
from jamwatch.simulate.encode import (
    KIND_IDENT,
    KIND_POSITION,
    KIND_STATUS,
    KIND_TARGET,
    KIND_VELOCITY,
    cpr_encode,
    cpr_nl,
    encode_matrix,
    encode_one,
    frames_table,
    nic_type_code,
)

T0 = 1_722_470_400 * 10**9  # 2024-08-01 00:00 UTC


def _km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = (
        math.sin((p2 - p1) / 2) ** 2
        + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 2 * 6371.0088 * math.asin(math.sqrt(a))


def test_cpr_matches_the_published_worked_example() -> None:
    # the classic example pair of "The 1090 MHz Riddle" / pyModeS tests (DF17 40621D):
    # even 8D40621D58C382D690C8AC2863A7 -> cpr 93000/51372 at 52.2572 N 3.91937 E
    yz, xz = cpr_encode(np.array([52.2572021484375]), np.array([3.91937255859375]), np.array([0]))
    assert (int(yz[0]), int(xz[0])) == (93000, 51372)
    assert cpr_nl(np.array([0.0, 52.2572, 87.0, 88.0, -52.2572])).tolist() == [59, 36, 2, 1, 36]


def test_known_frames_are_reproduced_bit_for_bit() -> None:
    # 8D4840D6202CC371C32CE0576098: KLM1023, category 0, TC 4 (pyModeS test vector)
    frame = encode_one(KIND_IDENT, 0x4840D6, callsign="KLM1023", category=0, ident_tc=4)
    assert frame.hex().upper() == "8D4840D6202CC371C32CE0576098"


def test_real_identification_frames_are_re_encoded_bit_for_bit() -> None:
    """Every real TC 1-4 frame (CA 5) of the pyModeS sample, re-encoded from its decoded values."""
    # ../shared/data/adsb/pymodes_sample_data_adsb.csv: 98 real TC4 frames, Delft 2016-03-14
    lines = shared_path("adsb", "pymodes_sample_data_adsb.csv").read_text().splitlines()
    checked = 0
    for line in lines:
        hexstr = line.split(",")[1].strip('"')
        frame = bytes.fromhex(hexstr)
        if not 1 <= get(frame, FIELDS["tc"]) <= 4 or get(frame, FIELDS["ca"]) != 5:
            continue
        d = pyModeS.decode(hexstr)
        again = encode_one(
            KIND_IDENT,
            get(frame, FIELDS["icao"]),
            callsign=d["callsign"],
            category=d["category"],
            ident_tc=d["typecode"],
        )
        assert again == frame, hexstr
        checked += 1
    assert checked == 98


def test_nic_type_code_gives_the_decoder_nic() -> None:
    for a in (0, 1):
        for want in range(12):
            tc, b = nic_type_code(np.array([want]), np.array([a]))
            got = nic_of(int(tc[0]), 2, a, int(b[0]), 0)
            reachable = (
                want if not ((a == 0 and want in (9, 3)) or (a == 1 and want in (8, 2))) else None
            )
            if reachable is not None:
                assert got == want, (a, want)
            else:
                assert got == want - 1, (a, want)


states = st.fixed_dictionaries(
    {
        "icao": st.integers(1, 0xFFFFFF),
        "lat": st.floats(-84.0, 84.0),
        "lon": st.floats(-179.999, 179.999),
        "alt": st.integers(-40, 2000).map(lambda n: n * 25.0),
        "gnss_m": st.integers(1, 4095),
        "nic": st.integers(0, 11),
        "nic_a": st.integers(0, 1),
        "nacp": st.integers(0, 11),
        "sil": st.integers(0, 3),
        "gs": st.floats(0.0, 1000.0),
        "trk": st.floats(0.0, 359.99),
        "vr": st.integers(-500, 500).map(lambda n: n * 64.0),
        "dalt": st.integers(-125, 125).map(lambda n: n * 25.0),
        "salt": st.integers(0, 1400).map(lambda n: n * 32.0),
        "callsign": st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=1, max_size=8),
        "category": st.integers(0, 7),
        "ident_tc": st.integers(1, 4),
    }
)


def _encoder_args(s: dict[str, float]) -> dict[str, float]:
    """The encoder's keyword arguments for a drawn state (all but odd, altitude and gnss)."""
    return {
        "latitude": s["lat"],
        "longitude": s["lon"],
        "nic": s["nic"],
        "nic_a": s["nic_a"],
        "nacp": s["nacp"],
        "sil": s["sil"],
        "groundspeed_kt": s["gs"],
        "track_deg": s["trk"],
        "vertical_rate_fpm": s["vr"],
        "gnss_baro_diff_ft": s["dalt"],
        "selected_altitude_ft": s["salt"],
        "callsign": s["callsign"],
        "category": s["category"],
        "ident_tc": s["ident_tc"],
    }


def _frames(s: dict[str, float]) -> np.ndarray:  # type: ignore[type-arg]
    kinds = np.array(
        [
            KIND_STATUS,
            KIND_IDENT,
            KIND_POSITION,
            KIND_POSITION,
            KIND_VELOCITY,
            KIND_TARGET,
            KIND_POSITION,
        ]
    )
    return encode_matrix(
        kinds,
        s["icao"],
        odd=np.array([0, 0, 0, 1, 0, 0, 0]),
        altitude_ft=np.array([0, 0, s["alt"], s["alt"], 0, 0, s["gnss_m"] * 3.28084]),
        gnss=np.array([0, 0, 0, 0, 0, 0, 1], dtype=bool),
        **_encoder_args(s),
    )


def _same_zone(lat: float) -> bool:
    near = cpr_nl(np.array([lat - 0.01, lat, lat + 0.01]))
    return bool(np.all(near == near[0]))


@settings(max_examples=150, deadline=None)
@given(states)
def test_encode_then_decode_with_jamwatch(s: dict[str, float]) -> None:
    assume(_same_zone(s["lat"]))
    mat = _frames(s)
    table = frames_table(mat, T0 + np.arange(mat.shape[0]) * 500_000_000)
    rows = Decoder().decode(table).to_pylist()
    assert all(r["crc_ok"] for r in rows)
    assert {r["icao"] for r in rows} == {f"{s['icao']:06x}"}
    status, ident, even, odd, vel, target, gnss = rows
    assert (status["tc"], status["version"], status["nacp"], status["sil"]) == (
        31,
        2,
        s["nacp"],
        s["sil"],
    )
    assert ident["tc"] == s["ident_tc"] and ident["callsign"] == s["callsign"]
    tc, b = nic_type_code(np.array([s["nic"]]), np.array([s["nic_a"]]))
    want_nic = nic_of(int(tc[0]), 2, s["nic_a"], int(b[0]), 0)
    for pos in (even, odd):
        assert pos["tc"] == int(tc[0]) and pos["nic"] == want_nic
        assert pos["altitude_baro_ft"] == s["alt"]
    assert even["latitude"] is None  # waits for its pair
    # the first global fix is held back until the next pair confirms it (docs/decoder.md)
    assert odd["latitude"] is None
    assert _km(gnss["latitude"], gnss["longitude"], s["lat"], s["lon"]) < 0.005
    assert gnss["altitude_gnss_ft"] == pytest.approx(s["gnss_m"] * 3.28084)
    vew = s["gs"] * math.sin(math.radians(s["trk"]))
    vns = s["gs"] * math.cos(math.radians(s["trk"]))
    assert vel["groundspeed_kt"] == pytest.approx(math.hypot(round(vew), round(vns)), abs=1e-6)
    assert abs(vel["groundspeed_kt"] - s["gs"]) <= 0.75
    if s["gs"] > 50:
        assert abs((vel["track_deg"] - s["trk"] + 180) % 360 - 180) < 1.0
    assert vel["vertical_rate_fpm"] == s["vr"]
    assert vel["gnss_baro_diff_ft"] == s["dalt"]
    assert (target["tc"], target["nacp"], target["sil"]) == (29, s["nacp"], s["sil"])


@settings(max_examples=150, deadline=None)
@given(states)
def test_every_frame_decodes_with_pymodes_to_the_intended_values(s: dict[str, float]) -> None:
    assume(_same_zone(s["lat"]))
    mat = _frames(s)
    hexes = [bytes(row).hex().upper() for row in mat]
    ref = (s["lat"], s["lon"])
    status, ident, even, odd, vel, target, gnss = (pyModeS.decode(h, reference=ref) for h in hexes)
    for d in (status, ident, even, odd, vel, target, gnss):
        assert d["crc_valid"] and d["df"] == 17 and d["icao"] == f"{s['icao']:06X}"
    assert (status["version"], status["nac_p"], status["sil"], status["nic_supplement_a"]) == (
        2,
        s["nacp"],
        s["sil"],
        s["nic_a"],
    )
    assert (ident["typecode"], ident["category"]) == (s["ident_tc"], s["category"])
    assert ident["callsign"] == s["callsign"]
    for pos, fmt in ((even, 0), (odd, 1)):
        assert pos["altitude"] == s["alt"] and pos["cpr_format"] == fmt
        assert _km(pos["latitude"], pos["longitude"], s["lat"], s["lon"]) < 0.005
    assert gnss["altitude"] == int(s["gnss_m"] * 3.28084)
    assert _km(gnss["latitude"], gnss["longitude"], s["lat"], s["lon"]) < 0.005
    assert abs(vel["groundspeed"] - s["gs"]) <= 1.75  # pyModeS truncates to whole knots
    if s["gs"] > 50:
        assert abs((vel["track"] - s["trk"] + 180) % 360 - 180) < 1.0
    assert vel["vertical_rate"] == s["vr"] and vel["vr_source"] == "BARO"
    assert vel["geo_minus_baro"] == s["dalt"]
    assert target["subtype"] == 1 and (target["nac_p"], target["sil"]) == (s["nacp"], s["sil"])
    want_salt = None if s["salt"] == 0 else s["salt"]
    assert target["selected_altitude"] in (want_salt, s["salt"])


@settings(max_examples=100, deadline=None)
@given(
    states, st.sampled_from([KIND_IDENT, KIND_POSITION, KIND_VELOCITY, KIND_TARGET, KIND_STATUS])
)
def test_scalar_path_equals_vectorized_path(s: dict[str, float], kind: int) -> None:
    args = dict(odd=1, altitude_ft=s["alt"], **_encoder_args(s))
    one = encode_one(kind, s["icao"], **args)
    mat = encode_matrix(np.array([kind]), s["icao"], **args)
    assert one == bytes(mat[0])
    assert residual(one) == 0


def test_missing_values_encode_as_not_available() -> None:
    mat = encode_matrix(
        np.array([KIND_VELOCITY, KIND_POSITION]),
        0xABCDEF,
        groundspeed_kt=300.0,
        track_deg=90.0,
        vertical_rate_fpm=np.nan,
        gnss_baro_diff_ft=np.nan,
        altitude_ft=np.nan,
        latitude=10.0,
        longitude=10.0,
    )
    vel = pyModeS.decode(bytes(mat[0]).hex())
    assert vel["vertical_rate"] is None and vel["geo_minus_baro"] is None
    assert get(bytes(mat[1]), FIELDS["pos_alt"]) == 0


def test_compiled_encoder_equals_the_scalar_path_on_mixed_rows() -> None:
    """Many rows of every kind at once, with missing values, GNSS heights and fast speeds."""
    rng = np.random.default_rng(7)
    n = 600
    kind = rng.integers(0, 5, n)

    def holes(v: np.ndarray) -> np.ndarray:  # type: ignore[type-arg]
        return np.where(rng.random(n) < 0.1, np.nan, v)

    cols = dict(
        latitude=rng.uniform(-89.9, 89.9, n),
        longitude=rng.uniform(-180.0, 180.0, n),
        odd=rng.integers(0, 2, n),
        altitude_ft=holes(rng.uniform(-1_500.0, 52_000.0, n)),
        gnss=rng.random(n) < 0.2,
        nic=rng.integers(0, 12, n),
        nic_a=rng.integers(0, 2, n),
        nacp=rng.integers(0, 12, n),
        sil=rng.integers(0, 4, n),
        groundspeed_kt=holes(rng.uniform(0.0, 2_000.0, n)),
        track_deg=rng.uniform(0.0, 360.0, n),
        vertical_rate_fpm=holes(rng.uniform(-40_000.0, 40_000.0, n)),
        gnss_baro_diff_ft=holes(rng.uniform(-4_000.0, 4_000.0, n)),
        selected_altitude_ft=holes(rng.uniform(0.0, 70_000.0, n)),
        callsign=np.array(["KLM1023", "", "A", "EZY12AB", "swr8"])[rng.integers(0, 5, n)],
        category=rng.integers(0, 8, n),
        ident_tc=rng.integers(1, 5, n),
    )
    icao = rng.integers(0, 1 << 24, n)
    mat = encode_matrix(kind, icao, **cols)
    for i in range(n):
        row = {k: v[i].item() for k, v in cols.items()}
        assert bytes(mat[i]) == encode_one(int(kind[i]), int(icao[i]), **row), i


def test_values_that_do_not_fit_their_field_are_refused() -> None:
    with pytest.raises(ValueError, match="does not fit"):
        encode_matrix(np.array([KIND_STATUS]), 0x123456, nacp=16)
    with pytest.raises(ValueError, match="does not fit"):
        encode_matrix(np.array([KIND_IDENT]), 1 << 24)
