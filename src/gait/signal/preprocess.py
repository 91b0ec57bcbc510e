"""Preprocessing (pure): gravity, vertical and horizontal acceleration.

The analyzer works on *frames* (see :mod:`gait.pipeline`): each frame's decisions use a fixed
context window of samples around it (default 3 s before, 1 s after a 1 s frame). Within that
window:

* **Gravity** is the mean specific force over the window (a 5 s boxcar low-pass, re-estimated
  every frame hop, so slow tilt changes are followed at 1 s resolution). Its direction is
  "up" in the sensor frame whatever the orientation of the sensor; its length absorbs a small
  accelerometer scale error.
* **Vertical** acceleration is the projection of the specific force on that direction minus the
  length of the gravity estimate (m/s^2, positive up, about zero mean).
* **Horizontal** acceleration is what is left, as a 3-vector in the sensor frame; with a known
  mount it is also given as forward (anterior-posterior) and left (medio-lateral) components.

Nothing here assumes a sampling rate: every filter is designed from ``fs_hz`` by the callers.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def gravity_rows(acc_m_s2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Gravity unit vector and magnitude per row.

    Parameters
    ----------
    acc_m_s2 : (R, L, 3) float array
        Specific force of R windows of L samples, m/s^2 (no NaN).

    Returns
    -------
    g_hat : (R, 3) float array
        Unit vector pointing up, sensor frame.
    g_m_s2 : (R,) float array
        Length of the mean specific force, m/s^2.
    """
    g = acc_m_s2.mean(axis=1)
    g_norm = np.sqrt((g * g).sum(axis=1))
    safe = np.where(g_norm > 1e-9, g_norm, 1.0)
    g_hat = g / safe[:, None]
    g_hat[g_norm <= 1e-9] = (0.0, 0.0, 1.0)
    return g_hat, g_norm


def gravity_vertical_rows(acc_m_s2: np.ndarray, *, with_axes: bool = False) -> tuple:
    """Gravity unit vector (R, 3), its magnitude (R,) and vertical acceleration (R, L) per row.

    Same as :func:`gravity_rows` then :func:`vertical_rows`, with the reductions over
    contiguous memory (each row's figures depend on that row only). With ``with_axes`` the
    (R, 3, L) transposed acceleration is returned too.
    """
    a, _g, g_hat, g_norm, v = _gravity_vertical_axes(acc_m_s2)
    if with_axes:
        return g_hat, g_norm, v, a
    return g_hat, g_norm, v


def _gravity_vertical_axes(acc_m_s2: np.ndarray) -> tuple:
    """(R, 3, L) transposed acceleration, (R, 3) mean, g_hat, g_norm and vertical (R, L) of
    each row (the computation of :func:`gravity_vertical_rows`, which it backs)."""
    a = np.array(acc_m_s2.transpose(0, 2, 1), order="C")  # (R, 3, L), always a copy (callers modify it)
    g = np.add.reduce(a, axis=2)
    g /= a.shape[2]  # (the same figures as a.mean(axis=2), without its overhead)
    g_norm = np.sqrt((g * g).sum(axis=1))
    safe = np.where(g_norm > 1e-9, g_norm, 1.0)
    g_hat = g / safe[:, None]
    g_hat[g_norm <= 1e-9] = (0.0, 0.0, 1.0)
    v = a[:, 0, :] * g_hat[:, 0:1]
    v += a[:, 1, :] * g_hat[:, 1:2]
    v += a[:, 2, :] * g_hat[:, 2:3]
    v -= g_norm[:, None]
    return a, g, g_hat, g_norm, v


def vertical_rows(acc_m_s2: np.ndarray, g_hat: np.ndarray, g_m_s2: np.ndarray) -> np.ndarray:
    """Vertical dynamic acceleration ``acc . g_hat - |g|`` (m/s^2, up positive), shape (R, L)."""
    return np.einsum("rlk,rk->rl", acc_m_s2, g_hat) - g_m_s2[:, None]


def horizontal(acc_m_s2: np.ndarray, g_hat: np.ndarray) -> np.ndarray:
    """Horizontal part ``acc - (acc . g_hat) g_hat`` of (L, 3) samples, sensor frame, m/s^2."""
    return acc_m_s2 - np.outer(acc_m_s2 @ g_hat, g_hat)


def body_axes(g_hat: np.ndarray, mount_R: np.ndarray | None) -> tuple[np.ndarray, np.ndarray] | None:
    """Forward and left unit vectors (sensor frame), levelled to the horizontal plane.

    ``mount_R`` maps sensor to body (``v_body = R @ v_sensor``); its first two rows are the
    body forward and left axes expressed in the sensor frame. They are projected onto the plane
    normal to ``g_hat`` (the sensor tilt changes with the pelvis) and re-orthonormalised.
    Returns None without a mount.
    """
    if mount_R is None:
        return None
    fwd = mount_R[0] - (mount_R[0] @ g_hat) * g_hat
    n = np.linalg.norm(fwd)
    if n < 1e-6:  # forward axis along gravity: the mount does not fit this posture
        return None
    fwd = fwd / n
    left = np.cross(g_hat, fwd)
    return fwd, left


def preprocessing_info(fs_hz: float, lookback_s: float, hop_s: float, lookahead_s: float) -> dict[str, Any]:
    """What the preprocessing does, for ``info["preprocessing"]``."""
    return {
        "fs_hz": fs_hz,
        "gravity": {
            "method": "mean specific force over each frame's context window",
            "window_s": lookback_s + hop_s + lookahead_s,
            "update_s": hop_s,
        },
        "vertical": "acc . g_hat - |g| (m/s^2, up positive)",
        "horizontal": "acc - (acc . g_hat) g_hat; forward/left from the mount when one is given",
        "gaps": "samples with valid=False or non-finite values split the signal; no step spans a gap",
    }
