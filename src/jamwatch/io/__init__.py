"""Stage ``io``: files and sockets to Arrow batches of raw frames.

The batches have the schema :data:`jamwatch.schema.RAW_FRAMES`.
"""

from jamwatch.io.base import FormatError, ReadReport
from jamwatch.io.hexframes import hex_to_frames
from jamwatch.io.readers import (
    COUNTER_FORMATS,
    FORMATS,
    Starts,
    detect_format,
    read_frames,
    write_beast,
    write_hexlines,
)

__all__ = [
    "COUNTER_FORMATS",
    "FORMATS",
    "FormatError",
    "ReadReport",
    "Starts",
    "detect_format",
    "hex_to_frames",
    "read_frames",
    "write_beast",
    "write_hexlines",
]
