"""A Dask distributed client for the jobs that run on a cluster (``--engine dask``)."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from distributed import Client


@contextmanager
def dask_client(scheduler: str | None, workers: int | None) -> Iterator[Client]:
    """A client of the Dask scheduler at ``scheduler`` (tcp://HOST:PORT), or of a local
    cluster of ``workers`` single-threaded processes (default: one per core) started for the
    job and closed after it. ValueError when dask is missing or the scheduler cannot be
    reached."""
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise ValueError("the dask engine needs dask: pip install 'jamwatch[cluster]'") from None
    cluster = None
    if scheduler is None:
        n = workers or os.cpu_count() or 1
        cluster = LocalCluster(n_workers=n, threads_per_worker=1, dashboard_address=None)  # type: ignore[no-untyped-call]
    try:
        target = cluster if cluster is not None else scheduler
        try:
            if scheduler is not None:
                _probe(scheduler)
            client = Client(target, timeout="10s")  # type: ignore[no-untyped-call]
        except OSError as exc:  # (a scheduler that cannot be reached)
            raise ValueError(f"dask scheduler {scheduler}: {exc}") from None
        with client:
            yield client
    finally:
        if cluster is not None:
            cluster.close()


def _probe(scheduler: str) -> None:
    """Fail at once (OSError) when nothing listens at a tcp:// scheduler address: Dask's
    client would retry a refused connection until its timeout."""
    parts = urlsplit(scheduler if "://" in scheduler else f"tcp://{scheduler}")
    try:
        host, port = parts.hostname, parts.port
    except ValueError as exc:  # (a port that is not a number)
        raise OSError(str(exc)) from None
    if parts.scheme == "tcp" and host and port:
        socket.create_connection((host, port), timeout=10).close()


def threads(client: Client) -> int:
    """The worker threads of the cluster (at least one)."""
    return max(sum(client.nthreads().values()), 1)  # type: ignore[no-untyped-call]


__all__ = ["dask_client", "threads"]
