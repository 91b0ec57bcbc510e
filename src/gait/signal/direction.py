"""Forward versus backward gait, per step, from a hip IMU (pure; streaming).

An accelerometer cannot feel constant velocity, so direction has to come from the *shape* of
each step. Backward gait is roughly forward gait played backwards in time: linear
accelerations are time-mirrored (``a(t) -> a(-t)``) and angular rates are time-mirrored and
sign-flipped (``w(t) -> -w(-t)``). Time reversal turns every Fourier coefficient into its
complex conjugate, so any statistic that is *odd* under conjugation (an imaginary part of a
phase-locked product, or the real part of a product with one angular rate) flips sign between
forward and backward gait. This module uses two such statistics, computed per step over one
stride (``t_prev .. t_next``) at the step frequency (the 2nd harmonic of the stride):

``pa`` (needs a gyroscope; independent of the sign of the forward axis)
    ``Re(P A*) / (|P| |A|)``: the in-phase coupling between the pelvis pitch rate ``P``
    (rotation about the medio-lateral axis) and the anterior-posterior acceleration ``A``.
    Time reversal flips the pitch rate, so ``pa`` changes sign; turning the sensor half a turn
    about vertical flips both ``P`` and ``A``, so ``pa`` does not care which way the forward
    axis points. The gravity leak of the pitch oscillation into ``A`` is in quadrature with
    ``P`` and drops out of the real part. On the dev data ``pa > 0`` in forward walking and
    running (96 % of steps) and ``pa < 0`` in backward walking (100 %).

``av`` (needs the forward sign: a known mount, or the sign learnt in the session)
    ``Im(A V*) / (|A| |V|)``: the phase of the AP acceleration relative to the vertical one.
    An inverted pendulum (walking) is fastest at double support, when the vertical acceleration
    peaks, so ``A`` lags ``V`` by about a quarter cycle forward and leads it backward; a spring
    (running) is slowest at mid-stance, so the relation is the opposite. ``av`` is therefore
    multiplied by +1 for walking-like steps and -1 for running-like steps (flight phase,
    vertical specific force near zero).

``aav`` (fallback without a gyroscope and without a known sign; weak)
    ``Im(A^2 V2*)`` (the bispectral phase of ``A, A`` against ``V`` at twice the step frequency),
    sign-invariant in ``A``; used for walking-like steps only.

Per-step evidence (a log-likelihood ratio, forward vs backward) is smoothed across steps with
a sticky two-state hidden Markov model (forward filter plus one step of fixed-lag smoothing),
so a change of direction is followed within one or two steps.

Orientation-free mode (no mount): vertical is the gravity estimate; the anterior-posterior
(AP) line is the principal axis of the horizontal acceleration at step frequency (medio-lateral
sway is at stride frequency and drops out), accumulated over the session in the sensor frame
(a hip-worn sensor turns with the pelvis, so this axis is a property of the mount). ``pa``
decides the direction; once enough confident steps agree, the forward *sign* of the AP axis is
fixed from ``av`` and the stage continues as with a known mount. With a declared mount the
same evidence checks the mount; a mount that looks turned 180 deg about vertical is reported
in ``info()["mount_check"]`` and the learnt sign is used.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
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
    #: Posterior confidence |2 p_forward - 1| below this gives "unknown".
    min_confidence: float = 0.3
    #: At the start of a chain, undecided steps may be held this many extra steps.
    max_start_hold: int = 3
    #: Consecutive steps further apart than this start a new chain (HMM reset), s.
    reset_gap_s: float = 2.0
    #: Accepted step intervals for a stride window, s.
    min_step_s: float = 0.2
    max_step_s: float = 1.0
    #: Smallest step-frequency amplitude of AP acceleration / pitch rate that counts.
    min_amp_m_s2: float = 0.05
    min_amp_rad_s: float = 0.005
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
        return asdict(self)


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
    step_s: float = float("nan")
    llr: float = 0.0


@dataclass
class _Held:
    step: Step
    window: StepWindow
    t_prev: float | None
    ev: StepEvidence | None = None
    p_filt: float = 0.5  # filtered P(forward)


def _stride_coeffs(x: np.ndarray, ph: np.ndarray) -> np.ndarray:
    """Fourier coefficient(s) of demeaned columns of ``x`` at the phases ``ph`` (radians)."""
    e = np.exp(-1j * ph)
    xd = x - x.mean(axis=0)
    return (e @ xd) / len(ph) if xd.ndim == 2 else (e @ xd) / len(ph)


class DirectionEstimator:
    """Streaming direction stage: ``push(step, window) -> finalised steps`` (see module doc).

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
        # chain state (reset at flush / long pauses)
        self._held: list[_Held] = []
        self._chain_decided = False
        self._p_last = 0.5
        self._last_t: float | None = None
        # session state
        self._C = np.zeros((3, 3))
        self._ap_ref: np.ndarray | None = None  # sensor-frame horizontal AP axis (sign-tracked)
        self._sign_ev = 0.0  # > 0: the reference axis points forward
        self._sign_fixed: int = 0  # +1 / -1 once fixed (orientation-free) / checked (mount)
        self._n_steps = 0
        self._n_evidence = 0
        self._has_gyro: bool | None = None
        #: Per-step evidence, kept only with ``keep_trace=True`` (research; unbounded).
        self.trace: list[StepEvidence] | None = [] if keep_trace else None

    # ------------------------------------------------------------------ protocol
    def push(self, step: Step, window: StepWindow) -> list[Step]:
        """Take one detected step (time order) and its signal window; return finalised steps."""
        out: list[Step] = []
        if self._last_t is not None and step.t_s - self._last_t > self.p.reset_gap_s:
            out += self.flush()
        self._n_steps += 1
        t_prev = self._last_t
        self._last_t = step.t_s
        h = _Held(step=step, window=window, t_prev=t_prev)
        # the previous held step now knows its next neighbour: evaluate it
        if self._held:
            prev = self._held[-1]
            self._evaluate(prev, t_next=step.t_s)
        self._held.append(h)
        out += self._release(keep=2)
        return out

    def flush(self) -> list[Step]:
        """Finalise every held step (gap, pause or end of stream); keep session knowledge."""
        if self._held and self._held[-1].ev is None:
            self._evaluate(self._held[-1], t_next=None)
        out = self._release(keep=0)
        self._last_t = None
        self._chain_decided = False
        self._p_last = 0.5
        return out

    def info(self) -> dict[str, Any]:
        """What the stage did, for ``info["direction"]``."""
        d: dict[str, Any] = {
            "stage": "DirectionEstimator",
            "mode": self.mode,
            "features": ["pa", "rm", "av"] if self._has_gyro else ["av" if self.mount is not None else "aav"],
            "n_steps": self._n_steps,
            "n_steps_with_evidence": self._n_evidence,
            "forward_sign_evidence": round(self._sign_ev, 3),
            "parameters": self.p.to_dict(),
        }
        if self._ap_ref is not None:
            d["ap_axis_sensor"] = [round(float(v), 4) for v in self._ap_ref]
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
                   "swapped); directions use the corrected sign")
        elif self._sign_ev >= thr:
            status, msg = "ok", "the declared forward axis agrees with the gait"
        else:
            status, msg = "undecided", "not enough confident walking or running steps to check the mount"
        return {"status": status, "evidence": round(self._sign_ev, 3), "message": msg}

    # ------------------------------------------------------------------ internals
    def _effective_sign(self) -> int:
        """+1/-1 when the forward sign of the AP reference axis is known, else 0."""
        if self.mount is not None:
            return -1 if self._sign_ev <= -self.p.sign_evidence else 1
        return self._sign_fixed

    def _ap_axis(self, w: StepWindow, H2: np.ndarray) -> np.ndarray | None:
        up = w.g_hat
        if self.mount is not None:
            f = self.mount.R[0] - (self.mount.R[0] @ up) * up
            n = float(np.linalg.norm(f))
            if n < 1e-6:
                return None
            e = f / n
            self._ap_ref = e
            return e
        self._C = self.p.ap_decay * self._C + np.real(np.outer(H2, np.conj(H2)))
        P = np.eye(3) - np.outer(up, up)
        M = P @ self._C @ P
        vals, vecs = np.linalg.eigh(M)
        e = vecs[:, -1]
        e = e - (e @ up) * up
        n = float(np.linalg.norm(e))
        if n < 1e-9 or vals[-1] <= 0:
            return None
        e = e / n
        if self._ap_ref is not None and float(e @ self._ap_ref) < 0:
            e = -e
        self._ap_ref = e
        return e

    def _features(self, w: StepWindow, t_ic: float, t_prev: float | None,
                  t_next: float | None) -> StepEvidence:
        p = self.p
        ev = StepEvidence(t_s=t_ic)
        d1 = None if t_prev is None else t_ic - t_prev
        d2 = None if t_next is None else t_next - t_ic
        ok1 = d1 is not None and p.min_step_s <= d1 <= p.max_step_s
        ok2 = d2 is not None and p.min_step_s <= d2 <= p.max_step_s
        per = float(w.step_period_s)
        per_ok = math.isfinite(per) and p.min_step_s <= per <= p.max_step_s
        if per_ok:
            # the detector's step period (from the signal's own rhythm) guards against missed
            # or extra steps: a neighbour interval that disagrees with it by > 30 % is ignored
            ok1 = ok1 and abs(d1 - per) <= 0.3 * per
            ok2 = ok2 and abs(d2 - per) <= 0.3 * per
        if ok1 and ok2 and 0.5 <= d1 / d2 <= 2.0:
            w0, w1 = t_ic - d1, t_ic + d2
        elif ok1:
            w0, w1 = t_ic - d1, t_ic + d1
        elif ok2:
            w0, w1 = t_ic - d2, t_ic + d2
        elif per_ok:
            w0, w1 = t_ic - per, t_ic + per
        else:
            return ev
        T = w1 - w0
        ev.step_s = T / 2.0
        n = len(w.vertical_m_s2)
        i0 = int(math.ceil((w0 - w.t0_s) * w.fs_hz - 1e-9))
        i1 = int(math.floor((w1 - w.t0_s) * w.fs_hz - 1e-9)) + 1
        if i0 < 0 or i1 > n or i1 - i0 < 8:
            return ev
        V = w.vertical_m_s2[i0:i1]
        H = w.horizontal_m_s2[i0:i1]
        G = None if w.gyro_rad_s is None else w.gyro_rad_s[i0:i1]
        if not (np.all(np.isfinite(V)) and np.all(np.isfinite(H))):
            return ev
        if G is not None and not np.all(np.isfinite(G)):
            G = None
        ts = w.t0_s + np.arange(i0, i1) / w.fs_hz
        ph = 2.0 * np.pi * (ts - w0) / T
        # stride harmonics 1 (stride frequency), 2 (step frequency) and 4, all columns at once
        X = np.column_stack([H, V] if G is None else [H, V, G])
        X = X - X.mean(axis=0)
        E = np.exp(-1j * np.outer((1.0, 2.0, 4.0), ph))
        C = (E @ X) / len(ph)
        H1, H2, H4 = C[0, :3], C[1, :3], C[2, :3]
        V2, V4 = C[1, 3], C[2, 3]
        e = self._ap_axis(w, H2)
        if e is None:
            return ev
        ml = np.cross(w.g_hat, e)
        A2 = complex(H2 @ e)
        vmin_g = (float(V.min()) + G0_M_S2) / G0_M_S2
        if vmin_g >= p.walk_min_vertical_g and ev.step_s >= p.walk_min_step_s:
            ev.gait = 1
        elif vmin_g <= p.run_max_vertical_g and ev.step_s <= p.run_max_step_s:
            ev.gait = -1
        if abs(A2) < p.min_amp_m_s2:
            return ev
        ev.ok = True
        if abs(V2) > 1e-9:
            ev.av = float(np.imag(A2 * np.conj(V2)) / (abs(A2) * abs(V2)))
        if abs(V4) > 1e-9:
            x = A2 * A2 * np.conj(V4)
            ev.aav = float(np.imag(x) / abs(x)) if abs(x) > 0 else 0.0
        if G is not None:
            self._has_gyro = True
            P2 = complex(C[1, 4:7] @ ml)
            if abs(P2) >= p.min_amp_rad_s:
                ev.pa = float(np.real(P2 * np.conj(A2)) / (abs(P2) * abs(A2)))
            M1 = complex(H1 @ ml)
            R1 = complex(C[0, 4:7] @ e)
            if abs(R1) >= p.min_amp_rad_s and abs(M1) >= p.min_amp_m_s2:
                ev.rm = float(np.real(R1 * np.conj(M1)) / (abs(R1) * abs(M1)))
        elif self._has_gyro is None:
            self._has_gyro = False
        return ev

    def _evaluate(self, h: _Held, t_next: float | None) -> None:
        p = self.p
        ev = self._features(h.window, h.step.t_s, h.t_prev, t_next)
        llr = 0.0
        if ev.ok:
            has_pa = math.isfinite(ev.pa)
            if has_pa:
                llr += p.gain_pa * ev.pa
                if math.isfinite(ev.rm):
                    # roll-rate / lateral-sway coupling at stride frequency (strong in
                    # walking, noisy in running, where pa dominates)
                    llr += p.gain_rm * ev.rm
                # sign evidence: a confident pa decides the direction, av then says which way
                # the reference axis points (clearly walking steps only: av > 0 forward)
                if abs(ev.pa) >= p.sign_min_pa and ev.gait == 1 and math.isfinite(ev.av):
                    self._sign_ev += math.copysign(1.0, ev.pa) * ev.av
                    if self.mount is None and not self._sign_fixed and abs(self._sign_ev) >= p.sign_evidence:
                        self._sign_fixed = 1 if self._sign_ev > 0 else -1
                        # from now on the reference axis is the forward axis
                        if self._ap_ref is not None and self._sign_fixed < 0:
                            self._ap_ref = -self._ap_ref
                            self._sign_ev = -self._sign_ev
                        self._sign_fixed = 1
            elif ev.gait == 1:
                # no gyroscope: walking-like steps only (the AP/vertical phase turns over
                # between walking and running)
                s = self._effective_sign()
                if s != 0 and math.isfinite(ev.av):
                    llr += p.gain_av * s * ev.av
                elif math.isfinite(ev.aav):
                    llr += p.gain_aav * ev.aav
            if llr != 0.0:
                self._n_evidence += 1
        ev.llr = llr
        h.ev = ev
        if self.trace is not None:
            self.trace.append(ev)
        # HMM forward step (the chain's last filtered probability is the prior)
        prior = self._p_last
        ps = p.p_switch
        pf = prior * (1 - ps) + (1 - prior) * ps
        lo = math.log(pf / (1 - pf)) + llr
        lo = max(-30.0, min(30.0, lo))
        h.p_filt = 1.0 / (1.0 + math.exp(-lo))
        self._p_last = h.p_filt

    def _posteriors(self) -> list[float]:
        """P(forward) of every held step given all evidence held so far (forward-backward)."""
        ps = self.p.p_switch
        n = len(self._held)
        post = [0.5] * n
        bf, bb = 1.0, 1.0  # backward messages for forward / backward states
        for k in range(n - 1, -1, -1):
            h = self._held[k]
            pf = h.p_filt if h.ev is not None else 0.5
            af, ab = pf * bf, (1.0 - pf) * bb
            post[k] = af / (af + ab) if af + ab > 0 else 0.5
            llr = h.ev.llr if h.ev is not None else 0.0
            L = math.exp(max(-30.0, min(30.0, llr)))  # e(F) / e(B), up to a common factor
            nf = (1 - ps) * L * bf + ps * bb
            nb = ps * L * bf + (1 - ps) * bb
            z = nf + nb
            bf, bb = nf / z, nb / z
        return post

    def _release(self, keep: int) -> list[Step]:
        """Finalise held steps, keeping the newest ``keep`` (those still waiting for evidence).

        At the start of a chain, a step that would come out "unknown" is held a little longer
        (up to ``max_start_hold`` extra steps) so that later evidence can decide it.
        """
        out: list[Step] = []
        if len(self._held) <= keep:
            return out
        post = self._posteriors()
        n_rel = len(self._held) - keep
        if keep > 0 and not self._chain_decided:
            while n_rel > 0 and abs(2 * post[0] - 1) < self.p.min_confidence \
                    and len(self._held) - n_rel < keep + self.p.max_start_hold:
                n_rel -= 1
                if n_rel == 0:
                    return out
        for k in range(n_rel):
            pfw = post[k]
            conf = abs(2.0 * pfw - 1.0)
            st = self._held[k].step
            if conf >= self.p.min_confidence:
                st.direction = "forward" if pfw > 0.5 else "backward"
                st.direction_confidence = float(conf)
                self._chain_decided = True
            else:
                st.direction = "unknown"
                st.direction_confidence = 0.0
            out.append(st)
        del self._held[:n_rel]
        return out


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
                         params: DirectionParams | None = None,
                         ) -> tuple[list[Step], DirectionEstimator]:
    """Run the streaming stage over given step times of a whole recording (batch helper).

    Returns the finalised steps (time order) and the stage (for ``info()``).
    """
    est = DirectionEstimator(fs_hz=fs_hz, mount=mount, params=params)
    out: list[Step] = []
    for t in np.asarray(steps_s, dtype=float):
        st = Step(t_s=float(t), index=int(round(t * fs_hz)))
        w = step_window(acc_m_s2, gyro_rad_s, fs_hz=fs_hz, t_ic_s=float(t), mount=mount)
        out += est.push(st, w)
    out += est.flush()
    return out, est
