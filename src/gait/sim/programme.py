"""Programmes for the simulator: what the simulated person does, segment by segment.

A programme is a list of :class:`Segment`. On the command line it is written as a
comma-separated list ``kind:duration[:option...]``, for example
``"stand:5,walk:30:forward:110,run:20:backward:175:3.0,turn:3:left:180,stand:5:gestures"``.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

from ..errors import GaitError

KINDS = ("stand", "walk", "run", "turn")
DIRECTIONS = ("forward", "backward")
#: Backward gait has a higher step frequency at the same speed (about +11 %).
BACKWARD_CADENCE_FACTOR = 1.11

#: Limits the simulator accepts.
CADENCE_RANGE_SPM = (40.0, 250.0)
SPEED_RANGE_M_S = (0.2, 7.0)
MAX_DURATION_S = 48 * 3600.0


def _check_range(value: float | None, bounds: tuple[float, float], what: str, unit: str) -> None:
    """``value`` (when given) is a finite number inside ``bounds`` (inclusive), else GaitError."""
    if value is None:
        return
    if not (isinstance(value, (int, float)) and math.isfinite(value)
            and bounds[0] <= value <= bounds[1]):
        raise GaitError(f"programme: {what} must be {bounds[0]:g}-{bounds[1]:g} {unit}, "
                        f"got {value!r}")


@dataclass(frozen=True)
class Segment:
    """One part of a programme.

    Parameters
    ----------
    kind : {"stand", "walk", "run", "turn"}
        ``turn`` is walking (or running, with ``activity="run"``) along a curve.
    duration_s : float
        Length of the segment, s.
    direction : str
        ``"forward"`` / ``"backward"`` for walk and run; ``"left"`` / ``"right"`` for turn.
    cadence_spm : float, optional
        Steps per minute. Default from the speed (backward: 11 % more than forward).
    speed_m_s : float, optional
        Walking / running speed, m/s. Default from the cadence.
    gestures : bool
        Standing only: add arm gestures (pelvis jiggle) to the postural sway.
    turn_deg : float
        Turn only: total change of heading, degrees.
    activity : str, optional
        Turn only: ``"walk"`` (default) or ``"run"``.
    """

    kind: str
    duration_s: float
    direction: str = "forward"
    cadence_spm: float | None = None
    speed_m_s: float | None = None
    gestures: bool = False
    turn_deg: float = 180.0
    activity: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise GaitError(f"programme: unknown segment kind {self.kind!r} (use {', '.join(KINDS)})")
        d = self.duration_s
        if isinstance(d, bool) or not isinstance(d, (int, float)) or not math.isfinite(d) or d <= 0:
            raise GaitError(f"programme: {self.kind} duration must be a positive number of seconds, got {d!r}")
        if d > MAX_DURATION_S:
            raise GaitError(f"programme: {self.kind} duration {d} s is longer than 48 h")
        if self.kind in ("walk", "run") and self.direction not in DIRECTIONS:
            raise GaitError(f"programme: {self.kind} direction must be forward or backward, got {self.direction!r}")
        if self.kind == "turn" and self.direction not in ("left", "right"):
            raise GaitError(f"programme: turn direction must be left or right, got {self.direction!r}")
        _check_range(self.cadence_spm, CADENCE_RANGE_SPM, "cadence", "steps/min")
        _check_range(self.speed_m_s, SPEED_RANGE_M_S, "speed", "m/s")
        if self.kind == "turn":
            if not (math.isfinite(self.turn_deg) and 0 < abs(self.turn_deg) <= 1080):
                raise GaitError(f"programme: turn angle must be 0-1080 degrees, got {self.turn_deg!r}")
            if self.activity not in (None, "walk", "run"):
                raise GaitError(f"programme: turn activity must be walk or run, got {self.activity!r}")

    # ------------------------------------------------------------------
    @property
    def moving(self) -> bool:
        return self.kind != "stand"

    @property
    def gait(self) -> str:
        """``walk`` or ``run`` for moving segments, ``stand`` otherwise."""
        if self.kind == "turn":
            return self.activity or "walk"
        return self.kind

    @property
    def backward(self) -> bool:
        return self.kind in ("walk", "run") and self.direction == "backward"

    def resolved(self) -> tuple[float, float]:
        """``(cadence_spm, speed_m_s)`` with defaults filled in (0, 0 when standing)."""
        if not self.moving:
            return 0.0, 0.0
        return resolve_cadence_speed(self.gait, self.backward, self.cadence_spm, self.speed_m_s)

    def to_dict(self) -> dict:
        """The fields that matter for this kind of segment (JSON-ready)."""
        keep = {"stand": ("kind", "duration_s", "gestures"),
                "turn": ("kind", "duration_s", "direction", "turn_deg", "activity", "cadence_spm",
                         "speed_m_s")}.get(self.kind, ("kind", "duration_s", "direction",
                                                       "cadence_spm", "speed_m_s"))
        return {k: v for k, v in asdict(self).items() if k in keep and v is not None}

    def spec(self) -> str:
        """The command-line form of this segment."""
        parts = [self.kind, f"{self.duration_s:g}"]
        if self.kind in ("walk", "run"):
            parts.append(self.direction)
            if self.cadence_spm is not None or self.speed_m_s is not None:
                parts.append("" if self.cadence_spm is None else f"{self.cadence_spm:g}")
            if self.speed_m_s is not None:
                parts.append(f"{self.speed_m_s:g}")
        elif self.kind == "turn":
            parts += [self.direction, f"{self.turn_deg:g}"]
            if self.activity == "run":
                parts.append("run")
        elif self.gestures:
            parts.append("gestures")
        return ":".join(parts)


def step_length_m(gait: str, speed_m_s: float) -> float:
    """Forward step length at a speed (simple fits to typical adult gait), m."""
    if gait == "run":
        return 0.35 + 0.25 * speed_m_s
    return 0.42 + 0.22 * speed_m_s


def resolve_cadence_speed(gait: str, backward: bool, cadence_spm: float | None,
                          speed_m_s: float | None) -> tuple[float, float]:
    """Fill in a missing cadence or speed from the other (both missing: typical values)."""
    factor = BACKWARD_CADENCE_FACTOR if backward else 1.0
    if cadence_spm is None and speed_m_s is None:
        speed_m_s = (0.9 if backward else 1.3) if gait == "walk" else (2.6 if backward else 3.2)
    if cadence_spm is None:
        cadence_spm = factor * 60.0 * speed_m_s / step_length_m(gait, speed_m_s)
    if speed_m_s is None:
        # invert cadence = factor * 60 v / L(v) with L = a + b v  =>  v = c a / (60 f - c b)
        a, b = (0.35, 0.25) if gait == "run" else (0.42, 0.22)
        c = cadence_spm / factor
        denom = 60.0 - c * b
        speed_m_s = c * a / denom if denom > 1.0 else SPEED_RANGE_M_S[1]
        speed_m_s = float(min(max(speed_m_s, 0.3), 6.5))
    return float(cadence_spm), float(speed_m_s)


def parse_programme(text: str) -> list[Segment]:
    """Parse ``"stand:5,walk:30:forward:110,run:20:backward:175:3.0,..."``.

    Fields per segment: ``walk|run:SECONDS[:forward|backward][:CADENCE][:SPEED]``,
    ``stand:SECONDS[:gestures]``, ``turn:SECONDS[:left|right][:DEGREES][:walk|run]``.
    Empty fields take the default (``walk:30:backward::0.8`` gives a speed and no cadence).

    Raises
    ------
    GaitError
        One line naming the bad segment and why.
    """
    if not isinstance(text, str) or not text.strip():
        raise GaitError("programme is empty")
    segments: list[Segment] = []
    for i, raw in enumerate(text.split(","), start=1):
        item = raw.strip()
        if not item:
            raise GaitError(f"programme: segment {i} is empty (two commas in a row?)")
        parts = [p.strip() for p in item.split(":")]
        kind = parts[0].lower()
        where = f"programme segment {i} ({item!r})"
        if kind not in KINDS:
            raise GaitError(f"{where}: unknown kind {parts[0]!r}; use {', '.join(KINDS)}")
        if len(parts) < 2 or not parts[1]:
            raise GaitError(f"{where}: give a duration in seconds, e.g. {kind}:30")
        duration = _num(parts[1], where, "duration")
        opts = parts[2:]
        try:
            if kind == "stand":
                gestures = False
                for o in opts:
                    if o.lower() in ("gestures", "gesture", "g"):
                        gestures = True
                    elif o:
                        raise GaitError(f"{where}: stand takes only the option 'gestures', got {o!r}")
                segments.append(Segment("stand", duration, gestures=gestures))
            elif kind in ("walk", "run"):
                if len(opts) > 3:
                    raise GaitError(f"{where}: too many fields (kind:seconds:direction:cadence:speed)")
                direction = (opts[0].lower() if opts and opts[0] else "forward")
                direction = {"fwd": "forward", "f": "forward", "back": "backward",
                             "bwd": "backward", "b": "backward"}.get(direction, direction)
                cad = _num(opts[1], where, "cadence") if len(opts) > 1 and opts[1] else None
                spd = _num(opts[2], where, "speed") if len(opts) > 2 and opts[2] else None
                segments.append(Segment(kind, duration, direction=direction, cadence_spm=cad,
                                        speed_m_s=spd))
            else:
                if len(opts) > 3:
                    raise GaitError(f"{where}: too many fields (turn:seconds:left|right:degrees:walk|run)")
                direction = opts[0].lower() if opts and opts[0] else "left"
                deg = _num(opts[1], where, "angle") if len(opts) > 1 and opts[1] else 180.0
                act = opts[2].lower() if len(opts) > 2 and opts[2] else None
                segments.append(Segment("turn", duration, direction=direction, turn_deg=deg,
                                        activity=act))
        except GaitError as exc:
            if str(exc).startswith("programme:"):
                raise GaitError(f"{where}: {str(exc)[len('programme: '):]}") from None
            raise
    return segments


def _num(text: str, where: str, what: str) -> float:
    try:
        x = float(text)
    except ValueError:
        raise GaitError(f"{where}: {what} must be a number, got {text!r}") from None
    if not math.isfinite(x):
        raise GaitError(f"{where}: {what} must be finite, got {text!r}")
    return x


#: Named programmes (``gait simulate --preset NAME``).
PRESETS: dict[str, str] = {
    # warm-up walk, forward and backward running, backward walk, cool-down: ~4.8 min
    "mixed-run": ("stand:8,walk:35:forward:112,run:55:forward:166,run:30:backward:182,"
                  "run:45:forward:172,run:25:backward:186,walk:30:backward:118,"
                  "walk:40:forward:104,stand:8:gestures"),
    "walk": "stand:5,walk:110:forward:108,stand:5",
    "walk-back": "stand:5,walk:60:backward:105,stand:5",
    "run": "stand:5,walk:10:forward:110,run:90:forward:168,walk:10:forward:105,stand:5",
    "retro-run": "stand:5,run:60:backward:180,stand:5",
    # forward / backward walking alternating every 20-60 s
    "alternating": ("stand:5,walk:40:forward:110,walk:25:backward:112,walk:55:forward:106,"
                    "walk:30:backward:118,walk:20:forward:112,walk:45:backward:108,stand:5"),
    "stand": "stand:60:gestures",
    "turns": "stand:5,walk:20:forward:110,turn:3:left:180,walk:20:forward:110,turn:3:right:180,stand:5",
    "slow-fast": ("stand:5,walk:30:forward:55,walk:30:forward:80,walk:30:forward:120,"
                  "run:30:forward:200,run:20:forward:228,stand:5"),
}


def preset_programme(name: str) -> list[Segment]:
    """The programme of a named preset (see :data:`PRESETS`)."""
    key = name.strip().lower()
    if key not in PRESETS:
        raise GaitError(f"unknown preset {name!r}; use one of {', '.join(PRESETS)}")
    return parse_programme(PRESETS[key])


def programme_spec(segments: list[Segment]) -> str:
    """The command-line form of a programme (``parse_programme`` reads it back)."""
    return ",".join(s.spec() for s in segments)
