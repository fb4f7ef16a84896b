"""Stage ``io``: files and sockets to Arrow batches of raw frames.

The batches have the schema :data:`jamwatch.schema.RAW_FRAMES`.
"""

from jamwatch.io.base import FormatError, ReadReport
from jamwatch.io.hexframes import hex_to_frames
from jamwatch.io.readers import FORMATS, detect_format, read_frames, write_beast, write_hexlines

__all__ = [
    "FORMATS",
    "FormatError",
    "ReadReport",
    "detect_format",
    "hex_to_frames",
    "read_frames",
    "write_beast",
    "write_hexlines",
]
