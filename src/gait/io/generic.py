"""Generic CSV: a time column and x/y/z acceleration columns, optional gyro columns.

Header names are matched loosely (``t_s``, ``time``, ``timestamp``...; ``ax``, ``acc_x``,
``x``...; ``gx``, ``gyro_x``...), units come from the header (``ax_g``, ``acc_x [m/s^2]``,
``gyro_x (deg/s)``) or are detected. Comma, semicolon or tab separated; decimal comma with
semicolon/tab separators.
"""

from __future__ import annotations

import numpy as np

from ..errors import InputError
from ._common import (ColumnMap, RawData, Stream, _decimal_comma, is_number, map_columns,
                      parse_time, read_float_groups, read_numeric, sniff_separator, split_fields)
from ._source import Source

NAME = "generic"


def _header_index(lines: list[str]) -> int | None:
    for i, ln in enumerate(lines):
        if ln.strip() and not ln.lstrip().startswith("#"):
            return i
    return None


def sniff_file(src: Source, name: str, lines: list[str]) -> bool:
    i = _header_index(lines)
    if i is None:
        return False
    sep = sniff_separator(lines[i:])
    fields = split_fields(lines[i], sep)
    if all(is_number(f) for f in fields if f):
        return False
    try:
        map_columns(fields)
    except InputError:
        return False
    return True


def sniff(src: Source) -> bool:
    if src.main is None:
        return False
    return sniff_file(src, src.main, src.head_lines(src.main))


def truncated_tail(src: Source, name: str) -> bool:
    """True when the member does not end with a newline (a cut last line)."""
    p = src.local_path(name)
    if p is not None:
        with open(p, "rb") as f:
            f.seek(0, 2)
            if f.tell() == 0:
                return False
            f.seek(-1, 2)
            return f.read(1) not in (b"\n", b"\r")
    data = src.read_bytes(name)
    return bool(data) and data[-1:] not in (b"\n", b"\r")


def last_line_is_comment(src: Source, name: str) -> bool:
    p = src.local_path(name)
    if p is not None:
        with open(p, "rb") as f:
            f.seek(0, 2)
            size = f.tell()
            f.seek(max(0, size - 4096))
            tail = f.read()
    else:
        tail = src.read_bytes(name)[-4096:]
    last = tail.rsplit(b"\n", 1)[-1]
    return last.lstrip().startswith(b"#")


def read_table(src: Source, name: str, *, fmt: str, comment: str | None = None,
               fs_hz: float | None = None, cols: ColumnMap | None = None,
               lines: list[str] | None = None) -> tuple[RawData, ColumnMap]:
    """Read a headed CSV member into :class:`RawData` (shared by ``generic`` and ``gait``)."""
    label = src.member_label(name)
    lines = lines if lines is not None else src.head_lines(name)
    hi = _header_index(lines) if comment else next((i for i, ln in enumerate(lines) if ln.strip()), None)
    if hi is None:
        raise InputError("no header line with column names", path=label)
    sep = sniff_separator(lines[hi:])
    decimal = "," if _decimal_comma(lines[hi:], sep) else "."
    names = split_fields(lines[hi], sep)
    cmap = cols or map_columns_for(names, label)
    use = ([cmap.time] if cmap.time is not None else []) + cmap.acc + (cmap.gyro or [])
    float_cols = cmap.acc + (cmap.gyro or [])
    first = next((ln for ln in lines[hi + 1:] if ln.strip()
                  and not (comment and ln.lstrip().startswith(comment))), None)
    numeric_time = cmap.time is None or (
        first is not None and len(split_fields(first, sep)) > cmap.time
        and is_number(split_fields(first, sep)[cmap.time]))
    su = sorted(use)
    fast = None
    if numeric_time:  # fast path: preallocated float64 arrays, filled in chunks
        groups = [[cmap.time] if cmap.time is not None else [], cmap.acc] + ([cmap.gyro] if cmap.gyro else [])
        fast = read_float_groups(src, name, [g for g in groups if g], sep=sep, skiprows=hi + 1,
                                 decimal=decimal, comment=comment)
        if cmap.time is None:
            fast.insert(0, None)
        n_rows = len(fast[1])
    else:
        df = read_numeric(src, name, sep=sep, skiprows=hi + 1, ncols=len(names), usecols=su,
                          float_cols=float_cols, decimal=decimal, comment=comment)
        col = lambda i: df[f"c{i}"]  # noqa: E731
        n_rows = len(df)
    n_dropped = 0
    notes: list[str] = []
    if n_rows and truncated_tail(src, name) and not (comment and last_line_is_comment(src, name)):
        n_rows -= 1
        n_dropped = 1
        notes.append("the last line was cut off (no newline at the end): ignored")
    if n_rows <= 0:
        raise InputError("no data rows", path=label)
    if fast is not None:
        acc = fast[1][:n_rows]
        gyro = fast[2][:n_rows] if cmap.gyro else None
        col = lambda i: fast[0][:, 0]  # noqa: E731  (only the time column is asked for)
    else:
        acc = np.column_stack([col(i).to_numpy(dtype=np.float64)[:n_rows] for i in cmap.acc])
        gyro = None
        if cmap.gyro:
            gyro = np.column_stack([col(i).to_numpy(dtype=np.float64)[:n_rows] for i in cmap.gyro])
    origin = origin_local = None
    if cmap.time is not None:
        tcol = col(cmap.time)
        ta = parse_time(tcol[:n_rows] if numeric_time else tcol.iloc[:n_rows], unit=cmap.time_unit,
                        label=label)
        t = ta.t_s
        origin, origin_local = ta.origin_time, ta.origin_time_local
        if ta.note:
            notes.append(ta.note)
    elif fs_hz is not None:
        t = np.arange(n_rows, dtype=np.float64) / fs_hz
        notes.append(f"no time column: samples placed at the given {fs_hz:g} Hz")
    else:
        raise InputError("no time column (t_s, time, timestamp...); pass --fs to use the row "
                         "order at a known rate", path=label)
    col = fast = None  # free the table
    acc_stream = Stream(t_s=t, xyz=acc, unit=cmap.acc_unit,
                        unit_source=f"header: column {names[cmap.acc[0]].strip()!r}" if cmap.acc_unit else None,
                        origin=label)
    gyro_stream = None
    if gyro is not None:
        gyro_stream = Stream(t_s=t, xyz=gyro, unit=cmap.gyro_unit,
                             unit_source=f"header: column {names[cmap.gyro[0]].strip()!r}" if cmap.gyro_unit else None,
                             origin=label)
    raw = RawData(format=fmt, path=src.label, acc=acc_stream, gyro=gyro_stream,
                  origin_time=origin, origin_time_local=origin_local, notes=notes,
                  n_dropped=n_dropped)
    return raw, cmap


def map_columns_for(names: list[str], label: str) -> ColumnMap:
    try:
        return map_columns(names)
    except InputError as exc:
        raise InputError(exc.message, path=label) from None


def read(src: Source, *, fs_hz: float | None = None) -> RawData:
    name = src.main
    if name is None:
        files = src.data_files()
        if len(files) != 1:
            raise InputError("a folder or zip holds several files: name the data file", path=src.label)
        name = files[0]
    raw, _ = read_table(src, name, fmt=NAME, fs_hz=fs_hz)
    return raw
