"""Bounded-memory reading: ``iter_recording_chunks(path, chunk_s=60) -> (SampleBlock, ctx)``.

For ``gait`` and ``generic`` CSV files with numeric time stamps the file is parsed a chunk of
rows at a time and put on the uniform clock as it goes (the same policy as
:func:`gait.io.read_recording`: units, rate, short holes interpolated, gaps > 0.25 s masked),
so a 24 h file never sits in memory at once. Other formats (multi-file exports, text
date-times) are read whole and then sliced.

Differences from the whole-file reader, by construction: out-of-order stamps are sorted within
a chunk only (a stamp earlier than the previous chunk's last is dropped and counted as
repaired), and the "too many NaN rows" / "too many out-of-order stamps" checks look at the
first chunk only (later NaN rows just become holes or gaps).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from ..errors import InputError, SignalError
from ..types import (ACC_TO_M_S2, GYRO_TO_RAD_S, MAX_INTERPOLATED_GAP_S, MIN_DURATION_S,
                     MIN_FS_HZ, Gap, RecordingInfo, SampleBlock)
from ._build import (Options, clean_stream, count_filled, decide_acc_unit, decide_gyro_unit,
                     measured_rate, snap_rate)
from ._common import (RawData, Stream, _decimal_comma, is_number, iter_float_chunks, parse_time,
                      sniff_separator, split_fields)
from ._source import Source


@dataclass
class ChunkContext:
    """Facts about the recording being streamed (updated as blocks are produced).

    ``info`` and ``gaps`` are complete once the iterator is exhausted.
    """

    fs_hz: float
    start_time: datetime | None
    info: RecordingInfo
    gaps: list[Gap] = field(default_factory=list)
    #: Sample index (on the uniform clock) of the first sample of the current block.
    index: int = 0
    #: True when the file is streamed; False when it was read whole and sliced.
    streamed: bool = True

    def summary(self, n_samples: int) -> dict[str, Any]:
        """Like :meth:`Recording.summary` for a streamed recording of ``n_samples``."""
        from ..types import Recording

        rec = Recording(t_s=np.zeros(0), acc_m_s2=np.zeros((0, 3)), gyro_rad_s=None,
                        fs_hz=self.fs_hz, valid=np.zeros(0, bool), gaps=tuple(self.gaps),
                        start_time=self.start_time, info=self.info)
        s = rec.summary()
        s["n_samples"] = n_samples
        s["duration_s"] = round(n_samples / self.fs_hz, 6)
        s["has_gyro"] = "gyro" in self.info.units
        return s


#: Most grid samples one chunk may add (5e7: ~2.4 GB for six float64 axes); only a jump of
#: days in the time stamps needs more.
MAX_CHUNK_GRID = 50_000_000


def iter_recording_chunks(path: str | Path, *, chunk_s: float = 60.0, format: str | None = None,
                          acc_unit: str | None = None, gyro_unit: str | None = None,
                          fs_hz: float | None = None, mount: Any = None,
                          _chunk_rows: int | None = None) -> Iterator[tuple[SampleBlock, ChunkContext]]:
    """Read a recording as consecutive blocks of about ``chunk_s`` seconds.

    Parameters are those of :func:`gait.io.read_recording`, plus ``chunk_s`` (block length on
    the uniform clock, s). Yields ``(block, ctx)``; ``block.t_s`` continues across blocks.

    Raises
    ------
    InputError, SignalError
        As :func:`gait.io.read_recording` (a too-short file fails before the first block).
    """
    from . import detect_format, read_recording

    if not (chunk_s > 0 and math.isfinite(chunk_s)):
        raise InputError(f"chunk_s must be a positive number of seconds, got {chunk_s}")
    opts = Options.make(format=format, acc_unit=acc_unit, gyro_unit=gyro_unit, fs_hz=fs_hz,
                        mount=mount)
    with Source(path) as src:
        fmt = format.lower() if format else detect_format(src)
        plan = _plan(src, fmt) if src.main is not None and fmt in ("gait", "generic") else None
        if plan is not None:
            yield from _stream(src, fmt, plan, opts, chunk_s, _chunk_rows)
            return
    rec = read_recording(path, format=format, acc_unit=acc_unit, gyro_unit=gyro_unit,
                         fs_hz=fs_hz, mount=mount)
    ctx = ChunkContext(fs_hz=rec.fs_hz, start_time=rec.start_time, info=rec.info,
                       gaps=list(rec.gaps), streamed=False)
    n_block = max(1, int(round(chunk_s * rec.fs_hz)))
    for a in range(0, rec.n_samples, n_block):
        ctx.index = a
        yield rec.block(a, a + n_block), ctx


@dataclass
class _Plan:
    name: str
    sep: str
    decimal: str
    skiprows: int
    comment: str | None
    time: int | None
    time_unit: str | None
    acc: list[int]
    gyro: list[int] | None
    acc_unit: str | None
    gyro_unit: str | None
    names: list[str]
    header: dict[str, Any] | None


def _plan(src: Source, fmt: str) -> _Plan | None:
    from .generic import _header_index, map_columns_for

    name = src.main
    label = src.member_label(name)
    header = None
    comment = None
    if fmt == "gait":
        from .gaitcsv import read_header

        header, lines = read_header(src, name)
        comment = "#"
        hi = _header_index(lines)
    else:
        lines = src.head_lines(name, 200)
        hi = next((i for i, ln in enumerate(lines) if ln.strip()), None)
    if hi is None:
        raise InputError("no header line with column names", path=label)
    sep = sniff_separator(lines[hi:])
    decimal = "," if _decimal_comma(lines[hi:], sep) else "."
    names = split_fields(lines[hi], sep)
    cmap = map_columns_for(names, label)
    if cmap.time is None:
        return None
    first = next((ln for ln in lines[hi + 1:] if ln.strip()
                  and not (comment and ln.lstrip().startswith(comment))), None)
    if first is None:
        raise InputError("no data rows", path=label)
    cells = split_fields(first, sep)
    if len(cells) <= cmap.time or not is_number(cells[cmap.time]):
        return None  # text date-times: read whole
    return _Plan(name=name, sep=sep, decimal=decimal, skiprows=hi + 1, comment=comment,
                 time=cmap.time, time_unit=cmap.time_unit, acc=cmap.acc, gyro=cmap.gyro,
                 acc_unit=cmap.acc_unit, gyro_unit=cmap.gyro_unit, names=names, header=header)


def _stream(src: Source, fmt: str, plan: _Plan, opts: Options, chunk_s: float,
            chunk_rows: int | None) -> Iterator[tuple[SampleBlock, ChunkContext]]:
    from .generic import last_line_is_comment, truncated_tail

    label = src.member_label(plan.name)
    use = sorted([plan.time, *plan.acc, *(plan.gyro or [])])
    i_t = use.index(plan.time)
    i_v = [use.index(i) for i in plan.acc + (plan.gyro or [])]
    has_gyro = plan.gyro is not None
    rows = chunk_rows or int(min(2_000_000, max(20_000, chunk_s * 400)))
    cut_last = truncated_tail(src, plan.name) and not (plan.comment and
                                                        last_line_is_comment(src, plan.name))
    chunks = iter_float_chunks(src, plan.name, sep=plan.sep, skiprows=plan.skiprows, usecols=use,
                               decimal=plan.decimal, comment=plan.comment, chunk_rows=rows)

    def lookahead():
        prev = next(chunks, None)
        for nxt in chunks:
            yield prev, False
            prev = nxt
        if prev is not None:
            yield prev, True

    gen = lookahead()
    first_item = next(gen, None)
    if first_item is None:
        raise InputError("no data rows", path=label)
    m, last = first_item
    if last and cut_last:
        m = m[:-1]
    if len(m) == 0:
        raise InputError("no data rows", path=label)
    ta = parse_time(m[:, i_t], unit=plan.time_unit, label=label)
    first_raw, factor = ta.first_raw, ta.factor

    # units and rate from the first chunk, exactly as the whole-file reader decides them
    raw = RawData(format=fmt, path=src.label,
                  acc=Stream(t_s=ta.t_s, xyz=m[:, i_v[:3]], unit=plan.acc_unit, origin=label,
                             unit_source=f"header: column {plan.names[plan.acc[0]].strip()!r}"
                             if plan.acc_unit else None),
                  gyro=None if not has_gyro else Stream(
                      t_s=ta.t_s, xyz=m[:, i_v[3:]], unit=plan.gyro_unit, origin=label,
                      unit_source=f"header: column {plan.names[plan.gyro[0]].strip()!r}"
                      if plan.gyro_unit else None),
                  origin_time=ta.origin_time, origin_time_local=ta.origin_time_local,
                  notes=[ta.note] if ta.note else [])
    if plan.header is not None:
        from .gaitcsv import apply_header

        apply_header(raw, plan.header, label)
    c0 = clean_stream(raw.acc, "acceleration", label)
    acc_unit, acc_src = decide_acc_unit(c0, raw.acc, raw, opts, label)
    units = {"acc": acc_unit}
    units_source = {"acc": acc_src}
    if has_gyro:
        gyro_unit, gyro_src = decide_gyro_unit(clean_stream(raw.gyro, "gyro", label), raw.gyro, raw, opts)
        units["gyro"], units_source["gyro"] = gyro_unit, gyro_src
    fs_meas = measured_rate(c0.t)
    if opts.fs_hz is not None:
        fs, units_source["fs"] = opts.fs_hz, "override (--fs)"
    elif raw.fs_hz_nominal:
        fs, units_source["fs"] = float(raw.fs_hz_nominal), "nominal"
    else:
        fs, units_source["fs"] = snap_rate(fs_meas), "median stamp step (first chunk)"
    if fs < MIN_FS_HZ:
        raise SignalError(f"sampling rate {fs:.4g} Hz is below the {MIN_FS_HZ:g} Hz minimum", path=label)
    scale = np.array([ACC_TO_M_S2[acc_unit]] * 3 + ([GYRO_TO_RAD_S[units["gyro"]]] * 3 if has_gyro else []))

    extra = dict(raw.extra)
    mount_name = raw.mount
    if opts.mount is not None:
        from ..frames import parse_mount

        mm = parse_mount(opts.mount)
        mount_name, extra["mount_mapping"] = mm.name, mm.mapping
        extra["mount_source"] = "override (--mount)"
    elif raw.mount:
        from ..frames import parse_mount

        try:
            extra["mount_mapping"] = parse_mount(raw.mount).mapping
            extra["mount_source"] = "header"
        except Exception:  # noqa: BLE001 - an odd header mount is kept as text
            extra["mount_source"] = "header (not understood)"
    if raw.origin_time_local:
        extra["start_time_local"] = raw.origin_time_local
    info = RecordingInfo(format=fmt, path=src.label, device=raw.device, mount=mount_name,
                         units=units, units_source=units_source, fs_hz_nominal=raw.fs_hz_nominal,
                         fs_hz_measured=round(fs_meas, 6) if math.isfinite(fs_meas) else None,
                         n_raw_samples=0, n_repaired=0, acc_kind=raw.acc_kind,
                         notes=list(raw.notes), extra=extra)
    if fmt == "gait":
        from .gaitcsv import read_events

        info.extra["events"] = read_events(src, plan.name)
    ctx = ChunkContext(fs_hz=fs, start_time=raw.origin_time, info=info)

    n_block = max(1, int(round(chunk_s * fs)))
    state = {"carry_t": None, "carry_x": None, "k_next": 0}
    out_t: list[np.ndarray] = []
    out_x: list[np.ndarray] = []
    out_v: list[np.ndarray] = []
    buffered = 0
    emitted = 0

    def process(mm: np.ndarray, is_last: bool) -> None:
        nonlocal buffered
        t = (mm[:, i_t] - first_raw) * factor
        x = mm[:, i_v]
        info.n_raw_samples += len(t)
        ok = np.isfinite(t) & np.isfinite(x).all(axis=1)
        n_bad = int(len(t) - ok.sum())
        if n_bad:
            t, x = t[ok], x[ok]
        if len(t) and np.any(np.diff(t) < 0):
            order = np.argsort(t, kind="stable")
            n_bad += int((order != np.arange(len(t))).sum())
            t, x = t[order], x[order]
        if state["carry_t"] is not None:
            keep = t > state["carry_t"]
            n_bad += int(len(t) - keep.sum())
            t = np.concatenate(([state["carry_t"]], t[keep]))
            x = np.vstack([state["carry_x"][None, :], x[keep]])
        if len(t):
            d = np.diff(t)
            dup = np.concatenate(([False], d == 0))
            if dup.any():
                n_bad += int(dup.sum())
                t, x = t[~dup], x[~dup]
        info.n_repaired += n_bad
        if len(t) == 0:
            return
        k0 = state["k_next"]
        # last grid point this chunk determines (at the very end: the same tolerance for
        # rounded stamps as the whole-file reader)
        k1 = int(math.floor(t[-1] * fs + (0.01 if is_last else 0.0)))
        if k1 - k0 >= MAX_CHUNK_GRID:  # a jump of days in the stamps: do not fill it
            d = np.diff(t)
            i = int(np.argmax(d)) if len(d) else 0
            jump = float(d[i]) if len(d) else float(t[0] - (k0 - 1) / fs)
            raise InputError(f"the stamps jump by {jump / 86400:.1f} days (at {float(t[i]):.2f} s)"
                             "; split the file where it stopped recording", path=label)
        if k1 >= k0:
            g = np.arange(k0, k1 + 1, dtype=np.float64) / fs
            vals = np.empty((len(g), x.shape[1]))
            for j in range(x.shape[1]):
                vals[:, j] = np.interp(g, t, x[:, j])
            vals *= scale
            valid = np.ones(len(g), dtype=bool)
            d = np.diff(t)
            for i in np.flatnonzero(d > MAX_INTERPOLATED_GAP_S):
                a, b = float(t[i]), float(t[i + 1])
                ctx.gaps.append(Gap(round(a, 9), round(b, 9)))
                lo = max(k0, int(math.floor((a + 0.5 / fs) * fs)) + 1)
                hi = min(k1, int(math.ceil((b - 0.5 / fs) * fs)) - 1)
                if hi >= lo:
                    valid[lo - k0:hi - k0 + 1] = False
            vals[~valid] = np.nan
            info.n_repaired += count_filled(t, fs, 0.0)
            out_t.append(g)
            out_x.append(vals)
            out_v.append(valid)
            buffered += len(g)
            state["k_next"] = k1 + 1
        state["carry_t"], state["carry_x"] = float(t[-1]), x[-1].copy()

    def take(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        nonlocal buffered
        T, X, V = np.concatenate(out_t), np.vstack(out_x), np.concatenate(out_v)
        out_t.clear(); out_x.clear(); out_v.clear()  # noqa: E702
        if n < len(T):
            out_t.append(T[n:]); out_x.append(X[n:]); out_v.append(V[n:])  # noqa: E702
        buffered = len(T) - min(n, len(T))
        return T[:n], X[:n], V[:n]

    def block(T, X, V) -> SampleBlock:
        return SampleBlock(t_s=T, acc_m_s2=X[:, :3], gyro_rad_s=X[:, 3:] if has_gyro else None, valid=V)

    process(m, last)
    item = (m, last)
    while True:
        if item[1]:
            break
        item = next(gen, None)
        if item is None:
            break
        mm, is_last = item
        if is_last and cut_last:
            mm = mm[:-1]
        process(mm, is_last)
        while buffered >= n_block:
            T, X, V = take(n_block)
            ctx.index = emitted
            emitted += len(T)
            yield block(T, X, V), ctx
    if cut_last:
        info.n_repaired += 1
        info.notes.append("the last line was cut off (no newline at the end): ignored")
    total = emitted + buffered
    if total / fs < MIN_DURATION_S:
        raise SignalError(f"only {total / fs:.2f} s of data; at least {MIN_DURATION_S:g} s needed",
                          path=label)
    while buffered > 0:
        T, X, V = take(min(n_block, buffered))
        ctx.index = emitted
        emitted += len(T)
        yield block(T, X, V), ctx
