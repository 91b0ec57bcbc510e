"""Shared helpers for readers: CSV sniffing, column names, unit words, time parsing, raw data.

Readers turn a file into a :class:`RawData` (time stamps and values in the file's own units
and clock); :func:`gait.io._build.build_recording` then applies one policy for units, time and
gaps to every format.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Iterable, Iterator

import numpy as np
import pandas as pd

from ..errors import InputError
from ._source import Source

# --------------------------------------------------------------------------- raw data


@dataclass
class Stream:
    """One sensor's samples as found: stamps in seconds from the reader's origin, raw units."""

    t_s: np.ndarray
    xyz: np.ndarray
    #: Unit as found ("g", "m/s^2", "mg", "deg/s", "rad/s", "mdps") or None (decide later).
    unit: str | None = None
    #: How ``unit`` was decided ("header: 'X [mg]'", "format: ...").
    unit_source: str | None = None
    #: File (member label) the stream came from.
    origin: str = ""


def header_stream(t: np.ndarray, t0, scale_s: float, xyz: np.ndarray, unit: str | None,
                  column: str, origin: str) -> Stream:
    """A :class:`Stream` from raw stamps ``t`` (``(t - t0) * scale_s`` seconds) whose unit, if
    any, came from the header of ``column``."""
    return Stream(t_s=(t - t0).astype(np.float64) * scale_s, xyz=xyz, unit=unit,
                  unit_source=f"header: column {column!r}" if unit else None, origin=origin)


def members_of_kind(folder: Source, kind_of_header: Callable[[str], str | None],
                    kind: str) -> list[str]:
    """The data files of ``folder`` whose first line ``kind_of_header`` calls ``kind``."""
    return [n for n in folder.data_files()
            if kind_of_header((folder.head_lines(n, 1) or [""])[0]) == kind]


def the_one_acc_file(folder: Source, kind_of_header: Callable[[str], str | None], what: str,
                     label: str) -> str:
    """The single accelerometer file of an export folder, else InputError ("name one")."""
    accs = members_of_kind(folder, kind_of_header, "acc")
    if len(accs) != 1:
        raise InputError(f"{len(accs)} {what} files in the folder: name one", path=label)
    return accs[0]


@dataclass
class RawData:
    """What a reader found, before the common unit/time/gap policy is applied."""

    format: str
    path: str
    acc: Stream
    gyro: Stream | None = None
    #: Absolute time of t_s == 0 (UTC-aware) when the file states it.
    origin_time: datetime | None = None
    #: Local wall-clock time of t_s == 0 when the file gives one without a zone (ISO text).
    origin_time_local: str | None = None
    fs_hz_nominal: float | None = None
    device: str | None = None
    mount: str | None = None
    acc_kind: str = "with gravity"
    #: Acc unit stated as a format convention (checked against the magnitude, not trusted).
    acc_unit_default: str | None = None
    notes: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    #: Rows dropped while parsing (truncated last line, ...), counted as repaired.
    n_dropped: int = 0
    #: (first, last) stamps, s, of runs of samples that have acceleration but no gyro: the
    #: recording keeps them as valid samples with NaN gyro (``gait-recording/1`` `nan` cells).
    gyro_missing: list[tuple[float, float]] = field(default_factory=list)


# --------------------------------------------------------------------------- CSV sniffing

_SEPS = (",", ";", "\t")


def sniff_separator(lines: list[str]) -> str:
    """The field separator (comma, semicolon or tab) that splits ``lines`` most consistently."""
    best, best_score = ",", -1.0
    sample = [ln for ln in lines if ln.strip()][:20]
    for sep in _SEPS:
        counts = [_split_count(ln, sep) for ln in sample]
        if not counts or max(counts) == 0:
            continue
        if counts[0] == 0:  # the first line (header or data) must be split by it too
            continue
        # consistent and many fields wins
        mode = max(set(counts), key=counts.count)
        score = counts.count(mode) / len(counts) * 10 + mode
        if mode > 0 and score > best_score:
            best, best_score = sep, score
    return best


def _split_count(line: str, sep: str) -> int:
    # ignore separators inside double quotes
    n, inq = 0, False
    for ch in line:
        if ch == '"':
            inq = not inq
        elif ch == sep and not inq:
            n += 1
    return n


_DEC_COMMA = re.compile(r"(^|[;\t])\s*\"?-?\d+,\d+(E[-+]?\d+)?\"?\s*(?=[;\t]|$)", re.IGNORECASE)


def _decimal_comma(lines: list[str], sep: str) -> bool:
    """True when numbers use a decimal comma (only possible with ; or tab separators)."""
    if sep == ",":
        return False
    data = [ln for ln in lines[1:] if ln.strip()][:10]
    return bool(data) and sum(bool(_DEC_COMMA.search(ln)) for ln in data) >= max(1, len(data) // 2)


def split_fields(line: str, sep: str) -> list[str]:
    out, cur, inq = [], [], False
    for ch in line:
        if ch == '"':
            inq = not inq
        elif ch == sep and not inq:
            out.append("".join(cur).strip())
            cur = []
        else:
            cur.append(ch)
    out.append("".join(cur).strip())
    return out


def is_number(text: str) -> bool:
    try:
        float(text.replace(",", ".") if text.count(",") == 1 and "." not in text else text)
    except ValueError:
        return False
    return True


# --------------------------------------------------------------------------- names and units

_UNIT_IN_BRACKETS = re.compile(r"[\(\[\{]\s*([^\)\]\}]*)\s*[\)\]\}]")


def unit_word(text: str | None) -> str | None:
    """The unit a header fragment names: 'm/s^2', 'g', 'mg', 'deg/s', 'rad/s', 'mdps' or None."""
    if not text:
        return None
    t = text.strip().lower().replace(" ", "").replace("²", "^2").replace("**", "^")
    t = t.strip("_-")
    if t in ("m/s^2", "m/s2", "ms^-2", "ms-2", "mps2", "m_s2", "ms2", "m/s/s", "mpss", "m_s^2", "m/sec^2"):
        return "m/s^2"
    if t in ("g", "gs", "gravity", "g0"):
        return "g"
    if t in ("mg", "milli-g", "millig"):
        return "mg"
    if t in ("mdps", "mdeg/s", "mdeg_s"):
        return "mdps"
    if t in ("deg/s", "dps", "°/s", "deg_s", "degs", "degps", "deg/sec", "degree/s", "degrees/s", "deg"):
        return "deg/s"
    if t in ("rad/s", "rad_s", "rads", "radps", "rad/sec", "rad"):
        return "rad/s"
    return None


def split_name(raw: str) -> tuple[str, str | None]:
    """A column name without its bracketed unit, normalised (lower, ``_`` for separators),
    and the unit word found in brackets, if any."""
    name = raw.strip().strip('"').strip()
    unit = None
    m = _UNIT_IN_BRACKETS.search(name)
    if m:
        unit = m.group(1)
        name = _UNIT_IN_BRACKETS.sub(" ", name)
    base = re.sub(r"[^0-9a-z]+", "_", name.lower()).strip("_")
    return base, unit


_ACC_RE = re.compile(
    r"^(?:a|acc|accel|accelerometer|acceleration|accelerations|acc_total|total_acc|"
    r"total_acceleration|accelerometer_total)_?([xyz])(?:_?axis)?(?:_(.+))?$"
)
_GYRO_RE = re.compile(
    r"^(?:g|gyr|gyro|gyroscope|w|omega|angvel|angular_velocity|rot|rotation_rate|rotationrate)"
    r"_?([xyz])(?:_?axis)?(?:_(.+))?$"
)
_BARE_RE = re.compile(r"^([xyz])(?:_?axis)?(?:_(.+))?$")
_TIME_NAMES = {
    "t", "ts", "time", "times", "timestamp", "timestamps", "datetime", "date_time", "seconds",
    "elapsed", "epoch", "sec", "secs", "time_stamp", "unix_time", "unixtime", "utc", "date",
}
_TIME_UNITS = {"s": "s", "sec": "s", "secs": "s", "seconds": "s", "ms": "ms", "msec": "ms",
               "millis": "ms", "milliseconds": "ms", "us": "us", "usec": "us", "micros": "us",
               "ns": "ns", "nanos": "ns", "nsec": "ns"}


def time_unit_word(text: str | None) -> str | None:
    if not text:
        return None
    return _TIME_UNITS.get(text.strip().lower())


@dataclass
class ColumnMap:
    time: int | None
    time_unit: str | None
    acc: list[int]
    acc_unit: str | None
    acc_unit_text: str | None
    gyro: list[int] | None
    gyro_unit: str | None
    gyro_unit_text: str | None


def map_columns(names: list[str]) -> ColumnMap:
    """Find the time, acceleration and gyro columns among header ``names``."""
    time_idx, time_unit = None, None
    acc: dict[str, tuple[int, str | None, str]] = {}
    gyro: dict[str, tuple[int, str | None, str]] = {}
    bare: dict[str, tuple[int, str | None, str]] = {}
    for i, raw in enumerate(names):
        base, bunit = split_name(raw)
        if not base:
            continue
        if time_idx is None:
            parts = base.split("_")
            head, tail = parts[0], "_".join(parts[1:])
            if base in _TIME_NAMES or (head in _TIME_NAMES and (not tail or time_unit_word(tail)
                                                                 or tail in ("stamp", "utc"))):
                time_idx = i
                time_unit = time_unit_word(bunit) or time_unit_word(tail) or None
                continue
        for rx, store in ((_ACC_RE, acc), (_GYRO_RE, gyro), (_BARE_RE, bare)):
            m = rx.match(base)
            if m:
                axis, suffix = m.group(1), m.group(2)
                text = bunit if bunit is not None else suffix
                store.setdefault(axis, (i, unit_word(text), text or ""))
                break
    if len(acc) < 3 and len(bare) == 3:
        acc = bare
    if len(acc) < 3:
        raise InputError(
            "missing acceleration columns: need x, y and z (e.g. ax,ay,az or acc_x,acc_y,acc_z); "
            f"found columns {', '.join(repr(n.strip()) for n in names)}"
        )
    g = [gyro[a][0] for a in "xyz"] if len(gyro) == 3 else None
    return ColumnMap(
        time=time_idx,
        time_unit=time_unit,
        acc=[acc[a][0] for a in "xyz"],
        acc_unit=acc["x"][1],
        acc_unit_text=acc["x"][2] or None,
        gyro=g,
        gyro_unit=gyro["x"][1] if g else None,
        gyro_unit_text=(gyro["x"][2] or None) if g else None,
    )


# --------------------------------------------------------------------------- reading numbers


def read_numeric(
    src: Source,
    name: str,
    *,
    sep: str,
    skiprows: int,
    ncols: int,
    usecols: list[int],
    float_cols: Iterable[int],
    decimal: str = ".",
    comment: str | None = None,
) -> pd.DataFrame:
    """Read columns ``usecols`` (0-based positions) of a CSV member with pandas' C engine.

    ``skiprows`` lines (header included) are skipped; the frame's columns are named ``c<i>``.
    ``float_cols`` are parsed as float64 (empty cells -> NaN); the others are left to pandas
    (time columns: integers, floats or text). A non-numeric cell raises :class:`InputError`
    naming the column and line.
    """
    float_cols = list(float_cols)
    # as many names as the first data row has fields (rows may end with a separator)
    ncols = _data_row_fields(src, name, sep=sep, skiprows=skiprows, usecols=usecols,
                             comment=comment) or ncols
    names = [f"c{i}" for i in range(max(ncols, max(usecols) + 1))]
    kwargs = _csv_kwargs(sep=sep, names=names, skiprows=skiprows, usecols=usecols,
                         float_cols=float_cols, decimal=decimal, comment=comment)
    with _csv_errors(src, name, kwargs, float_cols), src.open(name) as f:
        return pd.read_csv(f, **kwargs)


def read_time_xyz(src: Source, name: str, *, sep: str, ncols: int, t_col: int,
                  xyz_cols: tuple[int, int, int]) -> tuple[np.ndarray, np.ndarray]:
    """The time column (numbers as read, text coerced to NaN) and an ``(n, 3)`` float64 array.

    For one-sensor files with a one-line header (MetaWear, Polar, Sensor Logger).

    Raises
    ------
    InputError
        No data rows, too few columns, or a non-numeric x/y/z cell.
    """
    df = read_numeric(src, name, sep=sep, skiprows=1, ncols=ncols, usecols=[t_col, *xyz_cols],
                      float_cols=xyz_cols)
    if len(df) == 0:
        raise InputError("no data rows", path=src.member_label(name))
    t = df[f"c{t_col}"]
    if not pd.api.types.is_numeric_dtype(t.dtype):
        t = pd.to_numeric(t, errors="coerce")
    return t.to_numpy(), np.column_stack([df[f"c{i}"].to_numpy(dtype=np.float64) for i in xyz_cols])


def iter_float_chunks(
    src: Source,
    name: str,
    *,
    sep: str,
    skiprows: int,
    usecols: list[int],
    decimal: str = ".",
    comment: str | None = None,
    chunk_rows: int = 1_000_000,
) -> Iterator[np.ndarray]:
    """Columns ``usecols`` (sorted positions) of a CSV member as float64 ``(m, k)`` chunks.

    The C parser reads ``chunk_rows`` rows at a time, so memory stays bounded; errors are
    the same one-line :class:`InputError` as :func:`read_numeric`.
    """
    usecols = sorted(usecols)
    ncols = _data_row_fields(src, name, sep=sep, skiprows=skiprows, usecols=usecols,
                             comment=comment)
    if ncols is None:
        raise InputError("no data rows", path=src.member_label(name))
    kwargs = _csv_kwargs(sep=sep, names=[f"c{i}" for i in range(ncols)], skiprows=skiprows,
                         usecols=usecols, float_cols=usecols, decimal=decimal, comment=comment)
    cols = [f"c{i}" for i in usecols]
    with _csv_errors(src, name, kwargs, usecols), src.open(name) as f:
        for df in pd.read_csv(f, chunksize=chunk_rows, **kwargs):
            yield df[cols].to_numpy(dtype=np.float64)


def _data_row_fields(src: Source, name: str, *, sep: str, skiprows: int, usecols: list[int],
                     comment: str | None) -> int | None:
    """Fields in the first data row (None when the head holds none); too few is an error."""
    head = src.head_lines(name, skiprows + 50)
    first = next((ln for ln in head[skiprows:] if ln.strip()
                  and not (comment and ln.lstrip().startswith(comment))), None)
    if first is None:
        return None
    ncols = len(split_fields(first, sep))
    if ncols <= max(usecols):
        raise InputError(f"missing columns: the data rows have {ncols} fields, "
                         f"column {max(usecols) + 1} is needed", path=src.member_label(name))
    return ncols


def _csv_kwargs(*, sep: str, names: list[str], skiprows: int, usecols: list[int],
                float_cols: list[int], decimal: str, comment: str | None) -> dict[str, Any]:
    """Arguments of ``pd.read_csv`` (C engine) for the positional columns ``usecols``."""
    return dict(
        sep=sep, header=None, names=names, skiprows=skiprows,
        usecols=[f"c{i}" for i in usecols], dtype={f"c{i}": np.float64 for i in float_cols},
        engine="c", decimal=decimal, comment=comment, skip_blank_lines=True, index_col=False,
        na_values=NA_VALUES, keep_default_na=False, skipinitialspace=True, encoding_errors="replace",
    )


@contextlib.contextmanager
def _csv_errors(src: Source, name: str, kwargs: dict[str, Any],
                float_cols: list[int]) -> Iterator[None]:
    """pandas' parse errors as one-line :class:`InputError` naming the member (and bad cell)."""
    label = src.member_label(name)
    try:
        yield
    except ValueError as exc:
        msg = str(exc)
        if "could not convert" in msg or "Unable to parse" in msg or "invalid literal" in msg \
                or "cannot safely convert" in msg:
            raise InputError(_locate_bad_cell(src, name, kwargs, float_cols), path=label) from None
        raise InputError(f"cannot parse as CSV ({msg.splitlines()[0]})", path=label) from None
    except pd.errors.EmptyDataError:
        raise InputError("no data rows", path=label) from None
    except pd.errors.ParserError as exc:
        raise InputError(f"malformed CSV ({str(exc).splitlines()[0]})", path=label) from None
    except UnicodeDecodeError:
        raise InputError("not a text file", path=label) from None


