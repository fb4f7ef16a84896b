"""Shared fixtures: where the real recordings live, and a clear skip (or failure in CI) without them."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

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
