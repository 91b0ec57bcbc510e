"""Initial-contact (step) detection on frames of acceleration (pure numpy/scipy).

The analyzer (:mod:`gait.pipeline`) block-averages the stream to an *analysis rate* of about
50 Hz and cuts it into overlapping context windows, one per 1 s frame. Each row here is one
such window; rows are processed together with array operations, and every figure of a row
depends only on that row, so a frame's result never depends on how many frames were processed
at once (nor on how the stream was chunked).

Algorithm, per row:

1. **Gravity and vertical**: the mean specific force over the window is "up"; the vertical
   dynamic acceleration is ``v = acc . g_hat - |g|`` (:mod:`gait.signal.preprocess`).
2. **Step period** from the unbiased autocorrelation of ``v`` over the window (Moe-Nilssen and
   Helbostad 2004): the highest autocorrelation peak at lags of 60/``max_cadence_spm`` ..
   2 x 60/``min_cadence_spm`` s; when that lag is a stride (left/right asymmetry) and half of
   it also correlates (>= half as well), the half is the step period.
3. **Band-limited vertical acceleration** ``s``: ``v`` filtered in the frequency domain with the
   squared magnitudes of 2nd-order Butterworth high- and low-pass responses (zero phase, like
   ``filtfilt``) at ``highpass_factor`` and ``lowpass_factor`` times the step frequency, so each
   step leaves one smooth hump whatever the cadence and the sampling rate.
4. **Steps** are local maxima of ``s`` above ``min_peak_m_s2`` and above ``rel_peak`` of the
   window's largest; of two closer than ``min_interval_frac`` step periods the higher one wins.
5. **Initial-contact time**: the largest norm of the jerk of the acceleration vector
   (band-limited at ``jerk_lowpass_hz``; orientation-free) between ``ic_search_frac`` step
   periods before and ``ic_search_after_frac`` after the hump's peak, refined by parabolic
   interpolation, minus ``ic_lag_s``. The hump of pelvic vertical acceleration follows the foot
   strike (loading response), by 40-100 ms on the dev data depending on style and direction,
   while the jerk peak marks the contact itself (and with real sensors the impact transient,
   which is a jerk peak by definition).

References
----------
Zijlstra W., Hof A. L. (2003) Assessment of spatio-temporal gait parameters from trunk
accelerations during human walking. Gait & Posture 18(2), 1-10.
Moe-Nilssen R., Helbostad J. L. (2004) Estimation of gait cycle characteristics by trunk
accelerometry. J Biomech 37(1), 121-126.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import fft as sfft

from .params import AnalysisParams
from .preprocess import _gravity_vertical_axes

G0 = 9.80665
#: Precision of the spectra (see detect_rows).
FFT_DTYPE = np.float32
#: Size of the one-off allocation of :func:`_settle_heap`, bytes.
HEAP_SETTLE_BYTES = 16 << 20
_heap_settled = False


def _settle_heap() -> None:
    """Free one untouched 16 MB array, once per process, before the first batch of rows.

    A batch of 300 rows allocates and frees some 10 MB of temporaries of ~0.3-0.8 MB each.
    With glibc's default thresholds the first of them are mmap'ed and the rest come from the
    top of the heap, which ``free`` trims back to the system as soon as more than twice the
    mmap threshold is free there: every batch then faults the same pages in again (some
    13 000 page faults, a quarter of the CPU time of an hour of data). glibc raises both
    thresholds when a block above them is freed (to its size and twice its size); this
    allocation, never written to (so it costs no page fault), does that once. Elsewhere
    (other allocators) it is a no-op; it changes no figure.
    """
    global _heap_settled
    _heap_settled = True
    np.empty(HEAP_SETTLE_BYTES, dtype=np.uint8)


@dataclass
class RowDetections:
    """Step detections of a stack of rows (flat arrays over detections unless noted)."""

    row: np.ndarray  #: (K,) int: row of each detection
    peak_pos: np.ndarray  #: (K,) float: hump peak position, samples within the row
    ic_pos: np.ndarray  #: (K,) float: initial-contact position, samples within the row
    amp_m_s2: np.ndarray  #: (K,) band-limited hump height
    vmin_m_s2: np.ndarray  #: (K,) lowest vertical acceleration in the 0.25 s before the IC
    period_s: np.ndarray  #: (R,) step period per row
    rhythm: np.ndarray  #: (R,) autocorrelation at the step period (0..1)
    g_hat: np.ndarray  #: (R, 3)
    g_m_s2: np.ndarray  #: (R,)
    #: (K,) bool: inferred from the rhythm (step 3b), not from a hump of its own; None = none.
    virtual: np.ndarray | None = None
    #: (R,) variance of the vertical acceleration over the first ``split`` samples of each row
    #: and over the rest (m^2/s^4), when detect_rows was given ``split``, for the rows without
    #: a detection in the own region (0 for the others); else None.
    var_before: np.ndarray | None = None
    var_after: np.ndarray | None = None


def _lowpass_gain(f: np.ndarray, fc: np.ndarray | float) -> np.ndarray:
    """Squared magnitude of a 2nd-order Butterworth low-pass at ``fc`` (as ``filtfilt`` gives)."""
    x = f / fc
    if isinstance(x, np.ndarray):  # the same figures, in place
        x *= x
        x *= x
        x += 1.0
        return np.divide(1.0, x, out=x)
    x = x * x
    return 1.0 / (1.0 + x * x)


def _vertical_spectrum(F: np.ndarray, g_hat: np.ndarray) -> np.ndarray:
    """``sum_k F[:, k] * g_hat[:, k]`` (R, nf) for complex64 spectra ``F`` (R, 3, nf), as real
    arithmetic on the interleaved (re, im) pairs: the same figures as the complex products
    (a real factor scales both parts), without einsum's mixed-type overhead."""
    x = F.view(FFT_DTYPE)  # (R, 3, 2 nf)
    g = g_hat.astype(FFT_DTYPE)[:, :, None]
    V = x[:, 0] * g[:, 0]
    V += x[:, 1] * g[:, 1]
    V += x[:, 2] * g[:, 2]
    return V.view(F.dtype)


