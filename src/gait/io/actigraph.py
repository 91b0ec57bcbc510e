"""ActiGraph raw CSV (ActiLife export, GT3X/GT9X): 10 header lines, then g values.

::

    ------------ Data File Created By ActiGraph GT3X+ ActiLife v6.13.4 Firmware v3.2.1 date format M/d/yyyy at 100 Hz  Filter Normal -----------
    Serial Number: MOS2E12345678
    Start Time 10:00:00
    Start Date 11/24/2026
    Epoch Period (hh:mm:ss) 00:00:00
    Download Time ...
    Download Date ...
    Current Memory Address: 0
    Current Battery Voltage: 4.21     Mode = 12
    --------------------------------------------------
    Timestamp,Accelerometer X,Accelerometer Y,Accelerometer Z
    11/24/2026 10:00:00.000,0.000,0.000,1.000

The timestamp column is optional (then samples are placed at the stated rate from the start
date/time); rows may end with a comma. Epoch/count exports (``Epoch Period`` not 00:00:00, or
``Axis1`` columns) are rejected. Times are local wall-clock time (no zone).
"""

from __future__ import annotations

import re
from datetime import datetime

import numpy as np

from ..errors import InputError
from ._common import RawData, Stream, net_date_format, parse_datetime_text, read_numeric, split_fields
from ._source import Source

NAME = "actigraph"
N_HEADER = 10


def sniff(src: Source) -> bool:
    if src.main is None:
        return False
    lines = src.head_lines(src.main, 2)
    return bool(lines) and "created by actigraph" in lines[0].lower()


def read(src: Source, *, fs_hz: float | None = None) -> RawData:
    if src.main is None:
        raise InputError("an ActiGraph CSV is a single file", path=src.label)
    name = src.main
    label = src.member_label(name)
    lines = src.head_lines(name, N_HEADER + 3)
    if len(lines) < N_HEADER + 1:
        raise InputError("the ActiGraph header is incomplete (expected 10 lines, then columns)",
                         path=label)
    head = "\n".join(lines[:N_HEADER])
    m_rate = re.search(r"at\s+([0-9.]+)\s*Hz", lines[0], re.I)
    m_fmt = re.search(r"date format\s+(\S+)", lines[0], re.I)
    m_epoch = re.search(r"Epoch Period \(hh:mm:ss\)\s*([0-9:]+)", head, re.I)
    m_time = re.search(r"Start Time\s+([0-9:]+)", head, re.I)
    m_date = re.search(r"Start Date\s+(\S+)", head, re.I)
    m_serial = re.search(r"Serial Number:\s*(\S+)", head, re.I)
    m_model = re.search(r"ActiGraph\s+(\S+)", lines[0])
    cols_line = lines[N_HEADER]
    fields = [f.strip() for f in split_fields(cols_line, ",")]
    if (m_epoch and m_epoch.group(1) not in ("00:00:00", "0:00:00")) or \
            any(f.lower() in ("axis1", "axis2", "axis3", "vector magnitude", "steps") for f in fields):
        ep = m_epoch.group(1) if m_epoch else "?"
        raise InputError(f"this is an ActiGraph epoch/count export (epoch {ep}), not raw acceleration;"
                         " export the RAW data (…RAW.csv) from ActiLife", path=label)
    low = [f.lower() for f in fields]
    has_header = any(f.startswith("accelerometer") for f in low)
    if has_header:
        try:
            ix, iy, iz = (low.index(f"accelerometer {a}") for a in "xyz")
        except ValueError:
            raise InputError("missing columns: need Accelerometer X, Accelerometer Y, Accelerometer Z",
                             path=label) from None
        it = low.index("timestamp") if "timestamp" in low else None
        skip = N_HEADER + 1
    else:  # no column line: data start right after the header
        n = len([f for f in fields if f])
        if n == 3:
            it, (ix, iy, iz) = None, (0, 1, 2)
        elif n == 4:
            it, (ix, iy, iz) = 0, (1, 2, 3)
        else:
            raise InputError(f"missing columns: expected 3 or 4 columns after the header, got {n}",
                             path=label)
        skip = N_HEADER
    ncols = len(fields)
    use = sorted([ix, iy, iz] + ([it] if it is not None else []))
    df = read_numeric(src, name, sep=",", skiprows=skip, ncols=ncols + 1, usecols=use,
                      float_cols=[ix, iy, iz])
    if len(df) == 0:
        raise InputError("no data rows", path=label)
    acc = np.column_stack([df[f"c{i}"].to_numpy(dtype=np.float64) for i in (ix, iy, iz)])
    fs_nom = float(m_rate.group(1)) if m_rate else None
    date_fmt = net_date_format(m_fmt.group(1)) if m_fmt else "%m/%d/%Y"
    notes = ["ActiGraph times are local wall-clock time: start time kept as local time"]
    start_local = None
    if m_time and m_date:
        try:
            start_local = datetime.strptime(f"{m_date.group(1)} {m_time.group(1)}", f"{date_fmt} %H:%M:%S")
        except ValueError:
            notes.append(f"start date/time {m_date.group(1)} {m_time.group(1)} not understood")
    if it is not None:
        ta = parse_datetime_text(df[f"c{it}"], label, fmt=f"{date_fmt} %H:%M:%S.%f")
        t = ta.t_s
        start_local = datetime.fromisoformat(ta.origin_time_local) if ta.origin_time_local else start_local
    else:
        fs = fs_hz or fs_nom
        if not fs:
            raise InputError("no timestamp column and no 'at N Hz' in the header: pass --fs", path=label)
        t = np.arange(len(df), dtype=np.float64) / fs
        notes.append("no timestamp column: samples placed at the stated rate")
    device = " ".join(x for x in ("ActiGraph", m_model.group(1) if m_model else "",
                                  m_serial.group(1) if m_serial else "") if x)
    return RawData(
        format=NAME, path=src.label,
        acc=Stream(t_s=t, xyz=acc, unit="g", unit_source="format: ActiGraph raw CSV is in g",
                   origin=label),
        origin_time_local=None if start_local is None else start_local.isoformat(),
        fs_hz_nominal=fs_nom, device=device, notes=notes,
    )
