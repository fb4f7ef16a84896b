"""Arrow arrays built straight from NumPy buffers (values, validity, string offsets), the way
the compiled kernels leave their output, without a per-value conversion."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pyarrow as pa


def validity(valid: npt.NDArray[np.bool_]) -> pa.Buffer | None:
    """Arrow's validity bitmap of ``valid`` (None when every value is valid)."""
    return None if valid.all() else pa.py_buffer(np.packbits(valid, bitorder="little"))


def arrow_column(
    values: npt.NDArray[np.generic], valid: npt.NDArray[np.bool_], typ: pa.DataType
) -> pa.Array:
    """An Arrow array of ``values`` (already of ``typ``'s width), null where not ``valid``."""
    values = np.ascontiguousarray(values)
    return pa.Array.from_buffers(typ, len(values), [validity(valid), pa.py_buffer(values)])


def arrow_strings(
    n: int,
    data: npt.NDArray[np.uint8],
    offsets: npt.NDArray[np.int64],
    valid: npt.NDArray[np.bool_] | None = None,
) -> pa.Array:
    """An Arrow string array of ``n`` strings packed in ``data`` at ``offsets`` (n + 1 of
    them, from 0), null where not ``valid``."""
    return pa.StringArray.from_buffers(
        n,
        pa.py_buffer(offsets[: n + 1].astype(np.int32)),
        pa.py_buffer(data[: offsets[n]].copy()),
        validity(valid) if valid is not None else None,
    )


__all__ = ["arrow_column", "arrow_strings", "validity"]
