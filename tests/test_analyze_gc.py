"""analyze() pauses the cyclic garbage collector while it runs and restores its state."""

import gc

import numpy as np
import pytest

from gait.errors import GaitError
from gait.pipeline import analyze
from gait.signal.stages import UnknownDirection
from gait.types import Recording


def _rec(n: int = 1000) -> Recording:
    t = np.arange(n) / 100.0
    acc = np.zeros((n, 3))
    acc[:, 2] = 9.81 + 2.0 * np.sin(2 * np.pi * 1.8 * t)
    return Recording.from_arrays(acc, fs_hz=100.0)


@pytest.mark.parametrize("enabled", [True, False])
def test_gc_state_restored(enabled):
    was = gc.isenabled()
    try:
        (gc.enable if enabled else gc.disable)()
        seen = []
        analyze(_rec(), direction_stage=UnknownDirection(), progress=lambda f: seen.append(gc.isenabled()))
        assert seen and not any(seen)  # paused during the analysis
        assert gc.isenabled() is enabled
    finally:
        (gc.enable if was else gc.disable)()


def test_gc_resumed_after_error():
    assert gc.isenabled()

    def boom(_f):
        raise GaitError("stop")

    with pytest.raises(GaitError):
        analyze(_rec(), direction_stage=UnknownDirection(), progress=boom)
    assert gc.isenabled()
