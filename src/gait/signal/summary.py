"""Recording-level figures from steps and bouts (pure)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..types import DIRECTIONS, Bout, Step


def _r(x: float, nd: int = 2) -> float | None:
    return round(float(x), nd) if x is not None and math.isfinite(x) else None


def summarize(steps: list[Step], bouts: list[Bout], *, duration_s: float | None = None) -> dict[str, Any]:
    """The ``summary`` block of a ``gait-result/1`` document.

    Cadence figures use the steps inside bouts (each step's ``cadence_spm`` = 60 / time since
    the previous step of its bout): ``mean`` is the mean over those steps, ``median`` their
    median, ``peak`` the highest 10-step mean cadence inside a bout.
    Per direction (and per activity): time (sum of the step intervals of steps with that
    label), steps and mean cadence ``60 * steps / time``.
    """
    in_bout = [s for s in steps if s.bout >= 0]
    cad = np.array([s.cadence_spm for s in in_bout if math.isfinite(s.cadence_spm)])
    active_s = float(sum(b.duration_s for b in bouts))
    peak = float("nan")
    by_bout: dict[int, list[float]] = {}
    for s in in_bout:
        by_bout.setdefault(s.bout, []).append(s.t_s)
    for ts in by_bout.values():
        t = np.asarray(ts)
        w = min(10, t.size - 1)
        if w >= 1:
            c = 60.0 * w / (t[w:] - t[:-w])
            peak = float(np.nanmax([peak, c.max()])) if math.isfinite(peak) else float(c.max())

    per_dir: dict[str, dict[str, Any]] = {}
    for d in DIRECTIONS:
        sel = [s for s in in_bout if s.direction == d]
        t = float(sum(60.0 / s.cadence_spm for s in sel if math.isfinite(s.cadence_spm) and s.cadence_spm > 0))
        n = len(sel)
        per_dir[d] = {
            "time_s": round(t, 3),
            "steps": n,
            "cadence_spm": _r(60.0 * sum(1 for s in sel if math.isfinite(s.cadence_spm)) / t) if t > 0 else None,
        }
    per_act: dict[str, dict[str, Any]] = {}
    for b in bouts:
        a = per_act.setdefault(b.activity, {"time_s": 0.0, "steps": 0, "bouts": 0})
        a["time_s"] += b.duration_s
        a["steps"] += b.n_steps
        a["bouts"] += 1
    for a in per_act.values():
        a["time_s"] = round(a["time_s"], 3)
    return {
        "n_steps": len(steps),
        "n_steps_in_bouts": len(in_bout),
        "n_bouts": len(bouts),
        "duration_s": _r(duration_s, 3) if duration_s is not None else None,
        "active_time_s": round(active_s, 3),
        "cadence_spm": {
            "mean": _r(float(cad.mean())) if cad.size else None,
            "median": _r(float(np.median(cad))) if cad.size else None,
            "peak_10_steps": _r(peak),
        },
        "by_direction": per_dir,
        "by_activity": per_act,
    }
