"""What the report shows, derived from a finished :class:`~gait.types.GaitResult`.

Pure functions (no I/O, no plotting) so that every number in the report can be tested against
hand-computed values, and so the figures themselves compute nothing.

Definitions used throughout the report
--------------------------------------
- **Cadence** of a stretch of steps is the mean of their per-step ``cadence_spm`` (steps whose
  cadence is NaN, i.e. the first step of each bout, are left out), as in the analyzer's
  ``summary``. For steps every 0.5 s this is exactly 120 steps/min.
- Recording-level figures (mean and peak cadence, active time, per-direction time, steps and
  cadence) are taken from ``result.summary`` when the analyzer put them there, so the report
  and ``gait analyze`` agree; otherwise they are computed here by the same definitions.
- **Peak cadence** is the highest cadence sustained over :data:`PEAK_WINDOW_STEPS`
  consecutive intervals inside one bout (a single spurious short interval cannot make it).
- **Backward share** is backward steps / (forward + backward steps); undefined (None) when no
  step has a known direction.
- **Time** per direction comes from each bout's ``direction_s``; a bout without it counts its
  whole duration for its own direction.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..types import GaitResult

#: Intervals over which the peak cadence must be sustained.
PEAK_WINDOW_STEPS = 10
#: Length of one split, seconds.
SPLIT_S = 60.0

#: Energy per metre of backward running relative to forward running at the same speed.
BACKWARD_RUN_COST_FACTOR = 1.3
EFFORT_SOURCE = (
    "Wright & Weyand (2001), J Exp Biol 204:1805-1815: at matched treadmill speeds of "
    "1.75-3.5 m/s, backward running cost about 35 % (1.3x) more metabolic energy than "
    "forward running (4 trained runners); Flynn et al. (1994), Med Sci Sports Exerc "
    "26:89-94 report the same direction of effect."
)
EFFORT_CAVEAT = (
    "The factor holds at equal speed. The sensor does not measure speed, and most people run "
    "backward more slowly than forward, so read this as an upper bound on the extra effort, not "
    "a calorie count. No factor is claimed for walking: walking time is shown as measured."
)

DIRS = ("forward", "backward", "unknown")


def _finite(x: Any) -> bool:
    return x is not None and isinstance(x, (int, float)) and math.isfinite(float(x))


def mean_cadence(cadence_spm: np.ndarray) -> float:
    """Cadence (steps/min) of a stretch of steps, time-weighted like ``summary`` in the result.

    Each per-step cadence is 60 / (the interval that ended at that step), so the rate over the
    stretch is the number of intervals over their total time: the harmonic mean of the per-step
    cadences (the plain mean would weight short, fast intervals too much; see
    ``docs/result_schema.md``).

    Parameters
    ----------
    cadence_spm : array of float
        Per-step cadence, steps/min; NaN entries (bout starts) are ignored.

    Returns
    -------
    float
        ``n / sum(1 / c)`` over the finite, positive values; NaN when there is none.
    """
    c = np.asarray(cadence_spm, dtype=np.float64)
    c = c[np.isfinite(c) & (c > 0)]
    if c.size == 0:
        return float("nan")
    return float(c.size / np.sum(1.0 / c))


def peak_cadence(result: GaitResult, *, window_steps: int = PEAK_WINDOW_STEPS) -> float:
    """Highest cadence sustained over ``window_steps`` consecutive intervals inside one bout.

    A bout with fewer intervals contributes its whole-bout cadence. NaN when no step has a
    cadence.
    """
    by_bout: dict[int, list[float]] = {}
    for s in result.steps:
        if _finite(s.cadence_spm) and s.cadence_spm > 0:
            by_bout.setdefault(s.bout, []).append(60.0 / s.cadence_spm)
    best = float("nan")
    for dts in by_bout.values():
        dt = np.asarray(dts)
        if dt.size <= window_steps:
            cands = [60.0 * dt.size / dt.sum()]
        else:
            csum = np.concatenate([[0.0], np.cumsum(dt)])
            sums = csum[window_steps:] - csum[:-window_steps]
            cands = [60.0 * window_steps / float(sums.min())]
        for c in cands:
            if not (c <= best):
                best = c
    return best


def direction_counts(result: GaitResult) -> dict[str, int]:
    """Number of steps of each direction (forward, backward, unknown)."""
    counts = {d: 0 for d in DIRS}
    for s in result.steps:
        counts[s.direction if s.direction in counts else "unknown"] += 1
    return counts


def backward_share(result: GaitResult) -> float | None:
    """Backward steps / steps of known direction, or None when none is known."""
    c = direction_counts(result)
    known = c["forward"] + c["backward"]
    return None if known == 0 else c["backward"] / known


def time_by(result: GaitResult) -> dict[tuple[str, str], float]:
    """Seconds in bouts per ``(activity, direction)``."""
    out: dict[tuple[str, str], float] = {}
    for b in result.bouts:
        parts = {k: float(v) for k, v in (b.direction_s or {}).items() if _finite(v)}
        if not parts:
            parts = {b.direction: b.duration_s}
        for d, sec in parts.items():
            d = d if d in DIRS else "unknown"
            key = (b.activity, d)
            out[key] = out.get(key, 0.0) + sec
    return out


def direction_time_s(result: GaitResult) -> dict[str, float]:
    """Seconds in bouts per direction."""
    t = {d: 0.0 for d in DIRS}
    for (_, d), sec in time_by(result).items():
        t[d] += sec
    return t


def _get(d: Any, *path: str) -> Any:
    for p in path:
        d = d.get(p) if isinstance(d, dict) else None
    return d


def overview(result: GaitResult) -> dict[str, Any]:
    """The summary cards: steps, active time, mean and peak cadence, direction split, bouts.

    Figures the analyzer's ``summary`` holds are taken from it (so the report agrees with
    ``gait analyze``); the rest are computed from steps and bouts.
    """
    steps = result.steps
    sm = result.summary or {}
    counts = direction_counts(result)
    t_dir = direction_time_s(result)
    per_dir_cadence = {
        d: mean_cadence(np.array([s.cadence_spm for s in steps if s.direction == d]))
        for d in DIRS
    }
    for d in DIRS:
        v = _get(sm, "by_direction", d, "time_s")
        if _finite(v):
            t_dir[d] = float(v)
        v = _get(sm, "by_direction", d, "cadence_spm")
        if _finite(v):
            per_dir_cadence[d] = float(v)
    mean_c = _get(sm, "cadence_spm", "mean")
    peak_c = _get(sm, "cadence_spm", "peak_10_steps")
    active = sm.get("active_time_s")
    rec = result.recording or {}
    duration = rec.get("duration_s")
    if not _finite(duration):
        duration = sm.get("duration_s")
    return {
        "n_steps": len(steps),
        "duration_s": float(duration) if _finite(duration) else None,
        "active_s": float(active) if _finite(active) else float(sum(b.duration_s for b in result.bouts)),
        "mean_cadence_spm": float(mean_c) if _finite(mean_c) else mean_cadence(
            np.array([s.cadence_spm for s in steps if s.bout >= 0])),
        "peak_cadence_spm": float(peak_c) if _finite(peak_c) else peak_cadence(result),
        "n_bouts": len(result.bouts),
        "n_run_bouts": sum(1 for b in result.bouts if b.activity == "run"),
        "n_walk_bouts": sum(1 for b in result.bouts if b.activity == "walk"),
        "steps": counts,
        "time_s": t_dir,
        "cadence_spm": per_dir_cadence,
        "backward_share": backward_share(result),
        "direction_known": counts["forward"] + counts["backward"] > 0,
    }


@dataclass(frozen=True)
class Split:
    """One row of the per-minute split table."""

    index: int  # 1-based minute number
    start_s: float
    end_s: float
    n_steps: int
    forward: int
    backward: int
    unknown: int
    cadence_spm: float  # mean of the minute's per-step cadences (NaN if none)

    @property
    def backward_share(self) -> float | None:
        known = self.forward + self.backward
        return None if known == 0 else self.backward / known


def minute_splits(result: GaitResult, *, split_s: float = SPLIT_S) -> list[Split]:
    """Steps, direction counts and cadence for each ``split_s`` window of the recording.

    A step belongs to the split containing its time ``t_s`` (window ``[k*split_s,
    (k+1)*split_s)``). Splits run from 0 to the end of the recording (or the last step).
    """
    if not (split_s > 0):
        raise ValueError("split_s must be positive")
    rec = result.recording or {}
    end = float(rec["duration_s"]) if _finite(rec.get("duration_s")) else 0.0
    n = int(math.ceil(end / split_s - 1e-9)) if end > 0 else 0
    if result.steps:
        last = max(s.t_s for s in result.steps)
        end = max(end, last)
        n = max(n, int(last // split_s) + 1)
    buckets: list[list] = [[] for _ in range(n)]
    for s in result.steps:
        k = int(s.t_s // split_s)
        if 0 <= k < n:
            buckets[k].append(s)
    out = []
    for k, bucket in enumerate(buckets):
        c = {d: 0 for d in DIRS}
        for s in bucket:
            c[s.direction if s.direction in c else "unknown"] += 1
        out.append(Split(
            index=k + 1, start_s=k * split_s, end_s=min((k + 1) * split_s, end),
            n_steps=len(bucket), forward=c["forward"], backward=c["backward"], unknown=c["unknown"],
            cadence_spm=mean_cadence(np.array([s.cadence_spm for s in bucket])),
        ))
    return out


@dataclass(frozen=True)
class Segment:
    """A stretch of one direction inside a bout (for the direction timeline)."""

    start_s: float
    end_s: float
    direction: str
    bout: int


def direction_segments(result: GaitResult) -> list[Segment]:
    """Stretches of constant step direction inside each bout.

    Within a bout, a run of consecutive steps of one direction spans from its first step (the
    bout start for the first run) to the first step of the next run (the bout end for the last
    run). Steps outside any bout are not drawn.
    """
    by_bout: dict[int, list] = {}
    for s in result.steps:
        if s.bout >= 0:
            by_bout.setdefault(s.bout, []).append(s)
    segs: list[Segment] = []
    for b in result.bouts:
        steps = sorted(by_bout.get(b.id, []), key=lambda s: s.t_s)
        if not steps:
            segs.append(Segment(b.start_s, b.end_s, b.direction, b.id))
            continue
        runs: list[tuple[float, str]] = []
        for s in steps:
            d = s.direction if s.direction in DIRS else "unknown"
            if not runs or runs[-1][1] != d:
                runs.append((s.t_s, d))
        for i, (t0, d) in enumerate(runs):
            start = b.start_s if i == 0 else t0
            end = runs[i + 1][0] if i + 1 < len(runs) else b.end_s
            if end > start:
                segs.append(Segment(float(start), float(end), d, b.id))
    return segs


def bout_rows(result: GaitResult) -> list[dict[str, Any]]:
    """One row per bout: start, duration, activity, direction, steps, cadence, backward share."""
    rows = []
    for b in result.bouts:
        ds = {k: float(v) for k, v in (b.direction_s or {}).items() if _finite(v)}
        known = ds.get("forward", 0.0) + ds.get("backward", 0.0)
        rows.append({
            "id": b.id,
            "start_s": b.start_s,
            "duration_s": b.duration_s,
            "activity": b.activity,
            "direction": b.direction,
            "direction_confidence": b.direction_confidence,
            "n_steps": b.n_steps,
            "cadence_spm": b.cadence_spm,
            "backward_time_share": (ds.get("backward", 0.0) / known) if known > 0 else None,
        })
    return rows


def by_activity_direction(result: GaitResult) -> dict[tuple[str, str], dict[str, Any]]:
    """Steps, time and cadence per ``(activity, direction)``, for steps inside bouts.

    A step takes its bout's activity; time is from :func:`time_by`; cadence is the mean of the
    steps' per-step cadences. Only combinations with steps or time are returned.
    """
    act = {b.id: b.activity for b in result.bouts}
    groups: dict[tuple[str, str], list[float]] = {}
    for s in result.steps:
        if s.bout in act:
            d = s.direction if s.direction in DIRS else "unknown"
            groups.setdefault((act[s.bout], d), []).append(s.cadence_spm)
    t = time_by(result)
    out = {}
    for key in sorted(set(groups) | {k for k, v in t.items() if v > 0}):
        c = groups.get(key, [])
        out[key] = {"steps": len(c), "time_s": t.get(key, 0.0),
                    "cadence_spm": mean_cadence(np.array(c, dtype=np.float64))}
    return out


def effort_estimate(result: GaitResult) -> dict[str, Any]:
    """Relative effort per direction, with its source and caveat.

    Running: backward running seconds are weighted by :data:`BACKWARD_RUN_COST_FACTOR`
    (energy per metre, backward vs forward, at equal speed), giving forward-running-equivalent
    seconds. Walking: time only, no factor.
    """
    t = time_by(result)
    run_f = t.get(("run", "forward"), 0.0)
    run_b = t.get(("run", "backward"), 0.0)
    run_u = t.get(("run", "unknown"), 0.0)
    walk = {d: t.get(("walk", d), 0.0) for d in DIRS}
    return {
        "factor": BACKWARD_RUN_COST_FACTOR,
        "run_s": {"forward": run_f, "backward": run_b, "unknown": run_u},
        "walk_s": walk,
        "run_backward_equivalent_s": run_b * BACKWARD_RUN_COST_FACTOR,
        "run_forward_equivalent_total_s": run_f + run_u + run_b * BACKWARD_RUN_COST_FACTOR,
        "run_extra_s": run_b * (BACKWARD_RUN_COST_FACTOR - 1.0),
        "source": EFFORT_SOURCE,
        "caveat": EFFORT_CAVEAT,
    }


def quality_rows(result: GaitResult) -> list[tuple[str, str, str]]:
    """Data-quality facts as ``(label, value, level)``; level is ``ok``, ``warn`` or ``info``."""
    rec = result.recording or {}
    rows: list[tuple[str, str, str]] = []
    fmt = rec.get("format")
    if fmt:
        rows.append(("Format", str(fmt), "info"))
    fs = rec.get("fs_hz")
    fs_nom, fs_meas = rec.get("fs_hz_nominal"), rec.get("fs_hz_measured")
    if _finite(fs):
        extra = []
        if _finite(fs_nom):
            extra.append(f"stated {fs_nom:g} Hz")
        if _finite(fs_meas):
            extra.append(f"measured {fs_meas:.4g} Hz")
        level = "info"
        if _finite(fs_nom) and _finite(fs_meas) and abs(fs_meas - fs_nom) > 0.02 * fs_nom:
            level = "warn"
        rows.append(("Sampling rate", f"{fs:g} Hz" + (f" ({', '.join(extra)})" if extra else ""), level))
    units = rec.get("units") or {}
    src = rec.get("units_source") or {}
    if units:
        parts = [f"{k}: {v}" + (f" ({src[k]})" if k in src else "") for k, v in units.items()]
        rows.append(("Units detected", "; ".join(parts), "info"))
    if rec.get("acc_kind"):
        rows.append(("Acceleration", str(rec["acc_kind"]), "info"))
    if "has_gyro" in rec:
        rows.append(("Gyroscope", "yes" if rec["has_gyro"] else "no (direction from accelerometer only)",
                     "info" if rec["has_gyro"] else "warn"))
    gaps = rec.get("gaps") or []
    gap_total = rec.get("gap_total_s") or 0.0
    if gaps:
        first = ", ".join(f"{g['start_s']:.1f}-{g['end_s']:.1f} s" for g in gaps[:5])
        more = f" and {len(gaps) - 5} more" if len(gaps) > 5 else ""
        rows.append(("Gaps", f"{len(gaps)} ({gap_total:.1f} s missing): {first}{more}", "warn"))
    elif "gaps" in rec:
        rows.append(("Gaps", "none", "ok"))
    if "n_repaired" in rec:
        n_rep = int(rec.get("n_repaired") or 0)
        frac = float(rec.get("repaired_fraction") or 0.0)
        rows.append(("Repaired samples", f"{n_rep} ({100 * frac:.2f} % of raw samples)",
                     "warn" if frac > 0.01 else ("info" if n_rep else "ok")))
    extra = rec.get("extra") or {}
    events = [e for e in (extra.get("events") or []) if isinstance(e, dict)]
    stats = next((e.get("stats") for e in reversed(events)
                  if e.get("kind") == "end" and isinstance(e.get("stats"), dict)), None)
    if stats is not None:  # a live recording: what the link lost
        lost = stats.get("n_lost_samples")
        frac = stats.get("loss_fraction")
        if _finite(lost) or _finite(frac):
            txt = (f"{100 * frac:.2f} % of samples" if _finite(frac) else "") + (
                f" ({int(lost)} samples lost)" if _finite(lost) else "")
            rows.append(("Packet loss (live)", txt.strip(),
                         "warn" if _finite(frac) and frac > 0.01 else "ok"))
    kinds: dict[str, int] = {}
    for e in events:
        k = str(e.get("kind"))
        if k not in ("end", "gap", "start"):
            kinds[k] = kinds.get(k, 0) + 1
    if kinds:
        rows.append(("Recorder events", ", ".join(f"{k.replace('_', ' ')}: {n}" for k, n in
                                                  sorted(kinds.items())),
                     "warn" if any("reconnect" in k or "restart" in k or "disconnect" in k
                                   for k in kinds) else "info"))
    for k in sorted(extra):
        kl = k.lower()
        if "packet" in kl or "lost" in kl or "loss" in kl or "reconnect" in kl:
            v = extra[k]
            rows.append((k.replace("_", " ").capitalize(), _fmt_any(v), "warn" if v else "ok"))
    for note in rec.get("notes") or []:
        rows.append(("Reader note", str(note), "info"))
    for note in (result.info or {}).get("notes") or []:
        rows.append(("Analysis note", str(note), "info"))
    return rows


def _fmt_any(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    if isinstance(v, (list, tuple)):
        return ", ".join(_fmt_any(x) for x in v[:10]) + (" ..." if len(v) > 10 else "")
    if isinstance(v, dict):
        return ", ".join(f"{k}: {_fmt_any(x)}" for k, x in list(v.items())[:10])
    return str(v)


def run_record(result: GaitResult) -> dict[str, Any]:
    """The per-run figures stored in the history and listed on an index page."""
    o = overview(result)
    rec = result.recording or {}

    def num(x: Any) -> float | None:
        return float(x) if _finite(x) else None

    return {
        "path": rec.get("path"),
        "device": rec.get("device"),
        "start_time": rec.get("start_time"),
        "duration_s": o["duration_s"],
        "n_steps": o["n_steps"],
        "active_s": o["active_s"],
        "mean_cadence_spm": num(o["mean_cadence_spm"]),
        "peak_cadence_spm": num(o["peak_cadence_spm"]),
        "forward_steps": o["steps"]["forward"],
        "backward_steps": o["steps"]["backward"],
        "unknown_steps": o["steps"]["unknown"],
        "forward_s": o["time_s"]["forward"],
        "backward_s": o["time_s"]["backward"],
        "backward_share": o["backward_share"],
        "n_bouts": o["n_bouts"],
    }
