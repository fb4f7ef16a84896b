"""Loaded by the map job's fork server: loads the job's compiled kernels once (see
:func:`jamwatch.aggregate.job.warm_up`), so that the workers forked from it start ready.

Warming only saves time: if it fails, the workers load the kernels themselves (and meet the
same error, if there is one, where it is reported to the caller).
"""

import warnings

from jamwatch.aggregate.job import warm_up

try:
    warm_up()
except Exception as exc:  # see the docstring
    warnings.warn(f"map workers not warmed up: {exc!r}", RuntimeWarning, stacklevel=1)
