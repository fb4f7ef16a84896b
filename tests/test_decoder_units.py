"""Bit-level helpers, NIC, CPR and the decoder's batch behaviour."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import shared_path
from golden import pymodes_sample, raw_table
from jamwatch.decoder import FIELDS, Decoder, frames_matrix
from jamwatch.decoder import cpr as jcpr
from jamwatch.decoder.crc import crc24, residual
from jamwatch.decoder.fields import get, put
from jamwatch.decoder.integrity import nic
from jamwatch.decoder.kernels import altitude_ft
from jamwatch.schema import DECODED, RAW_FRAMES


def _bitwise_crc(data: bytes) -> int:
    """CRC-24 by polynomial long division, bit by bit (the textbook definition)."""
    poly = 0x1FFF409
    value = int.from_bytes(data, "big") << 24
    nbits = len(data) * 8 + 24
    for bit in range(nbits - 1, 23, -1):
        if value >> bit & 1:
            value ^= poly << (bit - 24)
    return value


@given(st.binary(min_size=4, max_size=11))
def test_table_crc_equals_long_division(data: bytes) -> None:
    assert crc24(data) == _bitwise_crc(data)


def test_residual_of_real_frames() -> None:
    # DF17 from pyModeS's test suite: valid parity
    assert residual(bytes.fromhex("8D406B902015A678D4D220AA4BDA")) == 0
    # DF20 (Comm-B altitude reply): the residual is the address 40621D (pyModeS docs)
    assert residual(bytes.fromhex("A0001838CA38000000000027B5CB")) == 0x40621D


@given(st.integers(0, (1 << 112) - 1), st.sampled_from(sorted(FIELDS)), st.data())
def test_put_then_get_returns_the_value(word: int, name: str, data: st.DataObject) -> None:
    field = FIELDS[name]
    value = data.draw(st.integers(0, (1 << field.length) - 1))
    frame = put(value, field, word).to_bytes(14, "big")
    assert get(frame, field) == value


# DO-260B Table 2-14 (airborne) and 2-19 (surface), written as (tc, version, A, B, C) -> NIC,
# independently of the implementation's branch order.
NIC_TABLE = {
    (9, 2, 0, 0, 0): 11,
    (10, 2, 0, 0, 0): 10,
    (11, 2, 1, 1, 0): 9,
    (11, 2, 0, 0, 0): 8,
    (12, 2, 0, 0, 0): 7,
    (13, 2, 0, 1, 0): 6,
    (13, 2, 0, 0, 0): 6,
    (13, 2, 1, 1, 0): 6,
    (14, 2, 0, 0, 0): 5,
    (15, 2, 0, 0, 0): 4,
    (16, 2, 1, 1, 0): 3,
    (16, 2, 0, 0, 0): 2,
    (17, 2, 0, 0, 0): 1,
    (18, 2, 0, 0, 0): 0,
    (20, 2, 0, 0, 0): 11,
    (21, 2, 0, 0, 0): 10,
    (22, 2, 0, 0, 0): 0,
    (5, 2, 0, 0, 0): 11,
    (6, 2, 0, 0, 0): 10,
    (7, 2, 1, 0, 0): 9,
    (7, 2, 0, 0, 0): 8,
    (8, 2, 1, 0, 1): 7,
    (8, 2, 1, 0, 0): 6,
    (8, 2, 0, 0, 1): 6,
    (8, 2, 0, 0, 0): 0,
    # DO-260A (version 1): one NIC supplement, from TC31
    (11, 1, 1, 0, 0): 9,
    (11, 1, 0, 0, 0): 8,
    (16, 1, 1, 0, 0): 3,
    (16, 1, 0, 0, 0): 2,
    (7, 1, 1, 0, 0): 9,
    (8, 1, 1, 0, 1): 0,
    # DO-260 (version 0): from the HPL bound of each type code
    (11, 0, 0, 0, 0): 8,
    (16, 0, 0, 0, 0): 3,
    (7, 0, 0, 0, 0): 8,
    (8, 0, 0, 0, 0): 0,
    # version 1 ignores bit 40 (the single-antenna flag there)
    (11, 1, 0, 1, 0): 8,
}


@pytest.mark.parametrize(("key", "expected"), sorted(NIC_TABLE.items()))
def test_nic_table(key: tuple[int, int, int, int, int], expected: int) -> None:
    assert nic(*key) == expected


def test_nic_is_none_for_other_type_codes() -> None:
    assert all(nic(tc, 2, 0, 0, 0) == -1 for tc in (0, 1, 4, 19, 23, 28, 29, 31))


def test_altitude_codes() -> None:
    # Q=1: 25 ft steps. pyModeS test vector 8D40058B58C901... -> 39,000 ft (field 0xC90)
    assert altitude_ft(0xC90) == 39000.0
    assert altitude_ft(0) is not None and math.isnan(altitude_ft(0))
    # Gillham (Q=0): every valid code maps to a distinct multiple of 100 ft in the range the
    # code can express (-1,200 to 126,700 ft)
    seen = {}
    for code in range(4096):
        if code & 0x10:
            continue
        alt = altitude_ft(code)
        if not math.isnan(alt):
            assert alt % 100 == 0 and -1200 <= alt <= 126700
            assert alt not in seen, f"codes {seen.get(alt)} and {code} both give {alt}"
            seen[alt] = code
    assert len(seen) > 1200


@settings(max_examples=300)
@given(
    st.floats(-89.0, 89.0),
    st.floats(-179.99, 179.99),
    st.floats(-0.01, 0.01),
    st.floats(-0.01, 0.01),
)
def test_cpr_local_and_global_agree(lat: float, lon: float, dlat: float, dlon: float) -> None:
    """Encode a position, decode it globally and locally: both within one CPR step."""

    def encode(lat: float, lon: float, odd: int) -> tuple[int, int]:
        dlat_z = 360.0 / (60 - odd)
        yz = math.floor(131072 * ((lat % dlat_z) / dlat_z) + 0.5)
        rlat = dlat_z * (yz / 131072 + math.floor(lat / dlat_z))
        nlz = jcpr.nl(rlat) - odd
        dlon_z = 360.0 / nlz if nlz > 0 else 360.0
        xz = math.floor(131072 * ((lon % dlon_z) / dlon_z) + 0.5)
        return yz % 131072, xz % 131072

    e = encode(lat, lon, 0)
    o = encode(lat + dlat, lon + dlon, 1)
    glat, glon = jcpr.global_airborne(e[0], e[1], o[0], o[1], True)
    if math.isnan(glat):  # the two fixes straddle a zone boundary: rejected, not guessed
        assert jcpr.nl(lat) != jcpr.nl(lat + dlat) or abs(lat) > 87
        return
    assert jcpr.distance_km(glat, glon, lat + dlat, lon + dlon) < 0.01
    llat, llon = jcpr.local(o[0], o[1], True, lat, lon, False)
    assert jcpr.distance_km(llat, llon, lat + dlat, lon + dlon) < 0.01


def test_frames_matrix_pads_short_frames() -> None:
    arr = pa.array([bytes(range(14)), bytes(range(7)), b"\x01\x02", b""], pa.binary())
    mat, nbytes = frames_matrix(arr)
    assert nbytes.tolist() == [14, 7, 2, 0]
    assert mat[1].tolist() == [*range(7), 0, 0, 0, 0, 0, 0, 0]
    assert mat[2, :3].tolist() == [1, 2, 0]


def test_batches_give_the_same_result_as_one_table() -> None:
    hexes, times = pymodes_sample(shared_path("adsb", "pymodes_sample_data_adsb.csv"))
    raw = raw_table(hexes, times)
    whole = Decoder().decode(raw)
    dec = Decoder()
    rng = np.random.default_rng(7)
    parts, start = [], 0
    while start < raw.num_rows:
        size = int(rng.integers(1, 300))
        parts.append(dec.decode(raw.slice(start, size)))
        start += size
    assert pa.concat_tables(parts).equals(whole)
    assert dec.report.positions == int(pc.sum(pc.is_valid(whole["latitude"])).as_py())


def test_garbage_frames_keep_their_rows() -> None:
    rng = np.random.default_rng(1)
    frames = [
        rng.integers(0, 256, int(n), dtype=np.uint8).tobytes()
        for n in rng.choice([0, 1, 2, 7, 14, 20], 5000)
    ]
    good = bytes.fromhex("8D406B902015A678D4D220AA4BDA")
    frames[1234] = good
    raw = pa.table(
        {
            "time": pa.nulls(len(frames), RAW_FRAMES.field("time").type),
            "frame": pa.array(frames, pa.binary()),
            "signal": pa.nulls(len(frames), pa.uint8()),
        },
        schema=RAW_FRAMES,
    )
    dec = Decoder()
    out = dec.decode(raw)
    assert out.schema == DECODED
    assert out.num_rows == 5000
    assert out.slice(1234, 1).to_pylist()[0]["callsign"] == "EZY85MH"
    # random 112-bit frames that claim DF17/18 fail the parity check, and are counted
    df = out["df"].to_numpy(zero_copy_only=False)
    sizes = np.array([len(f) for f in frames])
    long_adsb = int(np.sum(np.isin(df, [17, 18]) & (sizes == 14))) - 1
    assert dec.report.rejects["crc"] == long_adsb
    assert dec.report.rejects["length_mismatch"] > 0


def test_a_pair_mixing_a_spoofed_and_a_true_frame_gives_no_position() -> None:
    """An even frame at a spoofer's false point and an odd one at the true position, 1 s
    apart, lie in one longitude zone: decoding them as a pair would give a position between
    the two. The decoder must withhold it, then decode normally from a consistent pair."""
    from jamwatch.simulate.encode import KIND_POSITION, encode_one

    def pos(lat: float, lon: float, odd: int) -> bytes:
        return encode_one(
            KIND_POSITION, 0xABCDEF, latitude=lat, longitude=lon, odd=odd, altitude_ft=35000, nic=8
        )

    # both latitudes have 59 longitude zones (NL), so the zone check alone does not catch it
    frames = [pos(6.0, 33.00, 0), pos(5.0, 33.05, 1), pos(5.001, 33.05, 0), pos(5.002, 33.05, 1)]
    dec = Decoder()
    out = dec.decode(raw_table([f.hex() for f in frames], [0.0, 1.0, 2.0, 3.0]))
    lat = out["latitude"].to_pylist()
    # frame 1 pairs with frame 0 (a wrong fix), frame 2 with frame 1 (right, but disagrees
    # with the first): both withheld; frame 3's fix agrees with frame 2's and is trusted
    assert lat[:3] == [None, None, None]
    assert lat[3] == pytest.approx(5.002, abs=1e-4)
    assert dec.report.rejects["position_unconfirmed"] == 2


def test_a_receiver_position_gives_surface_positions_their_reference(tmp_path: Path) -> None:
    """A surface position (pyModeS' example, TC 7) of an aircraft never placed before has
    no reference without a receiver; with one it decodes as pyModeS decodes it against the
    same reference, and `jamwatch decode --receiver` gives it in the file it writes."""
    import pyModeS
    from typer.testing import CliRunner

    from jamwatch.cli import app
    from jamwatch.decoder import DecoderConfig

    msg, ref = "8C4841753AAB238733C8CD4020B1", (51.990, 4.375)
    table = pa.table(
        {"time": pa.array([10**18], DECODED.field("time").type),
         "frame": pa.array([bytes.fromhex(msg)], pa.binary()), "signal": pa.array([1], pa.uint8())},
        schema=RAW_FRAMES,
    )  # fmt: skip
    alone = Decoder().decode(table)
    assert alone.column("latitude")[0].as_py() is None
    placed = Decoder(DecoderConfig(receiver=ref)).decode(table)
    expected = pyModeS.decode(msg, surface_ref=ref)
    assert placed.column("latitude")[0].as_py() == pytest.approx(expected["latitude"], abs=1e-9)
    assert placed.column("longitude")[0].as_py() == pytest.approx(expected["longitude"], abs=1e-9)
    lines = tmp_path / "frames.txt"
    lines.write_text(f"2026-01-06T04:00:00Z {msg}\n")
    out = tmp_path / "out.parquet"
    runner = CliRunner()
    result = runner.invoke(app, ["decode", str(lines), "-o", str(out), "--receiver", "51.99,4.375"])
    assert result.exit_code == 0, result.output
    assert pq.read_table(out).column("latitude")[0].as_py() == pytest.approx(expected["latitude"])
    bad = runner.invoke(app, ["decode", str(lines), "-o", str(out), "--receiver", "north"])
    assert bad.exit_code == 2 and "give LAT,LON" in bad.output
