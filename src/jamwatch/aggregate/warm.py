"""Loaded by the map job's fork server: loads the job's compiled kernels once (see
:func:`jamwatch.aggregate.job.warm_up`), so that the workers forked from it start ready."""

from jamwatch.aggregate.job import warm_up

warm_up()
