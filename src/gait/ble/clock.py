"""Sensor clock -> host clock: a robust, windowed linear fit that tracks drift.

A notification that carries sensor time ``s`` (the sensor's clock at its first sample) arrives
on the host at ``h = offset + (1 + drift) * s + latency`` with ``latency >= 0`` and bursty
(connection events, OS scheduling). The best line is the *lower envelope*: fit, keep the points
at or below the fit, refit. A sliding window (default 120 s) lets the slope follow slow drift.
Pure: no I/O, no clocks read here; the caller passes both times.
"""

from __future__ import annotations

from collections import deque

import numpy as np


class ClockFit:
    """Map sensor seconds to host seconds.

    Parameters
    ----------
    window_s : float
        Only points whose sensor time is within ``window_s`` of the newest are fitted.
    refit_every : int
        Refit after this many new points (the fit is cheap but not free at 400 Hz).
    """

    def __init__(self, *, window_s: float = 120.0, refit_every: int = 8, max_points: int = 4096) -> None:
        self.window_s = float(window_s)
        self.refit_every = int(refit_every)
        self._s: deque[float] = deque(maxlen=max_points)
        self._h: deque[float] = deque(maxlen=max_points)
        self._since_fit = 0
        #: host = intercept + slope * (sensor - s_ref)
        self.slope = 1.0
        self.intercept: float | None = None
        self.s_ref = 0.0
        #: Median of (arrival - fitted) over the window: typical notification latency, s.
        self.latency_s = 0.0

    @property
    def n_points(self) -> int:
        return len(self._s)

    @property
    def drift_ppm(self) -> float:
        """How much faster the host clock runs than the sensor's, parts per million."""
        return (self.slope - 1.0) * 1e6

    def add(self, t_sensor_s: float, t_host_s: float) -> None:
        self._s.append(float(t_sensor_s))
        self._h.append(float(t_host_s))
        while self._s and self._s[-1] - self._s[0] > self.window_s:
            self._s.popleft()
            self._h.popleft()
        self._since_fit += 1
        if self.intercept is None or self._since_fit >= self.refit_every or self.n_points < 16:
            self._fit()

    def _fit(self) -> None:
        self._since_fit = 0
        s = np.fromiter(self._s, dtype=np.float64)
        h = np.fromiter(self._h, dtype=np.float64)
        self.s_ref = float(s[0])
        x = s - self.s_ref
        if len(s) < 2 or float(x[-1] - x[0]) < 1.0:
            # too short a baseline for a slope: offset from the fastest arrival
            self.slope = 1.0
            self.intercept = float(np.min(h - x))
            self.latency_s = float(np.median(h - x) - self.intercept)
            return
        keep = np.ones(len(x), dtype=bool)
        slope, icpt = 1.0, float(np.min(h - x))
        for _ in range(3):
            if keep.sum() < 2 or np.ptp(x[keep]) <= 0:
                break
            slope, icpt = np.polyfit(x[keep], h[keep], 1)
            r = h - (icpt + slope * x)
            keep = r <= np.median(r[keep])
        r = h - (icpt + slope * x)
        # shift the line down to the lower envelope (the fastest arrivals)
        low = float(np.percentile(r, 5))
        self.slope = float(slope)
        self.intercept = float(icpt + low)
        self.latency_s = float(np.median(r) - low)

    def host_time(self, t_sensor_s: float | np.ndarray) -> float | np.ndarray:
        """Host time at which the sensor clock read ``t_sensor_s`` (before any latency)."""
        if self.intercept is None:
            raise ValueError("ClockFit has no points yet")
        return self.intercept + self.slope * (np.asarray(t_sensor_s, dtype=np.float64) - self.s_ref) \
            if isinstance(t_sensor_s, np.ndarray) else self.intercept + self.slope * (float(t_sensor_s) - self.s_ref)


class Unwrapper:
    """Unwrap a counter that wraps at ``modulus`` (e.g. a 32-bit microsecond clock)."""

    def __init__(self, modulus: int) -> None:
        self.modulus = int(modulus)
        self._last: int | None = None
        self._base = 0

    def reset(self) -> None:
        self._last = None
        self._base = 0

    def __call__(self, value: int) -> int:
        v = int(value) % self.modulus
        if self._last is not None:
            d = v - self._last
            if d < -self.modulus // 2:
                self._base += self.modulus
            elif d > self.modulus // 2:
                self._base -= self.modulus
        self._last = v
        return self._base + v
