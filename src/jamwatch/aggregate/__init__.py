"""Stage ``aggregate``: integrity statistics per H3 cell and time window."""

from jamwatch.aggregate.cells import latlng_to_cells
from jamwatch.aggregate.grid import (
    CELL_SCHEMA,
    PARTIAL_SCHEMA,
    GridConfig,
    cell_partials,
    cell_stats,
    cells_from_counts,
    merge_partials,
    parse_window,
    stats_table,
)

__all__ = [
    "CELL_SCHEMA",
    "PARTIAL_SCHEMA",
    "GridConfig",
    "cell_partials",
    "cell_stats",
    "cells_from_counts",
    "latlng_to_cells",
    "merge_partials",
    "parse_window",
    "stats_table",
]
