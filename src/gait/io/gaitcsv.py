"""The project's own recording format, ``gait-recording/1`` (spec: docs/recording_format.md).

::

    # gait-recording/1
    # {"device": "...", "mount": "x=forward,y=left,z=up", "fs_hz": 100.0, "units": {...}, ...}
    t_s,ax,ay,az,gx,gy,gz
    0.000000,0.123456,...
    # event {"kind": "gap", "start_s": 12.3, "end_s": 13.1}

:func:`write_recording` writes a whole :class:`~gait.types.Recording`; :class:`RecordingWriter`
appends blocks as they arrive (live capture) and keeps the file readable at every moment.
"""

from __future__ import annotations

import json
import math
import os
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, TextIO

import numpy as np

from ..errors import GaitError, InputError
from ..types import Recording, SampleBlock
from ._common import RawData
from .atomic import write_text_atomically
from ._source import Source

NAME = "gait"
MAGIC = "# gait-recording/1"
SCHEMA = "gait-recording/1"
ACC_COLS = ("ax", "ay", "az")
GYRO_COLS = ("gx", "gy", "gz")
#: Decimals written for t_s and for the values.
T_DECIMALS = 6
V_DECIMALS = 6


# --------------------------------------------------------------------------- reading


def sniff(src: Source) -> bool:
    if src.main is None:
        return False
    lines = src.head_lines(src.main, 2)
    return bool(lines) and lines[0].strip().lower().startswith(MAGIC)


def read_header(src: Source, name: str) -> tuple[dict[str, Any], list[str]]:
    label = src.member_label(name)
    lines = src.head_lines(name, 200)
    if not lines or not lines[0].strip().lower().startswith(MAGIC):
        raise InputError(f"not a {SCHEMA} file (line 1 must be {MAGIC!r})", path=label)
    if len(lines) < 3:
        raise InputError("the header is incomplete (need the magic line, the JSON line and the "
                         "column line)", path=label)
    js = lines[1].strip()
    if not js.startswith("#"):
        raise InputError("line 2 must be '# ' followed by the JSON header", path=label)
    try:
        header = json.loads(js[1:].strip())
    except json.JSONDecodeError as exc:
        raise InputError(f"line 2 is not valid JSON ({exc.msg})", path=label) from None
    if not isinstance(header, dict):
        raise InputError("line 2 must hold a JSON object", path=label)
    return header, lines


def read(src: Source, *, fs_hz: float | None = None) -> RawData:
    from .generic import read_table  # shared CSV machinery

    if src.main is None:
        raise InputError(f"a {SCHEMA} recording is a single file", path=src.label)
    name = src.main
    label = src.member_label(name)
    header, lines = read_header(src, name)
    # column line = first line after the two header lines that is not a comment
    col_idx = next((i for i in range(2, len(lines)) if lines[i].strip()
                    and not lines[i].lstrip().startswith("#")), None)
    if col_idx is None:
        raise InputError("no column line after the header", path=label)
    cols = [c.strip() for c in lines[col_idx].split(",")]
    if cols[:4] != ["t_s", *ACC_COLS]:
        raise InputError(f"missing columns: expected t_s,ax,ay,az[,gx,gy,gz], found {lines[col_idx]!r}",
                         path=label)
    raw, _ = read_table(src, name, fmt=NAME, comment="#", lines=lines)
    apply_header(raw, header, label)
    keep_rows_without_gyro(raw)
    raw.extra["events"] = read_events(src, name)
    return raw


