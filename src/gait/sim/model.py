"""The hip IMU model behind :func:`gait.sim.simulate` (pure numpy/scipy).

Frames: the *heading frame* is level, x along the walking heading (the way the pelvis faces),
y left, z up. The *pelvis (body) frame* is x forward, y left, z up, rotated from the heading
frame by the pelvic yaw / pitch / roll oscillations and a static tilt. The sensor sits 0.15 m
to the side of the pelvis centre (right or left hip) and its axes are the body axes turned by
the mount (and an optional extra rotation).

Per step the model gives the pelvis linear acceleration in the heading frame and the pelvic
angles, as functions of the step phase ``phi`` (0 at initial contact, 1 at the next one) and
the stride phase ``Phi`` (0 at a right initial contact, 0.5 at the left one). Backward gait is
forward gait played in reverse (``Phi_fwd = c/2 - Phi_back``, where ``c`` is the stance time in
steps, so a backward initial contact is a forward toe-off) plus what differs: the landing
transient is a soft forefoot landing instead of a heel strike, running stance is shorter
(longer flight) and the pelvis leans differently. The specific force is
``R^T (a + g_up) + lever-arm terms``; the gyro is the body angular velocity of the Euler angles.
"""

from __future__ import annotations

import numpy as np
from scipy import signal
from scipy.special import i0e

G_M_S2 = 9.80665

# Pelvic rotation harmonics (stride phase; angle = sum c_h cos(2 pi h Phi) + s_h sin(...)), rad,
# at the reference step length. Amplitudes and phases were chosen to match the stride-locked
# gyro averages of the labeled dev recordings (see docs/simulator.md).
_ROT = {
    "walk": {
        "roll": {1: (-0.027, -0.014), 3: (0.008, -0.019), 5: (-0.0025, 0.0)},
        "pitch": {2: (0.031, -0.020), 4: (0.007, 0.003), 6: (0.004, 0.0)},
        "yaw": {1: (0.085, 0.017), 2: (-0.002, 0.006), 3: (-0.005, 0.005)},
    },
    "run": {
        "roll": {1: (-0.024, 0.014), 3: (0.003, -0.033)},
        "pitch": {1: (0.003, -0.008), 2: (-0.013, -0.035), 4: (0.0085, 0.0)},
        "yaw": {1: (0.043, -0.041), 3: (-0.002, -0.003)},
    },
}

# Running medio-lateral acceleration, stride-phase harmonics, m/s^2.
_RUN_ML = {1: (0.0, 0.26), 3: (-0.61, 2.03), 5: (0.23, -0.30)}

# Static pelvic pitch (rad, + = top tilted forward) per mode.
_TILT = {"walk_f": -0.035, "walk_b": -0.10, "run_f": 0.045, "run_b": -0.06}


def _vm(x: np.ndarray, mu: float | np.ndarray, sigma: float | np.ndarray) -> np.ndarray:
    """A periodic (period 1) bump of height 1 at ``mu`` with width ~``sigma``, mean removed."""
    kappa = 1.0 / (2.0 * np.pi * np.asarray(sigma)) ** 2
    return np.exp(kappa * (np.cos(2.0 * np.pi * (x - mu)) - 1.0)) - i0e(kappa)


def _harm(Phi: np.ndarray, coefs: dict[int, tuple[float, float]]) -> np.ndarray:
    out = np.zeros_like(Phi)
    for h, (c, s) in coefs.items():
        out += c * np.cos(2.0 * np.pi * h * Phi) + s * np.sin(2.0 * np.pi * h * Phi)
    return out


