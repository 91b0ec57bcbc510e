import json
import math

import numpy as np
import pytest

from gait.errors import SignalError
from gait.types import Bout, GaitResult, Recording, Step


def test_from_arrays_uniform_clock():
    acc = np.tile([0.0, 0.0, 9.81], (250, 1))
    rec = Recording.from_arrays(acc, fs_hz=50.0)
    assert rec.n_samples == 250
    assert rec.duration_s == pytest.approx(5.0)
    assert rec.t_s[0] == 0.0 and rec.t_s[-1] == pytest.approx(249 / 50)
    assert rec.valid.all() and not rec.has_gyro
    blk = rec.block(10, 20)
    assert len(blk) == 10 and blk.t_s[0] == pytest.approx(0.2)


def test_shape_checks():
    with pytest.raises(SignalError, match="acc_m_s2"):
        Recording(t_s=np.zeros(3), acc_m_s2=np.zeros((3, 2)), gyro_rad_s=None, fs_hz=10,
                  valid=np.ones(3, bool))
    with pytest.raises(SignalError, match="fs_hz"):
        Recording.from_arrays(np.zeros((3, 3)), fs_hz=0)


def test_empty_recording_is_typed():
    rec = Recording.from_arrays(np.zeros((0, 3)), fs_hz=100.0)
    assert rec.n_samples == 0 and rec.acc_m_s2.shape == (0, 3)
    assert rec.summary()["n_samples"] == 0


def test_result_json_round_trip():
    steps = [Step(t_s=1.0, index=100, direction="forward", direction_confidence=0.9, bout=0),
             Step(t_s=1.5, index=150, direction="backward", direction_confidence=0.8,
                  cadence_spm=120.0, bout=0)]
    bouts = [Bout(id=0, start_s=1.0, end_s=1.5, activity="walk", direction="forward",
                  n_steps=2, cadence_spm=120.0, direction_s={"forward": 0.25})]
    r = GaitResult(steps=steps, bouts=bouts, summary={"n_steps": 2}, info={"version": "x"})
    d = json.loads(json.dumps(r.to_dict()))
    assert d["schema"] == "gait-result/1"
    assert d["steps"][0]["cadence_spm"] is None  # NaN becomes null, not invalid JSON
    r2 = GaitResult.from_dict(d)
    assert math.isnan(r2.steps[0].cadence_spm)
    assert r2.steps[1].cadence_spm == 120.0 and r2.steps[1].direction == "backward"
    assert r2.bouts[0].direction_s == {"forward": 0.25}
    assert list(r2.step_times_s) == [1.0, 1.5]
    assert list(r2.steps_frame()["direction"]) == ["forward", "backward"]
    with pytest.raises(SignalError):
        GaitResult.from_dict({"schema": "other"})