def keep_rows_without_gyro(raw: RawData) -> None:
    """Rows with acceleration but ``nan`` gyro (the live recorder writes them when a Polar GYRO
    frame was lost) are samples, not holes: the gyro stream gets them interpolated, so the common
    gap policy sees no hole, and :attr:`RawData.gyro_missing` makes the recording's gyro NaN
    there again. Without any gyro value the file is read as accelerometer only."""
    g, a = raw.gyro, raw.acc
    if g is None or len(g.t_s) != len(a.t_s):
        return
    gx = np.asarray(g.xyz, dtype=np.float64)
    t = np.asarray(g.t_s, dtype=np.float64)
    has_acc = np.isfinite(t) & np.isfinite(np.asarray(a.xyz, dtype=np.float64)).all(axis=1)
    good = np.isfinite(t) & np.isfinite(gx).all(axis=1)
    miss = has_acc & ~good
    if not miss.any():
        return
    if good.sum() < 2:
        raw.gyro = None
        raw.notes.append("no gyro values: read as accelerometer only")
        return
    gx = gx.copy()
    for c in range(3):
        gx[miss, c] = np.interp(t[miss], t[good], gx[good, c])
    g.xyz = gx
    edges = np.diff(np.concatenate(([0], miss.astype(np.int8), [0])))
    starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) - 1
    raw.gyro_missing = [(float(t[i]), float(t[j])) for i, j in zip(starts, stops)]
    raw.notes.append(f"{int(miss.sum())} samples without gyro (lost gyro frames): kept, gyro NaN")


def apply_header(raw: RawData, header: dict[str, Any], label: str) -> None:
    """Units, nominal rate, start time, device and mount from the JSON header into ``raw``."""
    units = header.get("units") or {}
    acc_unit = units.get("acc", "m/s^2")
    gyro_unit = units.get("gyro", "rad/s")
    from ._common import unit_word

    au = unit_word(acc_unit) or ("m/s^2" if acc_unit in ("m/s^2",) else None)
    if au is None:
        raise InputError(f"unknown acceleration unit {acc_unit!r} in the header", path=label)
    raw.acc.unit, raw.acc.unit_source = au, f"header: units.acc = {acc_unit!r}"
    if raw.gyro is not None:
        gu = unit_word(gyro_unit)
        if gu is None:
            raise InputError(f"unknown gyro unit {gyro_unit!r} in the header", path=label)
        raw.gyro.unit, raw.gyro.unit_source = gu, f"header: units.gyro = {gyro_unit!r}"
    fs = header.get("fs_hz")
    if fs is not None:
        try:
            fs = float(fs)
        except (TypeError, ValueError):
            raise InputError(f"fs_hz in the header is not a number: {fs!r}", path=label) from None
        raw.fs_hz_nominal = fs if math.isfinite(fs) and fs > 0 else None
    st = header.get("start_time")
    if st:
        try:
            dt = datetime.fromisoformat(str(st).replace("Z", "+00:00"))
        except ValueError:
            raise InputError(f"start_time in the header is not an ISO date-time: {st!r}",
                             path=label) from None
        if dt.tzinfo is None:
            raw.origin_time_local = dt.isoformat()
            raw.notes.append("start_time has no time zone: kept as local time")
        else:
            raw.origin_time = dt.astimezone(timezone.utc)
    raw.device = header.get("device")
    raw.mount = header.get("mount")
    raw.acc_kind = header.get("acc_kind", "with gravity")
    raw.extra["header"] = {k: v for k, v in header.items()
                           if k not in ("device", "mount", "fs_hz", "units", "start_time")}


def read_events(src: Source, name: str) -> list[dict[str, Any]]:
    """The ``# event {json}`` lines of a recording, in file order (malformed ones skipped).

    The file is scanned in 8 MB blocks (bounded memory); a cut last line is ignored.
    """
    events: list[dict[str, Any]] = []
    key = b"\n# event "
    tail = b""
    with src.open(name) as f:
        while True:
            block = f.read(8 << 20)
            data = tail + block
            i = data.find(key)
            last_end = 0
            while i >= 0:
                j = data.find(b"\n", i + 1)
                if j < 0:
                    break
                try:
                    ev = json.loads(data[i + len(key):j])
                    if isinstance(ev, dict):
                        events.append(ev)
                except (json.JSONDecodeError, UnicodeDecodeError):
                    pass
                last_end = j
                i = data.find(key, j)
            if not block:
                break
            # keep an unfinished event line, or the last bytes (a key may straddle blocks)
            keep_from = i if i >= 0 else max(last_end, len(data) - len(key))
            tail = data[keep_from:]
    return events


# --------------------------------------------------------------------------- writing


