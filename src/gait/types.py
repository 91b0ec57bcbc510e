"""Data contracts: recordings, sample blocks, steps, bouts and results.

Units live in names: ``t_s`` (seconds from the first sample), ``acc_m_s2`` (specific force,
m/s^2, sensor frame, +9.81 on the axis pointing up at rest), ``gyro_rad_s`` (rad/s, right-hand
rule about the sensor axes), ``fs_hz``, ``cadence_spm`` (steps per minute).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Literal

import numpy as np

from .errors import SignalError

#: Standard gravity, m/s^2 (used to convert g <-> m/s^2).
G0_M_S2 = 9.80665

ACC_UNITS = ("m/s^2", "g", "mg")
GYRO_UNITS = ("rad/s", "deg/s", "mdps")
#: Factors that take a value in the unit to m/s^2 or rad/s.
ACC_TO_M_S2 = {"m/s^2": 1.0, "g": G0_M_S2, "mg": G0_M_S2 / 1000.0}
GYRO_TO_RAD_S = {"rad/s": 1.0, "deg/s": math.pi / 180.0, "mdps": math.pi / 180000.0}

Direction = Literal["forward", "backward", "unknown"]
DIRECTIONS: tuple[str, ...] = ("forward", "backward", "unknown")
Activity = Literal["walk", "run", "other"]
ACTIVITIES: tuple[str, ...] = ("walk", "run", "other")

#: Gaps in the sample clock longer than this are kept as gaps (masked), never interpolated.
MAX_INTERPOLATED_GAP_S = 0.25
#: Slowest sampling rate we analyse.
MIN_FS_HZ = 15.0
#: Shortest recording we analyse.
MIN_DURATION_S = 2.0


@dataclass(frozen=True)
class Gap:
    """A stretch of missing data, in seconds from the start of the recording."""

    start_s: float
    end_s: float

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s


@dataclass
class RecordingInfo:
    """What was read and how: format, device, units as found, and what the reader repaired."""

    format: str
    path: str | None = None
    device: str | None = None
    mount: str | None = None
    #: Units as they were in the file, e.g. ``{"acc": "g", "gyro": "deg/s"}``.
    units: dict[str, str] = field(default_factory=dict)
    #: How each unit was decided: ``"header"``, ``"override"``, ``"detected: median |a| = 1.00"``...
    units_source: dict[str, str] = field(default_factory=dict)
    #: Rate stated by the file / device, if any.
    fs_hz_nominal: float | None = None
    #: Median rate of the raw time stamps.
    fs_hz_measured: float | None = None
    n_raw_samples: int = 0
    #: Samples dropped as duplicates / out of order, or filled in by interpolation.
    n_repaired: int = 0
    #: Which gravity convention the acceleration had: ``"with gravity"`` or
    #: ``"linear+gravity"`` (re-combined) etc.
    acc_kind: str = "with gravity"
    notes: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, eq=False)
class Recording:
    """A hip IMU recording on a uniform clock.

    Attributes
    ----------
    t_s : (n,) float64
        Uniform sample times, seconds from the first sample (``t_s[0] == 0``).
    acc_m_s2 : (n, 3) float64
        Specific force in the sensor frame, m/s^2. NaN inside gaps.
    gyro_rad_s : (n, 3) float64 or None
        Angular rate in the sensor frame, rad/s. NaN inside gaps.
    fs_hz : float
        Sampling rate of ``t_s``.
    valid : (n,) bool
        False for samples inside gaps (no data was recorded there).
    gaps : tuple of Gap
        The gaps (longer than :data:`MAX_INTERPOLATED_GAP_S`) that ``valid`` masks.
    start_time : datetime or None
        Absolute time of ``t_s == 0`` (timezone-aware, UTC) when the file says it.
    info : RecordingInfo
        Source format, device, mount, units as found, repairs.
    """

    t_s: np.ndarray
    acc_m_s2: np.ndarray
    gyro_rad_s: np.ndarray | None
    fs_hz: float
    valid: np.ndarray
    gaps: tuple[Gap, ...] = ()
    start_time: datetime | None = None
    info: RecordingInfo = field(default_factory=lambda: RecordingInfo(format="memory"))

    def __post_init__(self) -> None:
        n = len(self.t_s)
        if self.acc_m_s2.shape != (n, 3):
            raise SignalError(f"acc_m_s2 has shape {self.acc_m_s2.shape}, expected ({n}, 3)")
        if self.gyro_rad_s is not None and self.gyro_rad_s.shape != (n, 3):
            raise SignalError(f"gyro_rad_s has shape {self.gyro_rad_s.shape}, expected ({n}, 3)")
        if self.valid.shape != (n,):
            raise SignalError(f"valid has shape {self.valid.shape}, expected ({n},)")
        if not (self.fs_hz > 0 and math.isfinite(self.fs_hz)):
            raise SignalError(f"fs_hz must be a positive number, got {self.fs_hz}")

    @classmethod
    def from_arrays(
        cls,
        acc_m_s2: np.ndarray,
        *,
        fs_hz: float,
        gyro_rad_s: np.ndarray | None = None,
        start_time: datetime | None = None,
        info: RecordingInfo | None = None,
    ) -> "Recording":
        """A gap-free recording from uniformly sampled arrays."""
        if not (float(fs_hz) > 0 and math.isfinite(float(fs_hz))):
            raise SignalError(f"fs_hz must be a positive number, got {fs_hz}")
        acc = np.asarray(acc_m_s2, dtype=np.float64)
        n = len(acc)
        gyro = None if gyro_rad_s is None else np.asarray(gyro_rad_s, dtype=np.float64)
        return cls(
            t_s=np.arange(n, dtype=np.float64) / float(fs_hz),
            acc_m_s2=acc.reshape(n, 3) if n else np.zeros((0, 3)),
            gyro_rad_s=None if gyro is None else (gyro.reshape(n, 3) if n else np.zeros((0, 3))),
            fs_hz=float(fs_hz),
            valid=np.ones(n, dtype=bool),
            start_time=start_time,
            info=info or RecordingInfo(format="memory", n_raw_samples=n),
        )

    @property
    def n_samples(self) -> int:
        return int(len(self.t_s))

    @property
    def duration_s(self) -> float:
        return self.n_samples / self.fs_hz

    @property
    def has_gyro(self) -> bool:
        return self.gyro_rad_s is not None

    def block(self, start: int, stop: int) -> "SampleBlock":
        """Samples ``start:stop`` as a :class:`SampleBlock` (what the streaming core eats)."""
        return SampleBlock(
            t_s=self.t_s[start:stop],
            acc_m_s2=self.acc_m_s2[start:stop],
            gyro_rad_s=None if self.gyro_rad_s is None else self.gyro_rad_s[start:stop],
            valid=self.valid[start:stop],
        )

    def summary(self) -> dict[str, Any]:
        """The facts ``gait info`` prints (JSON-ready)."""
        i = self.info
        return {
            "path": i.path,
            "format": i.format,
            "device": i.device,
            "mount": i.mount,
            "start_time": None if self.start_time is None else self.start_time.isoformat(),
            "duration_s": round(self.duration_s, 6),
            "fs_hz": self.fs_hz,
            "fs_hz_nominal": i.fs_hz_nominal,
            "fs_hz_measured": i.fs_hz_measured,
            "n_samples": self.n_samples,
            "n_raw_samples": i.n_raw_samples,
            "has_gyro": self.has_gyro,
            "units": dict(i.units),
            "units_source": dict(i.units_source),
            "acc_kind": i.acc_kind,
            "gaps": [{"start_s": round(g.start_s, 6), "end_s": round(g.end_s, 6)} for g in self.gaps],
            "gap_total_s": round(sum(g.duration_s for g in self.gaps), 6),
            "n_repaired": i.n_repaired,
            "repaired_fraction": (i.n_repaired / i.n_raw_samples) if i.n_raw_samples else 0.0,
            "notes": list(i.notes),
            **({"extra": i.extra} if i.extra else {}),
        }


@dataclass(frozen=True, eq=False)
class SampleBlock:
    """A run of consecutive samples on the uniform clock: what sources push into the analyzer.

    ``valid`` is False for samples that are missing (lost packets, gaps); their values are NaN.
    """

    t_s: np.ndarray
    acc_m_s2: np.ndarray
    gyro_rad_s: np.ndarray | None
    valid: np.ndarray

    def __len__(self) -> int:
        return int(len(self.t_s))


@dataclass(slots=True)
class Step:
    """One step: the initial contact (foot strike) of one foot."""

    t_s: float
    #: Index of the sample nearest the initial contact.
    index: int
    direction: str = "unknown"
    #: 0..1; 0 when the direction is unknown.
    direction_confidence: float = 0.0
    #: 60 / (time since the previous step of the same bout); NaN for a bout's first step.
    cadence_spm: float = float("nan")
    #: Bout id, or -1 when the step belongs to no bout.
    bout: int = -1

    def to_dict(self) -> dict[str, Any]:
        return {
            "t_s": round(self.t_s, 4),
            "index": self.index,
            "direction": self.direction,
            "direction_confidence": round(self.direction_confidence, 3),
            "cadence_spm": None if not math.isfinite(self.cadence_spm) else round(self.cadence_spm, 2),
            "bout": self.bout,
        }


@dataclass(slots=True)
class Bout:
    """A walking or running bout: consecutive steps at a steady rhythm."""

    id: int
    start_s: float
    end_s: float
    activity: str
    direction: str
    n_steps: int
    cadence_spm: float
    direction_confidence: float = 0.0
    #: Seconds of each direction inside the bout (forward / backward / unknown).
    direction_s: dict[str, float] = field(default_factory=dict)

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "start_s": round(self.start_s, 4),
            "end_s": round(self.end_s, 4),
            "duration_s": round(self.duration_s, 4),
            "activity": self.activity,
            "direction": self.direction,
            "direction_confidence": round(self.direction_confidence, 3),
            "n_steps": self.n_steps,
            "cadence_spm": None if not math.isfinite(self.cadence_spm) else round(self.cadence_spm, 2),
            "direction_s": {k: round(v, 3) for k, v in self.direction_s.items()},
        }


RESULT_SCHEMA = "gait-result/1"


@dataclass
class GaitResult:
    """Everything ``analyze`` found in one recording.

    ``summary`` holds recording-level figures (steps, active time, cadence, per-direction
    figures); ``info`` says how the result was made (package version, parameters,
    preprocessing, direction mode); ``recording`` is :meth:`Recording.summary` of the input.
    The JSON form (:meth:`to_dict`) is the documented, versioned ``gait-result/1`` schema.
    """

    steps: list[Step]
    bouts: list[Bout]
    summary: dict[str, Any]
    info: dict[str, Any]
    recording: dict[str, Any] = field(default_factory=dict)

    @property
    def step_times_s(self) -> np.ndarray:
        return np.fromiter((s.t_s for s in self.steps), dtype=np.float64, count=len(self.steps))

    def steps_frame(self):
        """Steps as a pandas DataFrame (one row per step)."""
        import pandas as pd

        cols = ["t_s", "index", "direction", "direction_confidence", "cadence_spm", "bout"]
        return pd.DataFrame([[getattr(s, c) for c in cols] for s in self.steps], columns=cols)

    def bouts_frame(self):
        """Bouts as a pandas DataFrame (one row per bout)."""
        import pandas as pd

        cols = ["id", "start_s", "end_s", "activity", "direction", "direction_confidence",
                "n_steps", "cadence_spm"]
        return pd.DataFrame([[getattr(b, c) for c in cols] for b in self.bouts], columns=cols)

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": RESULT_SCHEMA,
            "recording": self.recording,
            "summary": self.summary,
            "steps": [s.to_dict() for s in self.steps],
            "bouts": [b.to_dict() for b in self.bouts],
            "info": self.info,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "GaitResult":
        if d.get("schema") != RESULT_SCHEMA:
            raise SignalError(f"not a {RESULT_SCHEMA} document (schema={d.get('schema')!r})")

        def f(x: Any) -> float:
            return float("nan") if x is None else float(x)

        steps = [
            Step(t_s=float(s["t_s"]), index=int(s.get("index", -1)), direction=s["direction"],
                 direction_confidence=float(s.get("direction_confidence", 0.0)),
                 cadence_spm=f(s.get("cadence_spm")), bout=int(s.get("bout", -1)))
            for s in d["steps"]
        ]
        bouts = [
            Bout(id=int(b["id"]), start_s=float(b["start_s"]), end_s=float(b["end_s"]),
                 activity=b["activity"], direction=b["direction"], n_steps=int(b["n_steps"]),
                 cadence_spm=f(b.get("cadence_spm")),
                 direction_confidence=float(b.get("direction_confidence", 0.0)),
                 direction_s=dict(b.get("direction_s", {})))
            for b in d["bouts"]
        ]
        return cls(steps=steps, bouts=bouts, summary=dict(d.get("summary", {})),
                   info=dict(d.get("info", {})), recording=dict(d.get("recording", {})))
