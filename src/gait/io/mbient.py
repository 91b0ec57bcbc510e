"""MbientLab MetaWear / MetaBase CSV: accelerometer and gyroscope in separate files.

``epoch (ms),time (-13:00),elapsed (s),x-axis (g),y-axis (g),z-axis (g)``; the gyro file has
``x-axis (deg/s)``. Names look like ``MetaWear_2026-11-24T10.00.00.000_C8D8A8F1B2C3_Accelerometer.csv``
(sometimes with a version suffix); given either file or the folder, the pair is found.
Time: ``epoch (ms)`` (Unix ms, UTC).
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath

import pandas as pd

from ..errors import InputError
from ._common import (RawData, header_stream, members_of_kind, parse_time, read_time_xyz,
                      sniff_separator, split_fields, split_name, the_one_acc_file, unit_word)
from ._source import Source

NAME = "mbient"


def _kind(line: str) -> str | None:
    low = line.lower()
    if "epoch (ms)" not in low or "x-axis" not in low:
        return None
    if "x-axis (g)" in low or "x-axis (m/s" in low or "x-axis (mg)" in low:
        return "acc"
    if "deg/s" in low or "rad/s" in low or "dps" in low:
        return "gyro"
    return "acc" if "accelerometer" in low else None


def sniff(src: Source) -> bool:
    if src.main is not None:
        lines = src.head_lines(src.main, 1)
        return bool(lines) and _kind(lines[0]) is not None
    return any(_kind((src.head_lines(n, 1) or [""])[0]) == "acc" for n in src.data_files())


def _read(src: Source, name: str):
    label = src.member_label(name)
    lines = src.head_lines(name, 3)
    sep = sniff_separator(lines)
    f = split_fields(lines[0], sep)
    low = [x.lower().strip() for x in f]
    try:
        it = low.index("epoch (ms)")
        ix, iy, iz = (next(i for i, x in enumerate(low) if x.startswith(f"{a}-axis")) for a in "xyz")
    except (ValueError, StopIteration):
        raise InputError("missing columns: need epoch (ms), x-axis, y-axis, z-axis", path=label) from None
    unit = unit_word(split_name(f[ix])[1])
    t, xyz = read_time_xyz(src, name, sep=sep, ncols=len(f), t_col=it, xyz_cols=(ix, iy, iz))
    return t, xyz, unit, f[ix].strip()


def _partner(folder: Source, name: str, want: str) -> str | None:
    base = PurePosixPath(name).name
    src_word, dst_word = ("Accelerometer", "Gyroscope") if want == "gyro" else ("Gyroscope", "Accelerometer")
    m = re.search(src_word, base, re.I)
    if m:
        prefix = base[:m.start()]
        for n in folder.data_files():
            nb = PurePosixPath(n).name
            if nb.startswith(prefix) and re.search(dst_word, nb[len(prefix):], re.I):
                return n
    return next(iter(members_of_kind(folder, _kind, want)), None)


def read(src: Source, *, fs_hz: float | None = None) -> RawData:
    folder = Source(src.root) if src.main is not None else src
    try:
        if src.main is not None:
            k = _kind(src.head_lines(src.main, 1)[0])
            if k is None:
                raise InputError("not a MetaWear CSV (expected a header like 'epoch (ms),time "
                                 "(...),elapsed (s),x-axis (g),y-axis (g),z-axis (g)')",
                                 path=src.label)
            acc_name = src.main if k == "acc" else _partner(folder, src.main, "acc")
            if acc_name is None:
                raise InputError("a MetaWear gyroscope file without its accelerometer file",
                                 path=src.label)
        else:
            acc_name = the_one_acc_file(folder, _kind, "MetaWear accelerometer", src.label)
        t_ms, acc, unit, col = _read(folder, acc_name)
        base = t_ms[0]
        ta = parse_time(pd.Series([base]), unit="ms", label=src.label)
        acc_s = header_stream(t_ms, base, 1e-3, acc, unit, col, folder.member_label(acc_name))
        gyro_s = None
        g = _partner(folder, acc_name, "gyro")
        if g is not None:
            tg, w, gu, gcol = _read(folder, g)
            gyro_s = header_stream(tg, base, 1e-3, w, gu, gcol, folder.member_label(g))
        parts = PurePosixPath(acc_name).stem.split("_")
        mac = next((p for p in parts if re.fullmatch(r"[0-9A-Fa-f]{12}", p)), None)
        device = " ".join(x for x in (parts[0] if parts else "MetaWear", mac) if x)
        return RawData(format=NAME, path=src.label, acc=acc_s, gyro=gyro_s,
                       origin_time=ta.origin_time, device=device)
    finally:
        if folder is not src:
            folder.close()
