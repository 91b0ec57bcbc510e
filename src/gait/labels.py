"""Step and direction labels in the ``gait-labels/1`` format.

One JSON object per recording (``<name>.labels.json`` beside ``<name>.csv``), as described in
``../shared/data/README.md`` and produced by :mod:`gait.sim`:

=====================  =====================================================================
field                  meaning
=====================  =====================================================================
schema                 ``"gait-labels/1"``
name                   recording name (= file stem)
fs_hz                  sampling rate, Hz (nominal)
units                  ``{"acc": "m/s^2" | "g", "gyro": "rad/s"}``
sensor_frame           ``{"x": "forward", "y": "left", "z": "up"}`` or ``"unknown"``
placement              e.g. ``"right hip"``
n_samples, duration_s  rows of the CSV; ``duration_s = n_samples / fs_hz``
initial_contacts_s     sorted initial contacts (one IC = one step), s
ic_feet                ``"L"`` / ``"R"`` for each IC
scored_intervals       ``[[start_s, end_s], ...]``: the IC list is complete inside these
segments               ``[{"start_s", "end_s", "direction", "activity"}]``, contiguous,
                       covering the recording, ``end_s`` exclusive
=====================  =====================================================================

Optional fields (``group``, ``kind``, ``style``, ``ambiguous_ics_s``, ``simulator``,
``variant``, ``source``, ``notes``, ...) are kept as they are; unknown fields survive a
read/write round trip in :attr:`Labels.extra`.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import InputError

SCHEMA = "gait-labels/1"

#: Direction vocabulary of ``segments[].direction``.
LABEL_DIRECTIONS: tuple[str, ...] = ("forward", "backward", "sideways", "turning", "still", "transition")
#: Activity vocabulary of ``segments[].activity``.
LABEL_ACTIVITIES: tuple[str, ...] = ("walk", "run", "sprint", "stand", "shuffle", "transition")
SENSOR_AXES = ("x", "y", "z")
BODY_DIRECTIONS = ("forward", "backward", "left", "right", "up", "down")

#: Fields every ``gait-labels/1`` document has, in the order they are written.
REQUIRED_FIELDS: tuple[str, ...] = (
    "schema", "name", "fs_hz", "units", "sensor_frame", "placement", "n_samples",
    "duration_s", "initial_contacts_s", "ic_feet", "scored_intervals", "segments",
)
#: Optional fields with their own attribute on :class:`Labels` (written after the required ones).
OPTIONAL_FIELDS: tuple[str, ...] = (
    "group", "kind", "style", "declared_activity", "take_id", "ambiguous_ics_s",
    "virtual_imu", "crossfades_s", "pieces", "variant", "source", "notes", "simulator",
)

#: Slack (s) for "inside the recording" / "contiguous" checks (one sample at 100 Hz is 0.01 s).
_TOL_S = 1e-6


@dataclass
class LabelSegment:
    """A labelled stretch of a recording: ``[start_s, end_s)`` with direction and activity."""

    start_s: float
    end_s: float
    direction: str
    activity: str

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s

    def to_dict(self) -> dict[str, Any]:
        return {"start_s": self.start_s, "end_s": self.end_s, "direction": self.direction,
                "activity": self.activity}


@dataclass
class Labels:
    """Every field of a ``gait-labels/1`` document.

    Times are seconds from the first sample. ``sensor_frame`` is a dict mapping each sensor axis
    to the body direction it points to (``{"x": "forward", "y": "left", "z": "up"}``) or the
    string ``"unknown"``. Fields not listed here are kept in ``extra``.
    """

    name: str
    fs_hz: float
    n_samples: int
    duration_s: float
    initial_contacts_s: list[float]
    ic_feet: list[str]
    scored_intervals: list[list[float]]
    segments: list[LabelSegment]
    units: dict[str, str] = field(default_factory=lambda: {"acc": "m/s^2", "gyro": "rad/s"})
    sensor_frame: dict[str, str] | str = field(
        default_factory=lambda: {"x": "forward", "y": "left", "z": "up"})
    placement: str = "right hip"
    schema: str = SCHEMA
    group: str | None = None
    kind: str | None = None
    style: str | None = None
    declared_activity: str | None = None
    take_id: str | None = None
    ambiguous_ics_s: list[float] | None = None
    virtual_imu: dict[str, Any] | None = None
    crossfades_s: list[list[float]] | None = None
    pieces: list[dict[str, Any]] | None = None
    variant: dict[str, Any] | None = None
    source: dict[str, Any] | None = None
    notes: str | None = None
    #: Every parameter the simulator used (seed included), for simulated recordings.
    simulator: dict[str, Any] | None = None
    #: Fields this class does not know, kept for the round trip.
    extra: dict[str, Any] = field(default_factory=dict)

    # ------------------------------------------------------------------ conversion
    def to_dict(self) -> dict[str, Any]:
        """The JSON document (required fields first, then optional ones that are set)."""
        d: dict[str, Any] = {
            "schema": self.schema,
            "name": self.name,
            "fs_hz": self.fs_hz,
            "units": dict(self.units),
            "sensor_frame": self.sensor_frame if isinstance(self.sensor_frame, str)
            else dict(self.sensor_frame),
            "placement": self.placement,
            "n_samples": self.n_samples,
            "duration_s": self.duration_s,
            "initial_contacts_s": list(self.initial_contacts_s),
            "ic_feet": list(self.ic_feet),
            "scored_intervals": [list(iv) for iv in self.scored_intervals],
            "segments": [s.to_dict() for s in self.segments],
        }
        for name in OPTIONAL_FIELDS:
            value = getattr(self, name)
            if value is not None:
                d[name] = value
        d.update(self.extra)
        return d

    @classmethod
    def from_dict(cls, d: Any, *, path: str | Path | None = None) -> "Labels":
        """Validate a parsed JSON document and build :class:`Labels`.

        Raises
        ------
        InputError
            Naming the first problem found (missing field, wrong type, unsorted ICs, ...).
        """
        return _from_dict(d, path)

    # ------------------------------------------------------------------ helpers
    def ics_in(self, start_s: float, end_s: float) -> list[float]:
        """The initial contacts with ``start_s <= t < end_s``."""
        return [t for t in self.initial_contacts_s if start_s <= t < end_s]

    def direction_at(self, t_s: float) -> str | None:
        """The labelled direction at time ``t_s`` (None outside every segment)."""
        for s in self.segments:
            if s.start_s <= t_s < s.end_s:
                return s.direction
        return None

    def validate(self, *, path: str | Path | None = None) -> None:
        """Raise :class:`InputError` if the labels break the ``gait-labels/1`` rules."""
        _from_dict(self.to_dict(), path)


def read_labels(path: str | Path) -> Labels:
    """Read and validate a ``gait-labels/1`` JSON file.

    Raises
    ------
    InputError
        When the file is missing, is not JSON, or breaks the format (one line naming the problem).
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError("no such labels file", path=p) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read labels file ({exc.__class__.__name__}: {exc})", path=p) from None
    if not text.strip():
        raise InputError("labels file is empty", path=p)
    try:
        d = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})",
                         path=p) from None
    return _from_dict(d, p)


