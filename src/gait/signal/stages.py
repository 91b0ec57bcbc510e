"""The direction seam: how the analyzer hands each detected step to a direction stage.

The analyzer (:class:`gait.pipeline.StreamAnalyzer`) detects steps in time order. Each step
goes through ONE direction stage before bouts are formed:

``stage.push(step, window) -> list[Step]``
    Called once per detected step, in time order. ``step`` has ``t_s`` and ``index`` set and
    ``direction == "unknown"``. ``window`` (:class:`StepWindow`) holds the preprocessed
    signals around the step (about +-``direction_window_s`` = 1 s, shorter at gaps and at the
    start/end of the stream). The stage returns the steps it has *finalised*, in time order,
    with ``direction`` ("forward" / "backward" / "unknown") and ``direction_confidence``
    (0..1) filled in. It may hold steps back for smoothing (up to about 2 steps: every step it
    holds delays its release). It may also refine ``t_s`` of a held step by a few tens of ms
    (e.g. a per-direction timing offset), but must keep the order and ``index`` consistent.

``stage.flush() -> list[Step]``
    Called at a data gap, at the end of the stream, and when no step has come for longer than
    the bout gap (the walk has stopped): return every held step, finalised. The stage may keep
    session-level knowledge (e.g. the forward sign of the sensor) across flushes.

``stage.drain() -> list[Step]`` (optional)
    A stage that batches its work (vectorised over many steps) returns from ``push`` only what
    it must, and the analyzer calls ``drain()`` once after every pushed block of samples to
    collect the steps it has finalised since (not at the end of the stream: ``flush()``
    finalises everything still held). Results must not depend on when ``drain()`` is called,
    or the analysis would depend on the chunking.

``stage.push_steps(steps, starts, ends, g_hats, periods_s, *, acc_m_s2, gyro_rad_s, offset, t0_s)``
    (optional) The same as ``push`` for several steps at once, with each window given as the
    absolute sample range ``[starts[j], ends[j])`` of one buffer (sample ``i`` is row
    ``i - offset`` of ``acc_m_s2`` / ``gyro_rad_s`` and is at ``t0_s + i / fs_hz``) instead of a
    :class:`StepWindow`. The analyzer uses it when present (one call per block of samples, no
    per-step objects) and never modifies the buffer it passed; a stage that keeps windows past
    its ``drain()`` should copy them, so that the buffer can be freed.

``stage.pop_forward_axis(index) -> ndarray | None`` and ``stage.keep_forward_axes`` (optional)
    The horizontal forward axis (sensor frame) of the step pushed with ``index``, as known
    when the stage evaluated that step (so the same for any chunking), or None while the
    forward sign is unknown; each entry is returned once. The analyzer sets
    ``keep_forward_axes = True`` and uses the axis to time the contacts of steps the stage
    calls backward (walking) from the forward acceleration's minimum; without the method,
    backward steps get the constant ``ic_lag_backward_s`` (docs/algorithms.md, step 4b).

``stage.window_after_s`` (float, optional)
    How much signal after the step the stage needs in ``window``, s. The analyzer hands a step
    to the stage only once that much has arrived (or a gap or the end of the stream cuts it),
    so the window is the same whatever the frame look-ahead. A stage without the attribute
    gets the full ``direction_window_s`` (1 s) after each step; :class:`UnknownDirection`
    declares 0, so without direction steps are not delayed for it.

``stage.mode`` (str) and ``stage.info() -> dict``
    ``mode`` goes to ``info["direction_mode"]`` (``"none"`` for the default stage; e.g.
    ``"known-mount"`` or ``"orientation-free"``); ``info()`` is stored under
    ``info["direction"]``.

The analyzer picks the stage like this: an explicit ``direction_stage=`` argument wins; else, if
the module :mod:`gait.signal.direction` exists and defines
``make_stage(*, fs_hz, mount, params) -> stage``, that is used; else :class:`UnknownDirection`.
Bouts take the majority direction of their steps by time, and the summary sums time, steps
and cadence per direction, so a stage only has to label steps.
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np

from ..frames import Mount
from ..types import Step


class StepWindow:
    """Preprocessed signals around one step (all arrays share the same samples).

    Built by the analyzer lazily: the arrays are computed on first access, so a stage pays
    only for what it reads. It can also be built directly from arrays (tests, research).

    Attributes
    ----------
    fs_hz : float
        Sampling rate, Hz.
    t0_s : float
        Time of the window's first sample, s from the start of the recording.
    i_step : int
        Index of the step's initial contact inside the window.
    vertical_m_s2 : (n,) float array
        Vertical dynamic acceleration (``acc . g_hat - |g|``), up positive, m/s^2.
    horizontal_m_s2 : (n, 3) float array
        Horizontal acceleration as a vector in the SENSOR frame, m/s^2 (``acc`` minus its
        vertical part). Its principal axis at step frequency is the anterior-posterior line.
    g_hat : (3,) float array
        Unit vector pointing up in the sensor frame (gravity estimate of this frame).
    forward_m_s2, left_m_s2 : (n,) float arrays or None
        With a known mount: horizontal acceleration along the body forward / left axes
        (levelled). None without a mount.
    gyro_rad_s : (n, 3) float array or None
        Angular rate in the sensor frame, rad/s (None when the recording has no gyroscope).
    mount : Mount or None
        The declared mount, if any.
    step_period_s : float
        Step period estimated around this step, s.
    acc_m_s2 : (n, 3) float array or None
        The raw specific force of the window, sensor frame (None when built from arrays).
    """

    __slots__ = ("fs_hz", "t0_s", "i_step", "g_hat", "gyro_rad_s", "mount", "step_period_s",
                 "acc_m_s2", "_g_m_s2", "_v", "_h", "_fwd", "_left", "_axes_done")

    def __init__(self, fs_hz: float, t0_s: float, i_step: int,
                 vertical_m_s2: np.ndarray | None = None, horizontal_m_s2: np.ndarray | None = None,
                 g_hat: np.ndarray | None = None, forward_m_s2: np.ndarray | None = None,
                 left_m_s2: np.ndarray | None = None, gyro_rad_s: np.ndarray | None = None,
                 mount: Mount | None = None, step_period_s: float = float("nan"), *,
                 acc_m_s2: np.ndarray | None = None, g_m_s2: float | None = None) -> None:
        self.fs_hz = fs_hz
        self.t0_s = t0_s
        self.i_step = i_step
        self.g_hat = g_hat
        self.gyro_rad_s = gyro_rad_s
        self.mount = mount
        self.step_period_s = step_period_s
        self.acc_m_s2 = acc_m_s2
        self._g_m_s2 = g_m_s2
        self._v = vertical_m_s2
        self._h = horizontal_m_s2
        self._fwd = forward_m_s2
        self._left = left_m_s2
        # Built from arrays: forward/left are what was given (None = no mount).
        self._axes_done = acc_m_s2 is None

    @property
    def vertical_m_s2(self) -> np.ndarray:
        if self._v is None:
            self._v = self.acc_m_s2 @ self.g_hat - self._g_m_s2
        return self._v

    @property
    def horizontal_m_s2(self) -> np.ndarray:
        if self._h is None:
            a = self.acc_m_s2
            self._h = a - np.outer(a @ self.g_hat, self.g_hat)
        return self._h

    def _axes(self) -> None:
        if not self._axes_done:
            self._axes_done = True
            if self.mount is not None:
                from .preprocess import body_axes

                ax = body_axes(self.g_hat, self.mount.R)
                if ax is not None:
                    h = self.horizontal_m_s2
                    self._fwd, self._left = h @ ax[0], h @ ax[1]

    @property
    def forward_m_s2(self) -> np.ndarray | None:
        self._axes()
        return self._fwd

    @property
    def left_m_s2(self) -> np.ndarray | None:
        self._axes()
        return self._left


class DirectionStage(Protocol):
    """What the analyzer needs from a direction stage (see the module docstring)."""

    mode: str

    def push(self, step: Step, window: StepWindow) -> list[Step]: ...

    def flush(self) -> list[Step]: ...

    def info(self) -> dict[str, Any]: ...


class UnknownDirection:
    """Default stage: every step's direction is ``"unknown"`` (confidence 0), nothing held."""

    mode = "none"
    #: No signal after the step is needed (see the module docstring).
    window_after_s = 0.0
    max_hold_steps = 0

    def push(self, step: Step, window: StepWindow) -> list[Step]:
        return [step]

    def flush(self) -> list[Step]:
        return []

    def info(self) -> dict[str, Any]:
        return {"stage": "UnknownDirection"}


def default_stage(*, fs_hz: float, mount: Mount | None, params: Any) -> DirectionStage:
    """The stage :mod:`gait.signal.direction` provides, else :class:`UnknownDirection`."""
    import importlib
    import importlib.util

    if importlib.util.find_spec(f"{__package__}.direction") is None:
        return UnknownDirection()
    _direction = importlib.import_module(f"{__package__}.direction")
    make = getattr(_direction, "make_stage", None)
    if make is None:
        return UnknownDirection()
    return make(fs_hz=fs_hz, mount=mount, params=params)