def read_float_groups(src: Source, name: str, groups: list[list[int]], *, sep: str,
                      skiprows: int, decimal: str = ".", comment: str | None = None,
                      ) -> list[np.ndarray]:
    """Column groups (e.g. ``[[t], [ax, ay, az], [gx, gy, gz]]``) of a CSV member, each as a
    preallocated float64 ``(n, len(group))`` array, filled chunk by chunk (no concatenation
    copy: the row count is estimated from the file size and grown if needed)."""
    usecols = sorted({i for g in groups for i in g})
    pos = [[usecols.index(i) for i in g] for g in groups]
    head = src.head_lines(name, skiprows + 200)
    sample = [ln for ln in head[skiprows:] if ln.strip()]
    per_line = max(8.0, float(np.mean([len(ln) + 1 for ln in sample]))) if sample else 40.0
    est = int(src.size(name) / per_line * 1.02) + 1024
    outs = [np.empty((est, len(g)), dtype=np.float64) for g in groups]
    n = 0
    for chunk in iter_float_chunks(src, name, sep=sep, skiprows=skiprows, usecols=usecols,
                                   decimal=decimal, comment=comment):
        m = len(chunk)
        if n + m > len(outs[0]):
            size = max(len(outs[0]) * 5 // 4, n + m)
            grown = []
            for o in outs:
                g = np.empty((size, o.shape[1]), dtype=np.float64)
                g[:n] = o[:n]
                grown.append(g)
            outs = grown
        for o, p in zip(outs, pos):
            o[n:n + m] = chunk[:, p]
        n += m
    return [o[:n] for o in outs]


NA_VALUES = ["", "NaN", "nan", "NA", "null", "None", "-nan", "inf", "-inf", "Inf", "-Inf"]


def _locate_bad_cell(src: Source, name: str, kwargs: dict[str, Any], float_cols: list[int]) -> str:
    """Find the first non-numeric cell (slow path, only after a parse error)."""
    try:
        kw = dict(kwargs)
        kw["dtype"] = str
        with src.open(name) as f:
            df = pd.read_csv(f, **kw)
        for i in float_cols:
            c = f"c{i}"
            s = df[c].astype(str).str.strip()
            if kw.get("decimal", ".") != ".":
                s = s.str.replace(kw["decimal"], ".", regex=False)
            num = pd.to_numeric(s, errors="coerce")
            bad = num.isna().to_numpy() & ~s.isin(NA_VALUES).to_numpy() & df[c].notna().to_numpy()
            if bad.any():
                k = int(np.flatnonzero(bad)[0])
                return (f"non-numeric value {df[c].iloc[k]!r} in column {i + 1} "
                        f"(data row {k + 1}, line {kw['skiprows'] + k + 1})")
    except Exception:  # noqa: BLE001 - best effort only
        pass
    return "non-numeric values in a numeric column"


# --------------------------------------------------------------------------- time parsing

_EPOCH_NS_MIN = 1e17
_EPOCH_US_MIN = 1e14
_EPOCH_MS_MIN = 1e11
_EPOCH_S_MIN = 1e8


@dataclass
class TimeAxis:
    t_s: np.ndarray
    origin_time: datetime | None = None
    origin_time_local: str | None = None
    note: str | None = None
    #: Numeric stamps: t_s = (raw - first_raw) * factor (for reading later chunks alike).
    first_raw: float | None = None
    factor: float | None = None


def parse_time(values: pd.Series | np.ndarray, *, unit: str | None = None,
               epoch: datetime | None = None, label: str = "") -> TimeAxis:
    """Seconds from the first stamp, plus its absolute time when the stamps carry one.

    Numbers: ``unit`` ('s', 'ms', 'us', 'ns') if known, else epoch ns/us/ms/s by magnitude,
    else relative seconds (or milliseconds when the median step is above 0.5, with a note).
    ``epoch`` gives the zero of numeric stamps (e.g. Polar's 2000-01-01); text: ISO date-times.
    """
    if isinstance(values, np.ndarray) and values.dtype.kind in "fiu":
        s = values  # numbers already: no pandas copy
    else:
        s = values if isinstance(values, pd.Series) else pd.Series(values)
    if len(s) == 0:
        raise InputError("no data rows", path=label or None)
    if isinstance(s, np.ndarray):
        pass
    elif s.dtype == object or pd.api.types.is_string_dtype(s.dtype):
        num = pd.to_numeric(s, errors="coerce")
        if num.notna().mean() > 0.99:
            s = num
        else:
            return _parse_datetime_text(s, label)
    if not isinstance(s, np.ndarray) and pd.api.types.is_datetime64_any_dtype(s.dtype):
        return _from_datetimes(s, label)
    arr = s if isinstance(s, np.ndarray) else s.to_numpy()
    if arr.dtype.kind in "iu":
        first = int(arr[0])
        rel = (arr - arr[0]).astype(np.float64)
    else:
        arr = arr.astype(np.float64)
        finite = np.flatnonzero(np.isfinite(arr))
        if len(finite) == 0:
            raise InputError("the time column holds no numbers", path=label or None)
        first = float(arr[finite[0]])
        rel = arr - first
    note = None
    scale_unit = unit
    absolute = epoch is not None
    if scale_unit is None:
        mag = abs(first)
        if mag >= _EPOCH_NS_MIN:
            scale_unit, absolute = "ns", True
        elif mag >= _EPOCH_US_MIN:
            scale_unit, absolute = "us", True
        elif mag >= _EPOCH_MS_MIN:
            scale_unit, absolute = "ms", True
        elif mag >= _EPOCH_S_MIN:
            scale_unit, absolute = "s", True
        else:
            d = np.diff(rel[: min(len(rel), 2001)])
            d = d[np.isfinite(d) & (d > 0)]
            step = float(np.median(d)) if len(d) else 0.0
            if step > 0.5:
                scale_unit = "ms"
                note = (f"time stamps step by {step:g} with no unit in the header: taken as "
                        "milliseconds (pass --fs if that is wrong)")
            else:
                scale_unit = "s"
    elif epoch is None and scale_unit in ("s", "ms", "us", "ns"):
        factor0 = {"s": 1.0, "ms": 1e-3, "us": 1e-6, "ns": 1e-9}[scale_unit]
        absolute = abs(first) * factor0 >= _EPOCH_S_MIN
    factor = {"s": 1.0, "ms": 1e-3, "us": 1e-6, "ns": 1e-9}[scale_unit]
    t = rel * factor if factor != 1.0 else rel
    origin = None
    if absolute:
        base = epoch or datetime(1970, 1, 1, tzinfo=timezone.utc)
        origin = base + pd.Timedelta(int(round(first * factor * 1e9)), unit="ns").to_pytimedelta()
    return TimeAxis(t_s=np.asarray(t, dtype=np.float64), origin_time=origin, note=note,
                    first_raw=float(first), factor=factor)


def _parse_datetime_text(s: pd.Series, label: str, fmt: str | None = None) -> TimeAxis:
    text = s.astype(str).str.strip()
    try:
        if fmt is not None:
            dt = pd.to_datetime(text, format=fmt, errors="raise")
        else:
            try:
                dt = pd.to_datetime(text, format="ISO8601", errors="raise")
            except (ValueError, TypeError):
                dt = pd.to_datetime(text, format="mixed", errors="raise")
    except (ValueError, TypeError, OverflowError) as exc:
        first = text.iloc[0] if len(text) else ""
        raise InputError(f"cannot read the time column as numbers or date-times "
                         f"(first value {first!r}: {str(exc).splitlines()[0]})",
                         path=label or None) from None
    return _from_datetimes(dt, label)


def parse_datetime_text(s: pd.Series, label: str, fmt: str | None = None) -> TimeAxis:
    return _parse_datetime_text(s, label, fmt)


def _from_datetimes(dt: pd.Series, label: str) -> TimeAxis:
    if dt.isna().all():
        raise InputError("the time column holds no valid date-times", path=label or None)
    aware = getattr(dt.dt, "tz", None) is not None
    if aware:
        dt = dt.dt.tz_convert("UTC")
    ns = dt.astype("datetime64[ns, UTC]" if aware else "datetime64[ns]").astype("int64").to_numpy()
    valid = ~dt.isna().to_numpy()
    first_i = int(np.flatnonzero(valid)[0])
    t = (ns - ns[first_i]).astype(np.float64) * 1e-9
    t[~valid] = np.nan
    first = dt.iloc[first_i]
    if aware:
        return TimeAxis(t_s=t, origin_time=first.to_pydatetime().astimezone(timezone.utc))
    return TimeAxis(t_s=t, origin_time_local=first.isoformat(),
                    note="time stamps carry no time zone: start time kept as local time")


def net_date_format(spec: str) -> str:
    """A .NET-style date format (``M/d/yyyy``) as a strptime format (``%m/%d/%Y``)."""
    out = spec
    for a, b in (("yyyy", "%Y"), ("yy", "%y"), ("MM", "%m"), ("M", "%m"), ("dd", "%d"), ("d", "%d")):
        out = re.sub(rf"(?<![%A-Za-z]){a}(?![A-Za-z])", b, out)
    return out
