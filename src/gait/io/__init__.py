"""Reading recordings from every supported source into one :class:`~gait.types.Recording`.

``read_recording(path)`` recognises the format (``detect_format``), runs that format's reader
(one module per format, see :data:`READERS`) and applies one policy for units, the uniform
clock, repairs and gaps (:mod:`gait.io._build`; documented in ``docs/formats.md``).

Formats: ``gait`` (the project's own ``gait-recording/1``), ``generic`` CSV, ``sensorlogger``,
``phyphox``, ``polar``, ``actigraph``, ``axivity``, ``mbient``.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from ..errors import FormatNotRecognised, GaitError, InputError
from ..types import Recording
from ._build import Options, build_recording
from ._source import Source

#: Format name -> module (each has ``NAME``, ``sniff(src) -> bool``, ``read(src, fs_hz=) -> RawData``).
#: Detection tries them in this order (most specific first; ``generic`` last).
READERS: dict[str, str] = {
    "gait": "gaitcsv",
    "actigraph": "actigraph",
    "polar": "polar",
    "mbient": "mbient",
    "sensorlogger": "sensorlogger",
    "phyphox": "phyphox",
    "axivity": "axivity",
    "generic": "generic",
}
FORMATS: tuple[str, ...] = tuple(READERS)

__all__ = ["read_recording", "detect_format", "FORMATS", "READERS", "iter_recording_chunks",
           "write_recording", "RecordingWriter"]


def _module(fmt: str):
    return importlib.import_module(f"{__name__}.{READERS[fmt]}")


def detect_format(path: str | Path | Source) -> str:
    """The name of the format of ``path`` (file, folder or zip).

    Raises
    ------
    FormatNotRecognised
        When no reader recognises it; the message shows the first line and the known formats.
    """
    own = not isinstance(path, Source)
    src = Source(path) if own else path
    try:
        if src.main is not None:
            _reject_binary(src)
        for fmt in READERS:
            if _module(fmt).sniff(src):
                return fmt
        if src.main is not None:
            lines = src.head_lines(src.main, 3)
            if not any(ln.strip() for ln in lines):
                raise InputError("no data: the file holds only blank lines", path=src.label)
            first = lines[0][:80] if lines else ""
            _missing_columns_hint(src, lines)
            what = f"first line {first!r}"
        else:
            n_data = len(src.data_files())
            if n_data == 0:
                kind = "folder" if src.kind == "dir" else src.kind
                raise FormatNotRecognised(f"unknown format: no data files (.csv, .txt, .tsv) in "
                                          f"this {kind}; give the recording file or the export "
                                          "folder itself", path=src.label)
            what = f"{n_data} data file(s) inside, none of a known export"
        raise FormatNotRecognised(f"unknown format ({what}); pass --format, one of "
                                  f"{', '.join(FORMATS)}", path=src.label)
    finally:
        if own:
            src.close()


def _reject_binary(src: Source) -> None:
    """A file that is not text (binary, UTF-16): say so rather than show garbled columns."""
    head = src.head_bytes(src.main, 4096)
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputError("UTF-16 text; save the file as UTF-8 CSV and try again", path=src.label)
    control = sum(1 for b in head if b < 32 and b not in (9, 10, 12, 13))
    if b"\0" in head or control > len(head) // 100:
        hint = (" (an Axivity .cwa binary: convert it to CSV with OmConvert first)"
                if src.main.lower().endswith(".cwa") else "")
        raise InputError("not a text file: it holds binary data, and gait reads CSV/text "
                         f"exports{hint}", path=src.label)


def _missing_columns_hint(src: Source, lines: list[str]) -> None:
    """A headed table without usable acceleration columns: say so rather than 'unknown'."""
    from ._common import is_number, map_columns, sniff_separator, split_fields

    body = [ln for ln in lines if ln.strip() and not ln.lstrip().startswith("#")]
    if not body:
        return
    sep = sniff_separator(body)
    fields = split_fields(body[0], sep)
    if len(fields) < 2 or any(is_number(f) for f in fields if f):
        return
    try:
        map_columns(fields)
    except InputError as exc:
        raise InputError(exc.message, path=src.label) from None


def read_recording(path: str | Path, *, format: str | None = None, acc_unit: str | None = None,
                   gyro_unit: str | None = None, fs_hz: float | None = None,
                   mount: Any = None) -> Recording:
    """Read a recording in any supported format.

    Parameters
    ----------
    path : str or Path
        A file, a folder (Sensor Logger / phyphox / MetaWear / Polar export) or a zip of one.
    format : str, optional
        One of :data:`FORMATS`; detected from the content when None.
    acc_unit : {"g", "m/s2", "m/s^2", "mg"}, optional
        Unit of the acceleration in the file; overrides the header and the detection.
    gyro_unit : {"deg/s", "rad/s"}, optional
        Unit of the gyro in the file; overrides the header and the detection.
    fs_hz : float, optional
        Output sampling rate, Hz (default: the rate the file states, else the median stamp step).
    mount : str or Mount, optional
        Preset name or axis mapping, recorded in ``info`` (the data stay in the sensor frame).

    Returns
    -------
    Recording
        Uniform clock from 0, acc in m/s^2 with gravity, gyro in rad/s, gaps > 0.25 s masked.

    Raises
    ------
    InputError, FormatNotRecognised, SignalError
        One-line messages naming the file: unreadable, unknown, or unusable data.
    """
    opts = Options.make(format=format, acc_unit=acc_unit, gyro_unit=gyro_unit, fs_hz=fs_hz,
                        mount=mount)
    if mount is not None:
        from ..frames import parse_mount

        try:
            parse_mount(mount)
        except GaitError as exc:
            raise InputError(exc.message) from None
    with Source(path) as src:
        fmt = format.lower() if format else detect_format(src)
        if fmt not in READERS:
            raise InputError(f"unknown format {format!r}; use one of {', '.join(FORMATS)}",
                             path=src.label)
        raw = _module(fmt).read(src, fs_hz=opts.fs_hz)
        return build_recording(raw, opts)


def __getattr__(name: str):
    if name in ("write_recording", "RecordingWriter"):
        from . import gaitcsv

        return getattr(gaitcsv, name)
    if name in ("iter_recording_chunks", "ChunkContext"):
        from . import chunks

        return getattr(chunks, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
