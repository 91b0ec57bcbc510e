"""The streaming core: :class:`StreamAnalyzer` (push blocks -> steps, bouts) and :func:`analyze`.

**Frames.** The sample stream is cut into fixed frames of ``hop_s`` (1 s) on the absolute
sample index. Frame ``k`` owns samples ``[k*H, (k+1)*H)`` and is decided from a fixed context
window ``[k*H - B, (k+1)*H + A)`` (``lookback_s`` = 3 s before, ``lookahead_s`` = 1 s after),
as soon as the stream reaches the end of that window. Every decision about a frame depends only
on the samples of its context window, never on how the stream was cut into blocks, so the steps
are identical for any chunking (batch :func:`analyze` is the same code fed 60 s blocks).
A step is therefore final at most ``hop_s + lookahead_s`` (2 s) after its sample arrived, and
the analyzer holds at most ``lookback + hop + lookahead`` seconds plus the last block in memory.

**Gaps.** Samples with ``valid == False`` (or non-finite values) split the context: each run of
valid samples is analysed on its own, so no step is found across a gap, and the direction stage
and the bout in progress are closed at the gap.

**Stages per step.** detector (:mod:`gait.signal.steps`) -> direction stage (the seam,
:mod:`gait.signal.stages`) -> bouts (:mod:`gait.signal.bouts`). Steps are released once they
belong to a bout (the first ``bout_min_steps - 1`` steps of a walk wait for the bout to be
confirmed) or once their short run has ended; a bout is released when it closes.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._version import __version__
from .errors import GaitError, SignalError
from .frames import Mount, parse_mount
from .signal.bouts import BoutAssembler, StepFeatures, step_activity
from .signal.params import AnalysisParams
from .signal.preprocess import body_axes, horizontal, preprocessing_info
from .signal.stages import DirectionStage, StepWindow, default_stage
from .signal.steps import detect_rows
from .signal.summary import summarize
from .types import MIN_FS_HZ, Bout, GaitResult, Recording, SampleBlock, Step

#: Shortest run of valid samples analysed, s (shorter runs between gaps give no steps).
MIN_RUN_S = 1.0


@dataclass(frozen=True)
class LiveStatus:
    """What a live view shows: the state of the analyzer after the last push."""

    #: Time of the newest sample, s.
    t_s: float
    n_steps: int
    #: Cadence over the last few steps of the current bout, steps/min (NaN outside a bout).
    cadence_spm: float
    direction: str
    #: "walk", "run" or "other" (no bout in progress).
    activity: str
    in_bout: bool


def _as_params(params: AnalysisParams | dict | None) -> AnalysisParams:
    if params is None:
        return AnalysisParams()
    if isinstance(params, AnalysisParams):
        return params.validate()
    if isinstance(params, dict):
        return AnalysisParams.from_dict(params).validate()
    raise GaitError(f"params must be AnalysisParams or a dict, got {type(params).__name__}")


class StreamAnalyzer:
    """Incremental step / bout analysis of a sample stream (see the module docstring).

    Parameters
    ----------
    fs_hz : float
        Sampling rate of the stream, Hz (at least ``MIN_FS_HZ``).
    mount : str or Mount, optional
        Declared mount (preset or axis mapping); passed to the direction stage.
    params : AnalysisParams or dict, optional
    direction_stage : optional
        A direction stage (see :mod:`gait.signal.stages`); default: the project's stage if
        present, else every step is "unknown".
    """

    def __init__(
        self,
        fs_hz: float,
        *,
        mount: str | Mount | None = None,
        params: AnalysisParams | dict | None = None,
        direction_stage: DirectionStage | None = None,
    ) -> None:
        try:
            fs = float(fs_hz)
        except (TypeError, ValueError):
            raise SignalError(f"fs_hz must be a number, got {fs_hz!r}") from None
        if not (math.isfinite(fs) and fs >= MIN_FS_HZ):
            raise SignalError(f"sampling rate {fs_hz} Hz is below the {MIN_FS_HZ:g} Hz we can analyse")
        self.fs_hz = fs
        self.params = _as_params(params)
        self.mount = parse_mount(mount)
        p = self.params
        self._H = max(1, int(round(p.hop_s * fs)))
        self._B = int(round(p.lookback_s * fs))
        self._A = int(round(p.lookahead_s * fs))
        self._min_run = max(8, int(round(MIN_RUN_S * fs)))
        self._W = max(1, int(round(p.direction_window_s * fs)))
        self.stage = direction_stage if direction_stage is not None else default_stage(
            fs_hz=fs, mount=self.mount, params=p
        )
        self._bouts = BoutAssembler(p)
        # Ring buffer: samples [buf0, n) of the stream.
        self._acc = np.empty((0, 3))
        self._gyro: np.ndarray | None = None
        self._has_gyro: bool | None = None
        self._ok = np.empty(0, dtype=bool)
        self._buf0 = 0
        self._n = 0
        self._k = 0  # next frame to decide
        self._t0: float | None = None
        self._finished = False
        # Invalid runs [start, end) (absolute indices) not yet passed by the step sequence.
        self._invalid: list[list[int]] = []
        self._last_det_idx = -1  # absolute index of the last step given to the stage
        self._last_det_t = -math.inf
        self._feat: dict[int, StepFeatures] = {}
        self._steps: list[Step] = []
        self._bout_list: list[Bout] = []
        self._recent_t: list[float] = []

    # ------------------------------------------------------------------ public API
    def push(self, block: SampleBlock) -> list[Step | Bout]:
        """Add samples; return the steps and bouts that became final (in time order)."""
        if self._finished:
            raise GaitError("push() after finish(): make a new StreamAnalyzer")
        n = len(block)
        if n == 0:
            return []
        acc = np.asarray(block.acc_m_s2, dtype=np.float64).reshape(n, 3)
        ok = np.asarray(block.valid, dtype=bool).reshape(n) & np.isfinite(acc).all(axis=1)
        gyro = None if block.gyro_rad_s is None else np.asarray(block.gyro_rad_s, dtype=np.float64).reshape(n, 3)
        if self._has_gyro is None:
            self._has_gyro = gyro is not None
            self._gyro = np.empty((0, 3)) if gyro is not None else None
            self._t0 = float(block.t_s[0]) if len(block.t_s) else 0.0
        if self._has_gyro and gyro is None:
            gyro = np.full((n, 3), np.nan)
        self._note_invalid(ok)
        self._acc = np.concatenate([self._acc, acc]) if len(self._acc) else acc.copy()
        if self._has_gyro:
            self._gyro = np.concatenate([self._gyro, gyro]) if len(self._gyro) else gyro.copy()
        self._ok = np.concatenate([self._ok, ok])
        self._n += n
        return self._run(final=False)

    def finish(self) -> list[Step | Bout]:
        """End of stream: decide the remaining frames and close everything."""
        if self._finished:
            return []
        out = self._run(final=True)
        out += self._close_sequence()
        self._finished = True
        self._acc = np.empty((0, 3))
        self._gyro = None
        self._ok = np.empty(0, dtype=bool)
        return out

    def status(self) -> LiveStatus:
        """Current state, for live views."""
        t = (self._t0 or 0.0) + self._n / self.fs_hz
        cad = float("nan")
        if len(self._recent_t) >= 2 and self._bouts.current_bout is not None:
            rt = self._recent_t[-6:]
            cad = 60.0 * (len(rt) - 1) / (rt[-1] - rt[0])
        last = self._steps[-1] if self._steps else None
        in_bout = self._bouts.current_bout is not None
        activity = "other"
        if in_bout and last is not None:
            f = self._feat.get(last.index)
            activity = step_activity(last.cadence_spm, f.vmin_m_s2 if f else 0.0, self.params)
        return LiveStatus(
            t_s=t,
            n_steps=len(self._steps),
            cadence_spm=cad,
            direction=last.direction if last is not None else "unknown",
            activity=activity,
            in_bout=in_bout,
        )

    @property
    def steps(self) -> list[Step]:
        return list(self._steps)

    @property
    def bouts(self) -> list[Bout]:
        return list(self._bout_list)

    def result(self, recording_summary: dict[str, Any] | None = None) -> GaitResult:
        """The :class:`GaitResult` of everything pushed (call after :meth:`finish`)."""
        if not self._finished:
            raise GaitError("result() before finish(): call finish() first")
        duration = self._n / self.fs_hz
        summary = summarize(self._steps, self._bout_list, duration_s=duration)
        p = self.params
        info = {
            "version": __version__,
            "parameters": p.to_dict(),
            "preprocessing": preprocessing_info(self.fs_hz, p.lookback_s, p.hop_s, p.lookahead_s),
            "direction_mode": getattr(self.stage, "mode", "none"),
            "direction": self.stage.info() if hasattr(self.stage, "info") else {},
            "mount": None if self.mount is None else {"name": self.mount.name, "mapping": self.mount.mapping},
            "fs_hz": self.fs_hz,
            "n_samples": self._n,
            "latency_s": {"max_step": p.hop_s + p.lookahead_s},
        }
        return GaitResult(
            steps=list(self._steps),
            bouts=list(self._bout_list),
            summary=summary,
            info=info,
            recording=dict(recording_summary or {}),
        )

    # ------------------------------------------------------------------ internals
    def _note_invalid(self, ok: np.ndarray) -> None:
        if ok.all():
            return
        bad = ~ok
        d = np.diff(np.r_[0, bad.astype(np.int8), 0])
        starts = np.nonzero(d == 1)[0] + self._n
        ends = np.nonzero(d == -1)[0] + self._n
        for a, b in zip(starts.tolist(), ends.tolist()):
            if self._invalid and self._invalid[-1][1] == a:
                self._invalid[-1][1] = b
            else:
                self._invalid.append([a, b])

    def _gap_between(self, i0: int, i1: int) -> bool:
        return any(a < i1 and b > i0 for a, b in self._invalid)

    def _run(self, *, final: bool) -> list:
        H, B, A, n = self._H, self._B, self._A, self._n
        if final:
            k_end = -(-n // H)  # every frame with at least one sample
        else:
            k_end = max(0, (n - A) // H)  # frames whose whole context has arrived
        out: list = []
        if k_end <= self._k:
            out += self._check_stale()
            return out
        ks = range(self._k, k_end)
        # Frames with a full, gap-free context are decided together (array-at-once).
        full = []
        dets: dict[int, list] = {}
        for k in ks:
            c0, c1 = k * H - B, (k + 1) * H + A
            if c0 >= 0 and c1 <= n and self._ok[c0 - self._buf0 : c1 - self._buf0].all():
                full.append(k)
            else:
                dets[k] = self._frame_partial(k)
        if full:
            dets.update(self._frames_full(full))
        for k in ks:
            frame_end = min((k + 1) * H, n)
            for det in dets[k]:
                out += self._emit_detection(det)
            self._k = k + 1
            out += self._check_stale(frame_end)
        # Trim the buffer to what the next frame's context needs.
        keep_from = max(0, self._k * H - B)
        if keep_from > self._buf0:
            cut = min(keep_from, n) - self._buf0
            self._acc = self._acc[cut:]
            if self._gyro is not None:
                self._gyro = self._gyro[cut:]
            self._ok = self._ok[cut:]
            self._buf0 += cut
        return out

    def _frames_full(self, ks: list[int]) -> dict[int, list]:
        H, B, A = self._H, self._B, self._A
        L = B + H + A
        c0 = ks[0] * H - B - self._buf0
        span = self._acc[c0 : c0 + (len(ks) - 1) * H + L]
        win = np.lib.stride_tricks.sliding_window_view(span, (L, 3))[::H, 0]
        rows = np.ascontiguousarray(win)  # (R, L, 3)
        det = detect_rows(rows, fs_hz=self.fs_hz, params=self.params)
        out: dict[int, list] = {k: [] for k in ks}
        own0, own1 = B, B + H
        for j in range(det.row.size):
            ic = det.ic_pos[j]
            if own0 <= ic < own1:
                r = int(det.row[j])
                k = ks[r]
                out[k].append(self._det_tuple(det, j, r, k * H - B, 0, L))
        return out

    def _frame_partial(self, k: int) -> list:
        H, B, A, n = self._H, self._B, self._A, self._n
        c0, c1 = max(0, k * H - B), min(n, (k + 1) * H + A)
        o0, o1 = k * H, min((k + 1) * H, n)
        ok = self._ok[c0 - self._buf0 : c1 - self._buf0]
        d = np.diff(np.r_[0, ok.astype(np.int8), 0])
        starts = np.nonzero(d == 1)[0] + c0
        ends = np.nonzero(d == -1)[0] + c0
        res = []
        for a, b in zip(starts.tolist(), ends.tolist()):
            if b - a < self._min_run or b <= o0 or a >= o1:
                continue
            rows = self._acc[a - self._buf0 : b - self._buf0][None]
            det = detect_rows(rows, fs_hz=self.fs_hz, params=self.params)
            lo, hi = max(o0, a) - a, min(o1, b) - a
            for j in range(det.row.size):
                ic = det.ic_pos[j]
                if lo <= ic < hi:
                    res.append(self._det_tuple(det, j, 0, a, 0, b - a))
        res.sort(key=lambda x: x[0])
        return res

    def _det_tuple(self, det, j: int, r: int, row0_abs: int, lo: int, hi: int) -> tuple:
        """(abs IC position, features, window data) for detection j of row r."""
        pos = float(det.ic_pos[j])
        i = int(round(pos))
        i = min(max(i, lo), hi - 1)
        w0, w1 = max(lo, i - self._W), min(hi, i + self._W + 1)
        a0 = row0_abs - self._buf0
        g_hat = det.g_hat[r]
        acc_w = self._acc[a0 + w0 : a0 + w1]
        gyro_w = None if self._gyro is None else self._gyro[a0 + w0 : a0 + w1]
        feat = StepFeatures(
            period_s=float(det.period_s[r]),
            amp_m_s2=float(det.amp_m_s2[j]),
            vmin_m_s2=float(det.vmin_m_s2[j]),
        )
        return (row0_abs + pos, feat, (row0_abs + w0, i - w0, det.v[r, w0:w1].copy(), acc_w.copy(),
                                       None if gyro_w is None else gyro_w.copy(), g_hat.copy()))

    def _emit_detection(self, det: tuple) -> list:
        abs_pos, feat, (w_abs0, i_in, v_w, acc_w, gyro_w, g_hat) = det
        out: list = []
        idx = int(round(abs_pos))
        if idx <= self._last_det_idx:  # never two steps on one sample, never out of order
            return out
        if self._last_det_idx >= 0 and self._gap_between(self._last_det_idx, idx):
            out += self._close_sequence()
        # Forget gaps that are behind us.
        self._invalid = [g for g in self._invalid if g[1] > idx]
        t0 = self._t0 or 0.0
        step = Step(t_s=t0 + abs_pos / self.fs_hz, index=idx)
        hz = horizontal(acc_w, g_hat)
        axes = body_axes(g_hat, None if self.mount is None else self.mount.R)
        window = StepWindow(
            fs_hz=self.fs_hz,
            t0_s=t0 + w_abs0 / self.fs_hz,
            i_step=i_in,
            vertical_m_s2=v_w,
            horizontal_m_s2=hz,
            g_hat=g_hat,
            forward_m_s2=None if axes is None else hz @ axes[0],
            left_m_s2=None if axes is None else hz @ axes[1],
            gyro_rad_s=gyro_w,
            mount=self.mount,
            step_period_s=feat.period_s,
        )
        self._feat[idx] = feat
        self._last_det_idx = idx
        self._last_det_t = step.t_s
        for s in self.stage.push(step, window):
            out += self._to_bouts(s)
        return out

    def _to_bouts(self, s: Step) -> list:
        feat = self._feat.pop(s.index, None) or StepFeatures(float("nan"), float("nan"), float("nan"))
        self._feat_last = feat
        return self._collect(self._bouts.push(s, feat))

    def _collect(self, events: list) -> list:
        for e in events:
            if isinstance(e, Step):
                self._steps.append(e)
                if e.bout >= 0:
                    self._recent_t.append(e.t_s)
                    del self._recent_t[:-8]
            else:
                self._bout_list.append(e)
                self._recent_t = []
        return events

    def _close_sequence(self) -> list:
        out: list = []
        for s in self.stage.flush():
            out += self._to_bouts(s)
        out += self._collect(self._bouts.close())
        return out

    def _check_stale(self, frontier_idx: int | None = None) -> list:
        """Close the walk when no step has come for the bout gap, or a gap has been passed."""
        if self._last_det_idx < 0:
            return []
        frontier = self._k * self._H if frontier_idx is None else frontier_idx
        t_front = (self._t0 or 0.0) + frontier / self.fs_hz
        pending = self._bouts.last_step_s is not None or self._last_det_t > -math.inf
        if not pending:
            return []
        stale = t_front - self._last_det_t > self._bouts.max_gap_s()
        gap = self._gap_between(self._last_det_idx, frontier)
        if stale or gap:
            out = self._close_sequence()
            self._last_det_t = -math.inf
            return out
        return []


def analyze(
    recording: Recording,
    *,
    mount: str | Mount | None = None,
    params: AnalysisParams | dict | None = None,
    chunk_s: float = 60.0,
    direction_stage: DirectionStage | None = None,
) -> GaitResult:
    """Steps, bouts, cadence (and direction) of a recording: the streaming core over chunks.

    Parameters
    ----------
    recording : Recording
    mount : str or Mount, optional
        Declared mount; defaults to the mount the recording's header states, if any.
    params : AnalysisParams or dict, optional
    chunk_s : float
        Block length fed to the core, s (any value gives the same steps).

    Returns
    -------
    GaitResult
    """
    if not isinstance(recording, Recording):
        raise GaitError(f"analyze() needs a Recording, got {type(recording).__name__}")
    if chunk_s <= 0:
        raise GaitError("chunk_s must be positive")
    if mount is None and recording.info.mount:
        mount = recording.info.mount
    sa = StreamAnalyzer(recording.fs_hz, mount=mount, params=params, direction_stage=direction_stage)
    step = max(1, int(round(chunk_s * recording.fs_hz)))
    for i in range(0, recording.n_samples, step):
        sa.push(recording.block(i, i + step))
    sa.finish()
    return sa.result(recording.summary())


def iter_events(recording: Recording, **kw: Any) -> Iterable[Step | Bout]:
    """Replay a recording through a :class:`StreamAnalyzer`, yielding events as they become final."""
    chunk_s = kw.pop("chunk_s", 1.0)
    sa = StreamAnalyzer(recording.fs_hz, **kw)
    step = max(1, int(round(chunk_s * recording.fs_hz)))
    for i in range(0, recording.n_samples, step):
        yield from sa.push(recording.block(i, i + step))
    yield from sa.finish()
