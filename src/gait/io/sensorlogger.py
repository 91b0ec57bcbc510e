"""Sensor Logger (phone app) exports: a folder or zip of one CSV per sensor.

``TotalAcceleration.csv`` (with gravity), ``Accelerometer.csv`` (user acceleration, gravity
removed), ``Gravity.csv``, ``Gyroscope.csv`` (rad/s), ``Metadata.csv``...; each with columns
``time`` (epoch ns, UTC), ``seconds_elapsed``, then ``z,y,x`` in that order, m/s^2.
Acceleration with gravity is ``TotalAcceleration`` when present, else ``Accelerometer`` +
``Gravity`` (re-combined on the accelerometer's stamps).
"""

from __future__ import annotations

from pathlib import PurePosixPath

import numpy as np
import pandas as pd

from ..errors import InputError
from ._common import RawData, Stream, parse_time, read_time_xyz, sniff_separator, split_fields
from ._source import Source

NAME = "sensorlogger"
FILES = ("TotalAcceleration.csv", "Accelerometer.csv", "Gravity.csv", "Gyroscope.csv")


def _is_sl_header(line: str) -> bool:
    f = [x.strip().strip('"').lower() for x in line.split(",")]
    return len(f) >= 5 and f[0] == "time" and f[1] == "seconds_elapsed" and {"x", "y", "z"} <= set(f)


def sniff(src: Source) -> bool:
    if src.main is not None:
        lines = src.head_lines(src.main, 2)
        return bool(lines) and _is_sl_header(lines[0])
    for fname in FILES:
        m = src.find(fname)
        if m is not None:
            lines = src.head_lines(m, 2)
            if lines and _is_sl_header(lines[0]):
                return True
    return False


def _read_sensor(src: Source, name: str) -> tuple[np.ndarray, np.ndarray, pd.Timestamp | None, int]:
    """(t_ns relative int64 as float seconds, xyz in x,y,z order, absolute first stamp, t0_ns)."""
    label = src.member_label(name)
    lines = src.head_lines(name, 5)
    if not lines or not _is_sl_header(lines[0]):
        raise InputError("not a Sensor Logger sensor file (expected 'time,seconds_elapsed,z,y,x')",
                         path=label)
    sep = sniff_separator(lines)
    names = [n.strip().strip('"').lower() for n in split_fields(lines[0], sep)]
    try:
        it, ix, iy, iz = (names.index(c) for c in ("time", "x", "y", "z"))
    except ValueError:
        raise InputError("missing columns: need time, x, y, z", path=label) from None
    tns, xyz = read_time_xyz(src, name, sep=sep, ncols=len(names), t_col=it, xyz_cols=(ix, iy, iz))
    return tns, xyz, label


def _sibling_source(src: Source) -> Source:
    """For one file of an export, the folder it sits in."""
    if src.main is None:
        return src
    return Source(src.root)


def read(src: Source, *, fs_hz: float | None = None) -> RawData:
    folder = _sibling_source(src)
    try:
        total = folder.find("TotalAcceleration.csv")
        lin = folder.find("Accelerometer.csv")
        grav = folder.find("Gravity.csv")
        gyr = folder.find("Gyroscope.csv")
        notes: list[str] = []
        if total is not None:
            t_ns, acc, acc_label = _read_sensor(folder, total)
            acc_kind = "with gravity"
        elif lin is not None and grav is not None:
            t_ns, a_lin, acc_label = _read_sensor(folder, lin)
            tg_ns, a_grav, _ = _read_sensor(folder, grav)
            base = t_ns[0]
            tl = (t_ns - base).astype(np.float64) * 1e-9
            tg = (tg_ns - base).astype(np.float64) * 1e-9
            order = np.argsort(tg, kind="stable")
            tg, a_grav = tg[order], a_grav[order]
            acc = a_lin + np.column_stack([np.interp(tl, tg, a_grav[:, j]) for j in range(3)])
            acc_kind = "linear+gravity (Accelerometer.csv + Gravity.csv re-combined)"
            notes.append("no TotalAcceleration.csv: acceleration = Accelerometer (gravity-free) "
                         "+ Gravity")
        elif lin is not None:
            raise InputError("only Accelerometer.csv, which Sensor Logger writes without gravity; "
                             "TotalAcceleration.csv or Gravity.csv is needed", path=src.label)
        else:
            raise InputError("missing sensor files: no TotalAcceleration.csv or Accelerometer.csv",
                             path=src.label)
        meta_name = folder.find("Metadata.csv")
        meta = _read_metadata(folder, meta_name) if meta_name is not None else {}
        platform = (meta.get("platform") or "").strip().lower()
        standardised = (meta.get("standardisation") or "").strip().lower() in ("true", "1", "yes")
        if platform == "ios" and not standardised:
            # CoreMotion's sign: gravity reads -9.81 on the axis pointing up. Sensor Logger's
            # maintainer: negate all three axes to get the Android (+9.81 up) convention.
            acc = -acc
            notes.append("iOS export: acceleration negated to the +9.81-up (Android) convention")
        base = t_ns[0]
        ta = parse_time(pd.Series([base]), unit="ns", label=acc_label)
        t = (t_ns - base).astype(np.float64) * 1e-9
        gyro = None
        if gyr is not None:
            tgy_ns, w, gy_label = _read_sensor(folder, gyr)
            gyro = Stream(t_s=(tgy_ns - base).astype(np.float64) * 1e-9, xyz=w, unit="rad/s",
                          unit_source="format: Sensor Logger gyro is rad/s", origin=gy_label)
        raw = RawData(
            format=NAME, path=src.label,
            acc=Stream(t_s=t, xyz=acc, origin=acc_label),
            gyro=gyro, origin_time=ta.origin_time, acc_kind=acc_kind, acc_unit_default="m/s^2",
            notes=notes,
        )
        dev = meta.get("device name") or meta.get("devicename") or meta.get("device")
        if dev:
            raw.device = dev + (f" ({meta['platform']})" if meta.get("platform") else "")
        for k_in, k_out in (("platform", "platform"), ("appversion", "app_version"),
                            ("standardisation", "standardisation")):
            if meta.get(k_in):
                raw.extra[k_out] = meta[k_in]
        raw.extra["files"] = [PurePosixPath(n).name for n in (total or lin, grav if total is None else None, gyr)
                              if n]
        return raw
    finally:
        if folder is not src:
            folder.close()


def _read_metadata(src: Source, name: str) -> dict[str, str]:
    """First row of Metadata.csv as {lower-case column: value} (empty when unreadable)."""
    try:
        with src.open(name) as f:
            df = pd.read_csv(f, dtype=str, keep_default_na=False)
    except Exception:  # noqa: BLE001 - metadata are optional
        return {}
    if len(df) == 0:
        return {}
    return {str(k).strip().lower(): str(v).strip() for k, v in df.iloc[0].items()}
