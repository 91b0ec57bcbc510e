"""Scoring detections against ``gait-labels/1`` references (pure; no I/O).

Implements exactly the convention of the labeled data's README ("How the labels are meant to
be scored"):

* **ICs.** Reference initial contacts are matched one-to-one to detected ICs within a
  tolerance (``tol_s``, 0.25 s and 0.1 s), smallest ``|dt|`` first. TP = matched pairs,
  FN = unmatched references, FP = unmatched detections *inside* ``scored_intervals`` (unmatched
  detections outside them are ignored). Precision, recall, F1; mean ``|error|`` and bias
  (detected - reference) of the matched pairs; step-count error % = (TP + FP - n_ref) / n_ref.
* **Cadence.** For every segment whose activity is walk/run/sprint and that holds 4 or more
  reference ICs: ``60 * (n - 1) / (t_last - t_first)`` over the ICs inside the segment, for the
  reference and for the detections.
* **Standing.** False steps per minute of standing: unmatched detections inside scored parts of
  segments whose activity is ``stand`` (or ``shuffle``), per minute of that scored time.

Every function takes plain arrays / dicts, so the same code scores ``gait`` and peers (mobgap).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

#: Segment activities whose cadence is scored.
LOCOMOTION_ACTIVITIES = ("walk", "run", "sprint")
#: Segment activities counted as "standing or gesturing".
STANDING_ACTIVITIES = ("stand", "shuffle")


def match_ics(ref_s: Sequence[float], det_s: Sequence[float], *, tol_s: float) -> list[tuple[int, int]]:
    """One-to-one matching of reference and detected ICs, smallest ``|dt|`` first.

    Parameters
    ----------
    ref_s, det_s : sequence of float
        Reference and detected IC times, s (any order).
    tol_s : float
        Largest accepted ``|detected - reference|``, s (inclusive).

    Returns
    -------
    list of (i_ref, i_det)
        Matched index pairs, sorted by ``i_ref``.
    """
    ref = np.asarray(ref_s, dtype=float).ravel()
    det = np.asarray(det_s, dtype=float).ravel()
    if ref.size == 0 or det.size == 0:
        return []
    order = np.argsort(det, kind="stable")
    det_sorted = det[order]
    # Candidate pairs: for each reference, the detections within tol (sorted search).
    lo = np.searchsorted(det_sorted, ref - tol_s - 1e-12, side="left")
    hi = np.searchsorted(det_sorted, ref + tol_s + 1e-12, side="right")
    counts = hi - lo
    if counts.sum() == 0:
        return []
    ri = np.repeat(np.arange(ref.size), counts)
    offs = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    dj = np.repeat(lo, counts) + offs
    dt = np.abs(det_sorted[dj] - ref[ri])
    keep = dt <= tol_s + 1e-12
    ri, dj, dt = ri[keep], dj[keep], dt[keep]
    # Greedy on |dt| (ties: earlier reference, then earlier detection): deterministic.
    idx = np.lexsort((dj, ri, dt))
    used_r = np.zeros(ref.size, dtype=bool)
    used_d = np.zeros(det.size, dtype=bool)
    pairs = []
    for k in idx:
        r, d = ri[k], dj[k]
        if not used_r[r] and not used_d[d]:
            used_r[r] = used_d[d] = True
            pairs.append((int(r), int(order[d])))
    pairs.sort()
    return pairs


def _inside(t: np.ndarray, intervals: Iterable[Sequence[float]]) -> np.ndarray:
    mask = np.zeros(t.shape, dtype=bool)
    for a, b in intervals:
        mask |= (t >= a) & (t <= b)
    return mask


@dataclass
class ICScore:
    """IC detection figures for one recording (or a sum over several)."""

    tol_s: float
    n_ref: int = 0
    tp: int = 0
    fp: int = 0
    fn: int = 0
    #: Sum of |error| and of error (detected - reference) over matched pairs, s.
    abs_err_sum_s: float = 0.0
    err_sum_s: float = 0.0

    @property
    def precision(self) -> float:
        d = self.tp + self.fp
        return self.tp / d if d else float("nan")

    @property
    def recall(self) -> float:
        return self.tp / self.n_ref if self.n_ref else float("nan")

    @property
    def f1(self) -> float:
        d = 2 * self.tp + self.fp + self.fn
        return 2 * self.tp / d if d else float("nan")

    @property
    def mean_abs_err_ms(self) -> float:
        return 1000.0 * self.abs_err_sum_s / self.tp if self.tp else float("nan")

    @property
    def bias_ms(self) -> float:
        return 1000.0 * self.err_sum_s / self.tp if self.tp else float("nan")

    @property
    def step_count_err_pct(self) -> float:
        return 100.0 * (self.tp + self.fp - self.n_ref) / self.n_ref if self.n_ref else float("nan")

    def __add__(self, other: "ICScore") -> "ICScore":
        return ICScore(
            tol_s=self.tol_s,
            n_ref=self.n_ref + other.n_ref,
            tp=self.tp + other.tp,
            fp=self.fp + other.fp,
            fn=self.fn + other.fn,
            abs_err_sum_s=self.abs_err_sum_s + other.abs_err_sum_s,
            err_sum_s=self.err_sum_s + other.err_sum_s,
        )

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.update(
            precision=self.precision,
            recall=self.recall,
            f1=self.f1,
            mean_abs_err_ms=self.mean_abs_err_ms,
            bias_ms=self.bias_ms,
            step_count_err_pct=self.step_count_err_pct,
        )
        return d


def score_ics(
    ref_s: Sequence[float],
    det_s: Sequence[float],
    scored_intervals: Sequence[Sequence[float]],
    *,
    tol_s: float = 0.25,
    ref_mask: np.ndarray | None = None,
    region: Sequence[Sequence[float]] | None = None,
) -> ICScore:
    """Score detected ICs against the reference (README convention).

    Parameters
    ----------
    ref_s, det_s : sequence of float
        Reference and detected IC times, s.
    scored_intervals : sequence of [start_s, end_s]
        Closed intervals where the reference is complete; FPs count only inside them.
    tol_s : float
        Matching tolerance, s.
    ref_mask : bool array, optional
        Restrict the figures to these references (e.g. one activity); matching still uses all
        references and detections, so restricting never changes who matches whom.
    region : sequence of [start_s, end_s], optional
        With ``ref_mask``: FPs are counted only inside ``region`` (intersected with the scored
        intervals), e.g. the segments of one activity.
    """
    ref = np.asarray(ref_s, dtype=float).ravel()
    det = np.asarray(det_s, dtype=float).ravel()
    pairs = match_ics(ref, det, tol_s=tol_s)
    matched_r = np.zeros(ref.size, dtype=bool)
    matched_d = np.zeros(det.size, dtype=bool)
    err = np.zeros(ref.size)
    for r, d in pairs:
        matched_r[r] = matched_d[d] = True
        err[r] = det[d] - ref[r]
    sel = np.ones(ref.size, dtype=bool) if ref_mask is None else np.asarray(ref_mask, dtype=bool)
    fp_mask = ~matched_d & _inside(det, scored_intervals)
    if region is not None:
        fp_mask &= _inside(det, region)
    tp_mask = matched_r & sel
    return ICScore(
        tol_s=tol_s,
        n_ref=int(sel.sum()),
        tp=int(tp_mask.sum()),
        fp=int(fp_mask.sum()),
        fn=int((~matched_r & sel).sum()),
        abs_err_sum_s=float(np.abs(err[tp_mask]).sum()),
        err_sum_s=float(err[tp_mask].sum()),
    )


def segment_cadence_spm(ics_s: np.ndarray, start_s: float, end_s: float) -> float:
    """``60 * (n - 1) / (t_last - t_first)`` over the ICs in ``[start_s, end_s)``; NaN if n < 2."""
    t = np.sort(np.asarray(ics_s, dtype=float))
    t = t[(t >= start_s) & (t < end_s)]
    if t.size < 2 or t[-1] <= t[0]:
        return float("nan")
    return 60.0 * (t.size - 1) / (t[-1] - t[0])


@dataclass
class CadenceRow:
    """Cadence of one labeled segment, reference vs detected."""

    start_s: float
    end_s: float
    activity: str
    direction: str
    n_ref: int
    ref_spm: float
    det_spm: float

    @property
    def abs_err_spm(self) -> float:
        return abs(self.det_spm - self.ref_spm) if math.isfinite(self.det_spm) else float("nan")


def score_cadence(labels: dict[str, Any], det_s: Sequence[float], *, min_ref_ics: int = 4) -> list[CadenceRow]:
    """Cadence per walk/run/sprint segment with ``min_ref_ics`` or more reference ICs."""
    ref = np.asarray(labels.get("initial_contacts_s", []), dtype=float)
    det = np.asarray(det_s, dtype=float)
    rows = []
    for seg in labels.get("segments", []):
        if seg.get("activity") not in LOCOMOTION_ACTIVITIES:
            continue
        a, b = float(seg["start_s"]), float(seg["end_s"])
        n = int(((ref >= a) & (ref < b)).sum())
        if n < min_ref_ics:
            continue
        rows.append(
            CadenceRow(
                start_s=a,
                end_s=b,
                activity=seg["activity"],
                direction=seg.get("direction", "unknown"),
                n_ref=n,
                ref_spm=segment_cadence_spm(ref, a, b),
                det_spm=segment_cadence_spm(det, a, b),
            )
        )
    return rows


def _clip_intervals(a: Sequence[Sequence[float]], b: Sequence[Sequence[float]]) -> list[tuple[float, float]]:
    out = []
    for a0, a1 in a:
        for b0, b1 in b:
            lo, hi = max(a0, b0), min(a1, b1)
            if hi > lo:
                out.append((lo, hi))
    return out


@dataclass
class StandingScore:
    """False steps during standing / gesturing."""

    seconds: float = 0.0
    false_steps: int = 0

    @property
    def per_min(self) -> float:
        return 60.0 * self.false_steps / self.seconds if self.seconds > 0 else float("nan")

    def __add__(self, other: "StandingScore") -> "StandingScore":
        return StandingScore(self.seconds + other.seconds, self.false_steps + other.false_steps)


def score_standing(labels: dict[str, Any], det_s: Sequence[float], *, tol_s: float = 0.25) -> StandingScore:
    """Unmatched detections inside scored standing/shuffle time, and that time."""
    ref = np.asarray(labels.get("initial_contacts_s", []), dtype=float)
    det = np.asarray(det_s, dtype=float)
    stand = [
        (float(s["start_s"]), float(s["end_s"]))
        for s in labels.get("segments", [])
        if s.get("activity") in STANDING_ACTIVITIES
    ]
    region = _clip_intervals(stand, labels.get("scored_intervals", []))
    if not region:
        return StandingScore()
    pairs = match_ics(ref, det, tol_s=tol_s)
    matched_d = np.zeros(det.size, dtype=bool)
    for _, d in pairs:
        matched_d[d] = True
    fp = int((~matched_d & _inside(det, region)).sum())
    return StandingScore(seconds=float(sum(b - a for a, b in region)), false_steps=fp)


def ref_groups(labels: dict[str, Any]) -> tuple[list[str], list[tuple[str, float, float]]]:
    """Group key ``"activity/direction"`` of each reference IC, and each segment's key and span.

    ``sprint`` is reported with ``run``'s key kept separate (``sprint/forward``).
    """
    ref = np.asarray(labels.get("initial_contacts_s", []), dtype=float)
    segs = [(f"{s.get('activity')}/{s.get('direction')}", float(s["start_s"]), float(s["end_s"]))
            for s in labels.get("segments", [])]
    keys = []
    for t in ref:
        k = "other/unknown"
        for key, a, b in segs:
            if a <= t < b:
                k = key
                break
        else:
            if segs and t >= segs[-1][2]:
                k = segs[-1][0]
        keys.append(k)
    return keys, segs


@dataclass
class RecordingScore:
    """All figures for one recording."""

    name: str
    ic: dict[float, ICScore]
    #: Per group key ("walk/forward", ...), per tolerance.
    ic_by_group: dict[str, dict[float, ICScore]]
    cadence: list[CadenceRow]
    standing: StandingScore
    extra: dict[str, Any] = field(default_factory=dict)


def score_recording(
    labels: dict[str, Any],
    det_s: Sequence[float],
    *,
    tols_s: Sequence[float] = (0.25, 0.1),
) -> RecordingScore:
    """Every IC, cadence and standing figure for one recording's detections."""
    ref = np.asarray(labels.get("initial_contacts_s", []), dtype=float)
    det = np.sort(np.asarray(det_s, dtype=float))
    scored = labels.get("scored_intervals", [])
    keys, segs = ref_groups(labels)
    keys_arr = np.asarray(keys, dtype=object)
    ic = {tol: score_ics(ref, det, scored, tol_s=tol) for tol in tols_s}
    by_group: dict[str, dict[float, ICScore]] = {}
    for key in sorted(set(keys) | {k for k, _, _ in segs}):
        region = [(a, b) for k, a, b in segs if k == key]
        mask = keys_arr == key if ref.size else np.zeros(0, dtype=bool)
        if not mask.any():
            continue
        by_group[key] = {
            tol: score_ics(ref, det, scored, tol_s=tol, ref_mask=mask, region=region) for tol in tols_s
        }
    return RecordingScore(
        name=str(labels.get("name", "")),
        ic=ic,
        ic_by_group=by_group,
        cadence=score_cadence(labels, det),
        standing=score_standing(labels, det, tol_s=max(tols_s)),
    )
