"""``simulate()``: a programme in, a :class:`~gait.types.Recording` and its labels out."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Sequence

import numpy as np

from .._version import __version__
from ..errors import GaitError
from ..frames import MOUNT_PRESETS, parse_mount, random_rotation
from ..labels import LabelSegment, Labels
from ..types import G0_M_S2, Recording, RecordingInfo
from . import model
from .programme import PRESETS, Segment, parse_programme, programme_spec

SIM_MODEL = "gait.sim/1"
DEVICE = "gait.sim"
#: Default absolute start (fixed, so that files regenerate byte for byte).
DEFAULT_START = datetime(2026, 6, 1, 8, 0, 0, tzinfo=timezone.utc)
#: Longest programme one call simulates (about 0.45 GB of memory per hour).
MAX_TOTAL_S = 6 * 3600.0
#: Sensor distance from the pelvis centre (towards the hip), m.
HIP_OFFSET_M = 0.15
#: Backward walking: sagittal accelerations relative to forward walking at the same cadence
#: and step length (the dev data show larger vertical acceleration backward: s.d. 3.17 vs
#: 2.55 m/s^2 at a lower cadence).
BACK_WALK_GAIN = 1.3
#: Upper bound of the walking sagittal amplitude factor (see simulate): reached only above
#: about 185 (forward) and 198 (backward) steps/min at the default speeds, so ordinary walking is
#: unchanged.
WALK_SCALE_MAX = 5.0

NOISE_PRESETS: dict[str, dict[str, float]] = {
    "none": {"acc_sd": 0.0, "acc_bias": 0.0, "gyro_sd": 0.0, "gyro_bias": 0.0, "scale_sd": 0.0},
    # a decent MEMS IMU at 100 Hz
    "low": {"acc_sd": 0.02, "acc_bias": 0.05, "gyro_sd": 0.003, "gyro_bias": 0.005, "scale_sd": 0.005},
    # as the dev data's `noisy` variant: 0.05 g white noise, +-0.05 g bias
    "high": {"acc_sd": 0.05 * G0_M_S2, "acc_bias": 0.05 * G0_M_S2, "gyro_sd": 0.01,
             "gyro_bias": 0.02, "scale_sd": 0.01},
}


@dataclass
class Simulation:
    """What :func:`simulate` returns: the recording, its labels and every parameter used."""

    recording: Recording
    labels: Labels
    params: dict[str, Any] = field(default_factory=dict)
    #: Unit the acceleration is written in (``"m/s^2"`` or ``"g"``); the recording is m/s^2.
    acc_unit: str = "m/s^2"

    @property
    def header(self) -> dict[str, Any]:
        """The ``gait-recording/1`` header for this recording."""
        rec = self.recording
        h: dict[str, Any] = {
            "device": DEVICE,
            "mount": rec.info.mount,
            "fs_hz": rec.fs_hz,
            "units": dict(rec.info.units),
            "start_time": rec.start_time.isoformat() if rec.start_time else None,
            "placement": self.labels.placement,
            "simulator": {"model": SIM_MODEL, "seed": self.params.get("seed"),
                          "programme": self.params.get("programme")},
        }
        return h


def _resolve_programme(programme: "str | Sequence[Segment]") -> list[Segment]:
    if isinstance(programme, str):
        key = programme.strip().lower()
        return parse_programme(PRESETS[key] if key in PRESETS else programme)
    segs = list(programme)
    if not segs:
        raise GaitError("programme is empty")
    for s in segs:
        if not isinstance(s, Segment):
            raise GaitError(f"programme items must be Segment, got {type(s).__name__}")
    return segs


def _resolve_rotation(rotation: Any, rng: np.random.Generator) -> tuple[np.ndarray, str]:
    """(R, spec): ``None``/"none", "random", "x=10,y=0,z=45" (degrees about the sensor axes,
    applied x then y then z), or a 3x3 matrix."""
    if rotation is None or (isinstance(rotation, str) and rotation.strip().lower() in ("", "none")):
        return np.eye(3), "none"
    if isinstance(rotation, str):
        text = rotation.strip().lower()
        if text == "random":
            return random_rotation(rng), "random"
        angles = {"x": 0.0, "y": 0.0, "z": 0.0}
        for part in text.split(","):
            if "=" not in part:
                raise GaitError(f"rotation {rotation!r}: use 'random', 'none' or 'x=DEG,y=DEG,z=DEG'")
            ax, val = (p.strip() for p in part.split("=", 1))
            if ax not in angles:
                raise GaitError(f"rotation {rotation!r}: axis must be x, y or z, got {ax!r}")
            try:
                angles[ax] = float(val)
            except ValueError:
                raise GaitError(f"rotation {rotation!r}: {val!r} is not a number of degrees") from None
            if not math.isfinite(angles[ax]):
                raise GaitError(f"rotation {rotation!r}: angle must be finite")
        rx, ry, rz = (math.radians(angles[a]) for a in "xyz")
        R = model.euler_zyx_to_matrix(np.array([rx]), np.array([ry]), np.array([rz]))[0]
        return R, f"x={angles['x']:g},y={angles['y']:g},z={angles['z']:g}"
    R = np.asarray(rotation, dtype=float)
    if R.shape != (3, 3) or not np.allclose(R @ R.T, np.eye(3), atol=1e-6) or np.linalg.det(R) < 0:
        raise GaitError("rotation must be a 3x3 proper rotation matrix")
    return R, "matrix"


def _resolve_noise(noise: Any) -> dict[str, float]:
    if noise is None:
        return dict(NOISE_PRESETS["none"])
    if isinstance(noise, dict):
        out = dict(NOISE_PRESETS["none"])
        for k, v in noise.items():
            if k not in out:
                raise GaitError(f"noise: unknown key {k!r} (use {', '.join(out)})")
            out[k] = float(v)
        return out
    if isinstance(noise, (int, float)):
        out = dict(NOISE_PRESETS["low"])
        out["acc_sd"] = float(noise)
        return out
    text = str(noise).strip().lower()
    if text in NOISE_PRESETS:
        return dict(NOISE_PRESETS[text])
    parts = text.split(",")
    try:
        vals = [float(p) for p in parts]
    except ValueError:
        raise GaitError(f"noise {noise!r}: use none, low, high or ACC_SD[,GYRO_SD] "
                        "(m/s^2, rad/s)") from None
    if len(vals) > 2 or any(not math.isfinite(v) or v < 0 for v in vals):
        raise GaitError(f"noise {noise!r}: use none, low, high or ACC_SD[,GYRO_SD] with values >= 0")
    out = dict(NOISE_PRESETS["low"])
    out["acc_sd"] = vals[0]
    if len(vals) == 2:
        out["gyro_sd"] = vals[1]
    return out


def _shift_bump(u: np.ndarray) -> np.ndarray:
    """Vertical acceleration of a small weight shift over u in [0, 1]: down, up at contact
    (u = 0.64), settle; zero mean."""
    return -np.sin(np.pi * u) ** 2 * 0.5 + np.exp(-0.5 * ((u - 0.64) / 0.06) ** 2) * 1.2 \
        - 0.06 * 1.2 * np.sqrt(2 * np.pi) + 0.25


# ----------------------------------------------------------------------------- steps
@dataclass
class _Steps:
    t: np.ndarray          # IC times, s
    T: np.ndarray          # step durations, s
    foot: np.ndarray       # 0 = right, 1 = left
    run: np.ndarray        # 1.0 running
    back: np.ndarray       # 1.0 backward
    speed: np.ndarray      # m/s
    cad: np.ndarray        # steps/min
    amp: np.ndarray        # amplitude envelope
    real: np.ndarray       # False for the zero-amplitude steps around each bout
    seg: np.ndarray        # programme segment index


def _schedule(segs: list[Segment], bounds: np.ndarray, rng: np.random.Generator,
              variability: float, asymmetry: float, stop_rng: np.random.Generator,
              stop_at_reversal: float) -> _Steps:
    rows: list[tuple] = []
    foot = int(rng.integers(0, 2))
    chain = False
    next_ic = 0.0
    cad_prev = 0.0
    bout_rows: list[list[tuple]] = []
    for i, seg in enumerate(segs):
        t0, t1 = float(bounds[i]), float(bounds[i + 1])
        if not seg.moving:
            chain = False
            continue
        cad_target, speed = seg.resolved()
        next_moving = i + 1 < len(segs) and segs[i + 1].moving
        # reversing direction: come to a full stop first (with this probability), or turn the
        # gait around on the move (slowing for a step either side)
        if next_moving and segs[i + 1].backward != seg.backward \
                and stop_rng.random() < stop_at_reversal:
            next_moving = False
        if not chain:
            cad_prev = cad_target * 0.94
            next_ic = t0 + max(0.2, 0.9 * 60.0 / cad_target)
            bout_rows.append([])
            first = True
        else:
            first = False
        while True:
            cad_k = cad_prev if first else cad_prev + 0.4 * (cad_target - cad_prev)
            T_nom = 60.0 / cad_k
            if next_ic >= t1 or (not next_moving and next_ic + T_nom > t1 - 0.05):
                break
            jitter = rng.normal()
            T_k = T_nom * (1.0 + (asymmetry if foot == 0 else -asymmetry) + variability * jitter)
            T_k = max(T_k, 0.5 * T_nom)
            # step-to-step variability, and the two sides push a little differently
            amp = max(0.3, 1.0 + 0.06 * rng.normal()) * (1.0 + (2 * asymmetry if foot == 0 else -2 * asymmetry))
            bout_rows[-1].append((next_ic, T_k, foot, 1.0 if seg.gait == "run" else 0.0,
                                  1.0 if seg.backward else 0.0, speed, cad_k, amp, i))
            next_ic += T_k
            foot = 1 - foot
            cad_prev = cad_k
            first = False
        chain = next_moving and bool(bout_rows[-1])
        if not chain and bout_rows and not bout_rows[-1]:
            bout_rows.pop()

    for bout in bout_rows:
        n = len(bout)
        amps = [r[7] for r in bout]
        for j, a in enumerate((0.45, 0.75)):  # starting and stopping take a couple of steps
            if j < n:
                amps[j] *= a
                amps[n - 1 - j] *= a
        for j in range(1, n):  # slowing down to change direction
            if bout[j][4] != bout[j - 1][4]:
                amps[j - 1] *= 0.6
                amps[j] *= 0.6
        first, last = bout[0], bout[-1]
        before = (first[0] - first[1], first[1], 1 - first[2], *first[3:7], 0.0, False, first[8])
        if rows and rows[-1][0] + 1.5 * rows[-1][1] > before[0]:
            # the pause since the previous bout is shorter than the fade-out and fade-in steps
            # (they would overlap and break the time order): squeeze both into the pause, or
            # join the bouts when there is next to no pause
            after = rows.pop()
            gap = first[0] - after[0]
            if gap >= 0.1:
                rows.append((after[0], gap / 2, *after[2:]))
                rows.append((after[0] + gap / 2, gap / 2, *before[2:]))
        else:
            rows.append(before)
        rows += [(*r[:7], a, True, r[8]) for r, a in zip(bout, amps)]
        rows.append((last[0] + last[1], last[1], 1 - last[2], *last[3:7], 0.0, False, last[8]))
    if not rows:
        z = np.zeros(0)
        return _Steps(z, z, z.astype(int), z, z, z, z, z, z.astype(bool), z.astype(int))
    cols = list(zip(*rows))
    return _Steps(t=np.array(cols[0]), T=np.array(cols[1]), foot=np.array(cols[2], dtype=int),
                  run=np.array(cols[3]), back=np.array(cols[4]), speed=np.array(cols[5]),
                  cad=np.array(cols[6]), amp=np.array(cols[7]), real=np.array(cols[8], dtype=bool),
                  seg=np.array(cols[9], dtype=int))


def contact_fraction(speed_m_s: np.ndarray, cadence_spm: np.ndarray, backward: np.ndarray) -> np.ndarray:
    """Running stance time as a fraction of the step (shorter, i.e. longer flight, backward)."""
    tc_s = np.clip(0.29 - 0.022 * speed_m_s, 0.16, 0.34) * np.where(backward > 0.5, 0.88, 1.0)
    return np.clip(tc_s * cadence_spm / 60.0, 0.35, 0.85)


# ----------------------------------------------------------------------------- simulate
def simulate(
    programme: "str | Sequence[Segment]",
    *,
    fs_hz: float = 100.0,
    seed: int | None = 0,
    side: str = "right",
    mount: str = "body",
    rotation: Any = None,
    noise: Any = "low",
    gyro: bool = True,
    acc_unit: str = "m/s^2",
    start_time: datetime | None = None,
    name: str = "sim",
    variability: float = 0.02,
    asymmetry: float = 0.03,
    impacts: float = 1.0,
    misalignment_deg: float = 3.0,
    intensity: float = 1.0,
    stop_at_reversal: float = 0.5,
) -> Simulation:
    """Simulate a hip-worn IMU for a programme of standing, walking, running and turning.

    Parameters
    ----------
    programme : str or sequence of Segment
        Segments (see :class:`gait.sim.Segment`), a programme string
        (``"stand:5,walk:30:forward:110,run:20:backward:175"``) or a preset name.
    fs_hz : float
        Output sampling rate, 25-400 Hz (keyword; the model runs internally at >= 200 Hz and
        is low-passed at 0.4 x ``fs_hz`` before decimation, like a sensor's anti-alias filter).
    seed : int or None
        Seed of every random draw; the same seed gives the same recording, bit for bit.
    side : {"right", "left"}
        Hip the sensor is clipped on (0.15 m to that side of the pelvis centre).
    mount : str
        Mount preset or axis mapping (:mod:`gait.frames`): how the sensor axes sit on the body.
    rotation : None, "none", "random", "x=DEG,y=DEG,z=DEG" or (3, 3) array
        Extra rotation of the sensor frame, ``v_new = R @ v_mount``. Anything but none makes
        the labels' ``sensor_frame`` ``"unknown"``.
    noise : "none", "low", "high", float, "ACC_SD,GYRO_SD" or dict
        Sensor noise (white, s.d. in m/s^2 and rad/s), constant per-axis biases (uniform +-)
        and scale errors.
    gyro : bool
        Include the gyroscope.
    acc_unit : {"m/s^2", "g"}
        Unit the acceleration is *written* in (the returned recording is always m/s^2).
    start_time : datetime, optional
        Absolute time of the first sample (default 2026-06-01T08:00:00Z, fixed).
    name : str
        Recording name in the labels.
    variability : float
        Step-to-step variability of step time (coefficient of variation).
    asymmetry : float
        Left/right asymmetry: right steps last longer by this fraction and left ones less, and
        right steps are stronger by twice this fraction.
    impacts : float
        Scale of the landing transients (0 = none, as in motion-capture data).
    misalignment_deg : float
        S.d. of a random tilt of the sensor on the belt, degrees per axis.
    intensity : float
        Gait style: scales the sagittal (vertical and anterior-posterior) accelerations of
        walking and the pelvic rotations (0.5 = a smooth glide, 1.5 = bouncy), 0.3-3.
    stop_at_reversal : float
        Probability that a change between forward and backward comes to a full stop (the steps
        ramp down and up again) rather than turning the gait around on the move.

    Returns
    -------
    Simulation
        ``recording`` (m/s^2, rad/s), ``labels`` (``gait-labels/1``, ICs exactly where the
        model put them) and ``params`` (everything used, also in ``labels.simulator``).
    """
    segs = _resolve_programme(programme)
    if isinstance(fs_hz, bool) or not isinstance(fs_hz, (int, float)) or not math.isfinite(fs_hz) \
            or not 25.0 <= fs_hz <= 400.0:
        raise GaitError(f"sampling rate must be 25-400 Hz, got {fs_hz!r}")
    fs_hz = float(fs_hz)
    if side not in ("right", "left"):
        raise GaitError(f"side must be 'right' or 'left', got {side!r}")
    acc_unit = {"m/s2": "m/s^2", "ms2": "m/s^2", "m/s^2": "m/s^2", "g": "g"}.get(str(acc_unit).lower())
    if acc_unit is None:
        raise GaitError("acc unit must be 'g' or 'm/s^2'")
    for nm, val, hi in (("variability", variability, 0.2), ("asymmetry", asymmetry, 0.2),
                        ("impacts", impacts, 5.0), ("misalignment_deg", misalignment_deg, 30.0),
                        ("intensity", intensity, 3.0), ("stop_at_reversal", stop_at_reversal, 1.0)):
        if not (isinstance(val, (int, float)) and math.isfinite(val) and 0 <= val <= hi):
            raise GaitError(f"{nm} must be between 0 and {hi}, got {val!r}")
    m = parse_mount(mount)
    if seed is None:  # draw one, and record it so the recording can be made again
        seed = int(np.random.SeedSequence().entropy % (2**63))
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise GaitError(f"seed must be a non-negative integer, got {seed!r}")
    seed = int(seed)
    # independent streams, so that e.g. a random rotation leaves the motion unchanged
    ss_motion, ss_rot, ss_sensor, ss_stop = np.random.SeedSequence(seed).spawn(4)
    rng = np.random.default_rng(ss_motion)
    R_rot, rot_spec = _resolve_rotation(rotation, np.random.default_rng(ss_rot))
    noise_p = _resolve_noise(noise)

    durations = np.array([s.duration_s for s in segs], dtype=float)
    bounds = np.concatenate([[0.0], np.cumsum(durations)])
    total_s = float(bounds[-1])
    if total_s > MAX_TOTAL_S:
        raise GaitError(f"programme lasts {total_s / 3600:.1f} h; simulate at most "
                        f"{MAX_TOTAL_S / 3600:g} h per call (memory) and join pieces for longer")
    n_out = int(round(total_s * fs_hz))
    if n_out < 2:
        raise GaitError("programme is too short for one sample")
    factor = max(1, int(math.ceil(200.0 / fs_hz)))
    fs_int = fs_hz * factor
    n = n_out * factor
    t = np.arange(n) / fs_int

    st = _schedule(segs, bounds, rng, variability, asymmetry, np.random.default_rng(ss_stop),
                   stop_at_reversal)

    # ---------------- per-sample step phase and parameters
    a_lin = np.zeros((n, 3))
    ang = np.zeros((n, 3))  # roll, pitch, yaw (oscillation + tilt)
    if len(st.t):
        k = np.clip(np.searchsorted(st.t, t, side="right") - 1, 0, len(st.t) - 1)
        phi = np.clip((t - st.t[k]) / st.T[k], 0.0, 0.999999)
        Phi = (st.foot[k] + phi) / 2.0
        centres = st.t + st.T / 2.0
        amp = np.interp(t, centres, st.amp, left=0.0, right=0.0)
        pres = np.interp(t, centres, st.real.astype(float), left=0.0, right=0.0)
        r_w = np.interp(t, centres, st.run)
        b_w = np.interp(t, centres, st.back)
        speed = np.interp(t, centres, st.speed)
        cad = np.interp(t, centres, st.cad)
        step_len = speed * 60.0 / np.maximum(cad, 1.0)
        ref_len = 1.3 * 60.0 / 110.0
        # The pelvis bob grows with cadence and step length, but not without bound: at very
        # high walking cadences (race-walking, > ~185 steps/min) the pelvis is held flatter.
        # Capped at WALK_SCALE_MAX times the 110 steps/min, 1.3 m/s amplitude, which keeps
        # backward walking at 230 steps/min below 8 g of specific force.
        walk_scale = (np.minimum((cad / 110.0) ** 2 * (step_len / ref_len), WALK_SCALE_MAX)
                      * amp * intensity)
        walk_lat = np.sqrt(step_len / ref_len) * amp * np.sqrt(intensity)
        run_scale = np.clip(speed / 3.2, 0.4, 2.0) * amp * np.sqrt(intensity)
        run_lat = amp * np.sqrt(intensity)
        c_f = contact_fraction(speed, cad, np.zeros_like(speed))
        c_b = contact_fraction(speed, cad, np.ones_like(speed))
        modes = (("walk", False, (1 - r_w) * (1 - b_w)), ("walk", True, (1 - r_w) * b_w),
                 ("run", False, r_w * (1 - b_w)), ("run", True, r_w * b_w))
        for gait, back, w in modes:
            sel = w * (amp + pres) > 0
            if not sel.any():
                continue
            p, P, ws = phi[sel], Phi[sel], w[sel]
            if back:  # forward gait played in reverse: a backward IC is a forward toe-off
                stance = 1.22 if gait == "walk" else c_b[sel]
                p, P = np.mod(stance - p, 1.0), np.mod(stance / 2.0 - P, 1.0)
            if gait == "walk":
                # backward walking bobs more at the same cadence and step length (more knee
                # flexion, toe landing): sagittal amplitude x BACK_WALK_GAIN
                sc = walk_scale[sel] * (BACK_WALK_GAIN if back else 1.0)
                acc_m, ang_m = model.walk_forward_base(
                    p, P, sc, walk_lat[sel], pushoff=0.3 if back else 1.0,
                    pitch_scale=0.4 if back else 1.0)
                # the collision at IC brakes in both directions (in the real, unreversed phase)
                acc_m[:, 0] += model.walk_collision(phi[sel], sc, backward=back)
                if back:
                    # pelvic pitch follows weight acceptance after IC in both directions (the
                    # dev data's backward walks pitch like the forward ones, r 0.62 vs -0.24
                    # reversed), so it is not reversed; roll and yaw are
                    _, ang_f = model.walk_forward_base(phi[sel], Phi[sel], sc, walk_lat[sel],
                                                       pitch_scale=0.4)
                    ang_m[:, 1] = ang_f[:, 1]
            else:
                acc_m, ang_m = model.run_forward_base(p, P, (c_b if back else c_f)[sel],
                                                      run_scale[sel], run_lat[sel])
                # vertical: g + amp * (stance pulse - g); zero specific force in flight at amp 1
                acc_m[:, 2] *= amp[sel]
            a_lin[sel] += ws[:, None] * acc_m
            ang[sel] += ws[:, None] * ang_m
            tilt = model._TILT[f"{gait}_{'b' if back else 'f'}"]
            ang[sel, 1] += ws * pres[sel] * tilt

        # landing transients of the current and the next step
        if impacts > 0:
            table = np.array([model.IMPACTS[("run" if r > 0.5 else "walk", b > 0.5)]
                              for r, b in zip(st.run, st.back)])
            strength = st.amp * st.real * impacts
            for kk in (k, np.minimum(k + 1, len(st.t) - 1)):
                tau = t - st.t[kk]
                near = (tau > -0.06) & (tau < 0.25) & (strength[kk] > 0)
                if near.any():
                    a_lin[near] += model.impact(tau[near], table[kk[near]], strength[kk[near]])
    else:
        pres = np.zeros(n)
        speed = np.zeros(n)

    # ---------------- standing: postural sway everywhere, gestures where asked
    still = 1.0 - np.clip(pres, 0.0, 1.0)
    a_lin += model.smooth_noise(rng, n, fs_int, 1.0, 0.04, 3) * np.array([1.0, 1.0, 0.5]) \
        * (0.3 + 0.7 * still)[:, None]
    ang += model.smooth_noise(rng, n, fs_int, 0.3, 0.004, 3) * np.array([1.0, 1.0, 1.5])
    gestures: list[dict[str, float]] = []
    shuffles: list[float] = []
    for i, seg in enumerate(segs):
        if seg.kind != "stand" or not seg.gestures:
            continue
        t_g = bounds[i] + rng.uniform(0.5, 2.0)
        while True:
            dur = rng.uniform(1.5, 4.0)
            if t_g + dur > bounds[i + 1] - 0.3:
                break
            f_g = rng.uniform(0.8, 2.5)
            a_g = rng.uniform(0.3, 1.2)
            dir_g = rng.uniform(0, 2 * np.pi)
            yaw_g = rng.uniform(0.02, 0.06)
            sel = (t >= t_g) & (t < t_g + dur)
            tt = t[sel] - t_g
            env = np.sin(np.pi * tt / dur) ** 2
            wave = np.sin(2 * np.pi * f_g * tt)
            a_lin[sel, 0] += a_g * math.cos(dir_g) * env * wave
            a_lin[sel, 1] += a_g * math.sin(dir_g) * env * wave
            a_lin[sel, 2] += 0.3 * a_g * env * np.sin(4 * np.pi * f_g * tt)
            ang[sel, 2] += yaw_g * env * np.sin(2 * np.pi * f_g * tt + 0.5)
            gestures.append({"start_s": round(t_g, 3), "duration_s": round(dur, 3),
                             "freq_hz": round(f_g, 3), "acc_m_s2": round(a_g, 3)})
            t_g += dur + rng.uniform(0.5, 3.0)
            # now and then a small repositioning step (weight shift): the foot lifts 1-2 cm and
            # lands again; listed as an ambiguous IC, neither required nor penalised
            if rng.random() < 0.35 and t_g + 1.0 < bounds[i + 1] - 0.3:
                t_c = t_g + 0.45  # contact, 0.45 s into the 0.7 s shift
                side_sign = 1.0 if rng.random() < 0.5 else -1.0
                sel = (t >= t_g) & (t < t_g + 0.7)
                tt = (t[sel] - t_g) / 0.7
                a_lin[sel, 1] += side_sign * 0.8 * np.sin(2 * np.pi * tt) * np.sin(np.pi * tt)
                a_lin[sel, 2] += 0.6 * _shift_bump(tt)
                ang[sel, 2] += side_sign * 0.03 * np.sin(np.pi * tt) ** 2
                shuffles.append(round(float(t_c), 4))
                t_g += 1.0 + rng.uniform(0.3, 1.5)

    # ---------------- turns: heading rate with smooth edges, centripetal acceleration
    heading_rate = np.zeros(n)
    for i, seg in enumerate(segs):
        if seg.kind == "turn":
            sel = (t >= bounds[i]) & (t < bounds[i + 1])
            sign = 1.0 if seg.direction == "left" else -1.0
            heading_rate[sel] = sign * math.radians(seg.turn_deg) / seg.duration_s
    if heading_rate.any():
        win = max(1, int(0.4 * fs_int))
        heading_rate = np.convolve(heading_rate, np.ones(win) / win, mode="same")
        a_lin[:, 1] += speed * heading_rate
    heading = np.cumsum(heading_rate) / fs_int

    # ---------------- kinematics -> specific force and angular rate in the body frame
    roll, pitch, yaw = ang[:, 0], ang[:, 1], ang[:, 2]
    a_lin[:, 2] += model.G_M_S2  # specific force in the heading frame
    f_b = model.heading_to_body(a_lin, roll, pitch, yaw)
    del a_lin
    w_b = model.body_rates(roll, pitch, yaw + heading, fs_int)
    r_off = np.array([0.0, -HIP_OFFSET_M if side == "right" else HIP_OFFSET_M, 0.0])
    alpha = np.gradient(w_b, axis=0) * fs_int
    f_b += np.cross(alpha, r_off) + np.cross(w_b, np.cross(w_b, r_off))

    # ---------------- sensor frame: mount, belt misalignment, extra rotation
    mis = np.radians(rng.normal(0.0, misalignment_deg, 3)) if misalignment_deg > 0 else np.zeros(3)
    R_mis = model.euler_zyx_to_matrix(mis[:1], mis[1:2], mis[2:])[0]
    R_bs = R_mis @ m.R  # body <- sensor
    R_out = R_rot @ R_bs.T  # sensor output <- body
    acc = f_b @ R_out.T
    gyr = w_b @ R_out.T

    acc = model.decimate(acc, factor, fs_hz, fs_int)
    gyr = model.decimate(gyr, factor, fs_hz, fs_int)

    # ---------------- sensor errors
    rng = np.random.default_rng(ss_sensor)
    acc_bias = rng.uniform(-1, 1, 3) * noise_p["acc_bias"]
    gyro_bias = rng.uniform(-1, 1, 3) * noise_p["gyro_bias"]
    acc_scale = 1.0 + rng.normal(0, 1, 3) * noise_p["scale_sd"]
    gyro_scale = 1.0 + rng.normal(0, 1, 3) * noise_p["scale_sd"]
    acc = acc * acc_scale + acc_bias + rng.normal(0, 1, acc.shape) * noise_p["acc_sd"]
    gyr = gyr * gyro_scale + gyro_bias + rng.normal(0, 1, gyr.shape) * noise_p["gyro_sd"]

    # ---------------- labels
    duration_s = n_out / fs_hz
    real = st.real
    ics = np.round(st.t[real], 4)
    keep = ics <= duration_s
    ic_list = [float(x) for x in ics[keep]]
    feet = ["R" if f == 0 else "L" for f in st.foot[real][keep]]
    label_segs: list[LabelSegment] = []
    for i, seg in enumerate(segs):
        a, b = round(float(bounds[i]), 6), round(float(bounds[i + 1]), 6)
        if i == len(segs) - 1:
            b = duration_s
        if seg.kind == "stand":
            d, act = "still", "stand"
        elif seg.kind == "turn":
            # the labelled data's convention: "turning" is a yaw rate of 45 deg/s or more;
            # a gentler curve is forward walking (or running)
            d = "turning" if abs(seg.turn_deg) / seg.duration_s >= 45.0 else "forward"
            act = seg.gait
        else:
            d, act = seg.direction, seg.kind
        label_segs.append(LabelSegment(a, b, d, act))
    rotated = rot_spec != "none"
    frame: dict[str, str] | str = "unknown" if rotated else dict(
        p.split("=") for p in m.mapping.split(","))
    mount_text = None if rotated else m.mapping
    start = start_time or DEFAULT_START
    resolved = []
    for s in segs:
        cad_s, spd_s = s.resolved()
        d = s.to_dict()
        if s.moving:
            d.update(cadence_spm=round(cad_s, 3), speed_m_s=round(spd_s, 3),
                     step_length_m=round(spd_s * 60.0 / cad_s, 3))
        resolved.append(d)
    params: dict[str, Any] = {
        "model": SIM_MODEL,
        "package_version": __version__,
        "programme": programme_spec(segs),
        "segments": resolved,
        "fs_hz": fs_hz,
        "internal_fs_hz": fs_int,
        "seed": seed,
        "side": side,
        "mount": m.name if m.name in MOUNT_PRESETS else m.mapping,
        "mount_mapping": m.mapping,
        "rotation": {"spec": rot_spec, "R": np.round(R_rot, 6).tolist()},
        "misalignment_deg": misalignment_deg,
        "misalignment_R": np.round(R_mis, 6).tolist(),
        "noise": {**noise_p, "acc_bias_m_s2": np.round(acc_bias, 6).tolist(),
                  "gyro_bias_rad_s": np.round(gyro_bias, 6).tolist(),
                  "acc_scale": np.round(acc_scale, 6).tolist(),
                  "gyro_scale": np.round(gyro_scale, 6).tolist()},
        "gyro": bool(gyro),
        "acc_unit": acc_unit,
        "variability": variability,
        "asymmetry": asymmetry,
        "impacts": impacts,
        "intensity": intensity,
        "stop_at_reversal": stop_at_reversal,
        "hip_offset_m": HIP_OFFSET_M,
        "start_time": start.isoformat(),
        "gestures": gestures,
    }
    scored = [[0.0, duration_s]]
    for tc in shuffles:  # +-0.3 s around each ambiguous contact is not scored
        a, b = scored[-1]
        scored[-1:] = [[a, round(float(max(a, tc - 0.3)), 4)], [round(float(min(b, tc + 0.3)), 4), b]]
    scored = [iv for iv in scored if iv[1] > iv[0]]
    labels = Labels(
        name=name, fs_hz=fs_hz, n_samples=n_out, duration_s=duration_s,
        initial_contacts_s=ic_list, ic_feet=feet, scored_intervals=scored,
        ambiguous_ics_s=shuffles if any(s.gestures for s in segs) else None,
        segments=label_segs,
        units={"acc": acc_unit, "gyro": "rad/s"} if gyro else {"acc": acc_unit},
        sensor_frame=frame, placement=f"{side} hip", group="simulated", kind="simulated hip IMU (gait.sim)",
        notes=("Simulated with gait.sim (model " + SIM_MODEL + "): a parametric pelvis model per step "
               "(vertical, anterior-posterior and medio-lateral acceleration, pelvic rotation, landing "
               "transients; backward gait = forward gait time-reversed plus forefoot landing), sensor "
               "noise, bias and the mount/rotation under 'simulator'. ICs are exact (where the model "
               "put them)."),
        simulator=params,
    )
    info = RecordingInfo(
        format="gait-sim", device=DEVICE, mount=mount_text,
        units={"acc": acc_unit, "gyro": "rad/s"} if gyro else {"acc": acc_unit},
        units_source={"acc": "simulator", **({"gyro": "simulator"} if gyro else {})},
        fs_hz_nominal=fs_hz, fs_hz_measured=fs_hz, n_raw_samples=n_out,
        extra={"simulator": {"model": SIM_MODEL, "seed": seed}},
    )
    rec = Recording.from_arrays(acc, fs_hz=fs_hz, gyro_rad_s=gyr if gyro else None,
                                start_time=start, info=info)
    return Simulation(recording=rec, labels=labels, params=params, acc_unit=acc_unit)