def _header_dict(*, device: str | None, mount: str | None, fs_hz: float, start_time: datetime | None,
                 has_gyro: bool, acc_kind: str = "with gravity",
                 header_extra: dict[str, Any] | None = None) -> dict[str, Any]:
    from .._version import __version__

    h: dict[str, Any] = {
        "device": device,
        "mount": mount,
        "fs_hz": float(fs_hz),
        "units": {"acc": "m/s^2", **({"gyro": "rad/s"} if has_gyro else {})},
        "start_time": None if start_time is None else _iso_utc(start_time),
        "clock": "sensor",
        "acc_kind": acc_kind,
        "writer": f"gait {__version__}",
    }
    for k, v in (header_extra or {}).items():
        if k in ("units",):
            raise GaitError("header_extra may not change 'units' (the file is always m/s^2, rad/s)")
        h[k] = v
    return h


def _iso_utc(dt: datetime) -> str:
    if dt.tzinfo is None:
        return dt.isoformat()
    return dt.astimezone(timezone.utc).isoformat()


def _format_rows(t_s: np.ndarray, acc: np.ndarray, gyro: np.ndarray | None) -> str:
    cols = [np.asarray(t_s, dtype=np.float64).reshape(-1, 1), np.asarray(acc, dtype=np.float64)]
    if gyro is not None:
        cols.append(np.asarray(gyro, dtype=np.float64))
    arr = np.hstack(cols)
    if len(arr) == 0:
        return ""
    fmt = ",".join([f"%.{T_DECIMALS}f"] + [f"%.{V_DECIMALS}f"] * (arr.shape[1] - 1))
    import io

    buf = io.StringIO()
    np.savetxt(buf, arr, fmt=fmt, delimiter=",", newline="\n")
    return buf.getvalue()


def write_recording(path: str | Path, recording: Recording, *,
                    header_extra: dict[str, Any] | None = None) -> Path:
    """Write ``recording`` as a ``gait-recording/1`` file.

    Samples outside ``valid`` are not written; each gap becomes a ``# event {"kind": "gap"...}``
    line where it starts, so a reader sees the gap in the stamps and in the events.
    """
    path = Path(path)
    i = recording.info
    mount = i.mount
    if i.extra.get("mount_mapping"):
        mount = i.extra["mount_mapping"]
    extra = dict(header_extra or {})
    if i.format != "memory" and "source_format" not in extra:
        extra["source_format"] = i.format
    h = _header_dict(device=i.device, mount=mount, fs_hz=recording.fs_hz,
                     start_time=recording.start_time, has_gyro=recording.has_gyro,
                     acc_kind=i.acc_kind, header_extra=extra)
    if recording.start_time is None and i.extra.get("start_time_local"):
        h["start_time"] = i.extra["start_time_local"]
    cols = ["t_s", *ACC_COLS] + (list(GYRO_COLS) if recording.has_gyro else [])
    write_atomically(path, lambda f: _write_rows(f, h, cols, recording))
    return path


def write_atomically(path: str | Path, write: Callable[[TextIO], None]) -> Path:
    """Call ``write(f)`` on a temporary file that replaces ``path`` once complete
    (:func:`gait.io.atomic.write_text_atomically`).

    A failed or interrupted write leaves ``path`` as it was and no temporary file behind.

    Raises
    ------
    GaitError
        The file cannot be written (permission, missing folder, disk full): one line.
    """
    path = Path(path)
    try:
        write_text_atomically(path, write)
    except OSError as exc:
        raise GaitError(f"cannot write the recording ({exc.strerror or exc}); check that the "
                        "folder exists and is writable, and that the disk has space",
                        path=path) from None
    return path


def _write_rows(f: TextIO, h: dict, cols: list[str], recording: Recording) -> None:
    f.write(MAGIC + "\n# " + json.dumps(h, separators=(", ", ": ")) + "\n" + ",".join(cols) + "\n")
    n = recording.n_samples
    step = 200_000
    gaps = sorted(recording.gaps, key=lambda g: g.start_s)
    gi = 0
    for a in range(0, n, step):
        b = min(n, a + step)
        v = recording.valid[a:b]
        t = recording.t_s[a:b]
        # gap events that start inside this chunk go before the rows after them
        while gi < len(gaps) and gaps[gi].start_s < (t[-1] if len(t) else 0) + 1e-9:
            g = gaps[gi]
            cut = int(np.searchsorted(t, g.start_s, side="right"))
            rows_before = np.flatnonzero(v[:cut])
            f.write(_format_rows(t[rows_before], recording.acc_m_s2[a:b][rows_before],
                                 None if recording.gyro_rad_s is None
                                 else recording.gyro_rad_s[a:b][rows_before]))
            f.write("# event " + json.dumps({"kind": "gap", "start_s": round(g.start_s, 6),
                                             "end_s": round(g.end_s, 6)}) + "\n")
            v = v.copy()
            v[:cut] = False  # written already
            gi += 1
        idx = np.flatnonzero(v)
        f.write(_format_rows(t[idx], recording.acc_m_s2[a:b][idx],
                             None if recording.gyro_rad_s is None else recording.gyro_rad_s[a:b][idx]))


