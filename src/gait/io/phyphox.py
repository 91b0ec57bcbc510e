"""phyphox exports: ``Raw Data.csv`` or one CSV per sensor, plus ``meta/time.csv``.

Headers vary by experiment and app version: ``"Time (s)","Acceleration x (m/s^2)",...``,
``"Time (s)";"X (m/s^2)";...``, ``"Linear Acceleration x (m/s^2)"``, ``"Gyroscope x (rad/s)"``.
Separators: comma, semicolon or tab; decimal point or comma; E notation. Time is seconds since
the experiment start; ``meta/time.csv`` gives the absolute (epoch) time of the START event.
Acceleration "with g" is used; linear (gravity-free) acceleration alone is rejected.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import PurePosixPath

import numpy as np

from ..errors import InputError
from ._common import (RawData, Stream, _decimal_comma, read_numeric, sniff_separator,
                      split_fields, unit_word)
from ._source import Source

NAME = "phyphox"

_TIME_RE = re.compile(r"^time\s*\(s\)$", re.I)
_AXIS_RE = re.compile(
    r"^(?P<kind>linear acceleration|acceleration|gyroscope|angular velocity|)\s*(?P<ax>[xyz])\s*"
    r"\((?P<unit>[^)]*)\)$", re.I)


def _fields(lines: list[str]) -> tuple[str, list[str]]:
    sep = sniff_separator(lines)
    return sep, [f.strip().strip('"').strip() for f in split_fields(lines[0], sep)]


def _is_phyphox_header(lines: list[str]) -> bool:
    if not lines:
        return False
    _, f = _fields(lines)
    return bool(f) and bool(_TIME_RE.match(f[0])) and any(_AXIS_RE.match(x) for x in f[1:])


def _candidates(src: Source) -> list[str]:
    names = []
    for n in src.data_files():
        base = PurePosixPath(n).name.lower()
        if base in ("raw data.csv", "accelerometer.csv", "linear accelerometer.csv",
                    "gyroscope.csv", "acceleration.csv"):
            names.append(n)
    return names


def sniff(src: Source) -> bool:
    if src.main is not None:
        return _is_phyphox_header(src.head_lines(src.main, 12))
    return any(_is_phyphox_header(src.head_lines(n, 12)) for n in _candidates(src))


def _classify(src: Source, name: str) -> dict[str, tuple[int, list[int], str | None]]:
    """Column groups of a phyphox file: {'acc'|'linear'|'gyro': (time col, [x,y,z], unit)}."""
    lines = src.head_lines(name, 12)
    sep, f = _fields(lines)
    base = PurePosixPath(name).name.lower()
    out: dict[str, tuple[int, list[int], str | None]] = {}
    time_col = None
    groups: dict[str, dict[str, int]] = {}
    units: dict[str, str | None] = {}
    for i, name_i in enumerate(f):
        if _TIME_RE.match(name_i):
            time_col = i
            continue
        m = _AXIS_RE.match(name_i)
        if not m or time_col is None:
            continue
        kind = m.group("kind").lower()
        unit = unit_word(m.group("unit"))
        if kind == "":
            kind = ("linear" if "linear" in base else "gyro" if "gyro" in base else "acc")
            if unit in ("rad/s", "deg/s"):
                kind = "gyro"
        else:
            kind = {"linear acceleration": "linear", "acceleration": "acc", "gyroscope": "gyro",
                    "angular velocity": "gyro"}[kind]
        key = f"{kind}@{time_col}"
        groups.setdefault(key, {})[m.group("ax").lower()] = i
        units[key] = unit
    for key, axes in groups.items():
        if set(axes) == {"x", "y", "z"}:
            kind, tc = key.split("@")
            out.setdefault(kind, (int(tc), [axes["x"], axes["y"], axes["z"]], units[key]))
    return out


def _read_group(src: Source, name: str, tcol: int, cols: list[int]) -> tuple[np.ndarray, np.ndarray]:
    lines = src.head_lines(name, 12)
    sep, f = _fields(lines)
    decimal = "," if _decimal_comma(lines, sep) else "."
    df = read_numeric(src, name, sep=sep, skiprows=1, ncols=len(f), usecols=sorted([tcol, *cols]),
                      float_cols=[tcol, *cols], decimal=decimal)
    if len(df) == 0:
        raise InputError("no data rows", path=src.member_label(name))
    t = df[f"c{tcol}"].to_numpy(dtype=np.float64)
    xyz = np.column_stack([df[f"c{i}"].to_numpy(dtype=np.float64) for i in cols])
    # phyphox leaves cells empty where one sensor of a shared table has no sample
    keep = np.isfinite(t)
    return t[keep], xyz[keep]


def read(src: Source, *, fs_hz: float | None = None) -> RawData:
    folder = Source(src.root) if src.main is not None else src
    try:
        files = [src.main] if src.main is not None else _candidates(folder)
        if src.main is not None:  # one file given: use its siblings as well
            files += [n for n in _candidates(folder) if n != src.main]
        found: dict[str, tuple[str, int, list[int], str | None]] = {}
        for n in files:
            if not _is_phyphox_header(folder.head_lines(n, 12)):
                continue
            for kind, (tc, cols, unit) in _classify(folder, n).items():
                found.setdefault(kind, (n, tc, cols, unit))
        if "acc" not in found:
            if "linear" in found:
                raise InputError("only linear acceleration (gravity removed) in this phyphox export;"
                                 " record with the 'Acceleration (with g)' experiment",
                                 path=src.label)
            raise InputError("missing columns: no acceleration in this phyphox export", path=src.label)
        n, tc, cols, unit = found["acc"]
        t, acc = _read_group(folder, n, tc, cols)
        acc_s = Stream(t_s=t, xyz=acc, unit=unit, unit_source=f"header: ({unit})" if unit else None,
                       origin=folder.member_label(n))
        gyro_s = None
        if "gyro" in found:
            n, tc, cols, unit = found["gyro"]
            tg, w = _read_group(folder, n, tc, cols)
            gyro_s = Stream(t_s=tg, xyz=w, unit=unit or "rad/s",
                            unit_source=f"header: ({unit})" if unit else "format: phyphox gyro is rad/s",
                            origin=folder.member_label(n))
        raw = RawData(format=NAME, path=src.label, acc=acc_s, gyro=gyro_s,
                      acc_kind="with gravity (phyphox 'Acceleration with g')")
        _read_meta(folder, raw)
        return raw
    finally:
        if folder is not src:
            folder.close()


def _read_meta(src: Source, raw: RawData) -> None:
    tm = next((n for n in src.names() if n.lower().endswith("meta/time.csv")), None)
    if tm is not None:
        try:
            lines = src.head_lines(tm, 20)
            sep = sniff_separator(lines)
            rows = [[c.strip().strip('"') for c in split_fields(ln, sep)] for ln in lines if ln.strip()]
            head = [c.lower() for c in rows[0]]
            i_ev, i_exp, i_sys = head.index("event"), head.index("experiment time"), head.index("system time")
            for r in rows[1:]:
                if r[i_ev].upper() == "START":
                    sys_s = float(r[i_sys].replace(",", ".") if sep != "," else r[i_sys])
                    exp_s = float(r[i_exp].replace(",", ".") if sep != "," else r[i_exp])
                    if sys_s > 1e11:  # milliseconds in some versions
                        sys_s /= 1000.0
                    raw.origin_time = datetime.fromtimestamp(sys_s - exp_s, tz=timezone.utc)
                    break
        except (ValueError, IndexError):
            raw.notes.append("meta/time.csv could not be read: no absolute start time")
    dev = next((n for n in src.names() if n.lower().endswith("meta/device.csv")), None)
    if dev is not None:
        try:
            with src.open(dev) as f:
                text = f.read().decode("utf-8-sig", errors="replace")
            lines = text.splitlines()
            sep = sniff_separator(lines)
            props = {}
            for ln in lines[1:]:
                p = [c.strip().strip('"') for c in split_fields(ln, sep)]
                if len(p) >= 2:
                    props[p[0]] = p[1]
            brand, model = props.get("deviceBrand", ""), props.get("deviceModel", "")
            name = " ".join(x for x in (brand, model) if x)
            if name:
                raw.device = name
        except (ValueError, IndexError):
            pass
