"""Recording-level figures from steps and bouts (pure)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..types import DIRECTIONS, Bout, Step
from .cadence import bout_cadence_spm


def _r(x: float, nd: int = 2) -> float | None:
    return round(float(x), nd) if x is not None and math.isfinite(x) else None


#: Shortest stretch (step intervals) for the peak cadence.
PEAK_INTERVALS = 10


def peak_cadence_spm(t_s: np.ndarray, k: int = PEAK_INTERVALS) -> float:
    """Highest cadence ``60 * m / (t[i + m] - t[i])`` over stretches of at least ``k`` step
    intervals of one bout (the whole bout when it has fewer), steps/min.

    A stretch of ``2k`` or more intervals splits into two of at least ``k``, one of which is at
    least as fast, so stretches of ``k .. 2k - 1`` intervals suffice. The bout itself is one of
    the stretches, so the peak is never below the bout's cadence.
    """
    t = np.asarray(t_s, dtype=float)
    n = t.size - 1
    if n < 1:
        return float("nan")
    if n <= k:
        return bout_cadence_spm(t)
    best = -np.inf
    for m in range(k, min(2 * k - 1, n) + 1):
        d = t[m:] - t[:-m]
        best = max(best, 60.0 * m / float(d.min()))
    return float(best)


def summarize(steps: list[Step], bouts: list[Bout], *, duration_s: float | None = None) -> dict[str, Any]:
    """The ``summary`` block of a ``gait-result/1`` document (``docs/result_schema.md``).

    Every cadence figure is a rate over the step intervals inside bouts (the interval of a
    step is the time since the previous step of its bout; the first step of a bout has none):

    * ``mean`` = 60 x (number of intervals) / (their total time), the steps per minute of
      walking/running time; it equals the time-weighted mean of the bouts' cadences and of
      the per-direction and per-activity cadences;
    * ``median`` = the median of the per-step cadences ``60 / interval``;
    * ``peak_10_steps`` = the highest cadence over a stretch of at least 10 intervals of one
      bout (the whole bout when shorter), so ``peak_10_steps >= mean``.

    Per direction and per activity: ``time_s`` = the total of the intervals of the steps with
    that label, ``cadence_spm`` = 60 x their number / ``time_s``.
    """
    in_bout = [s for s in steps if s.bout >= 0]
    by_bout: dict[int, list[float]] = {}
    for s in in_bout:
        by_bout.setdefault(s.bout, []).append(s.t_s)
    ivs = []
    peak = float("nan")
    for ts in by_bout.values():
        t = np.sort(np.asarray(ts))
        if t.size >= 2:
            ivs.append(np.diff(t))
            pk = peak_cadence_spm(t)
            if math.isfinite(pk) and not (pk <= peak):
                peak = pk
    iv = np.concatenate(ivs) if ivs else np.zeros(0)
    iv = iv[iv > 0]
    active_s = float(sum(b.duration_s for b in bouts))
    mean = 60.0 * iv.size / float(iv.sum()) if iv.size else float("nan")
    median = float(np.median(60.0 / iv)) if iv.size else float("nan")

    def rate(sel: list[Step]) -> dict[str, Any]:
        d = [60.0 / s.cadence_spm for s in sel if math.isfinite(s.cadence_spm) and s.cadence_spm > 0]
        t = float(sum(d))
        return {"time_s": round(t, 3), "steps": len(sel),
                "cadence_spm": _r(60.0 * len(d) / t) if t > 0 else None}

    per_dir = {d: rate([s for s in in_bout if s.direction == d]) for d in DIRECTIONS}
    act_of = {b.id: b.activity for b in bouts}
    per_act: dict[str, dict[str, Any]] = {}
    for a in dict.fromkeys(b.activity for b in bouts):
        per_act[a] = rate([s for s in in_bout if act_of.get(s.bout) == a])
        per_act[a]["bouts"] = sum(1 for b in bouts if b.activity == a)
    return {
        "n_steps": len(steps),
        "n_steps_in_bouts": len(in_bout),
        "n_bouts": len(bouts),
        "duration_s": _r(duration_s, 3) if duration_s is not None else None,
        "active_time_s": round(active_s, 3),
        "cadence_spm": {
            "mean": _r(mean),
            "median": _r(median),
            "peak_10_steps": _r(peak),
        },
        "by_direction": per_dir,
        "by_activity": per_act,
    }
