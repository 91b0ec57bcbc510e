"""Initial-contact (step) detection on frames of vertical acceleration (pure numpy/scipy).

Each row is one context window (see :mod:`gait.pipeline`); the rows are processed together
with array operations, and every figure of a row depends only on that row, so the result of a
frame never depends on how many frames were processed at once.

Algorithm, per row:

1. Vertical acceleration ``v`` from gravity (:mod:`gait.signal.preprocess`).
2. **Step period** from the unbiased autocorrelation of ``v`` over the window: the highest
   peak at lags of 60/``max_cadence_spm`` .. 60/``min_cadence_spm`` s; when the winning lag is a
   stride (left-right asymmetry) and half of it also correlates well, the half is taken.
3. **Band-limited vertical acceleration**: ``v`` filtered in the frequency domain with the
   squared magnitude of 2nd-order Butterworth high- and low-pass responses (zero phase, as
   ``filtfilt``) placed at ``highpass_factor`` and ``lowpass_factor`` times the step frequency,
   so that every step leaves one smooth hump whatever the cadence and sampling rate.
4. **Candidates** are local maxima of that signal above ``min_peak_m_s2`` and ``rel_peak`` of the
   window's largest; of two candidates closer than ``min_interval_frac`` step periods the
   higher one wins.
5. **Initial-contact time**: the peak time (parabolic sub-sample interpolation) minus a lag
   ``ic_lag_frac * period + ic_lag_s`` (the hump of pelvic vertical acceleration follows the
   foot strike, during loading response).

References
----------
Zijlstra W., Hof A. L. (2003) Assessment of spatio-temporal gait parameters from trunk
accelerations during human walking. Gait & Posture 18(2), 1-10.
Moe-Nilssen R., Helbostad J. L. (2004) Estimation of gait cycle characteristics by trunk
accelerometry. J Biomech 37(1), 121-126 (autocorrelation step / stride regularity).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import fft as sfft

from .params import AnalysisParams
from .preprocess import gravity_rows, vertical_rows

G0 = 9.80665


@dataclass
class RowDetections:
    """Detections of a stack of rows (all arrays flat over candidates unless noted)."""

    row: np.ndarray  # (K,) int: row of each detection
    peak_pos: np.ndarray  # (K,) float: peak position in samples within the row
    ic_pos: np.ndarray  # (K,) float: IC position in samples within the row
    amp_m_s2: np.ndarray  # (K,) band-limited peak height
    vmin_m_s2: np.ndarray  # (K,) lowest vertical acceleration in the half period before the peak
    period_s: np.ndarray  # (R,) step period per row
    rhythm: np.ndarray  # (R,) autocorrelation at the step period (0..1)
    v: np.ndarray  # (R, L) vertical acceleration
    g_hat: np.ndarray  # (R, 3)
    g_m_s2: np.ndarray  # (R,)


def _lowpass_gain(f: np.ndarray, fc: np.ndarray, order: int = 2) -> np.ndarray:
    return 1.0 / (1.0 + (f / fc) ** (2 * order))


def estimate_period_rows(v: np.ndarray, *, fs_hz: float, params: AnalysisParams) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Step period (s) and rhythm strength per row, from the autocorrelation.

    Returns ``(period_s, rhythm, V)`` where ``V`` is the row spectrum (rfft, zero-padded to
    at least twice the row length) for reuse.
    """
    R, L = v.shape
    nfft = sfft.next_fast_len(2 * L, real=True)
    V = sfft.rfft(v - v.mean(axis=1, keepdims=True), n=nfft, axis=1)
    acf = sfft.irfft(V.real**2 + V.imag**2, n=nfft, axis=1)[:, :L]
    lo = max(1, int(np.floor(fs_hz * 60.0 / params.max_cadence_spm)))
    hi = int(np.ceil(fs_hz * 60.0 / params.min_cadence_spm))
    hi2 = min(2 * hi + 2, L // 2)  # strides up to twice the slowest step
    period = np.full(R, 1.0 / params.default_step_hz)
    rhythm = np.zeros(R)
    if hi2 <= lo + 2:
        return period, rhythm, V
    lags = np.arange(L)
    denom = acf[:, :1] * (L / np.maximum(L - lags[: hi2 + 1], 1))[None, :]
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.where(acf[:, :1] > 0, acf[:, : hi2 + 1] * 1.0 / denom, 0.0)
    seg = r[:, lo:hi2]
    # Local maxima only (a lag at the window edge is not a period).
    is_pk = np.zeros_like(seg, dtype=bool)
    is_pk[:, 1:-1] = (seg[:, 1:-1] >= seg[:, :-2]) & (seg[:, 1:-1] > seg[:, 2:])
    masked = np.where(is_pk, seg, -np.inf)
    best = np.argmax(masked, axis=1)
    ok = np.isfinite(masked[np.arange(R), best])
    T = best + lo  # lag in samples of the best peak
    # Half-lag check: a stride period whose half also correlates is a two-step period.
    out_T = T.astype(float)
    out_r = np.where(ok, masked[np.arange(R), best], 0.0)
    for i in np.nonzero(ok)[0]:
        t = T[i]
        a, b = int(0.4 * t), int(np.ceil(0.6 * t)) + 1
        a = max(a, lo)
        if b - a >= 1 and a < t:
            sub = r[i, a:b]
            j = int(np.argmax(sub))
            if sub[j] >= 0.5 * out_r[i] and sub[j] > 0.1:
                out_T[i] = a + j
                out_r[i] = sub[j]
        elif t > hi:  # only a stride-length lag: not a valid step period
            ok[i] = False
    # Parabolic refinement of the lag.
    idx = out_T.astype(int)
    rows = np.arange(R)
    valid = ok & (idx > 0) & (idx < hi2)
    y0 = r[rows, np.clip(idx - 1, 0, hi2)]
    y1 = r[rows, np.clip(idx, 0, hi2)]
    y2 = r[rows, np.clip(idx + 1, 0, hi2)]
    den = y0 - 2 * y1 + y2
    with np.errstate(invalid="ignore", divide="ignore"):
        delta = np.where(np.abs(den) > 1e-12, 0.5 * (y0 - y2) / den, 0.0)
    delta = np.clip(delta, -0.5, 0.5)
    per = (idx + delta) / fs_hz
    in_range = (per >= 60.0 / params.max_cadence_spm * 0.95) & (per <= 60.0 / params.min_cadence_spm * 1.05)
    valid &= in_range
    period = np.where(valid, per, period)
    rhythm = np.where(valid, np.clip(out_r, 0.0, 1.0), 0.0)
    return period, rhythm, V


def detect_rows(acc_m_s2: np.ndarray, *, fs_hz: float, params: AnalysisParams) -> RowDetections:
    """Detect step candidates in R windows of L samples.

    Parameters
    ----------
    acc_m_s2 : (R, L, 3) float array
        Specific force, sensor frame, m/s^2, no NaN.
    fs_hz : float
        Sampling rate, Hz.
    params : AnalysisParams

    Returns
    -------
    RowDetections
        Candidates anywhere in the rows; the caller keeps those of each row's own region.
    """
    R, L, _ = acc_m_s2.shape
    g_hat, g_norm = gravity_rows(acc_m_s2)
    v = vertical_rows(acc_m_s2, g_hat, g_norm)
    period, rhythm, V = estimate_period_rows(v, fs_hz=fs_hz, params=params)
    nfft = (V.shape[1] - 1) * 2
    if nfft < 2 * L:  # odd fast length
        nfft += 1
    nfft = sfft.next_fast_len(2 * L, real=True)
    f = np.fft.rfftfreq(nfft, d=1.0 / fs_hz)[None, :]
    f_step = 1.0 / period[:, None]
    gain = _lowpass_gain(f, params.lowpass_factor * f_step)
    hp = params.highpass_factor * f_step
    gain = gain * (1.0 - _lowpass_gain(f, hp))
    s = sfft.irfft(V * gain, n=nfft, axis=1)[:, :L]

    # Local maxima (strict on the right so that a plateau gives one candidate).
    pk = np.zeros((R, L), dtype=bool)
    pk[:, 1:-1] = (s[:, 1:-1] >= s[:, :-2]) & (s[:, 1:-1] > s[:, 2:])
    smax = s.max(axis=1, keepdims=True)
    thr = np.maximum(params.min_peak_m_s2, params.rel_peak * smax)
    pk &= s >= thr
    rr, ii = np.nonzero(pk)
    if rr.size:
        hgt = s[rr, ii]
        # Competing neighbours closer than min_interval_frac periods: the higher one wins.
        dmin = params.min_interval_frac * period[rr] * fs_hz
        same_prev = np.r_[False, rr[1:] == rr[:-1]]
        same_next = np.r_[rr[:-1] == rr[1:], False]
        gap_prev = np.r_[np.inf, np.diff(ii).astype(float)]
        gap_next = np.r_[np.diff(ii).astype(float), np.inf]
        h_prev = np.r_[-np.inf, hgt[:-1]]
        h_next = np.r_[hgt[1:], -np.inf]
        lose = (same_prev & (gap_prev < dmin) & (h_prev > hgt)) | (
            same_next & (gap_next < dmin) & (h_next >= hgt)
        )
        keep = ~lose
        rr, ii, hgt = rr[keep], ii[keep], hgt[keep]
    # Sub-sample peak position.
    y0 = s[rr, np.maximum(ii - 1, 0)]
    y1 = s[rr, ii]
    y2 = s[rr, np.minimum(ii + 1, L - 1)]
    den = y0 - 2 * y1 + y2
    with np.errstate(invalid="ignore", divide="ignore"):
        delta = np.where(np.abs(den) > 1e-12, 0.5 * (y0 - y2) / den, 0.0)
    peak_pos = ii + np.clip(delta, -0.5, 0.5)
    per = period[rr]
    ic_pos = peak_pos - (params.ic_lag_frac * per + params.ic_lag_s) * fs_hz
    # Lowest vertical acceleration in the half period before the peak (flight phase in running).
    half = np.maximum((0.5 * per * fs_hz).astype(int), 1)
    vmin = np.empty(rr.size)
    for k in range(rr.size):  # short loop: one per candidate
        a = max(ii[k] - half[k], 0)
        vmin[k] = v[rr[k], a : ii[k] + 1].min()
    return RowDetections(
        row=rr,
        peak_pos=peak_pos,
        ic_pos=ic_pos,
        amp_m_s2=y1 if rr.size else np.zeros(0),
        vmin_m_s2=vmin,
        period_s=period,
        rhythm=rhythm,
        v=v,
        g_hat=g_hat,
        g_m_s2=g_norm,
    )
