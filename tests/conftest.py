"""Where the real recordings are (a visible skip without them, a failure in CI), and the
servers and stores several test modules share."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

# The first call of a Numba kernel compiles it (seconds on a fresh machine): no per-example
# deadline. CI runs a fixed, printed seed so a failure can be replayed.
settings.register_profile("jamwatch", deadline=None, print_blob=True)
settings.register_profile("ci", deadline=None, print_blob=True, derandomize=True)
settings.load_profile("ci" if os.environ.get("CI") else "jamwatch")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Refuse a collection with two tests of one id: pytest-xdist would run only one of them
    (as with schemathesis 4 under pytest 9.2, which gave every API operation's test the same
    id)."""
    ids = Counter(item.nodeid for item in items)
    twice = sorted(nodeid for nodeid, n in ids.items() if n > 1)
    if twice:
        raise pytest.UsageError(f"tests collected twice under one id: {twice}")


SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
#: the real AIS captures of ../shared/data/ais (pyais's test data, MIT)
AIS_FILES = (
    "gatehouse.nmea",
    "messages.ais",
    "mixed.txt",
    "nmea_data_sample.txt",
    "sample.ais",
    "timestamped.ais",
)


def shared_path(*parts: str) -> Path:
    """A file of ../shared/data; skips the test (fails under CI) when it is not there."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        message = f"real recording {path} not found (../shared/data beside the project root)"
        if os.environ.get("JAMWATCH_REQUIRE_DATA") or os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture
def shared() -> type:
    """Access to :func:`shared_path` as a fixture."""

    class _Shared:
        path = staticmethod(shared_path)

    return _Shared


def apt_binary(package: str, binary: str) -> str:
    """A program of Debian's ``package``, installed with apt-get when missing (package lists
    refreshed if needed). Where it cannot be installed the test is skipped with the reason,
    except under CI, where that is a failure."""
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "--no-install-recommends", package]
    for step in ([], ["apt-get", "update"]):
        if Path(binary).exists():
            break
        if step:
            subprocess.run(step, check=False, capture_output=True, timeout=600, env=env)
        subprocess.run(install, check=False, capture_output=True, timeout=900, env=env)
    if not Path(binary).exists():
        message = f"Debian's {package} is missing and apt-get could not install it"
        if os.environ.get("CI") or os.environ.get("JAMWATCH_REQUIRE_DATA"):
            pytest.fail(message)
        pytest.skip(message)
    return binary


def free_port() -> int:
    """A TCP port free on loopback now (for a server a test starts)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def two_days(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store of two simulated days of jammed traffic: korea-west-sea (seed 6, 2024-05-29)
    and andoya-2024 (seed 7, 2024-09-09)."""
    from jamwatch.api import decode
    from jamwatch.io.store import Store
    from jamwatch.simulate.scenario import load, run_scenario

    folder = tmp_path_factory.mktemp("dask") / "store"
    korea = decode(run_scenario(load("korea-west-sea"), 6).frames.sort_by("time"))
    andoya = decode(run_scenario(load("andoya-2024"), 7).frames.sort_by("time"))
    with Store.open(folder) as s:
        s.append(korea)
        s.append(andoya)
    return folder


@pytest.fixture(scope="session")
def dask_scheduler() -> Iterator[str]:
    """A Dask scheduler and two single-threaded workers started on loopback (and stopped)."""
    dask = shutil.which("dask") or str(Path(sys.executable).with_name("dask"))
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    common = ["--no-dashboard"]
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    server = [dask, "scheduler", "--host", "127.0.0.1", "--port", str(port), *common]
    worker = [dask, "worker", address, "--nthreads", "1", "--host", "127.0.0.1", *common]
    procs = [subprocess.Popen(server, **quiet)]  # type: ignore[call-overload]
    procs += [subprocess.Popen(worker, **quiet) for _ in range(2)]  # type: ignore[call-overload]
    from distributed import Client

    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with Client(address, timeout="5s") as client:
                    if len(client.nthreads()) == 2:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError("the Dask cluster did not start in 60 s")
            time.sleep(0.5)
        yield address
    finally:
        for proc in reversed(procs):
            proc.terminate()
        for proc in procs:
            proc.wait(30)