# ---------------------------------------------------------------------------- forward bases
def walk_forward_base(phi: np.ndarray, Phi: np.ndarray, scale: np.ndarray,
                      lat_scale: np.ndarray, *, pushoff: float = 1.0,
                      pitch_scale: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Forward walking without the collision at IC: heading-frame acceleration (n, 3) and
    pelvic angles (n, 3: roll, pitch, yaw), the part of the step that is (roughly) reversible.

    ``scale`` multiplies the sagittal accelerations (1 = 110 steps/min, 1.3 m/s);
    ``lat_scale`` the medio-lateral sway and pelvic rotations. See :func:`walk_collision` for
    the braking at initial contact.
    """
    # vertical: loading peak after IC (double support), trough at mid-stance (vaulting over
    # the stance leg), push-off hump before the next IC
    az = (3.4 * _vm(phi, 0.19, 0.085) + pushoff * _vm(phi, 0.93, 0.05) - 3.7 * _vm(phi, 0.62, 0.13))
    # anterior-posterior: propulsion building up to the next IC, a mid-stance dip
    ax = -1.0 * _vm(phi, 0.40, 0.10) + 4.6 * _vm(phi, 0.93, 0.13)
    # medio-lateral: away from the stance foot (+y during the right step), at stride frequency
    ay = 1.6 * (_vm(Phi, 0.12, 0.045) + _vm(Phi, 0.40, 0.05) - _vm(Phi, 0.62, 0.045)
                - _vm(Phi, 0.90, 0.05))
    acc = np.stack([ax * scale, ay * lat_scale, az * scale], axis=1)
    r = _ROT["walk"]
    ang = np.stack([_harm(Phi, r["roll"]), pitch_scale * _harm(Phi, r["pitch"]),
                    _harm(Phi, r["yaw"])], axis=1)
    return acc, ang * lat_scale[:, None]


def walk_collision(phi: np.ndarray, scale: np.ndarray, *, backward: bool) -> np.ndarray:
    """Anterior-posterior braking right after initial contact (heading frame, (n,)).

    The collision of the landing leg is dissipative, so it does not time-reverse: it brakes
    the motion after every IC in both directions. Forward (heel strike): short and sharp,
    towards -x. Backward (toe landing): slower and softer, towards +x.
    """
    if backward:
        return 4.5 * _vm(phi, 0.20, 0.09) * scale
    return -6.0 * _vm(phi, 0.11, 0.05) * scale


def _stance_pulse(u: np.ndarray, skew: float | np.ndarray) -> np.ndarray:
    """A unit-area pulse on u in [0, 1] (zero outside), peak near ``skew`` (0.5 = symmetric)."""
    uu = np.clip(u, 0.0, 1.0)
    # warp time so the peak of sin(pi w) moves to `skew`
    p = np.log(0.5) / np.log(np.clip(skew, 0.2, 0.8))
    w = uu ** p
    pulse = np.sin(np.pi * w) ** 1.4
    area = _PULSE_AREA(p)  # area of sin(pi u^p)^1.4 over [0, 1], tabulated once
    return np.where((u >= 0.0) & (u <= 1.0), pulse / area, 0.0)


def _make_pulse_area():
    ps = np.linspace(0.3, 3.5, 400)
    u = (np.arange(4000) + 0.5) / 4000
    areas = np.array([np.mean(np.sin(np.pi * u ** p) ** 1.4) for p in ps])

    def area(p):
        return np.interp(p, ps, areas)

    return area


_PULSE_AREA = _make_pulse_area()


def run_forward_base(phi: np.ndarray, Phi: np.ndarray, c: np.ndarray, scale: np.ndarray,
                     lat_scale: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Forward running without impacts: stance for ``phi < c``, flight after it.

    The vertical specific force integrates to g over a step (the pelvis neither rises nor
    sinks on average); it is zero in flight. Braking (early stance) is short and sharp,
    propulsion (late stance) longer.
    """
    u = phi / c  # stance progress
    fz = G_M_S2 * _stance_pulse(u, 0.40) / c  # specific force, unit area over a step times g
    az = fz - G_M_S2
    stance = (u >= 0) & (u <= 1)
    ub = 0.38  # braking share of stance
    brake = np.where(stance, np.sin(np.pi * np.clip(u / ub, 0, 1)) * (u < ub), 0.0)
    push = np.where(stance, np.sin(np.pi * np.clip((u - ub) / (1 - ub), 0, 1)) * (u >= ub), 0.0)
    # equal impulses: brake area ub*2/pi*A_b = push area (1-ub)*2/pi*A_p
    ax = (-5.5 * brake + 5.5 * ub / (1 - ub) * push) * scale
    # medio-lateral: mostly at three times the stride frequency (stride-phase harmonics
    # matched to the dev runs, with the part that pelvic roll projects from gravity removed)
    ay = lat_scale * _harm(Phi, _RUN_ML)
    acc = np.stack([ax, ay, az], axis=1)
    r = _ROT["run"]
    ang = np.stack([_harm(Phi, r["roll"]), _harm(Phi, r["pitch"]), _harm(Phi, r["yaw"])], axis=1)
    return acc, ang * lat_scale[:, None]


# ---------------------------------------------------------------------------- impacts
#: Landing transients per (gait, backward): vertical spike height (m/s^2 at amp 1), spike
#: width (s), delay after the IC (s), anterior-posterior jolt (m/s^2), wobble amplitude.
IMPACTS = {
    ("walk", False): (3.0, 0.008, 0.008, -1.8, 1.0),   # heel strike
    ("run", False): (14.0, 0.007, 0.010, -6.0, 4.0),   # heel strike, running
    ("walk", True): (0.6, 0.022, 0.020, 0.0, 0.2),     # toe landing
    ("run", True): (4.0, 0.020, 0.025, 0.0, 1.0),      # forefoot landing: soft, no jolt
}


def impact(tau_s: np.ndarray, table: np.ndarray, strength: np.ndarray) -> np.ndarray:
    """Landing transient in the heading frame (n, 3); ``tau_s`` = time since the IC.

    ``table`` (n, 5) holds the :data:`IMPACTS` row of each sample's step, ``strength`` its
    amplitude. Forward: heel strike, a sharp vertical spike (~8 ms) with a backward jolt and a
    ~19 Hz soft-tissue wobble. Backward: forefoot landing, softer and wider, no jolt.
    """
    a_v, width, t0, a_ap, wob = table.T
    tau = tau_s - t0
    spike = np.exp(-0.5 * (tau / width) ** 2)
    wobble = np.where(tau > 0, np.sin(2 * np.pi * 19.0 * tau) * np.exp(-np.maximum(tau, 0) / 0.025), 0.0)
    return np.stack([a_ap * spike * strength, np.zeros_like(tau),
                     (a_v * spike + wob * wobble) * strength], axis=1)


# ---------------------------------------------------------------------------- kinematics
def euler_zyx_to_matrix(roll: np.ndarray, pitch: np.ndarray, yaw: np.ndarray) -> np.ndarray:
    """(n, 3, 3) rotation matrices R = Rz(yaw) Ry(pitch) Rx(roll) (world/heading <- body)."""
    cr, sr = np.cos(roll), np.sin(roll)
    cp, sp = np.cos(pitch), np.sin(pitch)
    cy, sy = np.cos(yaw), np.sin(yaw)
    R = np.empty(roll.shape + (3, 3))
    R[:, 0, 0] = cy * cp
    R[:, 0, 1] = cy * sp * sr - sy * cr
    R[:, 0, 2] = cy * sp * cr + sy * sr
    R[:, 1, 0] = sy * cp
    R[:, 1, 1] = sy * sp * sr + cy * cr
    R[:, 1, 2] = sy * sp * cr - cy * sr
    R[:, 2, 0] = -sp
    R[:, 2, 1] = cp * sr
    R[:, 2, 2] = cp * cr
    return R


def heading_to_body(v: np.ndarray, roll: np.ndarray, pitch: np.ndarray, yaw: np.ndarray) -> np.ndarray:
    """``R^T v`` for R = Rz(yaw) Ry(pitch) Rx(roll), without building (n, 3, 3) matrices."""
    cy, sy = np.cos(yaw), np.sin(yaw)
    x = cy * v[:, 0] + sy * v[:, 1]
    y = -sy * v[:, 0] + cy * v[:, 1]
    z = v[:, 2]
    cp, sp = np.cos(pitch), np.sin(pitch)
    x, z = cp * x - sp * z, sp * x + cp * z
    cr, sr = np.cos(roll), np.sin(roll)
    y, z = cr * y + sr * z, -sr * y + cr * z
    return np.stack([x, y, z], axis=1)


def body_rates(roll: np.ndarray, pitch: np.ndarray, yaw: np.ndarray, fs_hz: float) -> np.ndarray:
    """Body-frame angular velocity (n, 3), rad/s, of ZYX Euler angles sampled at ``fs_hz``."""
    dr = np.gradient(roll) * fs_hz
    dp = np.gradient(pitch) * fs_hz
    dy = np.gradient(yaw) * fs_hz
    cr, sr = np.cos(roll), np.sin(roll)
    cp, sp = np.cos(pitch), np.sin(pitch)
    return np.stack([dr - dy * sp, dp * cr + dy * cp * sr, -dp * sr + dy * cp * cr], axis=1)


def smooth_noise(rng: np.random.Generator, n: int, fs_hz: float, cutoff_hz: float,
                 sd: float, dims: int = 1) -> np.ndarray:
    """Low-pass filtered Gaussian noise with standard deviation ``sd`` (n, dims)."""
    if n == 0:
        return np.zeros((0, dims))
    x = rng.normal(size=(n, dims))
    if n > 30:
        sos = signal.butter(2, min(cutoff_hz / (fs_hz / 2), 0.99), output="sos")
        x = signal.sosfilt(sos, x, axis=0)
        s = x.std(axis=0)
        x = x / np.where(s > 0, s, 1.0)
    return x * sd


def decimate(x: np.ndarray, factor: int, fs_out_hz: float, fs_in_hz: float) -> np.ndarray:
    """Zero-phase anti-alias low-pass (0.4 x output rate) and keep every ``factor``-th sample."""
    if factor == 1:
        return x
    sos = signal.butter(8, 0.4 * fs_out_hz / (fs_in_hz / 2), output="sos")
    padlen = min(len(x) - 1, 3 * 2 * len(sos) * 4)
    y = signal.sosfiltfilt(sos, x, axis=0, padlen=max(padlen, 0)) if len(x) > 1 else x
    return y[::factor]
