"""One table of Mode S / ADS-B field positions, shared by the decoder and the encoder.

Bit numbers are 1-based over the 112-bit extended squitter, as in DO-260B and ICAO
Doc 9871 (bit 1 is the most significant bit of the first byte). The ME field is bits
33-88; a field at ME bit ``k`` sits at frame bit ``32 + k``.

    common          DF 1-5, CA/CF 6-8, AA (ICAO) 9-32, TC 33-37, PI (parity) 89-112
    TC 1-4          identification: category 38-40, eight 6-bit characters 41-88
    TC 5-8          surface position: movement 38-44, track status 45, track 46-52,
                    T 53, F (CPR odd) 54, CPR latitude 55-71, CPR longitude 72-88
    TC 9-18, 20-22  airborne position: SS 38-39, NIC-B (v2) / SAF 40, altitude 41-52,
                    T 53, F 54, CPR latitude 55-71, CPR longitude 72-88
    TC 19           airborne velocity: subtype 38-40, IC 41, IFR 42, NACv 43-45,
                    subtypes 1-2: E/W sign 46, E/W 47-56, N/S sign 57, N/S 58-67;
                    subtypes 3-4: heading status 46, heading 47-56, airspeed type 57,
                    airspeed 58-67; vertical-rate source 68, sign 69, rate 70-78,
                    GNSS-baro sign 81, difference 82-88
    TC 29           target state and status (subtype 1, DO-260B): subtype 38-39,
                    selected altitude 42-52, NACp 72-75, NIC-baro 76, SIL 77-78
    TC 31           operational status: subtype 38-40 (0 airborne, 1 surface),
                    capability class 41-56 (surface: NIC supplement C at 52),
                    operational mode 57-72, version 73-75, NIC supplement A 76,
                    NACp 77-80, GVA 81-82, SIL 83-84, NIC-baro 85, HRD 86, SIL supplement 87
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Field:
    """A field of ``length`` bits starting at 1-based frame bit ``start``."""

    start: int
    length: int

    @property
    def end(self) -> int:
        """Last bit of the field (1-based, inclusive)."""
        return self.start + self.length - 1


FIELDS: dict[str, Field] = {
    # common
    "df": Field(1, 5),
    "ca": Field(6, 3),
    "icao": Field(9, 24),
    "tc": Field(33, 5),
    "parity": Field(89, 24),
    # identification, TC 1-4
    "id_category": Field(38, 3),
    "id_chars": Field(41, 48),
    # airborne position, TC 9-18 and 20-22
    "pos_ss": Field(38, 2),
    "pos_nicb": Field(40, 1),
    "pos_alt": Field(41, 12),
    "pos_t": Field(53, 1),
    "pos_odd": Field(54, 1),
    "pos_lat": Field(55, 17),
    "pos_lon": Field(72, 17),
    # surface position, TC 5-8 (T, F, lat and lon as airborne)
    "surf_mov": Field(38, 7),
    "surf_trk_ok": Field(45, 1),
    "surf_trk": Field(46, 7),
    # airborne velocity, TC 19
    "vel_st": Field(38, 3),
    "vel_ic": Field(41, 1),
    "vel_ifr": Field(42, 1),
    "vel_nacv": Field(43, 3),
    "vel_ew_sign": Field(46, 1),
    "vel_ew": Field(47, 10),
    "vel_ns_sign": Field(57, 1),
    "vel_ns": Field(58, 10),
    "vel_hdg_ok": Field(46, 1),
    "vel_hdg": Field(47, 10),
    "vel_as_type": Field(57, 1),
    "vel_as": Field(58, 10),
    "vel_vr_src": Field(68, 1),
    "vel_vr_sign": Field(69, 1),
    "vel_vr": Field(70, 9),
    "vel_dalt_sign": Field(81, 1),
    "vel_dalt": Field(82, 7),
    # target state and status, TC 29 subtype 1
    "tss_subtype": Field(38, 2),
    "tss_alt": Field(42, 11),
    "tss_nacp": Field(72, 4),
    "tss_nic_baro": Field(76, 1),
    "tss_sil": Field(77, 2),
    # operational status, TC 31
    "ops_subtype": Field(38, 3),
    "ops_cc": Field(41, 16),
    "ops_nicc": Field(52, 1),
    "ops_om": Field(57, 16),
    "ops_version": Field(73, 3),
    "ops_nica": Field(76, 1),
    "ops_nacp": Field(77, 4),
    "ops_gva": Field(81, 2),
    "ops_sil": Field(83, 2),
    "ops_nic_baro": Field(85, 1),
    "ops_hrd": Field(86, 1),
    "ops_sil_supp": Field(87, 1),
}

#: ADS-B character set for identification (TC 1-4): index = 6-bit code, '#' = invalid.
CHARSET = "#ABCDEFGHIJKLMNOPQRSTUVWXYZ##### ###############0123456789######"


def get(frame: bytes, field: Field) -> int:
    """Read ``field`` from ``frame`` (bytes, 7 or 14): the single-message reference path."""
    value = int.from_bytes(frame, "big")
    nbits = len(frame) * 8
    return (value >> (nbits - field.end)) & ((1 << field.length) - 1)


def put(value: int, field: Field, word: int, nbits: int = 112) -> int:
    """Return ``word`` (an ``nbits`` integer) with ``field`` set to ``value``."""
    if not 0 <= value < (1 << field.length):
        raise ValueError(f"value {value} does not fit in {field.length} bits")
    shift = nbits - field.end
    mask = ((1 << field.length) - 1) << shift
    return (word & ~mask) | (value << shift)
