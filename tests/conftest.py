"""Where the real recordings are: a visible skip without them (a failure in CI)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

# The first call of a Numba kernel compiles it (seconds on a fresh machine): no per-example
# deadline. CI runs a fixed, printed seed so a failure can be replayed.
settings.register_profile("jamwatch", deadline=None, print_blob=True)
settings.register_profile("ci", deadline=None, print_blob=True, derandomize=True)
settings.load_profile("ci" if os.environ.get("CI") else "jamwatch")

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


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
