"""Options shared by every command that reads a recording.

``add_read_options(parser)`` adds ``--format``, ``--acc-unit``, ``--gyro-unit``, ``--fs`` and
``--mount``; ``read_from_args(args, path)`` reads a recording with them. Also the options and
checks that several commands share: ``add_history_db_option``, ``add_no_view_option`` and
``new_recording_path`` (for ``-o`` of commands that record).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import FormatNotRecognised, GaitError
from ..types import Recording

#: Input formats (kept in step with gait.io.FORMATS without importing pandas at start-up).
INPUT_FORMATS = ("gait", "generic", "sensorlogger", "phyphox", "polar", "actigraph", "axivity", "mbient")


def add_read_options(parser: argparse.ArgumentParser, *, format_option: str = "--format") -> None:
    """Add the options that control how a recording is read.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The sub-command's parser.
    format_option : str
        Flag for the input format (``--format``; commands whose ``--format`` chooses the
        *output*, like ``gait info``, pass ``--input-format``). Stored as ``args.input_format``.
    """
    parser.set_defaults(_format_flag=format_option)  # named in "unknown format" errors
    g = parser.add_argument_group("reading the recording")
    # --input-format works with every command (info and analyze use --format for their output)
    flags = [format_option] + (["--input-format"] if format_option != "--input-format" else [])
    g.add_argument(*flags, dest="input_format", default=None,
                   metavar="FMT",
                   help=f"input format, one of {', '.join(INPUT_FORMATS)} (default: detect)")
    g.add_argument("--acc-unit", default=None, metavar="UNIT",
                   help="acceleration unit in the file: g, m/s2 or mg (default: header or "
                        "detected from gravity)")
    g.add_argument("--gyro-unit", default=None, metavar="UNIT",
                   help="gyro unit in the file: deg/s or rad/s (default: header, else from the "
                        "magnitude, with a note)")
    g.add_argument("--fs", dest="fs_hz", type=float, default=None, metavar="HZ",
                   help="resample to this rate in Hz (default: the rate the file states, else "
                        "the median time step)")
    g.add_argument("--mount", default=None,
                   help="how the sensor is worn: a preset (e.g. gaitsense-right-hip, body) or an "
                        "axis mapping like x=forward,y=left,z=up (default: the file's header, "
                        "else none: direction is then found orientation-free)")


def read_options(args: argparse.Namespace) -> dict:
    """The keyword arguments of :func:`gait.io.read_recording` given by ``args``."""
    return {
        "format": getattr(args, "input_format", None),
        "acc_unit": getattr(args, "acc_unit", None),
        "gyro_unit": getattr(args, "gyro_unit", None),
        "fs_hz": getattr(args, "fs_hz", None),
        "mount": getattr(args, "mount", None),
    }


def check_read_options(args: argparse.Namespace) -> None:
    """Validate the read options before any file is touched (bad values are user errors)."""
    from ..frames import parse_mount
    from ..io import FORMATS
    from ..io._build import Options

    opts = read_options(args)
    fmt = opts["format"]
    if fmt is not None and fmt not in FORMATS:
        flag = getattr(args, "_format_flag", "--format")
        raise GaitError(f"{flag} must be one of {', '.join(FORMATS)}, got {fmt!r}")
    Options.make(**opts)
    parse_mount(opts["mount"])


def parse_params(text: str | None):
    """``--params``: analysis parameters as JSON text or ``@FILE`` -> validated AnalysisParams.

    A result's ``info`` block is accepted too (its ``parameters`` are used).
    """
    import json

    from ..signal.params import AnalysisParams

    if not text:
        return None
    if text.startswith("@"):
        try:
            text = Path(text[1:]).read_text()
        except OSError as exc:
            raise GaitError(f"cannot read parameters: {exc.strerror}", path=text[1:]) from None
    try:
        d = json.loads(text)
    except json.JSONDecodeError as exc:
        raise GaitError(f"--params is not valid JSON: {exc.msg}") from None
    if not isinstance(d, dict):
        raise GaitError("--params must be a JSON object")
    if isinstance(d.get("parameters"), dict):
        d = d["parameters"]
    return AnalysisParams.from_dict(d).validate()


def read_from_args(args: argparse.Namespace, path: str | Path) -> Recording:
    """Read ``path`` with the options :func:`add_read_options` added."""
    from ..io import read_recording

    try:
        return read_recording(path, **read_options(args))
    except FormatNotRecognised as exc:
        flag = getattr(args, "_format_flag", "--format")
        if flag == "--format" or "--format" not in exc.message:
            raise
        raise FormatNotRecognised(exc.message.replace("--format", flag), path=exc.path) from None


def add_history_db_option(parser: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    """``--db PATH``: the run-history database (``gait report``, ``gait history``)."""
    parser.add_argument("--db", default=None, metavar="PATH",
                        help="history database (default: $GAIT_HISTORY_DB, else history.sqlite in "
                             "the user data folder)")


def add_no_view_option(parser: argparse.ArgumentParser) -> None:
    """``--no-view``: no live terminal view (``gait live``, ``gait replay``)."""
    parser.add_argument("--no-view", action="store_true", help="no live terminal view")


def new_recording_path(path: str | Path) -> Path:
    """``path`` checked as the ``-o`` of a command that records: new, in an existing folder.

    Raises
    ------
    GaitError
        When the file exists (a recording is never overwritten) or its folder does not exist,
        so that the command fails before it connects or replays anything.
    """
    out = Path(path)
    if out.exists():
        raise GaitError("the file exists already (refusing to overwrite a recording); choose "
                        "another name with -o", path=out)
    parent = out.parent
    if not parent.is_dir():
        raise GaitError("the output folder does not exist; create it or choose another -o",
                        path=parent)
    return out
