"""Forward versus backward gait, per step, from a hip IMU (pure; streaming).

An accelerometer cannot feel constant velocity, so direction has to come from the *shape* of
each step. Backward gait is roughly forward gait played backwards in time: linear
accelerations are time-mirrored (``a(t) -> a(-t)``) and angular rates are time-mirrored and
sign-flipped (``w(t) -> -w(-t)``). Time reversal turns every Fourier coefficient into its
complex conjugate, so a statistic that is *odd* under conjugation (the imaginary part of a
phase-locked product of accelerations, or the real part of a product with one angular rate)
flips sign between forward and backward gait. Per step, over one stride (previous to next
step), with ``A``/``M``/``V`` the anterior-posterior / medio-lateral / vertical acceleration and
``R``/``P`` the roll / pitch rate, at stride harmonic 1 (stride frequency), 2 (step frequency)
and 4:

``pa = Re(P2 A2*) / (|P2| |A2|)`` (gyroscope; independent of the sign of the forward axis)
    In-phase coupling of pelvic pitch rate and fore-aft acceleration. Half a turn of the
    sensor about vertical flips both ``P`` and ``A``; the gravity leak of the pitch oscillation
    into ``A`` is in quadrature with ``P`` and drops out of the real part. Dev data: > 0 in
    96 % of forward walking/running steps, < 0 in 100 % of backward walking steps.
``rm = Re(R1 M1*) / (|R1| |M1|)`` (gyroscope; sign-free too)
    The same for pelvic roll rate and lateral sway at stride frequency; strong in walking.
``av = Im(A2 V2*) / (|A2| |V2|)`` (needs the forward sign)
    Phase of fore-aft vs vertical acceleration: an inverted pendulum (walking) and a spring
    (running) have opposite relations, so it counts only for clearly walking (+1) or clearly
    running (-1) steps. Used to learn / check the forward sign, and as evidence without a gyro.
``aav = Im(A2^2 V4*) / |A2^2 V4|`` (sign-free, weak)
    Fallback without a gyroscope and without a known sign (walking steps only).

Evidence (log-likelihood ratio) ``4 pa + 2 rm`` (or the accelerometer-only terms; on clearly
running steps, ``|V2| >= 0.7 g``, with a known forward sign ``s`` also ``-2 s av``) is smoothed
with a sticky two-state HMM (switch probability 0.05 per step, forward filter plus fixed-lag
smoothing of one step; a step still ambiguous after that waits up to 3 more steps), so a
change of direction is followed within one or two steps.

Orientation-free mode (no mount): vertical is the gravity estimate; the AP line is the
principal axis of the horizontal acceleration at step frequency (medio-lateral sway is at
stride frequency and drops out), accumulated over the session in the sensor frame (a hip-worn
sensor turns with the pelvis, so this axis is a property of the mount). ``pa`` and ``rm`` do not
need its sign; the forward sign is fixed once confident walking steps agree through ``av``.
With a declared mount the same vote checks the mount (``mount_check``: ok / undecided /
reversed). See ``docs/direction.md``.

The stage follows the analyzer's seam (:mod:`gait.signal.stages`): ``push`` queues a step,
``drain`` (once per block) evaluates queued steps in vectorised batches and releases final
ones, ``flush`` ends a chain. Results do not depend on chunking or on when ``drain`` is called.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from itertools import chain, compress, repeat
from operator import attrgetter, is_
from typing import Any

import numpy as np

from ..frames import Mount
from ..types import Step
from .stages import StepWindow

G0_M_S2 = 9.80665


@dataclass(frozen=True)
class DirectionParams:
    """Tunables of the direction stage (units in the names)."""

    #: Probability that the direction changes from one step to the next (HMM stickiness).
    p_switch: float = 0.05
    #: Evidence gains: log-likelihood ratio per unit of each feature (features are in -1..1).
    gain_pa: float = 4.0
    gain_rm: float = 2.0
    gain_av: float = 2.0
    gain_aav: float = 1.0
    #: With a gyroscope and a known forward sign ``s``, clearly running steps also count the
    #: signed AP/vertical phase, ``-gain_av_run * s * av`` (a spring: av < 0 forward), and vote
    #: on the forward sign (``-sign(pa) av``); 0 turns both off. A declared mount's sign is
    #: not used for it while the votes lean against the mount.
    gain_av_run: float = 2.0
    #: Clearly running: the vertical acceleration's step-frequency coefficient ``|V2|`` (half
    #: the amplitude) is at least this, g. An amplitude over 1 g needs a flight phase; dev
    #: walks stay below 0.55 g, the simulator's below 0.4 g.
    run_min_v2_g: float = 0.7
    #: Posterior confidence |2 p_forward - 1| below this gives "unknown".
    min_confidence: float = 0.3
    #: Once a chain is decided, a step whose filtered confidence (its evidence and the steps
    #: before it) reaches this is released without waiting for the next step's evidence
    #: (one step less latency); values above 1 turn this off.
    early_release_conf: float = 0.99
    #: At the start of a chain, undecided steps may be held this many extra steps.
    max_start_hold: int = 3
    #: Once a chain is decided, a step still below ``min_confidence`` after the one-step lag
    #: may be held this many extra steps (fixed lags; 0: it is "unknown" at once).
    max_ambiguous_hold: int = 3
    #: Consecutive steps further apart than this start a new chain (HMM reset), s.
    reset_gap_s: float = 2.0
    #: Accepted step intervals for a stride window, s.
    min_step_s: float = 0.2
    max_step_s: float = 1.0
    #: Longest step period (the detector's estimate) accepted when the neighbours do not fit, s.
    max_period_s: float = 1.25
    #: Longest window used, s: a stride that does not fit in the analyzer's window (+-1 s)
    #: is replaced by one step centred on the initial contact (no stride-frequency feature).
    max_span_s: float = 2.0
    #: Smallest step-frequency amplitude of AP acceleration / pitch rate that counts.
    min_amp_m_s2: float = 0.05
    min_amp_rad_s: float = 0.005
    #: Features are computed from windows block-averaged down to at least this rate, Hz.
    feature_rate_hz: float = 40.0
    #: Orientation-free: strides (decayed count) needed before the AP axis is used.
    ap_min_strides: float = 1.0
    #: Forgetting factor (per step) of the orientation-free AP-axis covariance.
    ap_decay: float = 0.995
    #: Accumulated sign evidence that fixes the forward sign / flags a reversed mount.
    sign_evidence: float = 4.0
    #: |pa| needed for a step to vote on the forward sign.
    sign_min_pa: float = 0.5
    #: Walking-like step: vertical specific force stays above this (g) and step >= walk_min_step_s.
    walk_min_vertical_g: float = 0.3
    walk_min_step_s: float = 0.42
    #: Running-like step: vertical specific force drops below this (g) and step <= run_max_step_s.
    run_max_vertical_g: float = 0.1
    run_max_step_s: float = 0.45

    def to_dict(self) -> dict[str, Any]:
        # flat fields of numbers: a plain dict (asdict's deep copy costs ~0.2 ms per call)
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass
class StepEvidence:
    """What one step's stride window says (internal; exposed for research and tests)."""

    t_s: float
    ok: bool = False
    pa: float = float("nan")
    av: float = float("nan")
    aav: float = float("nan")
    rm: float = float("nan")
    #: +1 walking-like, -1 running-like, 0 unclear.
    gait: int = 0
    #: Clearly running: ``|V2|`` at least ``run_min_v2_g`` (a spring-mass bounce).
    bounce: bool = False
    step_s: float = float("nan")
    llr: float = 0.0