def _parabolic(y0: np.ndarray, y1: np.ndarray, y2: np.ndarray) -> np.ndarray:
    den = y0 - 2.0 * y1 + y2
    ok = np.abs(den) > 1e-12
    d = np.divide(0.5 * (y0 - y2), den, out=np.zeros_like(y1), where=ok)
    return np.minimum(np.maximum(d, -0.5, out=d), 0.5, out=d)  # (np.clip's per-call overhead is large)


def estimate_period_rows(F: np.ndarray, V: np.ndarray, L: int, *, fs_hz: float,
                         params: AnalysisParams) -> tuple[np.ndarray, np.ndarray]:
    """Step period (s) and rhythm strength (0..1) per row, from the mean of the normalised
    autocorrelations of the vertical and of the horizontal acceleration (independent of the
    sensor orientation; the anterior-posterior axis marks every step even when the vertical
    one, off-centre on the hip, repeats mostly per stride).

    Parameters
    ----------
    F : (R, 3, nfft // 2 + 1) complex array
        Spectra of the mean-removed axes of each row, zero-padded to ``nfft >= 2 L``.
    V : (R, nfft // 2 + 1) complex array
        Spectrum of the vertical acceleration (``F`` projected on gravity).
    L : int
        Row length, samples.
    fs_hz : float
        Sampling rate, Hz.

    Returns
    -------
    period_s, rhythm : (R,) float arrays
        Rows without a rhythm get ``1 / default_step_hz`` and rhythm 0.
    """
    R = F.shape[0]
    nfft = sfft.next_fast_len(2 * L, real=True)
    period = np.full(R, 1.0 / params.default_step_hz)
    rhythm = np.zeros(R)
    lo = max(1, int(np.floor(fs_hz * 60.0 / params.max_cadence_spm)) - 1)  # -1: a peak needs a left neighbour
    hi = int(np.ceil(fs_hz * 60.0 / params.min_cadence_spm))
    top = min(2 * hi + 2, L // 2)
    if R == 0 or top <= lo + 3:
        return period, rhythm
    # Autocorrelations of the vertical and of the horizontal plane (total power minus vertical
    # power; the split is exact for the row's fixed gravity direction), each normalised, then
    # averaged: the vertical marks steps on most people, the anterior-posterior axis on all.
    f = np.fft.rfftfreq(nfft, d=1.0 / fs_hz)
    hp = (1.0 - _lowpass_gain(f, params.acf_highpass_hz))[None, :].astype(V.real.dtype)
    # Power spectra Pv = |V|^2 hp and Ph = max(sum_k |F_k|^2 hp - Pv, 0), written straight
    # into one (R, 2, nf) array from the interleaved (re, im) pairs (same figures, fewer passes).
    nf = V.shape[-1]
    P = np.empty((R, 2, nf), dtype=hp.dtype)
    Pv, Ph = P[:, 0], P[:, 1]
    sq = V.view(hp.dtype)
    sq = sq * sq
    np.add(sq[:, 0::2], sq[:, 1::2], out=Pv)
    Pv *= hp
    sq = F.view(hp.dtype)
    sq = sq * sq  # (R, 3, 2 nf)
    p3 = np.add(sq[:, :, 0::2], sq[:, :, 1::2])  # (R, 3, nf): |F_k|^2
    np.add(p3[:, 0], p3[:, 1], out=Ph)
    Ph += p3[:, 2]
    Ph *= hp
    Ph -= Pv
    np.maximum(Ph, 0.0, out=Ph)
    acf = sfft.irfft(P, n=nfft, axis=2)[:, :, : top + 1].astype(np.float64)  # (R, 2, lags)
    a0 = acf[:, :, :1]
    scale = L / (L - np.arange(top + 1, dtype=float))
    with np.errstate(invalid="ignore", divide="ignore"):
        ok0 = a0 > 1e-9
        rr2 = acf / np.where(ok0, a0, 1.0)
        rr2 *= scale
        if not ok0.all():  # (np.where with a scalar is slow on big arrays)
            rr2[~ok0[:, :, 0]] = 0.0
    # The mean of the two is the main estimate; where it finds no period (e.g. a slow walk
    # whose horizontal plane is dominated by sway at stride frequency), their maximum is used.
    p_mean, r_mean, ok_mean = _period_from_acf(0.5 * (rr2[:, 0] + rr2[:, 1]), lo, hi, top, fs_hz, params)
    period = np.where(ok_mean, p_mean, period)
    rhythm = np.where(ok_mean, np.clip(r_mean, 0.0, 1.0), 0.0)
    redo = np.nonzero(~ok_mean)[0]  # (each row on its own: the same figures in any batch)
    if redo.size:
        p_max, r_max, ok_max = _period_from_acf(np.maximum(rr2[redo, 0], rr2[redo, 1]), lo, hi, top,
                                                fs_hz, params)
        period[redo] = np.where(ok_max, p_max, period[redo])
        rhythm[redo] = np.where(ok_max, np.clip(r_max, 0.0, 1.0), 0.0)
    return period, rhythm


def _period_from_acf(r: np.ndarray, lo: int, hi: int, top: int, fs_hz: float,
                     params: AnalysisParams) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Step period (s), its autocorrelation and validity per row from normalised ACFs ``r``.

    The step is the FIRST autocorrelation peak that reaches ``half_lag_ratio`` of the best one
    (the best is often a stride, or several steps, when left and right steps differ); its period
    is refined as the best lag divided by the whole number of steps it spans.
    """
    R = r.shape[0]
    seg = r[:, lo:top]
    pk = np.zeros(seg.shape, dtype=bool)
    pk[:, 1:-1] = (seg[:, 1:-1] >= seg[:, :-2]) & (seg[:, 1:-1] > seg[:, 2:])
    masked = seg.copy()
    np.putmask(masked, ~pk, -np.inf)
    rows = np.arange(R)
    best = np.argmax(masked, axis=1)
    best_r = masked[rows, best]
    ok = np.isfinite(best_r)
    T = best + lo
    strong = pk & (seg >= params.half_lag_ratio * best_r[:, None]) & (seg > 0.15)
    first = np.argmax(strong, axis=1) + lo
    Ti = np.minimum(np.maximum(T, 1), top - 1)  # (np.clip has a large per-call overhead)
    rf = r.ravel()  # (flat gathers: much cheaper than r[rows, i])
    at = rows * r.shape[1] + Ti
    Tb = Ti + _parabolic(rf[at - 1], rf[at], rf[at + 1])
    Fi = np.minimum(np.maximum(first, 1), top - 1)
    at = rows * r.shape[1] + Fi
    Tf = Fi + _parabolic(rf[at - 1], rf[at], rf[at + 1])
    m = np.maximum(np.round(Tb / Tf), 1.0)
    per = np.where(np.abs(Tb / m - Tf) <= 0.15 * Tf, Tb / m, Tf) / fs_hz
    ok &= strong.any(axis=1) & (first <= hi)  # a stride-length lag alone is not a step period
    return per, rf[at], ok


def _fill_gaps(rr: np.ndarray, ii: np.ndarray, hgt: np.ndarray, period_n: np.ndarray,
               rhythm: np.ndarray, fs_hz: float, params: AnalysisParams):
    """Steps the band-limited vertical acceleration does not mark, inferred from the rhythm.

    Where two consecutive humps of a row lie ``gapfill_min_ratio`` .. ``gapfill_max_ratio``
    step periods apart (the period comes from the vertical and horizontal autocorrelations,
    so it is the step even when the vertical repeats per stride or is weak), the missing
    steps are placed evenly between them; their initial contact is then searched like any
    other (jerk maximum). Returns the merged (row, position, height, virtual) arrays.
    """
    d = np.diff(ii).astype(float)
    same = rr[1:] == rr[:-1]
    per = period_n[rr[1:]]
    ratio = d / per
    n_ins = np.rint(ratio).astype(int) - 1
    ok = same & (ratio >= params.gapfill_min_ratio) & (ratio <= params.gapfill_max_ratio) & (n_ins >= 1)
    ok &= rhythm[rr[1:]] >= params.gapfill_min_rhythm
    ok &= per >= 60.0 / params.gapfill_max_cadence_spm * fs_hz  # walking, not running
    virtual = np.zeros(rr.size, dtype=bool)
    if not ok.any():
        return rr, ii, hgt, virtual
    j = np.nonzero(ok)[0]
    reps = n_ins[j]
    jj = np.repeat(j, reps)
    k = np.arange(reps.sum()) - np.repeat(np.cumsum(reps) - reps, reps) + 1  # 1..n per gap
    pos = np.rint(ii[jj] + d[jj] * k / np.repeat(reps + 1, reps)).astype(ii.dtype)
    h = np.minimum(hgt[jj], hgt[jj + 1])
    rr2 = np.concatenate([rr, rr[jj]])
    ii2 = np.concatenate([ii, pos])
    # by row, then position (stable, like np.lexsort((ii2, rr2)), at a fraction of its cost:
    # the two halves are sorted runs, which a stable sort merges)
    order = np.argsort(rr2 * (int(ii2.max()) + 1) + ii2, kind="stable")
    return (rr2[order], ii2[order], np.concatenate([hgt, h])[order],
            np.concatenate([virtual, np.ones(pos.size, dtype=bool)])[order])


def _split_var(v: np.ndarray, split: int) -> tuple[np.ndarray, np.ndarray]:
    """Variance of each row of ``v`` (R, L) over samples ``[0, split)`` and ``[split, L)``:
    sequential row-wise sums (``reduceat``), so each figure depends only on its row."""
    L = v.shape[1]
    idx = [0, split]
    s1 = np.add.reduceat(v, idx, axis=1)
    s2 = np.add.reduceat(v * v, idx, axis=1)
    n = np.array([split, L - split], dtype=float)
    s1 /= n
    s2 /= n
    s2 -= s1 * s1
    return s2[:, 0], s2[:, 1]


def detect_rows(acc_m_s2: np.ndarray, *, fs_hz: float, params: AnalysisParams,
                own: tuple[int, int] | None = None, split: int = 0) -> RowDetections:
    """Detect steps in R windows of L samples.

    Parameters
    ----------
    acc_m_s2 : (R, L, 3) float array
        Specific force, sensor frame, m/s^2, no NaN.
    fs_hz : float
        Sampling rate of the rows, Hz.
    params : AnalysisParams
    own : (int, int), optional
        The part of every row whose steps the caller keeps (samples ``own[0]:own[1]``). Humps
        too far from it to give an initial contact inside it are dropped early (a speed-up that
        does not change the steps of that region). Default: the whole row.
    split : int, optional
        When > 0, also the variance of the vertical acceleration before and after this sample
        of each row without a detection in the own region (``var_before``, ``var_after``; each
        figure from the row's own samples).

    Returns
    -------
    RowDetections
        Detections (sorted by row, then position); the caller keeps those of each row's own
        region.
    """
    R_all, L, _ = acc_m_s2.shape
    if not _heap_settled and R_all > 8:
        _settle_heap()
    nfft = sfft.next_fast_len(2 * L, real=True)
    a, g_mean, g_hat_all, g_norm_all, v = _gravity_vertical_axes(acc_m_s2)  # a: (R, 3, L)
    v_all = v

    def split_vars(found: np.ndarray | None) -> dict:
        # var_before / var_after of the rows without a detection in the own region (the
        # others get 0: the caller uses them only for rows that found no step)
        if not 0 < split < L:
            return {}
        vb, va = np.zeros(R_all), np.zeros(R_all)
        sel = np.arange(R_all) if found is None else np.flatnonzero(~found)
        if sel.size:
            vb[sel], va[sel] = _split_var(v_all[sel], split)
        return {"var_before": vb, "var_after": va}

    period_all = np.full(R_all, 1.0 / params.default_step_hz)
    rhythm_all = np.zeros(R_all)
    # Rows too quiet to hold a step (vertical range below twice the smallest hump) are skipped.
    moving = np.nonzero(np.ptp(v, axis=1) >= 2.0 * params.min_peak_m_s2)[0] if L else np.zeros(0, int)
    empty = np.zeros(0)
    if moving.size == 0:
        return RowDetections(np.zeros(0, int), empty, empty, empty, empty, period_all, rhythm_all,
                             g_hat_all, g_norm_all, **split_vars(None))
    if moving.size < R_all:
        v, a, g_mean = v[moving], a[moving], g_mean[moving]
        if params.jerk_stride_notch <= 0:
            acc_m_s2 = acc_m_s2[moving]
    g_hat = g_hat_all[moving]
    R = moving.size
    # Spectra in single precision (FFT_DTYPE): twice as fast, and the step figures need far
    # less than its ~1e-7 relative precision; everything after the FFTs is double again.
    # The mean-removed axes go into a zero-padded buffer (R, 3, nfft).
    buf = np.empty((R, 3, nfft), dtype=FFT_DTYPE)
    buf[:, :, L:] = 0.0
    a -= g_mean[:, :, None]  # (a is this function's own copy; in place, then one cast)
    buf[:, :, :L] = a
    F = sfft.rfft(buf, axis=2)  # (R, 3, nf): spectra of the mean-removed axes
    V = _vertical_spectrum(F, g_hat)  # spectrum of the vertical (mean removed)
    period, rhythm = estimate_period_rows(F, V, L, fs_hz=fs_hz, params=params)
    period_all[moving] = period
    rhythm_all[moving] = rhythm
    f = np.fft.rfftfreq(nfft, d=1.0 / fs_hz)
    f_step = 1.0 / period[:, None]
    gain = _lowpass_gain(f[None, :], params.lowpass_factor * f_step)
    gain *= 1.0 - _lowpass_gain(f[None, :], params.highpass_factor * f_step)
    s = sfft.irfft(V * gain.astype(FFT_DTYPE), n=nfft, axis=1)[:, :L].astype(np.float64)

    # Local maxima (strict on the right so that a plateau gives one candidate).
    # (on the flat rows, s is C-contiguous: one long loop per test instead of one per row;
    # the first column of every row is then cleared and its last set apart)
    sf = s.ravel()
    pk = np.empty((R, L), dtype=bool)
    pf = pk.ravel()
    pf[0] = False
    pf[-1] = False
    np.greater_equal(sf[1:-1], sf[:-2], out=pf[1:-1])
    pf[1:-1] &= sf[1:-1] > sf[2:]
    pk[:, 0] = False
    # Still rising at the end of the row: the hump of a step just before the end of the data
    # (only rows cut by the end of a recording or a gap can own such a step).
    pk[:, -1] = s[:, -1] > s[:, -2]
    thr = np.maximum(params.min_peak_m_s2, params.rel_peak * s.max(axis=1, keepdims=True))
    pk &= s >= thr
    has_rhythm = rhythm >= params.min_rhythm
    if not has_rhythm.all():  # (all rows with the default min_rhythm = 0)
        pk[~has_rhythm] = False  # no steps without a rhythm (gestures, noise)
    at = np.flatnonzero(pf)  # (much cheaper than the 2-D np.nonzero)
    if at.size == 0:
        return RowDetections(at, empty, empty, empty, empty, period_all, rhythm_all, g_hat_all, g_norm_all,
                             **split_vars(None))
    rr = at // L
    ii = at - rr * L
    hgt = sf[at]
    # Competing neighbours closer than min_interval_frac periods: the higher one wins.
    dmin = params.min_interval_frac * period[rr] * fs_hz
    same = rr[1:] == rr[:-1]
    gap = np.diff(ii).astype(float)
    close = same & (gap < dmin[1:])
    lose = np.zeros(rr.size, dtype=bool)
    lose[1:] |= close & (hgt[:-1] > hgt[1:])
    lose[:-1] |= close & (hgt[1:] >= hgt[:-1])
    keep = ~lose
    rr, ii, hgt = rr[keep], ii[keep], hgt[keep]
    if params.gapfill_max_ratio > 0 and rr.size > 1:
        rr, ii, hgt, virtual = _fill_gaps(rr, ii, hgt, period * fs_hz, rhythm, fs_hz, params)
    else:
        virtual = np.zeros(rr.size, dtype=bool)
    if own is not None:
        # A hump gives an IC between ic_search_frac periods before it and ic_search_after_frac
        # after it (minus ic_lag_s): only humps that can reach the own region matter.
        pmax = 60.0 / params.min_cadence_spm * 1.05 * fs_hz
        m_before = int(np.ceil(params.ic_search_after_frac * pmax)) + 2
        m_after = int(np.ceil(params.ic_search_frac * pmax + max(params.ic_lag_s, 0.0) * fs_hz)) + 2
        near = (ii >= own[0] - m_before) & (ii < own[1] + m_after)
        if virtual.any() and params.gapfill_back_s > 0:
            near |= virtual & (ii >= own[0] - m_before - int(params.gapfill_back_s * fs_hz)) & (ii < own[1])
        if not near.all():
            rr, ii, hgt, virtual = rr[near], ii[near], hgt[near], virtual[near]
        if rr.size == 0:
            return RowDetections(rr, empty, empty, empty, empty, period_all, rhythm_all, g_hat_all,
                                 g_norm_all, **split_vars(None))
    at = rr * L + ii  # (flat gathers: much cheaper than s[rr, i])
    peak_pos = ii + _parabolic(sf[at - (ii > 0)], hgt, sf[at + (ii < L - 1)])
    if virtual.any():
        peak_pos[virtual] = ii[virtual]
    per = period[rr]

    # Jerk norm of the acceleration vector around each hump: derivative-of-Gaussian filter
    # (-6 dB at jerk_lowpass_hz), evaluated only in the search windows.
    before = np.maximum((params.ic_search_frac * per * fs_hz).astype(int), 1)
    after = np.maximum((params.ic_search_after_frac * per * fs_hz).astype(int), 0)
    sigma_s = np.sqrt(2.0 * np.log(2.0)) / (2.0 * np.pi * min(params.jerk_lowpass_hz, 0.45 * fs_hz))
    hw = max(1, int(np.ceil(3.0 * sigma_s * fs_hz)))
    tk = np.arange(-hw, hw + 1) / fs_hz
    kern = (tk / sigma_s**2) * np.exp(-0.5 * (tk / sigma_s) ** 2)  # correlating gives +d/dt
    width = int((before + after).max()) + 3  # one extra sample each side for interpolation
    start = ii - before - 1
    cols = np.arange(width)
    wpos = start[:, None] + cols  # (K, width): row positions of the search windows
    if params.jerk_stride_notch > 0:
        # Jerk in the frequency domain, for the rows that hold a hump: derivative of Gaussian
        # times notches at the odd harmonics of the stride frequency (their left/right
        # alternating component would shift the jerk maximum of every other step).
        # rows holding a hump and each hump's index among them (rr is sorted: as np.unique's
        # return_inverse, without its sort)
        new = np.empty(rr.size, dtype=bool)
        new[:1] = True
        np.not_equal(rr[1:], rr[:-1], out=new[1:])
        ur = rr[new]
        inv = np.cumsum(new) - 1
        w = 2.0 * np.pi * f
        dog = (w * np.exp(-0.5 * (w * sigma_s) ** 2)).astype(FFT_DTYPE)  # |derivative of Gaussian|
        x = f.astype(FFT_DTYPE)[None, :] * period[ur].astype(FFT_DTYPE)[:, None] - FFT_DTYPE(0.5)
        d = x - np.rint(x)  # distance to the nearest odd stride harmonic, in step frequencies
        d *= FFT_DTYPE(1.0 / params.jerk_stride_notch)
        d *= d
        d *= FFT_DTYPE(-0.5)
        g = 1.0 - np.exp(d)
        g *= dog  # (U, nf): the response is 1j * g
        resp = np.zeros(g.shape, dtype=F.dtype)
        resp.imag = g
        J = sfft.irfft((F if ur.size == R else F[ur]) * resp[:, None, :], n=nfft, axis=2)  # (U, 3, nfft)
        # |J|^2 only in the search windows (K, width), by flat gathers of the three axes
        Jf = J.ravel()
        at = np.minimum(np.maximum(wpos, 0), L - 1)
        at += (inv * (3 * nfft))[:, None]
        j0, j1, j2 = Jf[at], Jf[at + nfft], Jf[at + 2 * nfft]
        if params.jerk_fall_weight != 1.0:
            gk = g_hat[rr].astype(FFT_DTYPE)
            jv = j0 * gk[:, 0:1] + j1 * gk[:, 1:2] + j2 * gk[:, 2:3]
            np.minimum(jv, 0.0, out=jv)
            jv *= jv
            jv *= FFT_DTYPE(1.0 - params.jerk_fall_weight)
        j0 *= j0
        j1 *= j1
        j2 *= j2
        j0 += j1
        j0 += j2
        if params.jerk_fall_weight != 1.0:
            j0 -= jv
            np.maximum(j0, 0.0, out=j0)
        jn = np.sqrt(j0)  # (single precision: the maximum is found on these, refined in double)
    else:
        gpos = np.clip(start[:, None] + np.arange(-hw, width + hw)[None, :], 0, L - 1)
        Ag = acc_m_s2[rr[:, None], gpos]  # (K, width + 2 hw, 3)
        Jg = kern[0] * Ag[:, 0:width]
        for t in range(1, 2 * hw + 1):
            Jg += kern[t] * Ag[:, t : t + width]  # (K, width, 3)
        Jg *= Jg
        jn = np.sqrt(Jg.sum(axis=2))
    # The search window of each hump: columns 1 .. before + after + 1, inside the row (away
    # from its first and last sample).
    lo_e = np.maximum(1 - start, 1)
    hi_e = np.minimum(before + after + 1, L - 2 - start)
    vals = jn.copy()
    np.putmask(vals, (cols < lo_e[:, None]) | (cols > hi_e[:, None]), -np.inf)
    jb = np.argmax(vals, axis=1)
    jb = np.minimum(np.maximum(jb, 1), width - 2)
    at = np.arange(0, rr.size * width, width) + jb  # (jn is C-contiguous: flat gathers)
    jnf = jn.ravel()
    jpk = jnf[at].astype(np.float64)
    d = _parabolic(jnf[at - 1].astype(np.float64), jpk, jnf[at + 1].astype(np.float64))
    ic_pos = start + jb + d - params.ic_lag_s * fs_hz
    # A jerk maximum on the first samples of a row means the contact began before the data
    # (start of a recording or after a gap): no reliable IC, no step. So does a maximum on
    # either edge of a search window that the start of the row cuts: the true maximum may lie
    # outside what the window could see (on the dev data, spurious first steps of short
    # running takes 0.06-0.1 s after the start).
    first = (start + jb) <= 1
    cut = start < 0
    if cut.any():
        first |= cut & ((jb <= lo_e) | (jb >= hi_e))
    if virtual.any() and params.gapfill_min_jerk_frac > 0:
        # An inferred step needs a contact: a jerk peak comparable to those of the row's real
        # steps (a pause between two walks has none).
        for r in np.unique(rr[virtual]).tolist():
            inrow = rr == r
            real = inrow & ~virtual
            ref = float(np.median(jpk[real])) if real.any() else 0.0
            first |= inrow & virtual & (jpk < params.gapfill_min_jerk_frac * ref)
    if first.any():
        keep = ~first
        rr, ii, hgt, peak_pos, per, ic_pos = rr[keep], ii[keep], hgt[keep], peak_pos[keep], per[keep], ic_pos[keep]
        virtual = virtual[keep]

    # Lowest vertical acceleration in the 0.25 s before the IC (flight phase when running).
    wv = max(2, int(round(0.25 * fs_hz)))
    icn = np.minimum(np.maximum(np.round(ic_pos).astype(int), 0), L - 1)
    vpos = icn[:, None] - np.arange(wv)[None, :]
    # (v is C-contiguous; vpos <= L - 1.) Positions before the row read its first sample, which
    # such a window holds anyway (it runs down to 0): the minimum is that of the window's part
    # inside the row.
    vmin = v.ravel()[(rr * L)[:, None] + np.maximum(vpos, 0)].min(axis=1)
    extra = {}
    if 0 < split < L:
        o0, o1 = own if own is not None else (0, L)
        found = np.zeros(R_all, dtype=bool)
        found[moving[rr][(ic_pos >= o0) & (ic_pos < o1)]] = True
        extra = split_vars(found)
    return RowDetections(
        row=moving[rr],
        peak_pos=peak_pos,
        ic_pos=ic_pos,
        amp_m_s2=hgt,
        vmin_m_s2=vmin,
        period_s=period_all,
        rhythm=rhythm_all,
        g_hat=g_hat_all,
        g_m_s2=g_norm_all,
        virtual=virtual,
        **extra,
    )


#: Boxcar kernels of backward_contact_pos by length (read only).
_BOXCAR: dict[int, np.ndarray] = {}


def backward_contact_pos(acc_m_s2: np.ndarray, axis: np.ndarray, ic_pos: float, *, fs_hz: float,
                         period_s: float, params: AnalysisParams) -> float | None:
    """Initial contact of a backward walking step from the forward acceleration, or None.

    In backward walking the forward (anterior) acceleration of the pelvis falls to a sharp
    minimum at foot contact and rises steeply after it, in every style of the dev data, while
    the vertical marks the contact weakly in some (the acted "proud" walks put the jerk
    maximum up to 0.3 s late). This finds that minimum near the jerk-based contact.

    Parameters
    ----------
    acc_m_s2 : (N, 3) float array
        Specific force around the step, sensor frame, m/s^2.
    axis : (3,) float array
        Unit horizontal forward axis in the sensor frame.
    ic_pos : float
        The jerk-based initial contact, samples into ``acc_m_s2``.
    fs_hz : float
        Sampling rate, Hz.
    period_s : float
        Step period, s.
    params : AnalysisParams
        ``back_ic_*`` fields.

    Returns
    -------
    float or None
        The contact, samples into ``acc_m_s2`` (minimum + ``back_ic_offset_s``); None when the
        window does not hold a sharp minimum (or is cut by the ends of ``acc_m_s2``).
    """
    T = min(float(period_s), 1.2)
    if not (T > 0 and math.isfinite(ic_pos)):
        return None
    w = max(1, int(round(0.05 * fs_hz)))  # boxcar: about a 9 Hz low-pass
    h = max(1, int(round(0.08 * fs_hz)))
    i0 = int(math.floor(ic_pos - params.back_ic_before_frac * T * fs_hz))
    i1 = int(math.ceil(ic_pos + params.back_ic_after_frac * T * fs_hz)) + 1
    lo, hi = i0 - h - w, i1 + h + w
    if lo < 0 or hi > acc_m_s2.shape[0] or i1 - i0 < 3:
        return None
    ap = acc_m_s2[lo:hi] @ axis  # the forward acceleration, only where it is needed
    box = _BOXCAR.get(w)
    if box is None:
        box = _BOXCAR[w] = np.full(w, 1.0 / w)
    xs = np.convolve(ap, box, mode="same")
    a, b = i0 - lo, i1 - lo
    seg = xs[a:b]
    j = a + int(seg.argmin())
    span = float(seg.max() - xs[j])
    y0, y1, y2 = xs[j - 1 : j + 2].tolist()
    if not span > 0 or 0.5 * (float(xs[j - h]) + float(xs[j + h])) - y1 < params.back_ic_min_sharpness * span:
        return None
    den = y0 - 2.0 * y1 + y2
    d = min(0.5, max(-0.5, 0.5 * (y0 - y2) / den)) if abs(den) > 1e-12 else 0.0
    return lo + j + d + params.back_ic_offset_s * fs_hz
