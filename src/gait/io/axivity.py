"""Axivity AX3/AX6 CSV as written by OpenMovement's OmConvert / OmGui: no header.

``time,x,y,z`` (AX3) or ``time,x,y,z,gx,gy,gz`` (AX6); time is Unix seconds (UTC) or
``YYYY-MM-DD hh:mm:ss.fff`` (the device clock, local time); acceleration in g, gyro in deg/s.
"""

from __future__ import annotations

import re

import numpy as np

from ..errors import InputError
from ._common import RawData, Stream, parse_time, read_numeric, sniff_separator, split_fields
from ._source import Source

NAME = "axivity"
_DT = re.compile(r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d+)?$")


def _row_kind(fields: list[str]) -> str | None:
    if len(fields) not in (4, 7):
        return None
    try:
        [float(x) for x in fields[1:]]
    except ValueError:
        return None
    t = fields[0]
    if _DT.match(t):
        return "datetime"
    try:
        v = float(t)
    except ValueError:
        return None
    return "unix" if v > 1e8 else None


def sniff(src: Source) -> bool:
    if src.main is None:
        return False
    lines = [ln for ln in src.head_lines(src.main, 6) if ln.strip()]
    if len(lines) < 2:
        return False
    kinds = {_row_kind(split_fields(ln, ",")) for ln in lines[:5]}
    return len(kinds) == 1 and None not in kinds


def read(src: Source, *, fs_hz: float | None = None) -> RawData:
    if src.main is None:
        raise InputError("an Axivity CSV is a single file", path=src.label)
    name = src.main
    label = src.member_label(name)
    lines = [ln for ln in src.head_lines(name, 6) if ln.strip()]
    sep = sniff_separator(lines)
    first = split_fields(lines[0], sep)
    kind = _row_kind(first)
    if kind is None:
        raise InputError("not an Axivity CSV (expected time,x,y,z[,gx,gy,gz] without a header)",
                         path=label)
    n = len(first)
    df = read_numeric(src, name, sep=sep, skiprows=0, ncols=n, usecols=list(range(n)),
                      float_cols=list(range(1, n)))
    if len(df) == 0:
        raise InputError("no data rows", path=label)
    ta = parse_time(df["c0"], unit="s" if kind == "unix" else None, label=label)
    acc = np.column_stack([df[f"c{i}"].to_numpy(dtype=np.float64) for i in (1, 2, 3)])
    gyro = None
    if n == 7:
        gyro = Stream(t_s=ta.t_s, xyz=np.column_stack([df[f"c{i}"].to_numpy(dtype=np.float64)
                                                         for i in (4, 5, 6)]),
                      unit="deg/s", unit_source="format: Axivity AX6 gyro is deg/s", origin=label)
    notes = [ta.note] if ta.note else []
    return RawData(
        format=NAME, path=src.label,
        acc=Stream(t_s=ta.t_s, xyz=acc, unit="g", unit_source="format: Axivity CSV is in g",
                   origin=label),
        gyro=gyro, origin_time=ta.origin_time, origin_time_local=ta.origin_time_local,
        device="Axivity AX6" if n == 7 else "Axivity AX3", notes=notes,
    )