_BATCH = 512  # steps per vectorised batch (bounds the temporary arrays: about 10 MB)
_AX_BLOCK = 256  # steps per block of the AP-axis covariance recursion (see _decayed_sums)
_SMALL_STRIDES = 4  # batches up to this size find the stride windows over plain floats
_VEC_RELEASE = 8  # release this many steps of a decided chain or more as arrays


_T_S = attrgetter("t_s")
_INDEX = attrgetter("index")


def _cross(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise cross product of two (m, 3) arrays (``np.cross``'s arithmetic, less overhead)."""
    a0, a1, a2 = a[:, 0], a[:, 1], a[:, 2]
    b0, b1, b2 = b[:, 0], b[:, 1], b[:, 2]
    out = np.empty(a.shape)
    out[:, 0] = a1 * b2 - a2 * b1
    out[:, 1] = a2 * b0 - a0 * b2
    out[:, 2] = a0 * b1 - a1 * b0
    return out


class DirectionEstimator:
    """Streaming direction stage: ``push(step, window)``, ``drain()``, ``flush()`` (module doc).

    Steps are queued by :meth:`push` and evaluated in batches (vectorised) by :meth:`drain`
    (the analyzer calls it once per block of samples) or :meth:`flush`, so the per-step cost
    stays small. Every figure of a step depends only on the sequence of steps and windows,
    never on when ``drain`` was called, so results do not depend on how the input was chunked:

    * a step is evaluated once the next step of its chain is known (its stride window ends
      there) or the chain has ended;
    * its direction is the posterior of a sticky two-state HMM given the evidence of the chain
      up to ONE step after it (fixed-lag smoothing), or, at the start of a chain while that is
      still undecided, up to ``1 + max_start_hold`` steps after it, and for a step of a
      decided chain still below ``min_confidence`` with the one-step lag, up to
      ``1 + max_ambiguous_hold`` steps after it; once the chain is decided, a step whose
      filtered posterior (evidence up to the step itself) is already at least
      ``early_release_conf`` confident gets that posterior and is released at once.

    A step is therefore released at most about two steps after it happened, usually one (a few
    more at the start of a walk and after an ambiguous step: 0.4 % of the dev steps, 0.03 % of
    the simulator's).

    Parameters
    ----------
    fs_hz : float
        Sampling rate, Hz.
    mount : Mount or None
        Known mount (sensor -> body); None for the orientation-free mode.
    params : DirectionParams, optional
    keep_trace : bool
        Keep every step's :class:`StepEvidence` in ``trace`` (research only).
    """

    def __init__(self, *, fs_hz: float, mount: Mount | None = None,
                 params: DirectionParams | None = None, keep_trace: bool = False) -> None:
        if not (fs_hz > 0 and math.isfinite(fs_hz)):
            raise ValueError(f"fs_hz must be positive, got {fs_hz}")
        self.fs_hz = float(fs_hz)
        self.mount = mount
        self.p = params or DirectionParams()
        self.mode = "known-mount" if mount is not None else "orientation-free"
        # queued steps, not evaluated yet (all but the last are ready: their next step is known)
        # one tuple per step: (step, t_prev_s, source, first row, n rows, window t0_s, fs_hz,
        # step period_s, g_hat, raw); source = (acc, gyro or None): the window is rows
        # [first, first + n) of those arrays (a window's own arrays, or the analyzer's buffer)
        self._queue: list[tuple] = []
        # evaluated steps not released yet, with their evidence and filtered P(forward)
        self._e_steps: list[Step] = []
        self._e_llr: list[float] = []
        self._e_pf: list[float] = []
        self._last_t: float | None = None
        self._chain = 0
        self._chain_decided = False
        self._p_last = 0.5
        # features are computed at about feature_rate_hz: windows are block-averaged by q
        self._q = max(1, int(self.fs_hz // self.p.feature_rate_hz))
        self._L = (int(math.ceil(self.p.max_span_s * self.fs_hz)) + 3 + self._q - 1) // self._q * self._q
        #: work arrays reused from batch to batch (large temporaries allocated afresh each
        #: time cost page faults); they grow to the largest batch seen
        self._ws: dict[str, np.ndarray] = {}
        # session state
        # the AP-axis covariance recursion (_decayed_sums): steps so far, the value at the
        # end of the previous block, the current block's weighted running sum
        self._ax_n = 0
        self._ax_Y = np.zeros(10)
        self._ax_A = np.zeros(10)
        self._ax_pw = self.p.ap_decay ** np.arange(_AX_BLOCK + 1.0)
        self._ax_ipw = self.p.ap_decay ** -np.arange(float(_AX_BLOCK))
        self._ap_ref: np.ndarray | None = None  # sensor-frame AP axis estimate (sign-tracked)
        self._sign_ev = 0.0  # > 0: the reference axis points forward
        #: orientation-free: +1 / -1 once the forward sign of the reference axis is fixed
        self._sign_fixed = 0
        self._n_steps = 0
        self._n_evidence = 0
        self._has_gyro: bool | None = None
        #: Per-step forward axes for pop_forward_axis (only when keep_forward_axes is True).
        self.keep_forward_axes = False
        self._fwd_axes: dict[int, np.ndarray] = {}
        #: Per-step evidence, kept only with ``keep_trace=True`` (research; unbounded).
        self.trace: list[StepEvidence] | None = [] if keep_trace else None

    @property
    def n_held(self) -> int:
        """Steps pushed but not released yet."""
        return len(self._queue) + len(self._e_steps)

    # ------------------------------------------------------------------ protocol
    def push(self, step: Step, window: StepWindow) -> list[Step]:
        """Queue one detected step (time order) and its signal window.

        Returns the steps finalised by a chain break (a pause longer than ``reset_gap_s``);
        otherwise nothing: call :meth:`drain` (once per block) to get finalised steps.
        """
        out: list[Step] = []
        last = self._last_t
        if last is None:
            last = math.nan
        elif step.t_s - last > self.p.reset_gap_s:
            out = self.flush()
            last = math.nan
        self._n_steps += 1
        self._last_t = step.t_s
        if window is None:
            self._queue.append((step, last, None, 0, 0, math.nan, math.nan, math.nan, None, True))
            return out
        raw = getattr(window, "acc_m_s2", None)
        is_raw = raw is not None
        if not is_raw:  # built from arrays (research): rebuild the specific force
            raw = window.horizontal_m_s2 + np.multiply.outer(window.vertical_m_s2, window.g_hat)
        self._queue.append((step, last, (raw, window.gyro_rad_s), 0, len(raw), window.t0_s,
                        window.fs_hz, float(window.step_period_s), window.g_hat, is_raw))
        return out

    def push_steps(self, steps: list[Step], starts: list[int], ends: list[int],
                   g_hats: list[np.ndarray], periods_s: list[float], *, acc_m_s2: np.ndarray,
                   gyro_rad_s: np.ndarray | None, offset: int, t0_s: float) -> list[Step]:
        """Queue several detected steps (time order) whose windows are slices of one buffer.

        The same as :meth:`push` with, for step ``j``, a window of the samples
        ``[starts[j], ends[j])`` (absolute sample indices; sample ``i`` is row ``i - offset`` of
        ``acc_m_s2`` (raw specific force, m/s^2) and ``gyro_rad_s``, and is at time
        ``t0_s + i / fs_hz``), gravity direction ``g_hats[j]`` and detector step period
        ``periods_s[j]``. The arrays are kept (not copied) until the steps are evaluated, so the
        caller must not modify them. Returns the steps finalised by chain breaks.
        """
        out: list[Step] = []
        src = (acc_m_s2, gyro_rad_s)
        fs = self.fs_hz
        gap = self.p.reset_gap_s
        last = self._last_t
        if last is None:
            last = math.nan
        q = self._queue
        for st, w0, w1, gh, per in zip(steps, starts, ends, g_hats, periods_s):
            t = st.t_s
            if t - last > gap:
                out += self.flush()
                last = math.nan
            q.append((st, last, src, w0 - offset, w1 - w0, t0_s + w0 / fs, fs, per, gh, True))
            last = t
        self._last_t = last
        self._n_steps += len(steps)
        return out

    def drain(self) -> list[Step]:
        """Evaluate queued steps (in vectorised batches) and return those now final."""
        if len(self._queue) > 1:
            self._evaluate_queue(chain_ended=False)
        if self._queue:
            self._detach()
        return self._release(chain_ended=False) if self._e_steps else []

    def _detach(self) -> None:
        """Copy the windows of the steps still queued out of the caller's buffer, so the stage
        does not keep that buffer alive (the analyzer replaces it at every block; a kept one
        makes the next block's buffer fresh memory). The same samples, so the same results."""
        q = self._queue
        for j, row in enumerate(q):
            src = row[2]
            if src is None:
                continue
            A, G = src
            a0, nw = row[3], row[4]
            if A.base is None and len(A) == nw:
                continue
            A = A[a0:a0 + nw].copy()
            G = None if G is None else G[a0:a0 + nw].copy()
            q[j] = row[:2] + ((A, G), 0) + row[4:]

    def flush(self) -> list[Step]:
        """End of a chain (gap, pause or end of stream): finalise every held step."""
        if self._queue:
            self._evaluate_queue(chain_ended=True)
        out = self._release(chain_ended=True) if self._e_steps else []
        self._last_t = None
        self._chain += 1
        self._chain_decided = False
        self._p_last = 0.5
        return out

    def info(self) -> dict[str, Any]:
        """What the stage did, for ``info["direction"]``."""
        d: dict[str, Any] = {
            "stage": "DirectionEstimator",
            "mode": self.mode,
            "features": (["pa", "rm"] if self._has_gyro else
                         (["av"] if self.mount is not None else ["aav"])),
            "n_steps": self._n_steps,
            "n_steps_with_evidence": self._n_evidence,
            "forward_sign_evidence": round(self._sign_ev, 3),
            "parameters": self.p.to_dict(),
        }
        if self._ap_ref is not None:
            # the forward axis once its sign is known, else the AP line (either sign)
            sg = self._sign_fixed if (self.mount is None and self._sign_fixed) else 1
            d["ap_axis_sensor"] = [round(float(sg * v), 4) for v in self._ap_ref]
        if self.mount is None:
            d["forward_sign_fixed"] = bool(self._sign_fixed)
        mc = self.mount_check()
        if mc is not None:
            d["mount_check"] = mc
        return d

    def mount_check(self) -> dict[str, Any] | None:
        """With a declared mount: does it look right, or turned 180 deg about vertical?"""
        if self.mount is None:
            return None
        thr = self.p.sign_evidence
        if self._sign_ev <= -thr:
            status = "reversed"
            msg = ("the declared mount looks turned 180 deg about vertical (forward and backward "
                   "axes swapped); direction is not affected (it uses sign-free features)")
        elif self._sign_ev >= thr:
            status, msg = "ok", "the declared forward axis agrees with the gait"
        else:
            status, msg = "undecided", "not enough confident walking steps to check the mount"
        return {"status": status, "evidence": round(self._sign_ev, 3), "message": msg}

    def pop_forward_axis(self, index: int) -> np.ndarray | None:
        """The forward axis (sensor frame, horizontal) of the step pushed with ``index``, as
        known when that step was evaluated (so the same whatever the batching), or None when
        its sign was not known yet. Kept only once ``keep_forward_axes`` is set (the analyzer
        does, to time backward contacts); each entry is returned once."""
        return self._fwd_axes.pop(index, None)  # (steps without an axis are not kept)

    # ------------------------------------------------------------------ evaluation
    def _effective_sign(self) -> int:
        """+1/-1 when the forward sign of the AP reference axis is known, else 0."""
        if self.mount is not None:
            return -1 if self._sign_ev <= -self.p.sign_evidence else 1
        return self._sign_fixed

    def _evaluate_queue(self, *, chain_ended: bool) -> None:
        """Evaluate the ready queued steps (all but the last, or all when the chain ended)."""
        queue = self._queue
        n = len(queue) if chain_ended else len(queue) - 1
        with np.errstate(invalid="ignore", divide="ignore"):
            for k in range(0, n, _BATCH):
                e = min(n, k + _BATCH)
                # the next step of each (NaN for the last one of an ended chain)
                tn = [r[0].t_s for r in queue[k + 1:e + 1]]
                if len(tn) < e - k:
                    tn.append(math.nan)
                self._evaluate_batch(queue[k:e], tn)
        del queue[:n]

    def _evaluate_batch(self, rows: list[tuple], tnext: list[float]) -> None:
        m = len(rows)
        q = self._q
        steps, tprev, srcs, a0, nwl, t0l, fsl, perl, ghs, raws = zip(*rows)
        fromiter = np.fromiter
        t = fromiter(map(_T_S, steps), float, m)
        tp = fromiter(tprev, float, m)
        tn = fromiter(tnext, float, m)
        meta = fromiter(chain(t0l, fsl, perl, nwl), float, 4 * m).reshape(4, m)
        t0w, fsw, per, nw = meta[0], meta[1], meta[2], meta[3]
        if m <= _SMALL_STRIDES:  # a few steps: the same arithmetic over plain floats
            w0, T, i0a, i1a, half, cand = self._strides_small(t, tp, tn, per, t0w, fsw, nw)
        else:
            w0, T, i0a, i1a, half, cand = self._strides(t, tp, tn, per, t0w, fsw, nw)
        # block means of q samples (an anti-alias low-pass); a trailing partial block is dropped
        nb_all = np.where(cand, i1a - i0a, 0.0).astype(np.intp) // q
        sel = np.nonzero(cand & (nb_all >= 8))[0]
        f = None
        if sel.size:
            f = self._features(m, sel, srcs, a0, nwl, ghs, raws, i0a[sel].astype(np.intp),
                               nb_all[sel], t0w[sel], fsw[sel], w0[sel], T[sel])
            f["half"] = half
            f["step_s"] = T / 2.0
        self._sequential(list(steps), f, T / 2.0)

    def _strides(self, t, tp, tn, per, t0w, fsw, nw) -> tuple:
        """Stride window of every step (start w0_s, length T_s, sample range [i0, i1) in its
        window, one-step window flag, usable flag), vectorised."""
        p = self.p
        L = self._L
        # stride window [w0, w1]: the neighbouring steps, guarded by the detector's period
        d1, d2 = t - tp, tn - t
        ok1 = (d1 >= p.min_step_s) & (d1 <= p.max_step_s)
        ok2 = (d2 >= p.min_step_s) & (d2 <= p.max_step_s)
        per_ok = (per >= p.min_step_s) & (per <= p.max_period_s)
        ok1 &= ~per_ok | (np.abs(d1 - per) <= 0.3 * per)
        ok2 &= ~per_ok | (np.abs(d2 - per) <= 0.3 * per)
        both = ok1 & ok2 & (d1 / d2 >= 0.5) & (d1 / d2 <= 2.0)
        left = np.where(both | ok1, d1, np.where(ok2, d2, per))
        right = np.where(both, d2, np.where(ok1, d1, np.where(ok2, d2, per)))
        has_win = both | ok1 | ok2 | per_ok
        w0 = t - left
        T = left + right
        i0a = np.ceil((w0 - t0w) * fsw - 1e-9)
        i1a = np.floor((w0 + T - t0w) * fsw - 1e-9) + 1.0
        full = has_win & (i0a >= 0) & (i1a <= nw) & (i1a - i0a >= 8) & (i1a - i0a <= L)
        # slow walking (steps longer than max_step_s): one step centred on the initial
        # contact, when the whole stride does not fit
        w0h = t - T / 4.0
        i0h = np.ceil((w0h - t0w) * fsw - 1e-9)
        i1h = np.floor((w0h + T / 2.0 - t0w) * fsw - 1e-9) + 1.0
        half = has_win & ~full & (T > 2.0 * p.max_step_s) & (i0h >= 0) & (i1h <= nw) & (i1h - i0h >= 8) & (i1h - i0h <= L)
        w0 = np.where(half, w0h, w0)
        i0a = np.where(half, i0h, i0a)
        i1a = np.where(half, i1h, i1a)
        return w0, T, i0a, i1a, half, full | half

    def _strides_small(self, t, tp, tn, per, t0w, fsw, nw) -> tuple:
        """:meth:`_strides` for a few steps, over Python floats (the same IEEE operations in
        the same order, so the results are identical)."""
        p = self.p
        L = self._L
        mn, mx, mxp = p.min_step_s, p.max_step_s, p.max_period_s
        ceil, floor, isfinite = math.ceil, math.floor, math.isfinite
        rows = []
        for tj, tpj, tnj, pj, t0, fs, n in zip(t.tolist(), tp.tolist(), tn.tolist(), per.tolist(),
                                               t0w.tolist(), fsw.tolist(), nw.tolist()):
            d1, d2 = tj - tpj, tnj - tj
            ok1 = d1 >= mn and d1 <= mx
            ok2 = d2 >= mn and d2 <= mx
            per_ok = pj >= mn and pj <= mxp
            ok1 = ok1 and (not per_ok or abs(d1 - pj) <= 0.3 * pj)
            ok2 = ok2 and (not per_ok or abs(d2 - pj) <= 0.3 * pj)
            both = ok1 and ok2 and d1 / d2 >= 0.5 and d1 / d2 <= 2.0
            left = d1 if (both or ok1) else (d2 if ok2 else pj)
            right = d2 if both else (d1 if ok1 else (d2 if ok2 else pj))
            has_win = both or ok1 or ok2 or per_ok
            w0 = tj - left
            T = left + right
            i0 = i1 = math.nan
            full = half = False
            x0 = (w0 - t0) * fs - 1e-9
            x1 = (w0 + T - t0) * fs - 1e-9
            if has_win and isfinite(x0) and isfinite(x1):
                i0 = float(ceil(x0))
                i1 = floor(x1) + 1.0
                full = i0 >= 0 and i1 <= n and i1 - i0 >= 8 and i1 - i0 <= L
                w0h = tj - T / 4.0
                y0 = (w0h - t0) * fs - 1e-9
                y1 = (w0h + T / 2.0 - t0) * fs - 1e-9
                if not full and T > 2.0 * mx and isfinite(y0) and isfinite(y1):
                    i0h = float(ceil(y0))
                    i1h = floor(y1) + 1.0
                    half = i0h >= 0 and i1h <= n and i1h - i0h >= 8 and i1h - i0h <= L
                    if half:
                        w0, i0, i1 = w0h, i0h, i1h
            rows.append((w0, T, i0, i1, half, full or half))
        w0, T, i0, i1, half, cand = zip(*rows)
        return (np.array(w0), np.array(T), np.array(i0), np.array(i1),
                np.array(half, dtype=bool), np.array(cand, dtype=bool))

    def _features(self, m: int, sel: np.ndarray, srcs_all: tuple, a0_all: tuple,
                  nw_all: tuple, ghs_all: tuple, raws_all: tuple, i0: np.ndarray,
                  nb: np.ndarray, t0w: np.ndarray, fsw: np.ndarray, w0: np.ndarray,
                  T: np.ndarray) -> dict:
        """Fourier coefficients (stride harmonics 1, 2, 4) of the selected steps' windows.

        Every selected window contributes one slice of the same length (the batch's longest
        stride), block-averaged by q samples; the projection kernels (cos / sin at the stride
        phase, zero outside each stride) make one batched matrix product give every
        coefficient. Steps whose windows lie in one buffer (the analyzer's) read their
        slices in one gather from that buffer's block sums.
        """
        q = self._q
        k = sel.size
        Lb = int(nb.max())
        Ls = Lb * q
        if k == m:
            srcs, a0l, nwl, ghs, raws = srcs_all, a0_all, nw_all, ghs_all, raws_all
        else:
            sl = sel.tolist()
            srcs = [srcs_all[j] for j in sl]
            a0l = [a0_all[j] for j in sl]
            nwl = [nw_all[j] for j in sl]
            ghs = [ghs_all[j] for j in sl]
            raws = [raws_all[j] for j in sl]
        lens = np.fromiter(nwl, np.intp, k)
        # each slice starts at the stride (or earlier by whole blocks, at the window's end)
        shift = np.maximum(0, i0 + Ls - lens)
        shift = -(-shift // q) * q
        s0 = i0 - shift
        fits = s0 >= 0
        s0 = np.where(fits, s0, i0)
        off = np.where(fits, shift // q, 0)  # the stride's first block inside the slice
        r0 = np.fromiter(a0l, np.intp, k) + s0  # first row of each slice in its source
        # acc and gyro side by side, block sums of q samples (summed in sample order)
        fits_l = fits.tolist()
        first = srcs[0]
        one_src = all(map(is_, srcs, repeat(first)))
        if one_src:
            has_g = np.full(k, first[1] is not None)
        else:
            has_g = np.array([sr[1] is not None for sr in srcs], dtype=bool)
        if one_src and all(fits_l):
            X = self._gather(first, r0, self._work("X", (k, Lb, 6)))  # one buffer (analyzer)
        else:
            X = self._work("X", (k, Lb, 6))
            j0 = 0
            while j0 < k:
                src = srcs[j0]
                j1 = j0 + 1
                while j1 < k and srcs[j1] is src and fits_l[j1] and fits_l[j0]:
                    j1 += 1
                if j1 - j0 == 1:  # one slice (zero-padded past the end of a short window)
                    A, G = src
                    j = j0
                    s = int(r0[j])
                    x = A[s:s + min(Ls, nwl[j] - int(s0[j]))]
                    blk = np.zeros((Ls, 6))
                    blk[:len(x), :3] = x
                    if G is not None:
                        blk[:len(x), 3:] = G[s:s + len(x)]
                    y = blk.reshape(Lb, q, 6)
                    if q > 1:
                        z = y[:, 0] + y[:, 1]
                        for i in range(2, q):
                            z += y[:, i]
                        X[j] = z
                    else:
                        X[j] = y[:, 0]
                else:
                    self._gather(src, r0[j0:j1], X[j0:j1])
                j0 = j1
        if q > 1:
            X *= 1.0 / q
        ups = np.concatenate(ghs).astype(float, copy=False).reshape(k, 3)
        a_ph = 2.0 * np.pi * (t0w + i0 / fsw - w0) / T
        b_ph = 2.0 * np.pi / (fsw * T)
        if q > 1:
            a_ph = a_ph + b_ph * (q - 1) / 2.0
            b_ph = b_ph * q
        # block index relative to the stride's first block; the kernels vanish outside it
        rel = np.arange(Lb, dtype=float)[None, :] - off.astype(float)[:, None]
        mask = (rel >= 0) & (rel < nb.astype(float)[:, None])
        mk = mask.astype(float)
        ph = a_ph[:, None] + b_ph[:, None] * rel
        # the kernels, kernel-major (every one a contiguous (k, Lb) block: numpy's fastest
        # loops), computed in place: the same operations as c1 = cos(ph) * mk,
        # c2 = c1 * c1 - s1 * s1, s2 = 2.0 * c1 * s1, c4 = c2 * c2 - s2 * s2, s4 = 2.0 * c2 * s2
        Wt = self._work("W", (7, k, Lb))
        c1, c2, c4, s1, s2, s4 = Wt[0], Wt[1], Wt[2], Wt[3], Wt[4], Wt[5]
        np.cos(ph, out=c1)
        c1 *= mk
        np.sin(ph, out=s1)
        s1 *= mk
        tmp = np.multiply(s1, s1, out=ph)  # (ph is not needed any more)
        np.multiply(c1, c1, out=c2)
        c2 -= tmp
        np.multiply(c1, 2.0, out=s2)
        s2 *= s1
        np.multiply(s2, s2, out=tmp)
        np.multiply(c2, c2, out=c4)
        c4 -= tmp
        np.multiply(c2, 2.0, out=s4)
        s4 *= s2
        Wt[6] = mk
        W = Wt.transpose(1, 0, 2)  # (k, 7, Lb) view
        R = np.matmul(W, X)  # (k, 7 kernels, 6 channels)
        # a NaN anywhere in a stride poisons its sums: such steps carry no evidence
        tot = R[:, 6]
        valid = np.isfinite(tot[:, :3]).all(axis=1)
        has_g &= np.isfinite(tot[:, 3:]).all(axis=1)
        if not (valid & has_g).all():
            inside = mask[:, :, None]
            fin = np.isfinite(X)
            valid = (fin[:, :, :3] | ~inside).all(axis=(1, 2))
            has_g &= (fin[:, :, 3:] | ~inside).all(axis=(1, 2))
            keep = fin & inside & np.concatenate([np.repeat(valid[:, None, None], 3, axis=2),
                                                  np.repeat(has_g[:, None, None], 3, axis=2)], axis=2)
            X = np.where(keep, X, 0.0)
            R = np.matmul(W, X)
        vert = np.matmul(X[:, :, :3], ups[:, :, None])[:, :, 0]
        vmin = np.where(mask, vert, np.inf).min(axis=1)
        # vertical specific force in g: raw acc includes gravity, dynamic acc does not
        if not all(raws):
            vmin = np.where(np.array(raws, dtype=bool), vmin, vmin + G0_M_S2)
        nn = nb.astype(float)[:, None, None]
        R = R / nn
        # remove each window's mean: C_k(x - mu) = C_k(x) - mu C_k(1)
        R = R[:, :6, :] - (Wt[:6].sum(axis=2).T / nn[:, :, 0])[:, :, None] * R[:, 6:7, :]
        Cs = R[:, :3, :] - 1j * R[:, 3:, :]  # e^{-i phi} = cos - i sin
        if k == m:
            C, U, va, hg, vmin_g = Cs, ups, valid, has_g, vmin / G0_M_S2
        else:  # back to the batch's rows (steps without a usable window stay zero / invalid)
            C = np.zeros((m, 3, 6), dtype=complex)
            C[sel] = Cs
            U = np.zeros((m, 3))
            U[sel] = ups
            va = np.zeros(m, dtype=bool)
            va[sel] = valid
            hg = np.zeros(m, dtype=bool)
            hg[sel] = has_g
            vmin_g = np.full(m, np.inf)
            vmin_g[sel] = vmin / G0_M_S2
        Vk = np.einsum("mhk,mk->mh", C[:, :, :3], U)  # vertical coefficients
        Hk = C[:, :, :3] - Vk[:, :, None] * U[:, None, :]  # horizontal (sensor frame)
        return dict(C=C, Vk=Vk, Hk=Hk, ups=U, vmin_g=vmin_g, valid=va, has_g=hg)

    def _work(self, name: str, shape: tuple, dtype: Any = float) -> np.ndarray:
        """A work array of this shape (contents undefined), reusing the memory of earlier
        batches: fresh large temporaries each batch cost more in page faults than in work."""
        n = math.prod(shape)
        buf = self._ws.get(name)
        if buf is None or buf.size < n:
            buf = np.empty(n + n // 4, dtype=dtype)
            self._ws[name] = buf
        return buf[:n].reshape(shape)

    def _gather(self, src: tuple, r0: np.ndarray, out: np.ndarray) -> np.ndarray:
        """Fill out (k, Lb, 6) with the block sums of q samples of acc and gyro (zeros without
        a gyroscope), slice j starting at row r0[j] of the source arrays (summed in sample
        order, as per slice). Returns out."""
        q = self._q
        k, Lb = out.shape[0], out.shape[1]
        A, G = src
        lo = int(r0.min())
        rr = r0 - lo
        n1 = int(rr.max()) + Lb * q - q + 1  # block sums starting at every sample
        # block sums, one row per start sample: n1 acc rows, then n1 gyro rows; every slice's
        # blocks are rows of it (acc row, gyro row), read in one take
        rows = self._work("rows", (2 * n1, 3))
        for B, part in ((A, rows[:n1]), (G, rows[n1:])):
            if B is None:
                part[...] = 0.0
            elif q > 1:
                np.add(B[lo:lo + n1], B[lo + 1:lo + n1 + 1], out=part)
                for i in range(2, q):
                    part += B[lo + i:lo + n1 + i]
            else:
                part[...] = B[lo:lo + n1]
        idx = self._work("idx", (k, Lb, 2), np.intp)
        np.add(rr[:, None, None], (np.arange(0, q * Lb, q)[:, None] + np.array([0, n1]))[None], out=idx)
        np.take(rows, idx, axis=0, out=out.reshape(k, Lb, 2, 3), mode="clip")  # all in range
        return out

    def _decay_only(self, m: int) -> None:
        """The AP-axis covariance forgets over ``m`` steps that taught nothing."""
        if self.mount is not None:
            return
        self._decayed_sums(np.zeros((m, 10)))

    def _decayed_sums(self, Z: np.ndarray) -> np.ndarray:
        """``Y_j = Z_j + d Y_{j-1}`` (d = ``ap_decay``) for the next ``len(Z)`` steps of the
        session, continuing from the steps before (one row per step, 10 columns).

        Computed in blocks of ``_AX_BLOCK`` steps aligned to the session's step count:
        ``Y_j = d^(r+1) Y_(b-1) + d^r sum_(i=b..j) d^-(i-b) Z_i`` for step j at position r of
        the block starting at step b, the sum a running (sequential) cumulative sum. Each value
        depends only on the steps so far, not on how they were split into batches, so results
        do not depend on chunking; a few numpy calls per batch instead of a loop over steps
        (and no scipy.signal, whose import costs about a second).
        """
        m = len(Z)
        K = _AX_BLOCK
        pw, ipw = self._ax_pw, self._ax_ipw
        out = np.empty(Z.shape)
        g, Y, A = self._ax_n, self._ax_Y, self._ax_A
        j = 0
        while j < m:
            r0 = g % K
            n = min(m - j, K - r0)
            w = Z[j:j + n] * ipw[r0:r0 + n, None]
            w[0] += A  # continue the block's running sum (zeros at a block start)
            cs = np.cumsum(w, axis=0)
            np.multiply(pw[r0 + 1:r0 + n + 1, None], Y, out=out[j:j + n])
            out[j:j + n] += pw[r0:r0 + n, None] * cs
            A = cs[-1]
            g += n
            j += n
            if g % K == 0:  # the block is complete: the next one starts from its last value
                Y = out[j - 1].copy()
                A = np.zeros(Z.shape[1])
        self._ax_n, self._ax_Y, self._ax_A = g, Y, A
        return out

    def _axes(self, m: int, f: dict) -> np.ndarray:
        """Forward/AP unit axis per step (sensor frame), sign-tracked; NaN rows when unknown."""
        ups, valid, H2 = f["ups"], f["valid"], f["Hk"][:, 1, :]
        E = np.full((m, 3), np.nan)
        if self.mount is not None:
            fw = self.mount.R[0]
            e = fw[None, :] - (ups @ fw)[:, None] * ups
            n = np.linalg.norm(e, axis=1)
            ok = valid & (n > 1e-6)
            E[ok] = e[ok] / n[ok, None]
            if ok.any():
                self._ap_ref = E[np.nonzero(ok)[0][-1]].copy()
            return E
        S = np.real(H2[:, :, None] * np.conj(H2[:, None, :]))  # (m, 3, 3)
        # slow steps (one-step windows) do not teach the axis: at very low cadence the
        # medio-lateral sway can carry more step-frequency power than the AP motion
        teach = valid & ~f["half"]
        S[~teach] = 0.0
        # C_j = d C_{j-1} + S_j and how many (decayed) strides taught the axis: too few -> no
        # axis yet
        Z = np.empty((m, 10))
        Z[:, :9] = S.reshape(m, 9)
        Z[:, 9] = teach
        Mz = self._decayed_sums(Z)
        Ms = Mz[:, :9].reshape(m, 3, 3)
        cnt = Mz[:, 9]  # (rounded: one stride may come out as 1 - 1e-16)
        # principal axis of the 2x2 covariance in the horizontal plane (closed form): basis
        # u1 = up x (the sensor axis least aligned with up), u2 = up x u1
        kk = np.abs(ups).argmin(axis=1)
        ref = np.zeros((m, 3))
        ref[np.arange(m), kk] = 1.0
        u1 = _cross(ups, ref)
        u1 /= np.maximum(np.sqrt((u1 * u1).sum(axis=1)), 1e-12)[:, None]
        u2 = _cross(ups, u1)
        Mu1 = np.matmul(Ms, u1[:, :, None])[:, :, 0]
        Mu2 = np.matmul(Ms, u2[:, :, None])[:, :, 0]
        a11 = np.einsum("mk,mk->m", u1, Mu1)
        a22 = np.einsum("mk,mk->m", u2, Mu2)
        a12 = np.einsum("mk,mk->m", u1, Mu2)
        th = 0.5 * np.arctan2(2.0 * a12, a11 - a22)
        e = np.cos(th)[:, None] * u1 + np.sin(th)[:, None] * u2
        n = np.sqrt((e * e).sum(axis=1))
        lam = 0.5 * (a11 + a22) + np.hypot(0.5 * (a11 - a22), a12)
        ok = valid & (n > 1e-9) & (lam > 0) & (cnt >= self.p.ap_min_strides - 1e-9)
        idx = np.nonzero(ok)[0]
        if idx.size:
            v = e[idx] / n[idx, None]
            # keep the sign continuous: each axis agrees with the previous one
            dots = np.einsum("mk,mk->m", v[1:], v[:-1])
            sg = np.concatenate([[1.0], np.where(dots < 0, -1.0, 1.0)]).cumprod()
            if self._ap_ref is not None and float(v[0] @ self._ap_ref) < 0:
                sg = -sg
            v *= sg[:, None]
            E[idx] = v
            self._ap_ref = v[-1].copy()
        return E

    def _sequential(self, steps: list[Step], f: dict | None, step_s: np.ndarray) -> None:
        """Per-step features and evidence (vectorised), then the HMM forward filter."""
        p = self.p
        m = len(steps)
        nanv = np.full(m, np.nan)
        pa, rm, av, aav = nanv, nanv, nanv, nanv
        gait = np.zeros(m, dtype=int)
        ok = np.zeros(m, dtype=bool)
        bounce = np.zeros(m, dtype=bool)
        if f is None:
            self._decay_only(m)
        else:
            E = self._axes(m, f)
            ok = f["valid"] & np.isfinite(E).all(axis=1)
            Eo = np.where(ok[:, None], E, 0.0)
            ml = _cross(f["ups"], Eo)
            Hk, Vk, C = f["Hk"], f["Vk"], f["C"]
            A2 = np.einsum("mk,mk->m", Hk[:, 1, :], Eo)
            V2, V4 = Vk[:, 1], Vk[:, 2]
            M1 = np.einsum("mk,mk->m", Hk[:, 0, :], ml)
            P2 = np.einsum("mk,mk->m", C[:, 1, 3:], ml)
            R1 = np.einsum("mk,mk->m", C[:, 0, 3:], Eo)
            aA2, aV2, aV4 = np.abs(A2), np.abs(V2), np.abs(V4)
            aP2, aM1, aR1 = np.abs(P2), np.abs(M1), np.abs(R1)
            ok &= aA2 >= p.min_amp_m_s2
            hg = f["has_g"]
            x = A2 * A2 * np.conj(V4)
            av = np.where(ok & (aV2 > 1e-9), np.imag(A2 * np.conj(V2)) / (aA2 * aV2), np.nan)
            aav = np.where(ok & (aV4 > 1e-9), np.imag(x) / np.abs(x), np.nan)
            pa = np.where(ok & hg & (aP2 >= p.min_amp_rad_s),
                          np.real(P2 * np.conj(A2)) / (aP2 * aA2), np.nan)
            rm = np.where(ok & hg & ~f["half"] & (aR1 >= p.min_amp_rad_s) & (aM1 >= p.min_amp_m_s2),
                          np.real(R1 * np.conj(M1)) / (aR1 * aM1), np.nan)
            # clearly running: a spring-mass bounce of the vertical acceleration at step
            # frequency that no walking reaches
            bounce = ok & (aV2 >= p.run_min_v2_g * G0_M_S2)
            vg, ss = f["vmin_g"], f["step_s"]
            gait = np.where((vg >= p.walk_min_vertical_g) & (ss >= p.walk_min_step_s), 1,
                            np.where((vg <= p.run_max_vertical_g) & (ss <= p.run_max_step_s), -1, 0))
            gait[~ok] = 0
            if f["valid"].any():
                if hg[f["valid"]].any():
                    self._has_gyro = True
                elif self._has_gyro is None:
                    self._has_gyro = False
        # evidence with a gyroscope (sign-free)
        has_pa = ok & np.isfinite(pa)
        pa0 = np.where(has_pa, pa, 0.0)
        llr = np.where(has_pa, p.gain_pa * pa0 + p.gain_rm * np.where(np.isfinite(rm), rm, 0.0), 0.0)
        no_pa = ok & ~has_pa & (gait != 0)
        # clearly running steps: the signed AP/vertical phase counts too (a spring: av < 0
        # forward), and they vote on the forward sign like clear walking steps (av > 0)
        run_av = has_pa & bounce & np.isfinite(av) & (p.gain_av_run != 0)
        vote = has_pa & (np.abs(pa0) >= p.sign_min_pa) & np.isfinite(av) & (
            ((gait == 1) & ~run_av) | run_av)
        keep_axes = self.keep_forward_axes and f is not None
        if keep_axes or vote.any() or no_pa.any() or run_av.any():
            sav = np.where(run_av, -av, av)
            inc = np.where(vote, np.sign(pa0) * np.where(vote, sav, 0.0), 0.0)  # sign votes
            if keep_axes:
                self._keep_axes(steps, E, vote, inc)
            if vote.any() or no_pa.any() or run_av.any():
                self._votes_and_no_gyro(llr, vote, no_pa, inc, gait, av, aav, run_av, pa0)
        llr_l = llr.tolist()
        self._filter(steps, llr_l)
        if self.trace is not None:
            for j, s in enumerate(steps):
                self.trace.append(StepEvidence(
                    t_s=s.t_s, ok=bool(ok[j]), pa=float(pa[j]), av=float(av[j]),
                    aav=float(aav[j]), rm=float(rm[j]), gait=int(gait[j]),
                    bounce=bool(bounce[j]), step_s=float(step_s[j]), llr=llr_l[j]))

    def _filter(self, steps: list[Step], llr_l: list[float]) -> None:
        """The HMM forward filter over plain floats (predicted P(forward), then each step's
        evidence ``llr_l``); the steps join the evaluated ones, waiting for release."""
        p = self.p
        prior = self._p_last
        a_stay, a_sw = 1.0 - p.p_switch, p.p_switch
        exp, log = math.exp, math.log
        pf_l: list[float] = []
        put = pf_l.append
        for x in llr_l:
            pf = prior * a_stay + (1.0 - prior) * a_sw
            if x == 0.0:
                prior = pf
            else:
                lo = log(pf / (1.0 - pf)) + x
                prior = 1.0 / (1.0 + exp(-(-30.0 if lo < -30.0 else (30.0 if lo > 30.0 else lo))))
            put(prior)
        self._p_last = prior
        self._e_steps += steps
        self._e_llr += llr_l
        self._e_pf += pf_l
        self._n_evidence += len(llr_l) - llr_l.count(0.0)

    def _keep_axes(self, steps: list[Step], E: np.ndarray, vote: np.ndarray, inc: np.ndarray) -> None:
        """Each step's forward axis with the sign known as of that step: the votes ``inc`` are
        added one by one in step order, exactly as _votes_and_no_gyro will add them."""
        cum = np.cumsum(np.concatenate([[self._sign_ev], inc]))[1:]
        thr = self.p.sign_evidence
        if self.mount is not None:
            sign = np.where(cum <= -thr, -1.0, 1.0)
        elif self._sign_fixed:
            sign = np.full(len(steps), float(self._sign_fixed))
        else:
            sign = np.zeros(len(steps))
            hit = np.nonzero(vote & (np.abs(cum) >= thr))[0]
            if hit.size:
                sign[hit[0]:] = 1.0 if cum[hit[0]] > 0 else -1.0
        # before the session's sign is known: the step's own vote, when it has one
        sign = np.where((sign == 0) & vote, np.sign(inc), sign)
        A = sign[:, None] * E  # NaN rows: no axis (yet)
        has = (sign != 0) & (A[:, 0] == A[:, 0])  # only steps with an axis are kept
        if has.all():
            self._fwd_axes.update(zip(map(_INDEX, steps), A))
        elif has.any():
            self._fwd_axes.update(zip(compress(map(_INDEX, steps), has.tolist()), A[has]))

    def _votes_and_no_gyro(self, llr: np.ndarray, vote: np.ndarray, no_pa: np.ndarray,
                           inc: np.ndarray, gait: np.ndarray, av: np.ndarray,
                           aav: np.ndarray, run_av: np.ndarray, pa0: np.ndarray) -> None:
        """Add the steps' votes on the forward sign (in order) and fill in the evidence of
        steps without a usable gyroscope, and the signed phase of clearly running steps
        (``run_av``), which depend on the sign known before them."""
        p = self.p
        thr = p.sign_evidence
        nopa = np.nonzero(no_pa)[0].tolist()
        if not nopa:
            # the running sum after each step's vote (the same additions as one at a time:
            # adding 0.0 for a step without a vote changes nothing)
            cum = np.cumsum(np.concatenate([[self._sign_ev], np.where(vote, inc, 0.0)]))[1:]
            fixed0 = self._sign_fixed
            if self.mount is None and not fixed0:
                hit = np.nonzero(vote & (np.abs(cum) >= thr))[0]
                if hit.size:
                    self._sign_fixed = 1 if cum[hit[0]] > 0 else -1
            if run_av.any():  # the sign known at each step (after its own vote), as below
                if self.mount is not None:
                    sg = np.where(cum <= -thr, -1.0, np.where(cum < 0.0, 0.0, 1.0))
                elif fixed0:
                    sg = np.full(len(cum), float(fixed0))
                else:
                    sg = np.zeros(len(cum))
                    if hit.size:
                        sg[hit[0]:] = float(self._sign_fixed)
                # the signed phase replaces the roll evidence where the sign is known
                run = run_av & (sg != 0)
                llr[run] = p.gain_pa * pa0[run] - p.gain_av_run * sg[run] * av[run]
            self._sign_ev = float(cum[-1])
            return
        run_l = run_av.tolist()
        inc_l, vote_l = inc.tolist(), vote.tolist()
        gait_l, av_l, aav_l = gait.tolist(), av.tolist(), aav.tolist()
        nopa_set = set(nopa)
        for j in range(len(vote_l)):
            if vote_l[j]:
                self._sign_ev += inc_l[j]
                if self.mount is None and not self._sign_fixed and abs(self._sign_ev) >= thr:
                    # the forward sign relative to the (continuity-tracked) reference axis
                    self._sign_fixed = 1 if self._sign_ev > 0 else -1
            elif j in nopa_set:
                llr[j] = self._llr_no_gyro(gait_l[j], av_l[j], aav_l[j])
            if run_l[j]:
                # a spring (running): the AP acceleration leads the vertical (av < 0 forward)
                sg = self._effective_sign()
                if self.mount is not None and 0.0 > self._sign_ev > -thr:
                    sg = 0  # the votes lean against the declared mount: not trusted here
                if sg:
                    llr[j] = p.gain_pa * float(pa0[j]) - p.gain_av_run * sg * av_l[j]

    def _llr_no_gyro(self, gait: int, av: float, aav: float) -> float:
        """Evidence without a gyroscope: the AP/vertical phase, which turns over between
        walking (inverted pendulum) and running (spring), so clear steps of either only."""
        p = self.p
        s = self._effective_sign()
        if s != 0 and math.isfinite(av):
            return p.gain_av * s * gait * av
        if gait == 1 and math.isfinite(aav):
            return p.gain_aav * aav
        return 0.0

    # ------------------------------------------------------------------ release
    def _posterior(self, k: int, lag: int) -> float:
        """P(forward) of evaluated step k given the chain's evidence up to step k + lag."""
        ps = self.p.p_switch
        bf, bb = 1.0, 1.0
        llrs = self._e_llr
        for j in range(min(k + lag, len(llrs) - 1), k, -1):
            llr = llrs[j]
            Lr = math.exp(-30.0 if llr < -30.0 else (30.0 if llr > 30.0 else llr))  # e(F)/e(B)
            nf = (1 - ps) * Lr * bf + ps * bb
            nb = ps * Lr * bf + (1 - ps) * bb
            z = nf + nb
            bf, bb = nf / z, nb / z
        pf = self._e_pf[k]
        af, ab = pf * bf, (1.0 - pf) * bb
        return af / (af + ab) if af + ab > 0 else 0.5

    def _release(self, *, chain_ended: bool) -> list[Step]:
        pmin = self.p.min_confidence
        ps = self.p.p_switch
        a_stay = 1 - ps
        steps, llrs, pfs = self._e_steps, self._e_llr, self._e_pf
        n_eval = len(steps)
        exp = math.exp
        early = self.p.early_release_conf
        k = 0  # index of the next step to release
        scalar_at = -1  # a step the vectorised release left to the loop
        while k < n_eval:
            if self._chain_decided and n_eval - 1 - k >= _VEC_RELEASE and k != scalar_at:
                # a decided chain holds no step back: the one-step lag for all but the last
                # evaluated step at once (the same IEEE operations as the loop below)
                k += self._release_decided(steps[k:n_eval - 1], llrs[k + 1:n_eval], pfs[k:n_eval - 1])
                scalar_at = k  # (an ambiguous step stopped it: the loop below holds that one)
                continue
            if self._chain_decided and abs(2.0 * pfs[k] - 1.0) >= early:
                post = pfs[k]  # confident already: no need to wait for the next step
            elif k + 1 < n_eval:
                # fixed-lag smoothing over one step (inline _posterior(k, 1))
                llr = llrs[k + 1]
                Lr = exp(-30.0 if llr < -30.0 else (30.0 if llr > 30.0 else llr))
                nf = a_stay * Lr * 1.0 + ps * 1.0
                nb = ps * Lr * 1.0 + a_stay * 1.0
                z = nf + nb
                pf = pfs[k]
                af, ab = pf * (nf / z), (1.0 - pf) * (nb / z)
                post = af / (af + ab) if af + ab > 0 else 0.5
            elif chain_ended:
                pf = pfs[k]
                af, ab = pf, 1.0 - pf
                post = af / (af + ab) if af + ab > 0 else 0.5
            else:
                break
            conf = abs(2.0 * post - 1.0)
            if conf < pmin:
                # start of a chain, still undecided, or an ambiguous step of a decided chain:
                # wait for more evidence (fixed lags, so the result does not depend on when
                # this runs)
                avail = n_eval - 1 - k
                lag = 1
                wait = False
                hold = self.p.max_ambiguous_hold if self._chain_decided else self.p.max_start_hold
                while conf < pmin and lag < 1 + hold:
                    lag += 1
                    if lag > avail and not chain_ended:
                        wait = True
                        break
                    post = self._posterior(k, lag)
                    conf = abs(2.0 * post - 1.0)
                if wait:
                    break
            st = steps[k]
            if conf >= pmin:
                st.direction = "forward" if post > 0.5 else "backward"
                st.direction_confidence = conf
                self._chain_decided = True
            else:
                st.direction = "unknown"
                st.direction_confidence = 0.0
            k += 1
        out = steps[:k]
        del steps[:k], llrs[:k], pfs[:k]
        return out

    def _release_decided(self, steps: list[Step], llr_next: list[float], pfs: list[float]) -> int:
        """Direction of steps whose next step's evidence is known, once the chain is decided:
        :meth:`_release`'s one-step fixed-lag posterior, vectorised. Stops before the first
        step that is below ``min_confidence`` when such steps may be held
        (``max_ambiguous_hold``); returns the number of steps given a direction."""
        ps = self.p.p_switch
        a_stay = 1 - ps
        pmin = self.p.min_confidence
        Lr = np.exp(np.clip(np.fromiter(llr_next, float, len(llr_next)), -30.0, 30.0))
        pf = np.fromiter(pfs, float, len(pfs))
        nf = a_stay * Lr + ps
        nb = ps * Lr + a_stay
        z = nf + nb
        af = pf * (nf / z)
        ab = (1.0 - pf) * (nb / z)
        tot = af + ab
        with np.errstate(invalid="ignore", divide="ignore"):
            post = np.where(tot > 0, af / tot, 0.5)
        if self.p.early_release_conf <= 1.0:  # (see _release: the filtered posterior)
            post = np.where(np.abs(2.0 * pf - 1.0) >= self.p.early_release_conf, pf, post)
        conf = np.abs(2.0 * post - 1.0)
        n = len(steps)
        if self.p.max_ambiguous_hold > 0:
            low = np.flatnonzero(conf < pmin)
            if low.size:
                n = int(low[0])
        for st, po, c in zip(steps[:n], post.tolist(), conf.tolist()):
            if c >= pmin:
                st.direction = "forward" if po > 0.5 else "backward"
                st.direction_confidence = c
            else:
                st.direction = "unknown"
                st.direction_confidence = 0.0
        return n


def make_stage(*, fs_hz: float, mount: Mount | None, params: Any = None) -> DirectionEstimator:
    """The direction stage the analyzer uses (see :mod:`gait.signal.stages`)."""
    dp = params if isinstance(params, DirectionParams) else None
    return DirectionEstimator(fs_hz=fs_hz, mount=mount, params=dp)


# ---------------------------------------------------------------------- batch helpers
def step_window(acc_m_s2: np.ndarray, gyro_rad_s: np.ndarray | None, *, fs_hz: float,
                t_ic_s: float, half_width_s: float = 1.0, gravity_half_width_s: float = 2.5,
                mount: Mount | None = None) -> StepWindow:
    """A :class:`StepWindow` cut from whole-recording arrays (for research, tests, benchmarks).

    Gravity is the mean specific force over +-``gravity_half_width_s`` around the step.
    """
    n = len(acc_m_s2)
    ic = int(round(t_ic_s * fs_hz))
    hw = int(round(half_width_s * fs_hz))
    gw = int(round(gravity_half_width_s * fs_hz))
    i0, i1 = max(0, ic - hw), min(n, ic + hw + 1)
    g0, g1 = max(0, ic - gw), min(n, ic + gw + 1)
    acc = np.asarray(acc_m_s2, dtype=float)
    seg = acc[g0:g1]
    fin = np.all(np.isfinite(seg), axis=1)
    g = seg[fin].mean(axis=0) if fin.any() else np.zeros(3)
    gn = float(np.linalg.norm(g))
    up = g / gn if gn > 1e-9 else np.array([0.0, 0.0, 1.0])
    a = acc[i0:i1]
    v = a @ up - gn
    hz = a - np.outer(a @ up, up)
    fwd = left = None
    if mount is not None:
        f = mount.R[0] - (mount.R[0] @ up) * up
        f /= np.linalg.norm(f)
        l_ax = np.cross(up, f)
        fwd, left = hz @ f, hz @ l_ax
    return StepWindow(
        fs_hz=float(fs_hz), t0_s=i0 / fs_hz, i_step=ic - i0, vertical_m_s2=v,
        horizontal_m_s2=hz, g_hat=up, forward_m_s2=fwd, left_m_s2=left,
        gyro_rad_s=None if gyro_rad_s is None else np.asarray(gyro_rad_s, dtype=float)[i0:i1],
        mount=mount, step_period_s=float("nan"),
    )


def directions_for_steps(acc_m_s2: np.ndarray, gyro_rad_s: np.ndarray | None, *, fs_hz: float,
                         steps_s: np.ndarray, mount: Mount | None = None,
                         params: DirectionParams | None = None, drain_every: int = 0,
                         ) -> tuple[list[Step], DirectionEstimator]:
    """Run the streaming stage over given step times of a whole recording (batch helper).

    ``drain_every`` > 0 drains the stage whenever that many steps are queued (as a stream
    would); 0 evaluates everything at the end. Returns the finalised steps (time order) and the
    stage (for ``info()``).
    """
    est = DirectionEstimator(fs_hz=fs_hz, mount=mount, params=params)
    out: list[Step] = []
    for t in np.asarray(steps_s, dtype=float):
        st = Step(t_s=float(t), index=int(round(t * fs_hz)))
        w = step_window(acc_m_s2, gyro_rad_s, fs_hz=fs_hz, t_ic_s=float(t), mount=mount)
        out += est.push(st, w)
        if drain_every and est.n_held >= drain_every:
            out += est.drain()
    out += est.flush()
    return out, est
