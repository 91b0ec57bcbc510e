"""Bouts: runs of steps at a steady rhythm (pure, incremental).

A *run* of steps grows while each new step follows the previous one within
``min(bout_max_gap_factor * median interval, bout_max_gap_s)`` and no data gap lies between
them. A run of ``bout_min_steps`` or more steps is a **bout**. A bout ends early where
``bout_split_steps`` consecutive steps change activity (walk/run) or direction (both known):
those steps are held until the change is confirmed and then start the next run. The assembler is incremental:
steps of a bout are released as soon as the run reaches ``bout_min_steps`` (then one by one),
steps of a run that ends shorter are released with ``bout = -1`` when it ends, and a bout is
released when it closes.

Activity per step is ``run`` when the cadence is at least ``run_min_cadence_spm`` and the
vertical acceleration before the step drops to ``-run_min_vertical_g * g`` or lower (a flight
phase, where the body falls freely); otherwise ``walk``. A bout takes the majority (by time)
of its steps' activities, and its direction the majority by time of its steps' directions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..types import Bout, Step
from .cadence import bout_cadence_spm
from .params import AnalysisParams

G0 = 9.80665
_NAN = math.nan
_INF = math.inf


@dataclass(slots=True)
class StepFeatures:
    """What the detector measured about a step (internal; not part of the result)."""

    period_s: float
    amp_m_s2: float
    vmin_m_s2: float
    #: Autocorrelation at the step period of the frame that found the step (0..1).
    rhythm: float = float("nan")
    #: Inferred from the rhythm between two humps (no hump of its own; steps.py step 3b).
    virtual: bool = False


class BoutAssembler:
    """Group finalised steps (in time order) into bouts; see the module docstring."""

    def __init__(self, params: AnalysisParams) -> None:
        self.p = params
        self._run: list[tuple[Step, StepFeatures]] = []
        self._bout_id: int | None = None
        self._next_id = 0
        self._intervals: list[float] = []
        #: Steps of the current bout whose activity/direction differs from the bout's (held).
        self._pending: list[tuple[Step, StepFeatures]] = []
        self._bout_label: tuple[str, str] = ("walk", "unknown")
        self._from_split = False
        self._run_cad = params.run_min_cadence_spm
        self._gap_cap = params.bout_max_gap_s
        self._gap_factor = params.bout_max_gap_factor
        self._run_vmin = -params.run_min_vertical_g * G0
        self._stretch: tuple[list[float], list[float]] = ([], [])  # (see _usual_stretch)

    # -- queries -------------------------------------------------------------------------
    @property
    def last_step_s(self) -> float | None:
        return self._run[-1][0].t_s if self._run else None

    def max_gap_s(self) -> float:
        """min(bout_max_gap_factor * median of the last 9 intervals, bout_max_gap_s), s."""
        p = self.p
        if self._intervals:
            iv = sorted(self._intervals[-9:])
            med = iv[len(iv) // 2]
        elif self._run:
            med = self._run[-1][1].period_s
            if not math.isfinite(med):
                return p.bout_max_gap_s
        else:
            return p.bout_max_gap_s
        return min(p.bout_max_gap_factor * med, p.bout_max_gap_s)

    @property
    def last_activity(self) -> str:
        """Activity of the newest step of the current run ("other" when there is none)."""
        if not self._run:
            return "other"
        s, f = self._run[-1]
        return step_activity(s.cadence_spm, f.vmin_m_s2, self.p)

    @property
    def current_bout(self) -> int | None:
        return self._bout_id

    # -- updates -------------------------------------------------------------------------
    def _label(self, step: Step, feat: StepFeatures) -> tuple[str, str]:
        c = step.cadence_spm  # step_activity, inlined (NaN compares False)
        run = c >= self._run_cad and c != math.inf and feat.vmin_m_s2 <= self._run_vmin
        return ("run" if run else "walk"), step.direction

    @staticmethod
    def _same(a: tuple[str, str], b: tuple[str, str]) -> bool:
        return a[0] == b[0] and (a[1] == b[1] or a[1] == "unknown" or b[1] == "unknown")

    def _confirm(self, out: list) -> None:
        """The run has become a bout: give it an id and a label, release its steps."""
        self._from_split = False
        self._bout_id = self._next_id
        self._next_id += 1
        labels = [self._label(s, f) for s, f in self._run[1:]] or [self._label(*self._run[0])]
        acts = [x[0] for x in labels]
        dirs = [x[1] for x in labels if x[1] != "unknown"]
        # the most common label; a tie goes to the one the run is in now (its latest step):
        # (candidates in order of their last occurrence, newest first; max keeps the first best)
        self._bout_label = (max(dict.fromkeys(reversed(acts)), key=acts.count),
                            max(dict.fromkeys(reversed(dirs)), key=dirs.count) if dirs else "unknown")
        for s, _ in self._run:
            s.bout = self._bout_id
            out.append(s)

    def push(self, step: Step, feat: StepFeatures) -> list:
        run = self._run
        if run:
            dt = step.t_s - run[-1][0].t_s
            iv = self._intervals
            # no sort needed when dt is within the factor of the smallest recent interval
            if dt > self._gap_cap or not (
                iv and dt <= self._gap_factor * min(iv[-9:])
            ) and dt > self.max_gap_s():
                out = self.close()  # (a new list, and a new run)
                run = self._run
            else:
                out = None
                iv.append(dt)
                if len(iv) > 32:
                    del iv[:-9]
                step.cadence_spm = 60.0 / dt if dt > 0 else _NAN
        else:
            out = None
        run.append((step, feat))
        bout_id = self._bout_id
        if bout_id is not None:
            c = step.cadence_spm  # self._label, inlined
            act = "run" if c >= self._run_cad and c != _INF and feat.vmin_m_s2 <= self._run_vmin else "walk"
            d = step.direction
            bl = self._bout_label
            if act == bl[0] and (d == bl[1] or d == "unknown" or bl[1] == "unknown"):
                step.bout = bout_id
                if not self._pending:
                    return [step]  # the usual case (out is None: no close, so a bout is on)
                out = []
                for s, _ in self._pending:  # a blip: the held steps stay in this bout
                    s.bout = bout_id
                    out.append(s)
                self._pending = []
                out.append(step)
            else:
                if out is None:
                    out = []
                lab = (act, d)
                self._pending.append((step, feat))
                n = len(self._pending)
                agree = all(self._same(self._label(s, f), lab) for s, f in self._pending)
                if (n >= self.p.bout_split_steps and agree) or n >= 2 * self.p.bout_split_steps:
                    # Activity or direction has changed: the bout ends before the held steps.
                    out.append(self._make_bout(self._bout_id, self._run[:-n]))
                    self._run = self._run[-n:]
                    self._pending = []
                    self._bout_id = None
                    self._from_split = True  # continuous with a bout: never dropped as noise
                    t = [s.t_s for s, _ in self._run]
                    self._intervals = [b - a for a, b in zip(t[:-1], t[1:])]
                    self._run[0][0].cadence_spm = float("nan")
                    if len(self._run) >= self.p.bout_min_steps:
                        self._confirm(out)
        else:
            if out is None:
                out = []
            if len(self._run) >= self.p.bout_min_steps and self._paced():
                self._confirm(out)
        return out

    def push_many(self, items: list[tuple[Step, StepFeatures]]) -> list:
        """:meth:`push` of each ``(step, features)`` in order: the same events and state.

        The usual steps (inside a bout, nothing held, within the pace test's first bound and
        with the bout's label) are handled as arrays, a stretch at a time; any other step
        goes through :meth:`push`.
        """
        out: list = []
        i, n = 0, len(items)
        if n >= 4:
            t_all = np.fromiter([st.t_s for st, _ in items], dtype=float, count=n)
            vmin_all = np.fromiter([f.vmin_m_s2 for _, f in items], dtype=float, count=n)
        while i < n:
            # (a stretch is looked for in windows of 256 items: each try costs its window)
            j = self._usual_stretch(items, i, min(n, i + 256), t_all, vmin_all) if n - i >= 4 else 0
            if j == 0:
                out += self.push(*items[i])
                i += 1
                continue
            seg = items[i : i + j]
            steps = [st for st, _ in seg]
            dts, cads = self._stretch
            bout_id = self._bout_id
            for st, c in zip(steps, cads):
                st.cadence_spm = c
                st.bout = bout_id
            # the intervals as push() leaves them: every append, then `del iv[:-9]` whenever
            # the list grows past 32 (always a suffix of what was appended)
            iv = self._intervals
            total = len(iv) + j
            keep = total if total <= 32 else 9 + (total - 33) % 24
            iv += dts
            if len(iv) > keep:
                del iv[:-keep]
            self._run += seg
            out += steps
            i += j
        return out

    def _usual_stretch(self, items: list, i: int, e: int, t_all: np.ndarray, vmin_all: np.ndarray) -> int:
        """How many of ``items[i:e]``, from the first, :meth:`push` would put straight into
        the current bout (their intervals and cadences are left in ``self._stretch``);
        ``t_all`` and ``vmin_all`` are the items' times and features' ``vmin_m_s2``."""
        if self._bout_id is None or self._pending or not self._run or not self._intervals:
            return 0
        seg = items[i:e]
        m = len(seg)
        t = t_all[i:e]
        dt = np.empty(m)  # (the subtractions of push)
        dt[0] = float(t[0]) - self._run[-1][0].t_s
        np.subtract(t[1:], t[:-1], out=dt[1:])
        # the smallest of the 9 intervals before each step (push: min(iv[-9:])), as a running
        # minimum over 9 shifted views (cheaper here than a sliding window view)
        hist = self._intervals[-9:]
        prev = np.concatenate([np.full(9 - len(hist), np.inf), hist, dt[:-1]])
        lo = prev[:m].copy()
        for k in range(1, 9):
            np.minimum(lo, prev[k : k + m], out=lo)
        ok = dt <= self._gap_cap
        ok &= dt <= self._gap_factor * lo
        cad = np.divide(60.0, dt, out=np.full(m, _NAN), where=dt > 0)
        run = (cad >= self._run_cad) & (cad != _INF) & (vmin_all[i:e] <= self._run_vmin)
        act, d_bout = self._bout_label
        ok &= run if act == "run" else ~run
        if d_bout != "unknown":
            ok &= np.array([st.direction in (d_bout, "unknown") for st, _ in seg])
        j = int(np.argmin(ok)) if not ok.all() else m
        self._stretch = (dt[:j].tolist(), cad[:j].tolist())
        return j

    def _paced(self) -> bool:
        """May the run become a bout? Its last ``bout_min_steps`` steps all have humps of
        their own (none inferred from the rhythm between humps), are evenly paced
        (longest interval <= ``bout_max_interval_ratio`` x shortest) and of similar strength
        (highest hump <= ``bout_max_amp_ratio`` x lowest), or at least half of them
        follow a flight phase (running: the detector's timing is less regular there, and
        standing / gesturing has no flight)."""
        p = self.p
        r = p.bout_max_interval_ratio
        if r <= 0:
            return True
        n = p.bout_min_steps
        if any(f.virtual for _, f in self._run[-n:]):
            return False  # steps inferred from the rhythm prove no rhythm: humps must
        iv = self._intervals[-(n - 1):]
        if max(iv) <= r * min(iv):
            amp = [f.amp_m_s2 for _, f in self._run[-n:]]
            if not max(amp) > p.bout_max_amp_ratio * min(amp):
                return True
        vmin = -p.run_min_vertical_g * G0
        return 2 * sum(f.vmin_m_s2 <= vmin for _, f in self._run[-n:]) >= n

    def close(self) -> list:
        """End the current run (gap, pause, end of stream): release what it holds."""
        out: list = []
        run = self._run
        if not run:
            return out
        if self._bout_id is not None:
            for s, _ in self._pending:
                s.bout = self._bout_id
                out.append(s)
            out.append(self._make_bout(self._bout_id, run))
        elif self._from_split or (
            self.p.min_run_steps <= len(run) < self.p.bout_min_steps or self.p.bout_max_interval_ratio <= 0
            and len(run) >= self.p.min_run_steps
        ):
            # (a run of bout_min_steps or more that never became a bout failed the pace check)
            for s, _ in run:
                s.bout = -1
                out.append(s)
        self._run = []
        self._pending = []
        self._from_split = False
        self._intervals = []
        self._bout_id = None
        return out

    def _make_bout(self, bout_id: int, run: list[tuple[Step, StepFeatures]]) -> Bout:
        t = np.fromiter([s.t_s for s, _ in run], dtype=float, count=len(run))  # (faster than np.array)
        dt_arr = np.diff(t)
        later = run[1:]
        dirs = [s.direction for s, _ in later]
        rc, rv = self._run_cad, self._run_vmin  # (self._label's activity, inlined)
        acts = ["run" if s.cadence_spm >= rc and s.cadence_spm != _INF and f.vmin_m_s2 <= rv else "walk"
                for s, f in later]
        dir_s: dict[str, float] = {}
        act_s: dict[str, float] = {}
        conf: dict[str, list[float]] = {}
        if dirs and dirs.count(dirs[0]) == len(dirs) and acts.count(acts[0]) == len(acts):
            # one direction and one activity (the usual bout): the same sums without the loop
            # (a running sum: the additions of `total += dt` in order)
            total = float(np.add.accumulate(dt_arr)[-1])
            dir_s[dirs[0]] = act_s[acts[0]] = total
            conf[dirs[0]] = [s.direction_confidence for s, _ in later]
        else:
            dts = dt_arr.tolist()
            for d, a, dt, (s, _) in zip(dirs, acts, dts, later):
                dir_s[d] = dir_s.get(d, 0.0) + dt
                conf.setdefault(d, []).append(s.direction_confidence)
                act_s[a] = act_s.get(a, 0.0) + dt
        direction = max(dir_s, key=lambda k: (dir_s[k], k != "unknown")) if dir_s else "unknown"
        activity = max(act_s, key=act_s.get) if act_s else "walk"
        cd = conf.get(direction)  # (np.fromiter: np.array's type discovery is slow on long lists)
        dconf = float(np.fromiter(cd, dtype=float, count=len(cd)).mean()) if cd else 0.0
        if direction != "unknown":
            total = sum(dir_s.values())
            dconf *= dir_s[direction] / total if total > 0 else 0.0
        return Bout(
            id=bout_id,
            start_s=float(t[0]),
            end_s=float(t[-1]),
            activity=activity,
            direction=direction,
            n_steps=len(run),
            cadence_spm=bout_cadence_spm(t),
            direction_confidence=dconf,
            direction_s=dir_s,
        )


def step_activity(cadence_spm: float, vmin_m_s2: float, params: AnalysisParams) -> str:
    """``"run"`` or ``"walk"`` for one step (see the module docstring)."""
    if math.isfinite(cadence_spm) and cadence_spm >= params.run_min_cadence_spm and (
        vmin_m_s2 <= -params.run_min_vertical_g * G0
    ):
        return "run"
    return "walk"
