"""Hand-built GaitResults with known answers for the report tests.

``known_result()``: bout 0 runs forward with a step every 0.5 s (t = 1.0 .. 50.5 s, 100 steps,
120 steps/min); bout 1 runs backward with a step every 0.45 s (t = 55.0 .. 99.55 s, 100 steps,
133.33 steps/min); the recording lasts 100 s.
"""

from __future__ import annotations

from gait.types import Bout, GaitResult, Step

FWD_DT, BWD_DT = 0.5, 0.45


def known_result(*, known_direction: bool = True, path: str = "/data/mixed_run.csv",
                 device: str = "Test sensor", summary: dict | None = None) -> GaitResult:
    steps: list[Step] = []
    for k in range(100):
        steps.append(Step(t_s=1.0 + FWD_DT * k, index=100 + 50 * k,
                          direction="forward" if known_direction else "unknown",
                          direction_confidence=0.9 if known_direction else 0.0,
                          cadence_spm=float("nan") if k == 0 else 60.0 / FWD_DT, bout=0))
    for k in range(100):
        steps.append(Step(t_s=55.0 + BWD_DT * k, index=5500 + 45 * k,
                          direction="backward" if known_direction else "unknown",
                          direction_confidence=0.8 if known_direction else 0.0,
                          cadence_spm=float("nan") if k == 0 else 60.0 / BWD_DT, bout=1))
    d0 = "forward" if known_direction else "unknown"
    d1 = "backward" if known_direction else "unknown"
    bouts = [
        Bout(id=0, start_s=1.0, end_s=50.5, activity="run", direction=d0, n_steps=100,
             cadence_spm=120.0, direction_confidence=0.9 if known_direction else 0.0,
             direction_s={d0: 49.5}),
        Bout(id=1, start_s=55.0, end_s=99.55, activity="run", direction=d1, n_steps=100,
             cadence_spm=60.0 / BWD_DT, direction_confidence=0.8 if known_direction else 0.0,
             direction_s={d1: 44.55}),
    ]
    recording = {
        "path": path, "format": "gait-recording/1", "device": device,
        "mount": "x=forward,y=left,z=up", "start_time": "2026-11-24T10:00:00+00:00",
        "duration_s": 100.0, "fs_hz": 100.0, "fs_hz_nominal": 100.0, "fs_hz_measured": 100.0,
        "n_samples": 10000, "n_raw_samples": 10000, "has_gyro": True,
        "units": {"acc": "m/s^2", "gyro": "rad/s"}, "units_source": {"acc": "header", "gyro": "header"},
        "acc_kind": "with gravity", "gaps": [{"start_s": 52.0, "end_s": 53.0}], "gap_total_s": 1.0,
        "n_repaired": 3, "repaired_fraction": 3e-4, "notes": [],
    }
    info = {"version": "0.1.0", "direction_mode": "mount" if known_direction else "none",
            "parameters": {"min_bout_steps": 4}}
    return GaitResult(steps=steps, bouts=bouts, summary=summary or {}, info=info,
                      recording=recording)


def empty_result() -> GaitResult:
    return GaitResult(steps=[], bouts=[], summary={}, info={"direction_mode": "none"},
                      recording={"path": "/data/still.csv", "duration_s": 30.0, "fs_hz": 50.0})
