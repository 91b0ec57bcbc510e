"""Recording-level figures from steps and bouts (pure)."""

from __future__ import annotations

import math
from itertools import repeat
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
    # (One pass over the steps' attributes, then array work and per-label selections in C:
    # the same figures, summed in the same order, as filtering the steps once per label.)
    bids = np.fromiter([s.bout for s in in_bout], dtype=np.int64, count=len(in_bout))  # (faster than np.array)
    ivs = []
    peak = float("nan")
    if bids.size:
        # the steps of each bout in step order, the bouts in order of their first step
        order = np.argsort(bids, kind="stable")
        ts_all = np.fromiter([s.t_s for s in in_bout], dtype=float, count=len(in_bout))[order]
        ids, first, counts = np.unique(bids, return_index=True, return_counts=True)
        ends = np.cumsum(counts)
        for j in np.argsort(first, kind="stable").tolist():
            t = np.sort(ts_all[ends[j] - counts[j] : ends[j]])
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

    cad = np.fromiter([s.cadence_spm for s in in_bout], dtype=float, count=len(in_bout))
    usable = (cad > 0) & (cad < np.inf)  # finite and positive
    with np.errstate(divide="ignore", invalid="ignore"):
        step_s = 60.0 / cad

    def rate(sel: np.ndarray) -> dict[str, Any]:
        d = step_s[sel & usable].tolist()
        t = float(sum(d))  # (a Python sum, in step order)
        return {"time_s": round(t, 3), "steps": int(np.count_nonzero(sel)),
                "cadence_spm": _r(60.0 * len(d) / t) if t > 0 else None}

    code = {d: i for i, d in enumerate(DIRECTIONS)}
    dcode = np.array(list(map(code.get, [s.direction for s in in_bout], repeat(-1))), dtype=np.int64)
    per_dir = {d: rate(dcode == i) for i, d in enumerate(DIRECTIONS)}
    act_of = {b.id: b.activity for b in bouts}
    per_act: dict[str, dict[str, Any]] = {}
    for a in dict.fromkeys(b.activity for b in bouts):
        per_act[a] = rate(np.isin(bids, [i for i, x in act_of.items() if x == a]))
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
