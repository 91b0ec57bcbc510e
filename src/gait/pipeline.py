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

**Edges of runs.** A run of valid samples that ends inside a frame's context window (the end of
the stream, or a gap) is analysed in a row of the full context length ending at the run's end
(the row reaches further back, within the run), so the step period and the peak threshold of
the last frames are estimated from as much signal as anywhere else. A run that starts inside the
window (the start of the stream, after a gap) gets the same only with ``run_start_full_row`` = 1
(default 0): the frame then waits for those samples, which delays the first steps of a run that
starts in motion by up to ``lookback_s`` (see :attr:`StreamAnalyzer.latency_bound_s`).

**After livelier gait.** A full frame that found no step of its own, whose vertical
acceleration varied more than ``recent_calm_ratio`` times as much (standard deviation) before
its last ``recent_window_s`` as over them while those still move, is analysed again from a row
of its last ``recent_window_s`` only: a walk right after a run gets its own step period and
peak threshold instead of the run's. The test uses only the frame's own samples, so results
stay independent of chunking; no latency is added.

**Stages per step.** detector (:mod:`gait.signal.steps`) -> direction stage (the seam,
:mod:`gait.signal.stages`) -> bouts (:mod:`gait.signal.bouts`). Steps are released once they
belong to a bout (the first ``bout_min_steps - 1`` steps of a walk wait for the bout to be
confirmed) or once their short run has ended; a bout is released when it closes.
"""

from __future__ import annotations

import gc
import math
from collections.abc import Callable, Iterable
from itertools import repeat
from operator import itemgetter
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._version import __version__
from .errors import GaitError, SignalError
from .frames import Mount, parse_mount
from .signal.bouts import BoutAssembler, StepFeatures
from .signal.params import AnalysisParams
from .signal.preprocess import preprocessing_info
from .signal.stages import DirectionStage, StepWindow, UnknownDirection, default_stage
from .signal.steps import backward_contact_pos, detect_rows
from .signal.summary import summarize
from .types import MIN_FS_HZ, Bout, GaitResult, Recording, SampleBlock, Step

#: Shortest run of valid samples analysed, s (shorter runs between gaps give no steps).
MIN_RUN_S = 1.0
#: A frame also reports initial contacts up to this long before and after its own region, s:
#: adjacent frames may place the same contact a few tens of ms apart, on either side of their
#: boundary (then each would leave it to the other); the analyzer keeps the first report of a
#: step (see ``_emit_detection``).
OWN_MARGIN_S = 0.15
#: Two reports closer than this fraction of the step period are the same step (within a window
#: the detector keeps humps at least min_interval_frac = 0.6 periods apart; 0.3 let two frames'
#: reports of one running step 0.13 s apart both through; 0.5 merged a real backward step).
SAME_STEP_FRAC = 0.4

_first = itemgetter(0)


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


def _append_rows(buf: np.ndarray, new: np.ndarray) -> np.ndarray:
    """``np.concatenate([buf, new])`` of (n, 3) float arrays, always a new C-ordered array; a
    column-major ``new`` (e.g. from a DataFrame) is copied one column at a time (numpy would
    copy it 3 values at a time, several times slower)."""
    if new.flags.c_contiguous:
        return np.concatenate([buf, new]) if len(buf) else new.copy()
    out = np.empty((len(buf) + len(new), 3))
    out[: len(buf)] = buf
    for c in range(3):
        out[len(buf) :, c] = new[:, c]
    return out


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
        #: Block-averaging factor to the analysis rate (about analysis_rate_hz).
        self._M = max(1, int(fs // p.analysis_rate_hz))
        self.fa_hz = fs / self._M
        fa = self.fa_hz
        self._H = max(1, int(round(p.hop_s * fa)))
        self._B = int(round(p.lookback_s * fa))
        self._A = int(round(p.lookahead_s * fa))
        self._min_run = max(8, int(round(MIN_RUN_S * fa)))
        self._E = int(round(OWN_MARGIN_S * fa))
        # frames analysed from their recent part after livelier gait (_frames_full)
        Lr = int(round(p.recent_window_s * fa))
        self._Lr = Lr if p.recent_calm_ratio > 0 and self._H + self._A + self._E <= Lr < self._B + self._H + self._A else 0
        #: A run that starts inside a frame's context gets a full-length row (waits for it).
        self._start_row = bool(p.run_start_full_row)
        #: Full-rate samples before a frame's own region where it may still report a step
        #: inferred from the rhythm (gapfill_back_s + the own margin): kept in the buffer.
        self._late = int(math.ceil((p.gapfill_back_s + OWN_MARGIN_S) * fs)) + self._M
        self._W = max(1, int(round(p.direction_window_s * fs)))
        self.stage = direction_stage if direction_stage is not None else default_stage(
            fs_hz=fs, mount=self.mount, params=None
        )
        self._bouts = BoutAssembler(p)
        after = getattr(self.stage, "window_after_s", None)
        #: Full-rate samples after a step that must arrive before the stage gets it.
        self._after = self._W if after is None else max(0, min(self._W, int(round(float(after) * fs))))
        #: The do-nothing stage: steps skip the window and the stage (same result, faster).
        self._trivial_stage = type(self.stage) is UnknownDirection
        #: A batching stage (``push_steps``): without gaps, the lean frame loop _frames_lean.
        self._batching = not self._trivial_stage and getattr(self.stage, "push_steps", None) is not None
        #: Steps detected but not yet handed to the stage (waiting for their window's end).
        self._pend: list[tuple] = []
        #: Reports of the last frame after its own region, waiting for the next frame.
        self._tail: list[tuple] = []
        # Full-rate ring buffer: samples [fb0, n) of the stream.
        self._acc = np.empty((0, 3))
        self._gyro: np.ndarray | None = None
        self._has_gyro: bool | None = None
        self._ok = np.empty(0, dtype=bool)
        self._fb0 = 0
        self._n = 0
        # Analysis-rate buffer: blocks [db0, nd) (block j = full-rate samples [j M, j M + M)).
        self._dacc = np.empty((0, 3))
        self._dok = np.empty(0, dtype=bool)
        self._db0 = 0
        self._nd = 0
        self._k = 0  # next frame to decide
        self._t0 = 0.0
        self._finished = False
        # Invalid runs [start, end) (full-rate absolute indices) not yet passed by the steps.
        self._invalid: list[list[int]] = []
        self._last_det_idx = -1  # full-rate index of the last step given to the stage
        self._last_det_pos = -math.inf
        self._last_det_t = -math.inf
        self._feat: dict[int, StepFeatures] = {}
        # Step intervals at detection (before the direction stage), for closing a walk.
        self._det_iv: list[float] = []
        self._det_iv_sorted = True  # _det_max_gap is up to date with _det_iv
        self._gap_factor = p.bout_max_gap_factor
        self._gap_cap = p.bout_max_gap_s
        self._det_max_gap = p.bout_max_gap_s
        #: Extra timing correction for backward steps (after the direction stage), s.
        self._lag_back = p.ic_lag_backward_s - p.ic_lag_s
        #: Backward walking steps get their contact from the forward acceleration when the
        #: stage knows the forward axis (signal.steps.backward_contact_pos): the window of
        #: every step handed to the stage is kept (a view) until the stage releases it.
        self._forward_axis = getattr(self.stage, "pop_forward_axis", None)
        self._refine_back = bool(p.back_ic_refine) and self._forward_axis is not None
        if self._refine_back:
            self.stage.keep_forward_axes = True
        self._back_ctx: dict[int, tuple] = {}
        self._back_min_period_s = 60.0 / p.back_ic_max_cadence_spm
        self._last_out_t = -math.inf
        self._same_step_k = SAME_STEP_FRAC * fs
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
        fin = np.isfinite(acc)
        # (the row-wise test only when something is not finite: all(axis=1) over 3 is slow)
        ok = np.array(block.valid, dtype=bool).reshape(n)  # (a copy)
        if not fin.all():
            ok &= fin.all(axis=1)
        gyro = None if block.gyro_rad_s is None else np.asarray(block.gyro_rad_s, dtype=np.float64).reshape(n, 3)
        if self._has_gyro is None:
            self._has_gyro = gyro is not None
            self._gyro = np.empty((0, 3)) if gyro is not None else None
            self._t0 = float(block.t_s[0]) if len(block.t_s) else 0.0
            if not math.isfinite(self._t0):
                self._t0 = 0.0
        if self._has_gyro and gyro is None:
            gyro = np.full((n, 3), np.nan)
        self._note_invalid(ok)
        if self._trivial_stage:  # (the do-nothing stage reads no window: no full-rate buffer)
            self._n += n
            self._decimate_block(acc, ok)
        else:
            self._acc = _append_rows(self._acc, acc)
            if self._has_gyro:
                self._gyro = _append_rows(self._gyro, gyro)
            self._ok = np.concatenate([self._ok, ok]) if len(self._ok) else ok
            self._n += n
            self._decimate()
        out = self._run(final=False)
        out += self._release(None)
        return out + self._drain_stage()

    def finish(self) -> list[Step | Bout]:
        """End of stream: decide the remaining frames and close everything."""
        if self._finished:
            return []
        out = self._run(final=True)
        # no drain here: the flush finalises every held step, in one batch with the last one
        out += self._close_sequence()
        self._finished = True
        self._back_ctx.clear()
        self._acc = np.empty((0, 3))
        self._gyro = None
        self._ok = np.empty(0, dtype=bool)
        self._dacc = np.empty((0, 3))
        self._dok = np.empty(0, dtype=bool)
        return out

    def status(self) -> LiveStatus:
        """Current state, for live views."""
        t = self._t0 + self._n / self.fs_hz
        cad = float("nan")
        if len(self._recent_t) >= 2 and self._bouts.current_bout is not None:
            rt = self._recent_t[-6:]
            cad = 60.0 * (len(rt) - 1) / (rt[-1] - rt[0])
        last = self._steps[-1] if self._steps else None
        in_bout = self._bouts.current_bout is not None
        activity = "other"
        if in_bout and last is not None:
            activity = self._bouts.last_activity
        return LiveStatus(
            t_s=t,
            n_steps=len(self._steps),
            cadence_spm=cad,
            direction=last.direction if last is not None else "unknown",
            activity=activity,
            in_bout=in_bout,
        )

    @property
    def latency_bound_s(self) -> float:
        """Longest delay, s, from a step's reported time ``t_s`` to the push that returns it,
        when it is not among the first steps of a run and the direction stage holds no steps
        (pushes of single samples; a push of n samples can add n / fs_hz).

        A contact in frame k (or up to the own margin before it) is decided when the stream
        reaches the end of frame k's look-ahead: hop + look-ahead + own margin, plus one
        analysis block (the decimated sample must be complete) and the backward timing offset
        (a backward step's ``t_s`` is moved earlier than where it was found). Reports in the
        margin after a frame's own region wait for the next frame, which decides them within
        the same bound. With a direction stage, a backward walking step timed by its forward
        acceleration (``back_ic_*`` parameters) can move up to ``back_ic_before_frac`` step
        periods earlier, on top of what the stage holds. With ``run_start_full_row`` = 1 the
        steps of the first ``lookback_s + hop_s + lookahead_s`` of a run of valid samples that
        starts inside a frame's context (the start of the stream, after a gap) are not bounded
        by this: their frames wait until the run is that long.
        """
        fa = self.fa_hz
        lag = max(0.0, self.params.ic_lag_s, self.params.ic_lag_backward_s)
        return (self._H + self._A + self._E + 1) / fa + lag

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
        pre = preprocessing_info(self.fs_hz, p.lookback_s, p.hop_s, p.lookahead_s)
        pre["analysis_rate_hz"] = self.fa_hz
        pre["block_average"] = self._M
        info = {
            "version": __version__,
            "parameters": p.to_dict(),
            "preprocessing": pre,
            "direction_mode": getattr(self.stage, "mode", "none"),
            "direction": self.stage.info() if hasattr(self.stage, "info") else {},
            "mount": None if self.mount is None else {"name": self.mount.name, "mapping": self.mount.mapping},
            "fs_hz": self.fs_hz,
            "n_samples": self._n,
            "latency_s": {
                "max_step": round(self.latency_bound_s, 4),
                "bout_start_wait_steps": max(p.bout_min_steps, p.min_run_steps) - 1,
                "direction_stage_hold_steps": getattr(self.stage, "max_hold_steps", None),
            },
        }
        mc = info["direction"].get("mount_check") if isinstance(info["direction"], dict) else None
        if mc and mc.get("status") == "reversed":  # a declared mount that looks turned 180 deg
            info["mount_check"] = mc
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
        for a, b in self._invalid:
            if a < i1 and b > i0:
                return True
        return False

    def _decimate(self) -> None:
        """Block-average complete blocks of M samples to the analysis rate."""
        M = self._M
        nd_new = self._n // M
        if nd_new <= self._nd:
            return
        a = self._nd * M - self._fb0
        b = nd_new * M - self._fb0
        if M == 1:
            dacc = self._acc[a:b]
            dok = self._ok[a:b]
        else:
            # block means as sums of strided slices, in the order (and with the result) of
            # reshape(-1, M, 3).mean(axis=1), about 6x faster: one axis at a time (long
            # inner loops; over (n, 3) slices numpy loops 3 values at a time)
            dacc = np.empty(((b - a) // M, 3))
            for c in range(3):
                col = self._acc[a:b, c]
                o = dacc[:, c]
                np.add(col[0::M], col[1::M], out=o)
                for j in range(2, M):
                    o += col[j::M]
            dacc /= M
            okb = self._ok[a:b]
            dok = np.ones(len(dacc), dtype=bool) if okb.all() else okb.reshape(-1, M).all(axis=1)
        self._dacc = np.concatenate([self._dacc, dacc]) if len(self._dacc) else dacc.copy()
        self._dok = np.concatenate([self._dok, dok]) if len(self._dok) else dok.copy()
        self._nd = nd_new

    def _decimate_block(self, acc: np.ndarray, ok: np.ndarray) -> None:
        """:meth:`_decimate` for the do-nothing stage, which needs no full-rate samples: the
        block is averaged where it lies (the same sums in the same order), and only the
        samples of the last incomplete analysis block are kept (``_acc``, ``_ok``, from
        ``_fb0 = _nd * M``)."""
        M = self._M
        if len(self._acc):  # the incomplete block of the last push comes first
            acc = _append_rows(self._acc, acc)
            ok = np.concatenate([self._ok, ok])
        m = len(acc) // M
        b = m * M
        self._acc = np.array(acc[b:], order="C")
        self._ok = ok[b:].copy()
        self._fb0 = self._nd * M + b
        if m == 0:
            return
        if M == 1:
            dacc = acc
            dok = ok
        else:
            dacc = np.empty((m, 3))
            for c in range(3):  # (as in _decimate)
                col = acc[:b, c]
                o = dacc[:, c]
                np.add(col[0::M], col[1::M], out=o)
                for j in range(2, M):
                    o += col[j::M]
            dacc /= M
            okb = ok[:b]
            dok = np.ones(m, dtype=bool) if okb.all() else okb.reshape(-1, M).all(axis=1)
        self._dacc = np.concatenate([self._dacc, dacc]) if len(self._dacc) else np.array(dacc, order="C")
        self._dok = np.concatenate([self._dok, dok]) if len(self._dok) else dok.copy()
        self._nd += m

    def _run(self, *, final: bool) -> list:
        H, B, A = self._H, self._B, self._A
        nd = self._nd
        if final:
            k_end = -(-nd // H)  # every frame with at least one block
        else:
            k_end = max(0, (nd - A) // H)  # frames whose whole context has arrived
            if self._start_row and k_end > self._k:
                k_end = self._ready_end(k_end)
        out: list = []
        if k_end <= self._k:
            if final and self._tail:  # no frame left to settle the held reports: emit them
                tail, self._tail = self._tail, []
                for det in tail:
                    out += self._emit_detection(det)
            return out
        ks = range(self._k, k_end)
        dets: dict[int, list] = {}
        # Frames whose whole context has arrived and holds no invalid block (vectorised).
        kk = np.arange(self._k, k_end)
        c0 = kk * H - B
        c1 = c0 + B + H + A
        bad = np.r_[0, np.cumsum(~self._dok)]
        inside = (c0 >= self._db0) & (c1 <= nd)
        a0 = np.clip(c0 - self._db0, 0, len(self._dok))
        a1 = np.clip(c1 - self._db0, 0, len(self._dok))
        is_full = inside & (bad[a1] == bad[a0]) & (c0 >= 0)
        for k in kk[~is_full].tolist():
            dets[k] = self._frame_partial(k)
        full = kk[is_full]
        if full.size:
            dets.update(self._frames_full(full))
        # The do-nothing stage without gaps or waiting steps stays so for the whole call
        # (closing a sequence only empties what is waiting): the lean per-step loop.
        end_k = k_end if final else None
        if not self._invalid and (self._batching or (self._trivial_stage and not self._pend)):
            out += self._frames_lean(ks, dets, nd, end_k)
        else:
            HM = H * self._M
            for k in ks:
                dk = dets[k]
                if self._tail or (dk and dk[-1][0] >= (k + 1) * HM):
                    dk = self._settle_tail(k, dk, end_k)
                for det in dk:
                    out += self._emit_detection(det)
                self._k = k + 1
                out += self._check_stale(min((k + 1) * H, nd) * self._M)
        self._trim()
        return out

    def _ready_end(self, k_end: int) -> int:
        """``k_end`` lowered to the first frame that waits for the samples of a run that starts
        inside its context window (:meth:`_frame_partial` analyses such a run in a row of the
        full context length, from the run start): that frame is decided once the run is that
        long or has ended (a gap), so its steps never depend on how the stream was chunked."""
        dok = self._dok
        nd, db0 = self._nd, self._db0
        H, B, L = self._H, self._B, self._B + self._H + self._A
        if len(dok) == 0 or not dok[-1]:
            return k_end  # the last run has ended: every row it needs is complete
        if dok.all():
            if db0 > 0 or self._k * H - B >= 0:
                return k_end  # no run starts inside the context of a frame still to decide
            a = 0  # the start of the stream
        else:
            a = db0 + int(len(dok) - np.argmin(dok[::-1]))  # the start of the last run
        if a + L <= nd:
            return k_end
        k_first = a // H if (a // H) * H - B < a else a // H + 1  # first frame whose context it cuts
        return min(k_end, max(self._k, k_first))

    def _stale_bound(self) -> float:
        """A delay after the last step below which :meth:`_check_stale` does nothing (neither
        of its two tests can pass): a cheap test for every frame."""
        if self._det_iv_sorted:
            return self._det_max_gap
        return min(self._det_max_gap, self._gap_factor * min(self._det_iv), self._gap_cap)

    def _settle_tail(self, k: int, dk: list, end_k: int | None) -> list:
        """Frame k's reports to emit now. Reports after frame k's own region (its margin, where
        it sees little signal to the right) wait for frame k + 1: they are dropped when frame
        k + 1 reports the same step (it is better placed to time it), else emitted before it."""
        tail = self._tail
        if tail:
            self._tail = []
            if dk:  # (plain loops: generator expressions cost more than the tests here)
                k_same = self._same_step_k
                kept = []
                for t in tail:
                    p, thr = t[0], k_same * t[1].period_s
                    for d in dk:
                        if abs(d[0] - p) < thr:
                            break
                    else:
                        kept.append(t)
                tail = kept
            if tail:
                if dk:
                    dk = tail + dk
                    dk.sort(key=_first)  # (stable: the order of sorted(tail + dk, key=...))
                else:
                    dk = tail
        if dk:
            lim = (k + 1) * self._H * self._M
            if dk[-1][0] >= lim and (end_k is None or k + 1 < end_k):
                j = 0
                while dk[j][0] < lim:
                    j += 1
                self._tail = dk[j:]
                dk = dk[:j]
        return dk

    def _trim(self) -> None:
        keep_d = max(0, self._k * self._H - self._B - self._H - self._A)
        if keep_d > self._db0:
            cut = min(keep_d, self._nd) - self._db0
            self._dacc = self._dacc[cut:]
            self._dok = self._dok[cut:]
            self._db0 += cut
        keep_f = max(0, min(self._nd * self._M, self._k * self._H * self._M - self._W - self._M - self._late))
        if self._pend:
            keep_f = min(keep_f, self._pend[0][1])
        if keep_f > self._fb0:
            cut = min(keep_f, self._n) - self._fb0
            self._acc = self._acc[cut:]
            if self._gyro is not None:
                self._gyro = self._gyro[cut:]
            self._ok = self._ok[cut:]
            self._fb0 += cut

    def _frames_full(self, ks: np.ndarray) -> dict[int, list]:
        """Reports of the full frames ``ks`` (ascending int array), as lists per frame."""
        H, B, A = self._H, self._B, self._A
        L = B + H + A
        k0, k1 = int(ks[0]), int(ks[-1])
        c0 = k0 * H - B - self._db0
        span = self._dacc[c0 : c0 + (k1 - k0) * H + L]
        win = np.lib.stride_tricks.sliding_window_view(span, (L, 3))[::H, 0]
        # (the full frames need not be consecutive: gaps)
        rows = win if k1 - k0 == len(ks) - 1 else win[ks - k0]  # (R, L, 3); detect_rows copies
        E = self._E
        det = detect_rows(rows, fs_hz=self.fa_hz, params=self.params, own=(B - E, B + H + E),
                          split=L - self._Lr if self._Lr else 0)
        out: dict[int, Any] = dict.fromkeys(ks.tolist(), ())  # (an empty tuple: a frame without reports)
        keep = (det.ic_pos >= B - E) & (det.ic_pos < B + H + E)
        recent = None
        if self._Lr:
            # frames that found no step of their own after livelier gait (the variance of the
            # vertical acceleration before the last _Lr samples vs over them): their recent
            # part alone (_recent_rows)
            found = np.zeros(len(ks), dtype=bool)
            found[det.row[keep]] = True
            p = self.params
            vb, va = det.var_before, det.var_after
            recent = np.flatnonzero(~found & (vb > p.recent_calm_ratio ** 2 * va)
                                    & (va >= p.recent_min_sd_m_s2 ** 2))
            if recent.size:
                self._recent_rows(ks, rows, recent, out)
            else:
                recent = None
        if det.row.size == 0:
            return out
        if det.virtual is not None and self.params.gapfill_back_s > 0:
            keep |= det.virtual & (det.ic_pos >= B - E - self.params.gapfill_back_s * self.fa_hz) & (det.ic_pos < B)
        if recent is not None:  # (those frames' steps come from their recent part)
            keep &= ~np.isin(det.row, recent)
        self._put_reports(out, ks, det, keep, 0, L)
        return out

    def _put_reports(self, out: dict, ks: np.ndarray, det, keep: np.ndarray, off: int,
                     length: int) -> None:
        """``out[k]``: the kept detections of the frames ``ks`` (one row each, in order),
        from rows that start ``off`` samples into the frames' context and are ``length`` long."""
        r = det.row[keep]
        if r.size == 0:
            return
        c = ks[r] * self._H - self._B + off  # first block of each detection's row
        items = self._pack(det, keep, r, c, c, c + length)
        # the reports of a row are consecutive (rows ascending): one slice per row, in C
        cut = (np.flatnonzero(np.diff(r)) + 1).tolist()
        starts = [0] + cut
        out.update(zip(ks[r[starts]].tolist(), map(items.__getitem__, map(slice, starts, cut + [len(items)]))))

    def _recent_rows(self, ks: np.ndarray, rows: np.ndarray, calm: np.ndarray, out: dict) -> None:
        """The reports of the frames ``ks[calm]`` from rows of their last ``_Lr`` samples."""
        H, B, A, E, Lr = self._H, self._B, self._A, self._E, self._Lr
        L = B + H + A
        off = L - Lr  # the recent row starts this many samples into the full one
        lo, hi = B - E - off, B + H + E - off
        det = detect_rows(rows[calm, off:], fs_hz=self.fa_hz, params=self.params, own=(lo, hi))
        if det.row.size:
            self._put_reports(out, ks[calm], det, (det.ic_pos >= lo) & (det.ic_pos < hi), off, Lr)

    def _pack(self, det, keep, r, row0, run0, run1) -> list:
        """(position, features, run bounds, gravity) of each kept detection, in order."""
        M = self._M
        pos = ((row0 + det.ic_pos[keep]) * M + 0.5 * (M - 1)).tolist()
        per = det.period_s[r].tolist()
        amp = det.amp_m_s2[keep].tolist()
        vmin = det.vmin_m_s2[keep].tolist()
        f0 = (np.asarray(run0) * M).tolist()
        f1 = (np.asarray(run1) * M).tolist()
        rh = det.rhythm[r].tolist()
        virt = det.virtual[keep].tolist() if det.virtual is not None else [False] * len(pos)
        if self._trivial_stage:  # the do-nothing stage ignores the window: no gravity needed
            g_hat = g_m = repeat(None)
        else:  # (one row view of the gravity directions per detection)
            g_hat = list(det.g_hat[r])
            g_m = det.g_m_s2[r].tolist()
        # (the tuples built by map/zip in C)
        return list(zip(pos, map(StepFeatures, per, amp, vmin, rh, virt), f0, f1, g_hat, g_m))

    def _frame_partial(self, k: int) -> list:
        H, B, A, nd = self._H, self._B, self._A, self._nd
        c0, c1 = max(0, k * H - B), min(nd, (k + 1) * H + A)
        o0, o1 = k * H, min((k + 1) * H, nd)
        ok = self._dok[c0 - self._db0 : c1 - self._db0]
        d = np.diff(np.r_[0, ok.astype(np.int8), 0])
        starts = np.nonzero(d == 1)[0] + c0
        ends = np.nonzero(d == -1)[0] + c0
        res = []
        L = B + H + A
        dok, db0 = self._dok, self._db0
        for a, b in zip(starts.tolist(), ends.tolist()):
            if b <= o0 or a >= o1:
                continue
            # A run cut by the context window (the start or end of the stream, or a gap) is
            # analysed in a row of the full context length where the run is long enough:
            # ending inside the window, the row reaches further back; starting inside it,
            # further ahead (_ready_end makes such a frame wait for those samples). A short
            # row sees too few lags for the step period (1.5 s at the start of a stream: a
            # period of 0.72 s at most) and too little context for the peak threshold.
            if b < (k + 1) * H + A:
                lim = max(db0, b - L)
                while a > lim and dok[a - 1 - db0]:
                    a -= 1
            elif self._start_row and a > k * H - B:
                lim = min(nd, a + L)
                while b < lim and dok[b - db0]:
                    b += 1
            if b - a < self._min_run:
                continue
            rows = self._dacc[a - self._db0 : b - self._db0][None]
            lo, hi = max(o0 - self._E, a) - a, min(o1 + self._E, b) - a
            det = detect_rows(rows, fs_hz=self.fa_hz, params=self.params, own=(lo, hi))
            keep = (det.ic_pos >= lo) & (det.ic_pos < hi)
            if keep.any():
                r = det.row[keep]
                n_keep = int(keep.sum())
                res += self._pack(det, keep, r, np.full(n_keep, a), np.full(n_keep, a), np.full(n_keep, b))
        res.sort(key=lambda x: x[0])
        return res

    def _emit_detection(self, det: tuple) -> list:
        pos, feat, f0, f1, g_hat, g_m = det
        idx = int(pos + 0.5)
        if idx <= self._last_det_idx or idx < f0 or idx >= f1 or (
            pos - self._last_det_pos < self._same_step_k * feat.period_s
        ):
            return []  # never two reports of one step, never out of order or outside the run
        out: list = []
        if self._invalid:
            if self._last_det_idx >= 0 and self._gap_between(self._last_det_idx, idx):
                out += self._close_sequence()
                self._last_det_t = -math.inf
            self._invalid = [g for g in self._invalid if g[1] > idx]
        step = Step(self._t0 + pos / self.fs_hz, idx)
        if self._last_det_t != -math.inf:
            iv = self._det_iv
            iv.append(step.t_s - self._last_det_t)
            if len(iv) > 9:
                del iv[0]
            self._det_iv_sorted = False
        else:
            self._det_max_gap = min(self._gap_factor * feat.period_s, self._gap_cap)
            self._det_iv_sorted = True
        self._last_det_idx = idx
        self._last_det_pos = pos
        self._last_det_t = step.t_s
        if self._trivial_stage and not self._invalid and not self._pend:
            # the do-nothing stage needs no window: straight to the bouts (as _release does)
            ev = self._collect(self._bouts.push(step, feat))
            return out + ev if out else ev
        self._feat[idx] = feat
        # handed to the stage by the next _release (end of this push, or a closed sequence):
        # the window needs samples after the step, so the step waits in any case
        self._pend.append((step, max(idx - self._W, f0), g_hat, g_m, feat.period_s))
        return out

    def _frames_lean(self, ks: range, dets: dict[int, list], nd: int, end_k: int | None) -> list:
        """The frame loop of :meth:`_run` (:meth:`_emit_detection` and :meth:`_check_stale` per
        frame) without gaps, for the do-nothing stage with nothing waiting or for a batching
        stage (``push_steps``): the same steps and events, with the state in locals and the
        staleness test reduced to one comparison per frame (:meth:`_stale_bound`, inlined).

        The do-nothing stage's steps go to the bouts together (:meth:`BoutAssembler.push_many`)
        before a staleness check can close them and at the end; a batching stage's steps are
        queued for :meth:`_release`, as :meth:`_emit_detection` does."""
        trivial = self._trivial_stage
        out: list = []
        batch: list = []  # (do-nothing stage) steps for the bouts
        t0, fs, k_same = self._t0, self.fs_hz, self._same_step_k
        gap_factor, gap_cap = self._gap_factor, self._gap_cap
        H, M, W = self._H, self._M, self._W
        no_t = -math.inf
        last_idx, last_pos, last_t = self._last_det_idx, self._last_det_pos, self._last_det_t
        iv = self._det_iv
        feats = self._feat
        pend = self._pend
        bound = self._stale_bound() if last_t != no_t else 0.0
        HM = H * M
        for k in ks:
            dk = dets[k]
            if self._tail or (dk and dk[-1][0] >= (k + 1) * HM):  # (the usual frame: no tail)
                dk = self._settle_tail(k, dk, end_k)
            if dk:
                took = False
                for pos, feat, f0, f1, g_hat, g_m in dk:
                    idx = int(pos + 0.5)
                    if idx <= last_idx or idx < f0 or idx >= f1 or pos - last_pos < k_same * feat.period_s:
                        continue
                    t = t0 + pos / fs
                    if last_t != no_t:
                        iv.append(t - last_t)
                        if len(iv) > 9:
                            del iv[0]
                        srt = False
                    else:
                        self._det_max_gap = min(gap_factor * feat.period_s, gap_cap)
                        srt = True
                    last_idx, last_pos, last_t = idx, pos, t
                    took = True
                    if trivial:
                        batch.append((Step(t, idx), feat))
                    else:
                        feats[idx] = feat
                        w0 = idx - W
                        pend.append((Step(t, idx), w0 if w0 > f0 else f0, g_hat, g_m, feat.period_s))
                if took:
                    self._det_iv_sorted = srt
                    # (_stale_bound)
                    bound = self._det_max_gap if srt else min(self._det_max_gap, gap_factor * min(iv), gap_cap)
            if last_t != no_t:
                frontier = (k + 1) * H
                if frontier > nd:
                    frontier = nd
                frontier *= M
                if t0 + frontier / fs - last_t > bound:
                    if batch:  # (the bouts get every earlier step first)
                        out += self._collect(self._bouts.push_many(batch))
                        batch = []
                    self._last_det_idx, self._last_det_pos, self._last_det_t = last_idx, last_pos, last_t
                    self._k = k + 1
                    out += self._check_stale(frontier)
                    last_t = self._last_det_t
                    iv = self._det_iv
                    pend = self._pend
                    if last_t != no_t:
                        bound = self._stale_bound()
        if batch:
            out += self._collect(self._bouts.push_many(batch))
        self._last_det_idx, self._last_det_pos, self._last_det_t = last_idx, last_pos, last_t
        self._k = ks[-1] + 1
        return out

    def _release(self, limit: int | None) -> list:
        """Hand the waiting steps to the direction stage, in order, once the signal their
        window needs has arrived: ``window_after_s`` after the step, cut at the next invalid
        sample and at ``limit`` (the end of the stream, or a point every chunking reaches).

        A stage with ``push_steps`` gets all the ready steps in one call, their windows as
        index ranges of the sample buffer; otherwise one :class:`StepWindow` per step."""
        out: list = []
        pend = self._pend
        if not pend:
            return out
        if self._trivial_stage and not self._invalid:
            # the do-nothing stage needs no window: hand everything over at once
            self._pend = []
            return self._to_bouts_many([p[0] for p in pend])
        n, after, inv = self._n, self._after, self._invalid
        ends: list[int] = []
        if not inv:  # (the usual case: the same ends as the loop below)
            for p in pend:
                need = p[0].index + after + 1
                if limit is not None and limit < need:
                    need = limit
                if need > n:
                    break
                ends.append(need)
        else:
            for p in pend:
                idx = p[0].index
                need = idx + after + 1
                for a, _b in inv:
                    if a > idx:
                        if a < need:
                            need = a
                        break
                if limit is not None and limit < need:
                    need = limit
                if need > n:
                    break
                ends.append(need)  # the same for every chunking (w1 of the window)
        if not ends:
            return out
        ready = pend[:len(ends)]
        del pend[:len(ends)]
        push_steps = getattr(self.stage, "push_steps", None)
        if push_steps is not None:
            steps, starts, g_hats, _g_m, periods = zip(*ready)
            if self._refine_back:  # (the buffer, not a copy: it may be trimmed before the stage releases them)
                self._back_ctx.update(zip([st.index for st in steps], zip(
                    repeat(self._acc), repeat(self._fb0), starts, ends, g_hats, periods)))
            done = push_steps(list(steps), starts, ends, g_hats, periods, acc_m_s2=self._acc,
                              gyro_rad_s=self._gyro, offset=self._fb0, t0_s=self._t0)
            if limit is None:  # (once per push) the buffer's head is not needed any more
                self._trim()
            return self._to_bouts_many(done) if done else out
        fs = self.fs_hz
        for (step, w0, g_hat, g_m, period), w1 in zip(ready, ends):
            idx = step.index
            a, b = w0 - self._fb0, w1 - self._fb0
            window = StepWindow(
                fs, self._t0 + w0 / fs, idx - w0, None, None, g_hat, None, None,
                None if self._gyro is None else self._gyro[a:b], self.mount, period,
                acc_m_s2=self._acc[a:b], g_m_s2=g_m,
            )
            if self._refine_back:
                self._back_ctx[idx] = (self._acc, self._fb0, w0, w1, g_hat, period)
            done = self.stage.push(step, window)
            if done:
                out += self._to_bouts_many(done)
        return out

    def _to_bouts_many(self, steps: list[Step]) -> list:
        """Steps a stage returned (in order) into the bouts: each step's features, its backward
        contact timing (:meth:`_backward_contact_t`, or the constant backward lag), then
        :meth:`BoutAssembler.push` and :meth:`_collect` (inlined for the usual single step of a
        bout)."""
        out: list = []
        feat_pop = self._feat.pop
        refine = self._refine_back
        ctx_pop = self._back_ctx.pop
        fw_pop = self._forward_axis
        lag_back = self._lag_back
        push = self._bouts.push
        mine = self._steps
        t0, fs = self._t0, self.fs_hz
        for s in steps:
            idx = s.index
            feat = feat_pop(idx, None)
            if feat is None:
                feat = StepFeatures(float("nan"), float("nan"), float("nan"))
            if refine:
                ctx = ctx_pop(idx, None)
                fw = fw_pop(idx)
            if s.direction == "backward":
                t_new = self._backward_contact_t(s, ctx, fw) if refine and ctx is not None and fw is not None else None
                if t_new is not None:
                    s.t_s = t_new
                    s.index = int(round((s.t_s - t0) * fs))
                elif lag_back:
                    s.t_s -= lag_back
                    s.index = int(round((s.t_s - t0) * fs))
            self._last_out_t = s.t_s
            ev = push(s, feat)
            if len(ev) == 1 and ev[0] is s:  # the usual case: one step of a bout
                mine.append(s)
                if s.bout >= 0:
                    rt = self._recent_t
                    rt.append(s.t_s)
                    if len(rt) > 16:
                        del rt[:-8]
                out.append(s)
            elif ev:
                out += self._collect(ev)
        return out

    def _backward_contact_t(self, s: Step, ctx: tuple, fw: np.ndarray) -> float | None:
        """The contact of a backward walking step from its forward acceleration, or None."""
        buf, fb0, w0, w1, g_hat, period = ctx
        if not (period >= self._back_min_period_s) or g_hat is None:
            return None
        acc = buf[w0 - fb0 : w1 - fb0]
        t_w0 = self._t0 + w0 / self.fs_hz
        gx, gy, gz = g_hat.tolist()
        ex, ey, ez = fw.tolist()
        c = ex * gx + ey * gy + ez * gz  # the forward axis levelled onto the horizontal plane
        ex, ey, ez = ex - c * gx, ey - c * gy, ez - c * gz
        n = math.sqrt(ex * ex + ey * ey + ez * ez)
        if n < 1e-6:
            return None
        fs = self.fs_hz
        pos = backward_contact_pos(acc, np.array((ex / n, ey / n, ez / n)), (s.t_s - t_w0) * fs,
                                   fs_hz=fs, period_s=period, params=self.params)
        if pos is None:
            return None
        t = t_w0 + pos / fs
        if t <= self._last_out_t + 0.3 * period:  # never out of order, never onto the previous step
            return None
        return t

    def _collect(self, events: list) -> list:
        kinds = list(map(type, events))
        if kinds.count(Step) == len(kinds):  # (steps only, the usual case: in bulk)
            self._steps += events
            rt = self._recent_t
            rt += [e.t_s for e in events if e.bout >= 0]
            if len(rt) > 16:  # (status() reads the last 6)
                del rt[:-8]
            return events
        for e in events:
            if isinstance(e, Step):
                self._steps.append(e)
                if e.bout >= 0:
                    self._recent_t.append(e.t_s)
                    if len(self._recent_t) > 16:
                        del self._recent_t[:-8]
            else:
                self._bout_list.append(e)
                self._recent_t = []
        return events

    def _drain_stage(self) -> list:
        """Let a batching direction stage evaluate what it has queued (optional ``drain()``)."""
        drain = getattr(self.stage, "drain", None)
        if drain is None:
            return []
        done = drain()
        return self._to_bouts_many(done) if done else []

    def _close_sequence(self, limit: int | None = None) -> list:
        self._det_iv = []
        out: list = self._release(self._n if limit is None else limit)
        done = self.stage.flush()
        if done:
            out += self._to_bouts_many(done)
        out += self._collect(self._bouts.close())
        return out

    def _check_stale(self, frontier_idx: int) -> list:
        """Close the walk when no step has come for the bout gap, or a gap has been passed."""
        if self._last_det_t == -math.inf:
            return []
        t_front = self._t0 + frontier_idx / self.fs_hz
        if not self._det_iv_sorted and t_front - self._last_det_t > min(
            self._gap_factor * min(self._det_iv), self._gap_cap
        ):
            srt = sorted(self._det_iv)  # the median only matters when a step is this late
            self._det_max_gap = min(self._gap_factor * srt[len(srt) // 2], self._gap_cap)
            self._det_iv_sorted = True
        if t_front - self._last_det_t > self._det_max_gap or (
            self._invalid and self._gap_between(self._last_det_idx, frontier_idx)
        ):
            self._last_det_t = -math.inf
            return self._close_sequence(min(self._n, frontier_idx + self._A * self._M))
        return []


def analyze(
    recording: Recording,
    *,
    mount: str | Mount | None = None,
    params: AnalysisParams | dict | None = None,
    chunk_s: float = 600.0,
    direction_stage: DirectionStage | None = None,
    progress: "Callable[[float], None] | None" = None,
) -> GaitResult:
    """Steps, bouts, cadence (and direction) of a recording: the streaming core over chunks.

    Parameters
    ----------
    recording : Recording
    mount : str or Mount, optional
        Declared mount; defaults to the mount the recording's header states, if any.
    params : AnalysisParams or dict, optional
    chunk_s : float
        Block length fed to the core, s (any value gives the same steps; long blocks are
        faster: the frames of a block are analysed as one array; without the direction stage
        about 9 % less CPU with 600 s blocks than with 300 s, and 600 s to 1800 s are within a
        few %, docs/benchmarks.md).
    direction_stage : optional
        Override the direction stage (see :mod:`gait.signal.stages`).
    progress : callable, optional
        Called with the fraction done (0..1) after every block.

    Returns
    -------
    GaitResult

    Notes
    -----
    The cyclic garbage collector is paused during the call (and resumed after it if it was
    enabled): the analysis creates no reference cycles, only many small objects.
    """
    if not isinstance(recording, Recording):
        raise GaitError(f"analyze() needs a Recording, got {type(recording).__name__}")
    if chunk_s <= 0:
        raise GaitError("chunk_s must be positive")
    if mount is None and recording.info.mount:
        mount = recording.info.mount
    sa = StreamAnalyzer(recording.fs_hz, mount=mount, params=params, direction_stage=direction_stage)
    step = max(1, int(round(chunk_s * recording.fs_hz)))
    n = recording.n_samples
    # The analysis allocates tens of thousands of small objects per hour (steps, features,
    # report tuples) that it keeps, and makes no reference cycles: the cyclic garbage collector
    # only re-traverses them (and every other object of the process) while it runs, some 6 %
    # of the CPU time of an hour of data. It is paused for the call, and resumed after it
    # (only if it was enabled: a caller's gc.disable() is respected).
    resume_gc = gc.isenabled()
    if resume_gc:
        gc.disable()
    try:
        for i in range(0, n, step):
            sa.push(recording.block(i, i + step))
            if progress is not None:
                progress(min(1.0, (i + step) / n))
        sa.finish()
        return sa.result(recording.summary())
    finally:
        if resume_gc:
            gc.enable()


def iter_events(recording: Recording, **kw: Any) -> Iterable[Step | Bout]:
    """Replay a recording through a :class:`StreamAnalyzer`, yielding events as they become final."""
    chunk_s = kw.pop("chunk_s", 1.0)
    sa = StreamAnalyzer(recording.fs_hz, **kw)
    step = max(1, int(round(chunk_s * recording.fs_hz)))
    for i in range(0, recording.n_samples, step):
        yield from sa.push(recording.block(i, i + step))
    yield from sa.finish()
