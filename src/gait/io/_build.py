"""One policy for every format: units, the uniform clock, repairs and gaps.

See ``docs/formats.md`` ("Time and units policy") for the rules implemented here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta

import numpy as np

from ..errors import InputError, SignalError
from ..frames import parse_mount
from ..types import (ACC_TO_M_S2, GYRO_TO_RAD_S, MAX_INTERPOLATED_GAP_S, MIN_DURATION_S,
                     MIN_FS_HZ, Gap, Recording, RecordingInfo)
from ._common import RawData, Stream

#: Share of out-of-order stamps we sort; more is an error.
MAX_UNSORTED_SHARE = 0.01
#: Share of rows that may be NaN (missing) before the file is rejected.
MAX_NAN_SHARE = 0.2
#: Share of repeated stamps we drop (keep the first); more means a clock too coarse to use.
MAX_DUPLICATE_SHARE = 0.2
#: Median |a| bands (raw units) that identify the acceleration unit.
ACC_BANDS = {"g": (0.75, 1.3), "m/s^2": (7.4, 12.7), "mg": (750.0, 1300.0)}
#: A gyro with 99th-percentile |w| above this (raw units) is taken as deg/s when nothing says.
GYRO_DEG_THRESHOLD = 20.0


def normalise_acc_unit(u: str | None) -> str | None:
    if u is None:
        return None
    t = u.strip().lower().replace(" ", "")
    table = {"g": "g", "m/s2": "m/s^2", "m/s^2": "m/s^2", "ms2": "m/s^2", "ms-2": "m/s^2",
             "mps2": "m/s^2", "mg": "mg"}
    if t not in table:
        raise InputError(f"unknown acceleration unit {u!r}; use g, m/s2 or mg")
    return table[t]


def normalise_gyro_unit(u: str | None) -> str | None:
    if u is None:
        return None
    t = u.strip().lower().replace(" ", "")
    table = {"deg/s": "deg/s", "dps": "deg/s", "degs": "deg/s", "rad/s": "rad/s", "rads": "rad/s",
             "mdps": "mdps"}
    if t not in table:
        raise InputError(f"unknown gyro unit {u!r}; use deg/s or rad/s")
    return table[t]


#: Highest rate ``--fs`` may resample to, Hz (the analysis needs at most 400 Hz; far above this
#: a long recording would not fit in memory).
MAX_RESAMPLE_FS_HZ = 2000.0


@dataclass
class Options:
    format: str | None = None
    acc_unit: str | None = None
    gyro_unit: str | None = None
    fs_hz: float | None = None
    mount: object = None

    @classmethod
    def make(cls, format=None, acc_unit=None, gyro_unit=None, fs_hz=None, mount=None) -> "Options":
        if fs_hz is not None:
            fs_hz = float(fs_hz)
            if not (math.isfinite(fs_hz) and fs_hz > 0):
                raise InputError(f"--fs must be a positive rate in Hz, got {fs_hz}")
            if fs_hz > MAX_RESAMPLE_FS_HZ:
                raise InputError(f"--fs {fs_hz:g} Hz is more than the {MAX_RESAMPLE_FS_HZ:g} Hz "
                                 "gait resamples to; leave --fs out to keep the file's own rate")
        return cls(format=format, acc_unit=normalise_acc_unit(acc_unit),
                   gyro_unit=normalise_gyro_unit(gyro_unit), fs_hz=fs_hz, mount=mount)


# --------------------------------------------------------------------------- cleaning


@dataclass
class Cleaned:
    t: np.ndarray
    x: np.ndarray
    n_nan: int
    n_dup: int
    n_unsorted: int


def clean_stream(s: Stream, what: str, label: str) -> Cleaned:
    """Drop NaN rows, sort a few out-of-order stamps, drop repeated stamps (keep the first)."""
    t = np.asarray(s.t_s, dtype=np.float64)
    x = np.asarray(s.xyz, dtype=np.float64)
    n = len(t)
    if n == 0:
        raise InputError(f"no {what} data rows", path=label)
    ok = np.isfinite(t) & np.isfinite(x).all(axis=1)
    n_nan = int(n - ok.sum())
    if n_nan:
        share = n_nan / n
        if share > MAX_NAN_SHARE:
            run_s = _longest_false_run_s(ok, t)
            raise SignalError(
                f"{what} is missing (NaN or empty) in {share:.0%} of rows"
                + (f", longest run {run_s:.2f} s" if run_s is not None else "")
                + f"; at most {MAX_NAN_SHARE:.0%} can be treated as gaps", path=label)
        t, x = t[ok], x[ok]
    if len(t) < 2:
        raise SignalError(f"only {len(t)} {what} sample(s)", path=label)
    d = np.diff(t)
    n_back = int((d < 0).sum())
    n_unsorted = 0
    if n_back:
        if n_back / len(d) > MAX_UNSORTED_SHARE:
            raise InputError(
                f"{what} time stamps go backwards at {n_back} of {len(d)} rows "
                f"({n_back / len(d):.1%}, more than {MAX_UNSORTED_SHARE:.0%}): not one continuous "
                "recording?", path=label)
        order = np.argsort(t, kind="stable")
        n_unsorted = int((order != np.arange(len(t))).sum())
        t, x = t[order], x[order]
        d = np.diff(t)
    dup = d == 0
    n_dup = int(dup.sum())
    if n_dup:
        if n_dup / len(t) > MAX_DUPLICATE_SHARE:
            raise InputError(
                f"{n_dup / len(t):.0%} of the {what} time stamps repeat: the clock is too coarse "
                "to place the samples", path=label)
        keep = np.concatenate(([True], ~dup))
        t, x = t[keep], x[keep]
    return Cleaned(t=t, x=x, n_nan=n_nan, n_dup=n_dup, n_unsorted=n_unsorted)


def _longest_false_run_s(ok: np.ndarray, t: np.ndarray) -> float | None:
    bad = ~ok
    if not bad.any():
        return None
    edges = np.diff(np.concatenate(([0], bad.astype(np.int8), [0])))
    starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    i = int(np.argmax(stops - starts))
    a, b = starts[i], stops[i]
    ta = t[a - 1] if a > 0 and np.isfinite(t[a - 1]) else None
    tb = t[b] if b < len(t) and np.isfinite(t[b]) else None
    if ta is None or tb is None:
        return None
    return float(tb - ta)


# --------------------------------------------------------------------------- units


def decide_acc_unit(c: Cleaned, s: Stream, raw: RawData, opts: Options, label: str) -> tuple[str, str]:
    """Unit of the raw acceleration and how it was decided."""
    sub = c.x[:: max(1, len(c.x) // 1_000_000)]
    mag = np.sqrt(np.einsum("ij,ij->i", sub, sub))
    med = float(np.median(mag))
    if not np.any(c.x):
        raise SignalError("the acceleration is all zero (sensor not recording?)", path=label)
    if float(np.max(np.ptp(c.x, axis=0))) == 0.0:
        raise SignalError(f"the acceleration is constant (|a| = {med:g} throughout): no movement "
                          "or sensor data recorded", path=label)
    detected = next((u for u, (lo, hi) in ACC_BANDS.items() if lo <= med <= hi), None)
    how = f"median |a| = {med:.3g}"
    if detected is None:
        # vigorous movement (sprinting) spreads |a| far from gravity; the mean vector over the
        # recording is still gravity when the sensor keeps its orientation
        gmean = float(np.linalg.norm(np.nanmean(sub, axis=0)))
        detected = next((u for u, (lo, hi) in ACC_BANDS.items() if lo <= gmean <= hi), None)
        if detected is not None:
            how = f"median |a| = {med:.3g} is off gravity, |mean a| = {gmean:.3g}"
    if opts.acc_unit is not None:
        conv = med * ACC_TO_M_S2[opts.acc_unit]
        src = f"override (--acc-unit {opts.acc_unit})"
        if not (ACC_BANDS["m/s^2"][0] <= conv <= ACC_BANDS["m/s^2"][1]):
            raw.notes.append(f"with --acc-unit {opts.acc_unit} the median |a| is {conv:.2f} m/s^2, "
                             "not near 9.81: check the unit")
        return opts.acc_unit, src
    if s.unit is not None:
        if detected is not None and detected != s.unit:
            raise InputError(
                f"the header says acceleration is in {s.unit} but the median |a| = {med:.3g} "
                f"looks like {detected}; pass --acc-unit to say which", path=label)
        if detected is None:
            raise InputError(
                f"the header says acceleration is in {s.unit} but the median |a| = {med:.3g} "
                f"is far from gravity in that unit; pass --acc-unit to override", path=label)
        return s.unit, f"{s.unit_source or 'header'}; {how} agrees"
    if detected is None:
        raise InputError(f"cannot tell the acceleration unit (median |a| = {med:.3g}); "
                         "pass --acc-unit", path=label)
    if raw.acc_unit_default is not None:
        if detected != raw.acc_unit_default:
            raw.notes.append(f"the format's documented unit is {raw.acc_unit_default} but the median "
                             f"|a| = {med:.3g} says {detected}; used {detected}")
            return detected, f"detected: {how} (format default {raw.acc_unit_default} overruled)"
        return detected, f"format: {raw.format} uses {detected}; {how} agrees"
    return detected, f"detected: {how}"


def decide_gyro_unit(c: Cleaned, s: Stream, raw: RawData, opts: Options) -> tuple[str, str]:
    if opts.gyro_unit is not None:
        return opts.gyro_unit, f"override (--gyro-unit {opts.gyro_unit})"
    if s.unit is not None:
        return s.unit, s.unit_source or "header"
    mag = np.sqrt(np.einsum("ij,ij->i", c.x, c.x))
    p99 = float(np.percentile(mag, 99)) if len(mag) else 0.0
    unit = "deg/s" if p99 > GYRO_DEG_THRESHOLD else "rad/s"
    raw.notes.append(f"gyro unit {unit} decided from magnitude only (99th percentile |w| = {p99:.3g});"
                     " pass --gyro-unit to be sure")
    return unit, f"detected from magnitude only: p99 |w| = {p99:.3g}"


# --------------------------------------------------------------------------- clock


#: Rates devices commonly use; a measured rate within 2 % of one is taken as that rate.
COMMON_RATES_HZ = (12.5, 25.0, 26.0, 30.0, 32.0, 50.0, 52.0, 60.0, 64.0, 90.0, 100.0, 104.0,
                   120.0, 128.0, 200.0, 208.0, 250.0, 256.0, 400.0, 416.0, 500.0, 512.0, 800.0,
                   833.0, 1000.0, 1024.0, 1600.0, 3200.0)


def snap_rate(fs: float) -> float:
    """A measured rate snapped to a common device rate (within 2 %), else rounded to a whole
    (or half, or eighth) Hz when within 0.5 %."""
    near = min(COMMON_RATES_HZ, key=lambda c: abs(c - fs))
    if abs(fs - near) / near < 0.02:
        return float(near)
    for cand in (round(fs), round(fs * 2) / 2, round(fs * 8) / 8):
        if cand > 0 and abs(fs - cand) / cand < 0.005:
            return float(cand)
    return float(fs)


def measured_rate(t: np.ndarray) -> float:
    """Rate from the stamp steps: the mean of the steps below 1.5 x the median step (holes
    left out). Jitter cancels in the mean (the steps telescope), unlike in the median."""
    d = np.diff(t)
    d = d[d > 0]
    if len(d) == 0:
        return float("nan")
    med = float(np.median(d))
    regular = d[d < 1.5 * med]
    return 1.0 / float(regular.mean()) if len(regular) else 1.0 / med


def find_gaps(t: np.ndarray, t0: float, t1: float) -> list[tuple[float, float]]:
    """(last stamp before, first stamp after) of every stamp step longer than the gap limit,
    clipped to [t0, t1]."""
    d = np.diff(t)
    idx = np.flatnonzero(d > MAX_INTERPOLATED_GAP_S)
    out = []
    for i in idx:
        a, b = float(t[i]), float(t[i + 1])
        if b <= t0 or a >= t1:
            continue
        out.append((max(a, t0), min(b, t1)))
    return out


def count_filled(t: np.ndarray, fs: float, t0: float) -> int:
    """Grid points inside short holes (a stamp step of 1.5 periods .. the gap limit)."""
    d = np.diff(t)
    sel = np.flatnonzero((d > 1.5 / fs) & (d <= MAX_INTERPOLATED_GAP_S))
    if len(sel) == 0:
        return 0
    lo = np.floor((t[sel] + 0.5 / fs - t0) * fs) + 1
    hi = np.ceil((t[sel + 1] - 0.5 / fs - t0) * fs) - 1
    return int(np.clip(hi - lo + 1, 0, None).sum())


def onto_grid(t: np.ndarray, x: np.ndarray, t0: float, fs: float, n: int) -> np.ndarray:
    """Values of ``x`` (stamps ``t``) on the grid t0 + k/fs, k < n (linear interpolation)."""
    if len(t) == n and n > 0 and _is_uniform(t, t0, fs):
        return x  # already uniform: keep the values as they are
    g = t0 + np.arange(n, dtype=np.float64) / fs
    out = np.empty((n, x.shape[1]), dtype=np.float64)
    for j in range(x.shape[1]):
        out[:, j] = np.interp(g, t, x[:, j])
    return out


def _is_uniform(t: np.ndarray, t0: float, fs: float, tol: float = 0.01) -> bool:
    """True when every stamp is within ``tol`` periods of t0 + k/fs (checked in chunks)."""
    step = 1 << 20
    for a in range(0, len(t), step):
        k = np.arange(a, min(len(t), a + step), dtype=np.float64)
        k /= fs
        k += t0
        k -= t[a:a + step]
        if float(np.abs(k).max()) >= tol / fs:
            return False
    return True


def gap_mask(n: int, t0: float, fs: float, gaps: list[tuple[float, float]]) -> np.ndarray:
    valid = np.ones(n, dtype=bool)
    for a, b in gaps:
        lo = max(0, int(math.floor((a + 0.5 / fs - t0) * fs)) + 1)
        hi = min(n - 1, int(math.ceil((b - 0.5 / fs - t0) * fs)) - 1)
        if hi >= lo:
            valid[lo:hi + 1] = False
    return valid


def merge_intervals(iv: list[tuple[float, float]]) -> list[tuple[float, float]]:
    out: list[tuple[float, float]] = []
    for a, b in sorted(iv):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


# --------------------------------------------------------------------------- build


#: Most samples a recording may have on its uniform clock (23 days at 100 Hz: ~10 GB as float64).
MAX_CLOCK_SAMPLES = 200_000_000
#: Gaps (sensor off) longer than this in all, and most of the span, mean "split the file".
MAX_GAPS_S = 24 * 3600.0


def _check_clock_size(t_s: np.ndarray, n: int, fs_hz: float, label: str) -> None:
    """Refuse a uniform clock that would not fit in memory, or that would be mostly gap."""
    steps = np.diff(t_s)
    off = steps[steps > 1.0]
    gaps_s = float(off.sum()) if len(off) else 0.0
    span_s = n / fs_hz
    if gaps_s > MAX_GAPS_S and gaps_s > 0.9 * span_s:
        i = int(np.argmax(steps))
        raise InputError(
            f"the sensor was off for {gaps_s / 86400:.1f} days of the {span_s / 86400:.1f} days "
            f"the file spans (longest gap {steps[i] / 86400:.1f} days, from {t_s[i] - t_s[0]:.2f} s);"
            " split the file where it stopped recording", path=label)
    if n > MAX_CLOCK_SAMPLES:
        raise InputError(
            f"{span_s / 3600:.1f} h at {fs_hz:g} Hz is {n:.3g} samples, more than the "
            f"{MAX_CLOCK_SAMPLES:.0e} gait holds in memory; split the file (or pass a lower --fs)",
            path=label)


def build_recording(raw: RawData, opts: Options) -> Recording:
    """Apply the unit, clock, repair and gap policy to what a reader found."""
    label = raw.path
    ca = clean_stream(raw.acc, "acceleration", raw.acc.origin or label)
    acc_unit, acc_src = decide_acc_unit(ca, raw.acc, raw, opts, raw.acc.origin or label)
    cg = None
    gyro_unit = gyro_src = None
    if raw.gyro is not None:
        cg = clean_stream(raw.gyro, "gyro", raw.gyro.origin or label)
        gyro_unit, gyro_src = decide_gyro_unit(cg, raw.gyro, raw, opts)

    fs_meas = measured_rate(ca.t)
    if opts.fs_hz is not None:
        fs = opts.fs_hz
        fs_how = "override (--fs)"
    elif raw.fs_hz_nominal:
        fs = float(raw.fs_hz_nominal)
        fs_how = "nominal"
        if math.isfinite(fs_meas) and abs(fs_meas - fs) / fs > 0.05:
            raw.notes.append(f"the file states {fs:g} Hz but the stamps step at {fs_meas:.4g} Hz;"
                             " used the stated rate (pass --fs to choose)")
    else:
        if not math.isfinite(fs_meas):
            raise SignalError("cannot measure the sampling rate", path=label)
        fs = snap_rate(fs_meas)
        fs_how = "median stamp step"
    if fs < MIN_FS_HZ:
        raise SignalError(f"sampling rate {fs:.4g} Hz is below the {MIN_FS_HZ:g} Hz minimum",
                          path=label)

    t0, t1 = float(ca.t[0]), float(ca.t[-1])
    if cg is not None:
        t0, t1 = max(t0, float(cg.t[0])), min(t1, float(cg.t[-1]))
        trimmed = (t0 - ca.t[0]) + (ca.t[-1] - t1)
        if t1 <= t0:
            raise InputError("the accelerometer and gyro files do not overlap in time", path=label)
        if trimmed > 0.5:
            raw.notes.append(f"trimmed {trimmed:.2f} s where only one of acc/gyro has data")
    n = int(math.floor((t1 - t0) * fs + 0.01)) + 1  # stamps rounded to 1e-6 s
    _check_clock_size(ca.t, n, fs, label)
    duration = n / fs
    if duration < MIN_DURATION_S:
        raise SignalError(f"only {duration:.2f} s of data; at least {MIN_DURATION_S:g} s needed",
                          path=label)

    acc = onto_grid(ca.t, ca.x, t0, fs, n)
    if acc is not ca.x:  # resampled: let the raw values go before the gyro is resampled
        ca.x = raw.acc.xyz = None
    gaps = find_gaps(ca.t, t0, t1)
    n_filled = count_filled(ca.t, fs, t0)
    gyro = None
    if cg is not None:
        gyro = onto_grid(cg.t, cg.x, t0, fs, n)
        if gyro is not cg.x:
            cg.x = raw.gyro.xyz = None
        gaps += find_gaps(cg.t, t0, t1)
    gaps = merge_intervals(gaps)
    valid = gap_mask(n, t0, fs, gaps) if gaps else np.ones(n, dtype=bool)

    # units -> SI (in place when we own the array)
    f_acc = ACC_TO_M_S2[acc_unit]
    # the reader's arrays are ours (fresh, never the caller's): scale in place, no copy
    acc = _scale_inplace(acc, f_acc)
    if gyro is not None:
        gyro = _scale_inplace(gyro, GYRO_TO_RAD_S[gyro_unit])
    if gaps:
        acc[~valid] = np.nan
        if gyro is not None:
            gyro[~valid] = np.nan
    if gyro is not None and raw.gyro_missing:  # samples without gyro (see RawData.gyro_missing)
        for a, b in raw.gyro_missing:
            i0 = max(0, math.ceil((a - t0) * fs - 0.01))  # (stamps are rounded to 1e-6 s)
            i1 = min(n - 1, math.floor((b - t0) * fs + 0.01))
            if i1 >= i0:
                gyro[i0:i1 + 1] = np.nan

    n_repaired = ca.n_nan + ca.n_dup + ca.n_unsorted + n_filled + raw.n_dropped
    notes = list(raw.notes)
    if ca.n_dup:
        notes.append(f"{ca.n_dup} repeated time stamps: kept the first sample of each")
    if ca.n_unsorted:
        notes.append(f"{ca.n_unsorted} samples were out of time order: sorted")
    if ca.n_nan:
        notes.append(f"{ca.n_nan} rows with missing values dropped (short holes interpolated, "
                     "long ones kept as gaps)")
    if n_filled:
        notes.append(f"{n_filled} samples filled by linear interpolation across short holes "
                     f"(<= {MAX_INTERPOLATED_GAP_S} s)")
    if cg is not None and (cg.n_dup or cg.n_unsorted or cg.n_nan):
        notes.append(f"gyro: {cg.n_dup} repeated, {cg.n_unsorted} out-of-order, {cg.n_nan} missing"
                     " stamps repaired")
    if cg is not None:
        fs_g = measured_rate(cg.t)
        if math.isfinite(fs_g) and abs(fs_g - fs) / fs > 0.05:
            notes.append(f"gyro sampled at {fs_g:.4g} Hz: resampled onto the accelerometer's "
                         f"{fs:g} Hz grid")
    if fs_how == "median stamp step" and abs(fs - fs_meas) > 1e-9:
        notes.append(f"rate from the median stamp step {fs_meas:.5g} Hz, rounded to {fs:g} Hz")

    start_time = None
    if raw.origin_time is not None:
        start_time = raw.origin_time + timedelta(seconds=t0)
    extra = dict(raw.extra)
    if raw.origin_time_local is not None:
        from datetime import datetime as _dt
        try:
            local = _dt.fromisoformat(raw.origin_time_local) + timedelta(seconds=t0)
            extra["start_time_local"] = local.isoformat()
        except ValueError:
            extra["start_time_local"] = raw.origin_time_local

    mount_name = raw.mount
    if opts.mount is not None:
        m = parse_mount(opts.mount)
        mount_name = m.name
        extra["mount_mapping"] = m.mapping
        extra["mount_source"] = "override (--mount)"
    elif raw.mount:
        try:
            m = parse_mount(raw.mount)
            extra["mount_mapping"] = m.mapping
            extra["mount_source"] = "header"
        except Exception:  # noqa: BLE001 - an odd header mount is kept as text
            extra["mount_source"] = "header (not understood)"

    units = {"acc": acc_unit}
    units_source = {"acc": acc_src}
    if gyro_unit is not None:
        units["gyro"] = gyro_unit
        units_source["gyro"] = gyro_src
    units_source["fs"] = fs_how
    info = RecordingInfo(
        format=raw.format, path=raw.path, device=raw.device, mount=mount_name, units=units,
        units_source=units_source, fs_hz_nominal=raw.fs_hz_nominal,
        fs_hz_measured=None if not math.isfinite(fs_meas) else round(fs_meas, 6),
        n_raw_samples=int(len(raw.acc.t_s)), n_repaired=int(n_repaired), acc_kind=raw.acc_kind,
        notes=notes, extra=extra,
    )
    return Recording(
        t_s=np.arange(n, dtype=np.float64) / fs,
        acc_m_s2=acc,
        gyro_rad_s=gyro,
        fs_hz=float(fs),
        valid=valid,
        gaps=tuple(Gap(round(a - t0, 9), round(b - t0, 9)) for a, b in gaps),
        start_time=start_time,
        info=info,
    )


def _scale_inplace(a: np.ndarray, f: float) -> np.ndarray:
    if not a.flags.writeable:
        a = np.array(a, dtype=np.float64)
    if f != 1.0:
        a *= f
    return a
