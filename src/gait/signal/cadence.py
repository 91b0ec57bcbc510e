"""Cadence (steps/min) from step times (pure)."""

from __future__ import annotations

import numpy as np


def step_cadence_spm(t_s: np.ndarray) -> np.ndarray:
    """Cadence at each step, ``60 / (t[i] - t[i-1])``; NaN for the first step.

    Parameters
    ----------
    t_s : (n,) float array
        Step (initial contact) times, s, increasing.
    """
    t = np.asarray(t_s, dtype=float)
    out = np.full(t.shape, np.nan)
    if t.size > 1:
        dt = np.diff(t)
        with np.errstate(divide="ignore"):
            out[1:] = np.where(dt > 0, 60.0 / dt, np.nan)
    return out


def bout_cadence_spm(t_s: np.ndarray) -> float:
    """Mean cadence of a run of steps, ``60 * (n - 1) / (t_last - t_first)``; NaN if n < 2."""
    t = np.asarray(t_s, dtype=float)
    if t.size < 2 or not t[-1] > t[0]:
        return float("nan")
    return 60.0 * (t.size - 1) / float(t[-1] - t[0])
