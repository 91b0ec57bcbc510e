"""Scoring detected walking direction against ``gait-labels/1`` labels (pure).

The convention is the one in ``../shared/data/README.md``:

* **Accuracy** = the fraction of labelled forward + backward seconds at which the detected
  direction equals the label; time that no detected segment covers counts as wrong.
* **Confusion matrix** in seconds: rows are the labels (forward, backward), columns the
  detections (forward, backward, unknown, uncovered).
* **Segment majority**: for each forward/backward label segment of 2 s or more, does the
  majority (by time) of the detected direction over it equal the label? Reported for segments
  of >= 2 s and separately for >= 5 s ("bouts of 5 s or more" in the targets).
* **Transitions**: at each labelled change between forward and backward (directly or across a
  ``transition`` crossfade zone), the delay in steps = the 1-based index, among detected steps
  after the change time, of the first step whose direction equals the new label and from which
  the detected direction stays right for the next steps (the majority of the next three). The
  change time is the middle of the crossfade zone (or the boundary).

Detected segments are built from steps (:func:`step_segments`): consecutive steps closer than
``max_gap_s`` form a chain; each step covers the time from the midpoint with its previous step
to the midpoint with its next one; the first and last step of a chain extend by one median
step interval outwards (gait goes on through the stance of the first and last step).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

import numpy as np

SCORED = ("forward", "backward")
DET_COLS = ("forward", "backward", "unknown", "uncovered")
GRID_S = 0.01


def step_segments(steps_s: Sequence[float], directions: Sequence[str], *, max_gap_s: float = 2.0,
                  duration_s: float | None = None) -> list[dict[str, Any]]:
    """Direction segments ``[{"start_s", "end_s", "direction"}]`` covered by detected steps."""
    t = np.asarray(steps_s, dtype=float)
    d = list(directions)
    if t.size != len(d):
        raise ValueError("steps_s and directions differ in length")
    segs: list[dict[str, Any]] = []
    if t.size == 0:
        return segs
    order = np.argsort(t, kind="stable")
    t = t[order]
    d = [d[i] for i in order]
    breaks = np.flatnonzero(np.diff(t) > max_gap_s) + 1
    for idx in np.split(np.arange(t.size), breaks):
        tc = t[idx]
        med = float(np.median(np.diff(tc))) if tc.size > 1 else 0.5
        mids = (tc[1:] + tc[:-1]) / 2.0
        starts = np.concatenate([[tc[0] - med], mids])
        ends = np.concatenate([mids, [tc[-1] + med]])
        for s, e, k in zip(starts, ends, idx):
            s = max(0.0, float(s))
            e = float(e) if duration_s is None else min(float(duration_s), float(e))
            if e > s:
                segs.append({"start_s": s, "end_s": e, "direction": d[k]})
    return segs


def _grid(duration_s: float) -> np.ndarray:
    return (np.arange(int(np.ceil(duration_s / GRID_S))) + 0.5) * GRID_S


def _paint(t: np.ndarray, segments: Iterable[dict[str, Any]], default: str) -> np.ndarray:
    out = np.full(t.size, default, dtype=object)
    for s in segments:
        m = (t >= float(s["start_s"])) & (t < float(s["end_s"]))
        out[m] = s["direction"]
    return out


@dataclass
class DirectionScore:
    """Direction scores of one or more recordings (sums in seconds; add them with ``+``)."""

    confusion_s: dict[str, dict[str, float]] = field(
        default_factory=lambda: {r: {c: 0.0 for c in DET_COLS} for r in SCORED})
    #: (name, label, start_s, end_s, majority detected direction) per labelled segment >= 2 s.
    segments: list[tuple[str, str, float, float, str]] = field(default_factory=list)
    #: (name, change time s, new label, delay in steps or None when never found).
    transitions: list[tuple[str, float, str, int | None]] = field(default_factory=list)
    #: (name, start_s, end_s, majority label, detected bout direction) per detected bout whose
    #: labelled time is mostly forward/backward (see :func:`score_bouts`).
    bouts: list[tuple[str, float, float, str, str]] = field(default_factory=list)

    def __add__(self, other: "DirectionScore") -> "DirectionScore":
        out = DirectionScore()
        for r in SCORED:
            for c in DET_COLS:
                out.confusion_s[r][c] = self.confusion_s[r][c] + other.confusion_s[r][c]
        out.segments = self.segments + other.segments
        out.transitions = self.transitions + other.transitions
        out.bouts = self.bouts + other.bouts
        return out

    @property
    def labelled_s(self) -> float:
        return sum(sum(v.values()) for v in self.confusion_s.values())

    @property
    def correct_s(self) -> float:
        return sum(self.confusion_s[r][r] for r in SCORED)

    @property
    def accuracy(self) -> float:
        n = self.labelled_s
        return self.correct_s / n if n > 0 else float("nan")

    def segment_accuracy(self, min_s: float = 2.0) -> tuple[int, int]:
        """(right, total) majority checks over labelled segments of at least ``min_s``."""
        sel = [s for s in self.segments if s[3] - s[2] >= min_s - 1e-9]
        return sum(1 for s in sel if s[4] == s[1]), len(sel)

    def transition_summary(self, max_steps: int = 2) -> tuple[int, int]:
        """(found within ``max_steps``, total) over labelled direction changes."""
        ok = sum(1 for t in self.transitions if t[3] is not None and t[3] <= max_steps)
        return ok, len(self.transitions)

    def bout_accuracy(self) -> tuple[int, int]:
        """(right, total) detected bouts whose direction equals their labelled majority."""
        return sum(1 for b in self.bouts if b[3] == b[4]), len(self.bouts)

    def to_dict(self) -> dict[str, Any]:
        r2, n2 = self.segment_accuracy(2.0)
        r5, n5 = self.segment_accuracy(5.0)
        tr, tn = self.transition_summary(2)
        return {
            "accuracy": self.accuracy,
            "labelled_s": self.labelled_s,
            "confusion_s": self.confusion_s,
            "segments_ge_2s": [r2, n2],
            "segments_ge_5s": [r5, n5],
            "transitions_within_2_steps": [tr, tn],
            "detected_bouts_right": list(self.bout_accuracy()),
            "transition_delays": [t[3] for t in self.transitions],
        }


def score_direction(labels: dict[str, Any], steps_s: Sequence[float], directions: Sequence[str],
                    *, name: str | None = None, max_gap_s: float = 2.0) -> DirectionScore:
    """Score detected step directions of one recording against its labels (see module doc).

    ``labels`` is a ``gait-labels/1`` dict or a :class:`gait.labels.Labels`.
    """
    if hasattr(labels, "to_dict"):
        labels = labels.to_dict()
    name = name or str(labels.get("name", "?"))
    dur = float(labels["duration_s"])
    t = _grid(dur)
    lab = _paint(t, labels["segments"], "none")
    det_segs = step_segments(steps_s, directions, max_gap_s=max_gap_s, duration_s=dur)
    det = _paint(t, det_segs, "uncovered")
    sc = DirectionScore()
    for r in SCORED:
        m = lab == r
        for c in DET_COLS:
            sc.confusion_s[r][c] = float(np.count_nonzero(m & (det == c))) * GRID_S
    for s in labels["segments"]:
        if s["direction"] in SCORED and s["end_s"] - s["start_s"] >= 2.0 - 1e-9:
            m = (t >= s["start_s"]) & (t < s["end_s"])
            vals, cnt = np.unique(det[m].astype(str), return_counts=True)
            maj = str(vals[np.argmax(cnt)]) if cnt.size else "uncovered"
            sc.segments.append((name, s["direction"], float(s["start_s"]), float(s["end_s"]), maj))
    sc.transitions = _transitions(labels, steps_s, directions, name)
    return sc


def score_bouts(labels: dict[str, Any], bouts: Iterable[Any], *, name: str | None = None,
                min_share: float = 0.5) -> list[tuple[str, float, float, str, str]]:
    """Per detected bout (objects with ``start_s``, ``end_s``, ``direction``): the labelled
    majority direction over the bout, for bouts whose labelled time is at least ``min_share``
    forward + backward. Add the rows to ``DirectionScore.bouts``."""
    if hasattr(labels, "to_dict"):
        labels = labels.to_dict()
    name = name or str(labels.get("name", "?"))
    out = []
    for b in bouts:
        a, e = float(b.start_s), float(b.end_s)
        tot = {d: 0.0 for d in SCORED}
        for sg in labels["segments"]:
            if sg["direction"] in tot:
                tot[sg["direction"]] += max(0.0, min(e, sg["end_s"]) - max(a, sg["start_s"]))
        if e > a and sum(tot.values()) >= min_share * (e - a):
            maj = max(tot, key=tot.get)
            out.append((name, a, e, maj, str(b.direction)))
    return out


def _transitions(labels: dict[str, Any], steps_s: Sequence[float], directions: Sequence[str],
                 name: str) -> list[tuple[str, float, str, int | None]]:
    segs = labels["segments"]
    ts = np.asarray(steps_s, dtype=float)
    order = np.argsort(ts, kind="stable")
    ts = ts[order]
    ds = [list(directions)[i] for i in order]
    out = []
    for i in range(1, len(segs)):
        cur = segs[i]
        if cur["direction"] not in SCORED:
            continue
        prev = segs[i - 1]
        t_change = float(cur["start_s"])
        if prev["direction"] == "transition" and i >= 2:
            t_change = (float(prev["start_s"]) + float(prev["end_s"])) / 2.0
            prev = segs[i - 2]
        if prev["direction"] not in SCORED or prev["direction"] == cur["direction"]:
            continue
        new = cur["direction"]
        sel = [k for k in range(ts.size) if t_change < ts[k] < float(cur["end_s"])]
        delay = None
        for j, k in enumerate(sel):
            nxt = [ds[m] for m in sel[j:j + 3]]
            if ds[k] == new and sum(1 for x in nxt if x == new) * 2 > len(nxt):
                delay = j + 1
                break
        out.append((name, t_change, new, delay))
    return out


def format_confusion(sc: DirectionScore) -> str:
    """The confusion matrix (seconds) as a small Markdown table."""
    lines = ["| label \\ detected | " + " | ".join(DET_COLS) + " |",
             "|---|" + "---:|" * len(DET_COLS)]
    for r in SCORED:
        lines.append(f"| {r} | " + " | ".join(f"{sc.confusion_s[r][c]:.1f}" for c in DET_COLS) + " |")
    return "\n".join(lines)
