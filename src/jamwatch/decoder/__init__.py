"""Stage ``decode``: raw Mode S frames to typed columns (see :mod:`jamwatch.schema`)."""

from jamwatch.decoder.core import Decoder, DecoderConfig, DecodeReport, decode_table, frames_matrix
from jamwatch.decoder.fields import FIELDS, Field

__all__ = [
    "FIELDS",
    "DecodeReport",
    "Decoder",
    "DecoderConfig",
    "Field",
    "decode_table",
    "frames_matrix",
]
