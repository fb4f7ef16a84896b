"""Where the real recordings are: a visible skip without them (a failure in CI)."""

from __future__ import annotations

import os
import socket
import subprocess
from pathlib import Path

import pytest
from hypothesis import settings

# The first call of a Numba kernel compiles it (seconds on a fresh machine): no per-example
# deadline. CI runs a fixed, printed seed so a failure can be replayed.
settings.register_profile("jamwatch", deadline=None, print_blob=True)
settings.register_profile("ci", deadline=None, print_blob=True, derandomize=True)
settings.load_profile("ci" if os.environ.get("CI") else "jamwatch")

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