def write_labels(path: str | Path, labels: Labels) -> Path:
    """Validate ``labels`` and write them as indented JSON; returns the path.

    Raises
    ------
    InputError
        When the labels are not valid ``gait-labels/1`` (nothing is written then).
    """
    p = Path(path)
    d = labels.to_dict()
    _from_dict(d, p)  # never write a file we could not read back
    p.write_text(json.dumps(d, indent=1, allow_nan=False) + "\n", encoding="utf-8")
    return p


def labels_path_for(recording_path: str | Path) -> Path:
    """``run.csv`` -> ``run.labels.json`` (the convention of the labelled folders)."""
    p = Path(recording_path)
    return p.with_name(p.stem + ".labels.json") if p.suffix else p.with_name(p.name + ".labels.json")


# ---------------------------------------------------------------------- validation
def _fail(path: str | Path | None, message: str) -> InputError:
    return InputError(f"labels: {message}", path=path)


def _number(value: Any, what: str, path: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _fail(path, f"{what} must be a number, got {value!r}")
    x = float(value)
    if not math.isfinite(x):
        raise _fail(path, f"{what} must be finite, got {value!r}")
    return x


def _from_dict(d: Any, path: str | Path | None) -> Labels:
    if not isinstance(d, dict):
        raise _fail(path, f"expected a JSON object, got {type(d).__name__}")
    schema = d.get("schema")
    if schema != SCHEMA:
        raise _fail(path, f"schema is {schema!r}, expected {SCHEMA!r}")
    missing = [k for k in REQUIRED_FIELDS if k not in d]
    if missing:
        raise _fail(path, f"missing field(s): {', '.join(missing)}")

    name = d["name"]
    if not isinstance(name, str) or not name:
        raise _fail(path, "name must be a non-empty string")
    fs_hz = _number(d["fs_hz"], "fs_hz", path)
    if fs_hz <= 0:
        raise _fail(path, f"fs_hz must be positive, got {d['fs_hz']!r}")
    n_samples = d["n_samples"]
    if isinstance(n_samples, bool) or not isinstance(n_samples, int) or n_samples < 0:
        raise _fail(path, f"n_samples must be a non-negative integer, got {n_samples!r}")
    duration_s = _number(d["duration_s"], "duration_s", path)
    if duration_s < 0:
        raise _fail(path, f"duration_s must not be negative, got {duration_s}")

    units = d["units"]
    if not isinstance(units, dict) or "acc" not in units:
        raise _fail(path, "units must be an object with at least 'acc'")
    if units["acc"] not in ("m/s^2", "g", "mg"):
        raise _fail(path, f"units.acc must be 'm/s^2' or 'g', got {units['acc']!r}")
    if "gyro" in units and units["gyro"] not in ("rad/s", "deg/s"):
        raise _fail(path, f"units.gyro must be 'rad/s' or 'deg/s', got {units['gyro']!r}")

    frame = d["sensor_frame"]
    if isinstance(frame, str):
        if frame != "unknown":
            raise _fail(path, f"sensor_frame must be an axis mapping or 'unknown', got {frame!r}")
    elif isinstance(frame, dict):
        if sorted(frame) != list(SENSOR_AXES):
            raise _fail(path, f"sensor_frame must map exactly x, y, z, got {sorted(frame)}")
        bad = [v for v in frame.values() if v not in BODY_DIRECTIONS]
        if bad:
            raise _fail(path, f"sensor_frame direction {bad[0]!r} is not one of {', '.join(BODY_DIRECTIONS)}")
        axes_used = {v.replace("backward", "forward").replace("right", "left").replace("down", "up")
                     for v in frame.values()}
        if len(axes_used) != 3:
            raise _fail(path, "sensor_frame maps two sensor axes to the same body axis")
    else:
        raise _fail(path, "sensor_frame must be an object or 'unknown'")
    placement = d["placement"]
    if not isinstance(placement, str):
        raise _fail(path, "placement must be a string")

    ics_raw = d["initial_contacts_s"]
    if not isinstance(ics_raw, list):
        raise _fail(path, "initial_contacts_s must be a list")
    ics = [_number(x, f"initial_contacts_s[{i}]", path) for i, x in enumerate(ics_raw)]
    for i in range(1, len(ics)):
        if ics[i] < ics[i - 1]:
            raise _fail(path, f"initial_contacts_s is not sorted (index {i}: {ics[i]} < {ics[i - 1]})")
    if ics and (ics[0] < -_TOL_S or ics[-1] > duration_s + _TOL_S):
        raise _fail(path, f"an initial contact lies outside the recording (0..{duration_s} s)")
    feet = d["ic_feet"]
    if not isinstance(feet, list) or len(feet) != len(ics):
        raise _fail(path, f"ic_feet must be a list as long as initial_contacts_s ({len(ics)})")
    bad_feet = [f for f in feet if f not in ("L", "R")]
    if bad_feet:
        raise _fail(path, f"ic_feet values must be 'L' or 'R', got {bad_feet[0]!r}")

    ivs_raw = d["scored_intervals"]
    if not isinstance(ivs_raw, list):
        raise _fail(path, "scored_intervals must be a list of [start_s, end_s]")
    intervals: list[list[float]] = []
    for i, iv in enumerate(ivs_raw):
        if not isinstance(iv, (list, tuple)) or len(iv) != 2:
            raise _fail(path, f"scored_intervals[{i}] must be [start_s, end_s], got {iv!r}")
        a = _number(iv[0], f"scored_intervals[{i}][0]", path)
        b = _number(iv[1], f"scored_intervals[{i}][1]", path)
        if b < a:
            raise _fail(path, f"scored_intervals[{i}] ends before it starts ({a} > {b})")
        intervals.append([a, b])
    for t in ics:
        if not any(a - _TOL_S <= t <= b + _TOL_S for a, b in intervals):
            raise _fail(path, f"initial contact at {t} s lies in no scored interval")

    segs_raw = d["segments"]
    if not isinstance(segs_raw, list):
        raise _fail(path, "segments must be a list")
    segments: list[LabelSegment] = []
    for i, s in enumerate(segs_raw):
        if not isinstance(s, dict):
            raise _fail(path, f"segments[{i}] must be an object")
        miss = [k for k in ("start_s", "end_s", "direction", "activity") if k not in s]
        if miss:
            raise _fail(path, f"segments[{i}] lacks {', '.join(miss)}")
        a = _number(s["start_s"], f"segments[{i}].start_s", path)
        b = _number(s["end_s"], f"segments[{i}].end_s", path)
        if b < a:
            raise _fail(path, f"segments[{i}] ends before it starts ({a} > {b})")
        if s["direction"] not in LABEL_DIRECTIONS:
            raise _fail(path, f"segments[{i}].direction {s['direction']!r} is not one of "
                              f"{', '.join(LABEL_DIRECTIONS)}")
        if s["activity"] not in LABEL_ACTIVITIES:
            raise _fail(path, f"segments[{i}].activity {s['activity']!r} is not one of "
                              f"{', '.join(LABEL_ACTIVITIES)}")
        if segments and abs(a - segments[-1].end_s) > _TOL_S:
            raise _fail(path, f"segments are not contiguous: segments[{i}] starts at {a}, "
                              f"the previous one ends at {segments[-1].end_s}")
        segments.append(LabelSegment(a, b, s["direction"], s["activity"]))
    if segments:
        if abs(segments[0].start_s) > _TOL_S or abs(segments[-1].end_s - duration_s) > _TOL_S:
            raise _fail(path, f"segments must cover the recording (0..{duration_s} s), they cover "
                              f"{segments[0].start_s}..{segments[-1].end_s} s")

    known = set(REQUIRED_FIELDS) | set(OPTIONAL_FIELDS)
    opt = {k: d[k] for k in OPTIONAL_FIELDS if k in d}
    if "ambiguous_ics_s" in opt and not isinstance(opt["ambiguous_ics_s"], list):
        raise _fail(path, "ambiguous_ics_s must be a list")
    if "simulator" in opt and not isinstance(opt["simulator"], dict):
        raise _fail(path, "simulator must be an object")
    return Labels(
        schema=SCHEMA, name=name, fs_hz=d["fs_hz"], n_samples=n_samples, duration_s=d["duration_s"],
        initial_contacts_s=ics, ic_feet=list(feet), scored_intervals=intervals, segments=segments,
        units=dict(units), sensor_frame=frame if isinstance(frame, str) else dict(frame),
        placement=placement, extra={k: v for k, v in d.items() if k not in known}, **opt,
    )