class RecordingWriter:
    """Append-only, crash-safe writer for live capture.

    The header is written and synced on :meth:`open`. :meth:`append` writes whole lines;
    the file is flushed to the OS at least once a second (by a background timer when appends
    stop) and ``fsync``-ed on :meth:`flush` and :meth:`close`. A file cut by a crash is always
    readable: readers ignore a last line without a newline.

    Samples with ``valid`` False are not written; a run of them becomes one
    ``# event {"kind": "gap", "start_s", "end_s"}`` line when data resume (or at close).
    A sample with acceleration but NaN gyro is written with ``nan`` gyro cells (the readers keep
    its acceleration and give it NaN gyro).

    Examples
    --------
    >>> w = RecordingWriter.open("run.csv", fs_hz=100.0, device="GaitSense A1", has_gyro=True)
    >>> w.append(block)          # a SampleBlock, or w.append(t_s=..., acc_m_s2=..., gyro_rad_s=...)
    >>> w.event({"kind": "reconnect", "t_s": 12.3})
    >>> w.close()
    """

    FLUSH_INTERVAL_S = 1.0

    def __init__(self, f, path: Path, *, has_gyro: bool, fs_hz: float) -> None:
        self._f = f
        self.path = path
        self.has_gyro = has_gyro
        self.fs_hz = fs_hz
        self._lock = threading.Lock()
        self._dirty = False
        self._closed = False
        self._last_flush = time.monotonic()
        self._gap_start: float | None = None
        self._last_t: float | None = None
        self.n_written = 0
        self._stop = threading.Event()
        self._timer = threading.Thread(target=self._flusher, name="gait-recorder-flush", daemon=True)
        self._timer.start()

    @classmethod
    def open(cls, path: str | Path, *, fs_hz: float, device: str | None = None,
             mount: str | None = None, start_time: datetime | None = None, has_gyro: bool = True,
             header_extra: dict[str, Any] | None = None, overwrite: bool = False) -> "RecordingWriter":
        """Create ``path`` and write the header (synced to disk before returning)."""
        path = Path(path)
        if not (fs_hz > 0 and math.isfinite(fs_hz)):
            raise GaitError(f"fs_hz must be a positive number, got {fs_hz}")
        if path.exists() and not overwrite:
            raise GaitError("the file exists already (refusing to overwrite a recording)", path=path)
        h = _header_dict(device=device, mount=mount, fs_hz=fs_hz,
                         start_time=start_time or datetime.now(timezone.utc),
                         has_gyro=has_gyro, header_extra=header_extra)
        try:  # "x": never truncate a recording that appeared since the check above
            f = open(path, "w" if overwrite else "x", encoding="utf-8", newline="\n",
                     buffering=1 << 16)
        except FileExistsError:
            raise GaitError("the file exists already (refusing to overwrite a recording)",
                            path=path) from None
        except OSError as exc:
            raise GaitError(f"cannot create the recording ({exc.strerror or exc}); check that "
                            "the folder exists and is writable", path=path) from None
        cols = ["t_s", *ACC_COLS] + (list(GYRO_COLS) if has_gyro else [])
        f.write(MAGIC + "\n# " + json.dumps(h, separators=(", ", ": ")) + "\n" + ",".join(cols) + "\n")
        f.flush()
        os.fsync(f.fileno())
        return cls(f, path, has_gyro=has_gyro, fs_hz=fs_hz)

    # ---------------------------------------------------------------- writing
    def append(self, block: SampleBlock | None = None, *, t_s=None, acc_m_s2=None,
               gyro_rad_s=None, valid=None) -> int:
        """Write a :class:`SampleBlock` (or arrays); returns the number of rows written."""
        if block is not None:
            t_s, acc_m_s2, gyro_rad_s, valid = block.t_s, block.acc_m_s2, block.gyro_rad_s, block.valid
        t = np.asarray(t_s, dtype=np.float64).reshape(-1)
        acc = np.asarray(acc_m_s2, dtype=np.float64).reshape(len(t), 3)
        gyro = None
        if self.has_gyro:
            if gyro_rad_s is None:
                raise GaitError("this recording has gyro columns: append gyro_rad_s too")
            gyro = np.asarray(gyro_rad_s, dtype=np.float64).reshape(len(t), 3)
        ok = np.ones(len(t), dtype=bool) if valid is None else np.asarray(valid, dtype=bool).copy()
        # the accelerometer decides what is a sample: a row whose gyro alone is missing (a lost
        # Polar GYRO frame) is written with `nan` gyro, never dropped
        ok &= np.isfinite(acc).all(axis=1)
        text = []
        # gap bookkeeping: a run of invalid samples -> one event when data resume
        bounds = [0, *(np.flatnonzero(np.diff(ok.astype(np.int8))) + 1).tolist(), len(t)]
        for a, b in zip(bounds[:-1], bounds[1:]):
            if b <= a:
                continue
            if ok[a]:
                if self._gap_start is not None:
                    text.append(self._gap_event(float(t[a])))
                text.append(_format_rows(t[a:b], acc[a:b], None if gyro is None else gyro[a:b]))
                self._last_t = float(t[b - 1])
            elif self._gap_start is None:
                self._gap_start = self._last_t if self._last_t is not None else float(t[a])
        out = "".join(text)
        with self._lock:
            if self._closed:
                raise GaitError("the recording is closed", path=self.path)
            self._f.write(out)
            self._dirty = True
            self.n_written += int(ok.sum())
            if time.monotonic() - self._last_flush >= self.FLUSH_INTERVAL_S:
                self._flush_locked(sync=False)
        return int(ok.sum())

    def _gap_event(self, end_s: float) -> str:
        start = self._gap_start
        self._gap_start = None
        return "# event " + json.dumps({"kind": "gap", "start_s": round(float(start), 6),
                                        "end_s": round(end_s, 6)}) + "\n"

    def event(self, ev: dict[str, Any]) -> None:
        """Write one ``# event {json}`` line (e.g. reconnects, firmware restarts, markers)."""
        if "kind" not in ev:
            raise GaitError("an event needs a 'kind'")
        line = "# event " + json.dumps(ev, default=str) + "\n"
        if "\n" in line[:-1]:
            raise GaitError("an event must fit on one line")
        with self._lock:
            if self._closed:
                raise GaitError("the recording is closed", path=self.path)
            self._f.write(line)
            self._dirty = True

    def flush(self) -> None:
        """Flush to the OS and fsync to disk."""
        with self._lock:
            if not self._closed:
                self._flush_locked(sync=True)

    def _flush_locked(self, *, sync: bool) -> None:
        self._f.flush()
        if sync:
            os.fsync(self._f.fileno())
        self._dirty = False
        self._last_flush = time.monotonic()

    def _flusher(self) -> None:
        while not self._stop.wait(self.FLUSH_INTERVAL_S / 2):
            with self._lock:
                if self._closed:
                    return
                if self._dirty and time.monotonic() - self._last_flush >= self.FLUSH_INTERVAL_S * 0.5:
                    self._flush_locked(sync=False)

    def close(self) -> None:
        """Write a pending gap event, flush, fsync and close. Safe to call twice."""
        with self._lock:
            if self._closed:
                return
            if self._gap_start is not None and self._last_t is not None:
                self._f.write("# event " + json.dumps({"kind": "gap", "start_s": round(self._gap_start, 6),
                                                       "end_s": None, "open": True}) + "\n")
                self._gap_start = None
            self._flush_locked(sync=True)
            self._closed = True
            self._f.close()
        self._stop.set()

    def __enter__(self) -> "RecordingWriter":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
