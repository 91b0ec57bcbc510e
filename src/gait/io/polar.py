"""Polar Sensor Logger (phone app for Polar H10 / Verity Sense / OH1) text files.

``Phone timestamp;sensor timestamp [ns];X [mg];Y [mg];Z [mg]`` (semicolon separated; ACC in
mg); gyro files the same with ``X [dps]``. Files are named like
``Polar_H10_1A2B3C4D_20261124_100000_ACC.txt`` / ``..._GYRO.txt``: given either one, or the
folder, the sibling is found. Time is the sensor clock in ns since 2000-01-01 00:00:00 (the
sensor's own clock, set from the phone's local time).
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import PurePosixPath

import numpy as np
import pandas as pd

from ..errors import InputError
from ._common import (RawData, header_stream, read_time_xyz, sniff_separator, split_fields,
                      split_name, the_one_acc_file, unit_word)
from ._source import Source

NAME = "polar"
POLAR_EPOCH = datetime(2000, 1, 1)


def _header_kind(line: str) -> str | None:
    """'acc' / 'gyro' for a Polar Sensor Logger header line, else None."""
    low = line.lower()
    if "sensor timestamp" not in low or "phone timestamp" not in low:
        return None
    if "[mg]" in low or "[g]" in low or "[m/s" in low:
        return "acc"
    if "[dps]" in low or "[deg/s]" in low or "[rad/s]" in low:
        return "gyro"
    return None


def sniff(src: Source) -> bool:
    if src.main is not None:
        lines = src.head_lines(src.main, 2)
        return bool(lines) and _header_kind(lines[0]) is not None
    return any(_header_kind((src.head_lines(n, 1) or [""])[0]) == "acc" for n in src.data_files())


def _read(src: Source, name: str) -> tuple[np.ndarray, np.ndarray, str | None, str]:
    label = src.member_label(name)
    lines = src.head_lines(name, 5)
    sep = sniff_separator(lines)
    f = split_fields(lines[0], sep)
    low = [x.lower() for x in f]
    try:
        it = next(i for i, x in enumerate(low) if x.startswith("sensor timestamp"))
        ix, iy, iz = (next(i for i, x in enumerate(low) if split_name(x)[0] == a) for a in "xyz")
    except StopIteration:
        raise InputError("missing columns: need 'sensor timestamp [ns]' and X, Y, Z", path=label) from None
    unit = unit_word(split_name(f[ix])[1])
    t, xyz = read_time_xyz(src, name, sep=sep, ncols=len(f), t_col=it, xyz_cols=(ix, iy, iz))
    return t, xyz, unit, f[ix]


def _sibling(folder: Source, acc_name: str) -> str | None:
    base = PurePosixPath(acc_name).name
    cand = re.sub(r"_ACC(?=[._])", "_GYRO", base, flags=re.I)
    if cand != base:
        hit = folder.find(cand)
        if hit:
            return hit
    for n in folder.data_files():  # any gyro file with the same device prefix
        if _header_kind((folder.head_lines(n, 1) or [""])[0]) == "gyro":
            if base.split("_")[:3] == PurePosixPath(n).name.split("_")[:3]:
                return n
    return None


def read(src: Source, *, fs_hz: float | None = None) -> RawData:
    folder = Source(src.root) if src.main is not None else src
    try:
        if src.main is not None:
            kind = _header_kind(src.head_lines(src.main, 1)[0])
            if kind == "gyro":
                base = PurePosixPath(src.main).name
                acc_base = re.sub(r"_GYRO(?=[._])", "_ACC", base, flags=re.I)
                acc_name = folder.find(acc_base) if acc_base != base else None
                if acc_name is None:
                    raise InputError("a Polar gyro file without its _ACC file", path=src.label)
            else:
                acc_name = src.main
        else:
            acc_name = the_one_acc_file(folder, _header_kind, "Polar ACC", src.label)
        t_ns, acc, unit, col = _read(folder, acc_name)
        base = int(t_ns[0])
        acc_s = header_stream(t_ns, base, 1e-9, acc, unit, col, folder.member_label(acc_name))
        gyro_s = None
        g = _sibling(folder, acc_name)
        if g is not None:
            tg, w, gu, gcol = _read(folder, g)
            gyro_s = header_stream(tg, base, 1e-9, w, gu, gcol, folder.member_label(g))
        start_local = POLAR_EPOCH + pd.Timedelta(base, unit="ns").to_pytimedelta()
        stem = PurePosixPath(acc_name).stem
        parts = stem.split("_")
        device = " ".join(parts[:3]) if len(parts) >= 3 and parts[0].lower() == "polar" else None
        raw = RawData(format=NAME, path=src.label, acc=acc_s, gyro=gyro_s,
                      origin_time_local=start_local.isoformat(), device=device,
                      notes=["Polar sensor clock (ns since 2000-01-01, set from the phone's local "
                             "time): start time kept as local time"])
        return raw
    finally:
        if folder is not src:
            folder.close()
