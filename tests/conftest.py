"""Shared fixtures.

Tests that read the labeled recordings in ``../shared/data`` (beside the project root) use the
``shared_data`` fixture, which skips cleanly when that folder is absent (a user's clone has none).
Set ``GAIT_SHARED_DATA`` to point elsewhere.
"""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_DATA = ROOT / "sample_data"


def shared_data_dir() -> Path | None:
    env = os.environ.get("GAIT_SHARED_DATA")
    p = Path(env) if env else ROOT.parent / "shared" / "data"
    return p if (p / "dev").is_dir() else None


@pytest.fixture(scope="session")
def shared_data() -> Path:
    p = shared_data_dir()
    if p is None:
        pytest.skip("../shared/data is not present (labeled recordings are not shipped)")
    return p


@pytest.fixture(scope="session")
def sample_data() -> Path:
    return SAMPLE_DATA
