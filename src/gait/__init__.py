"""gait: steps, cadence, bouts and forward/backward direction from a hip-worn IMU.

Main entry points::

    rec = gait.read_recording("run.csv")   # any supported format -> Recording
    result = gait.analyze(rec)             # -> GaitResult (steps, bouts, cadence, direction)
"""

from ._version import __version__
from .errors import GaitError, InputError, SignalError

_TYPES = ("Bout", "GaitResult", "Gap", "Recording", "RecordingInfo", "SampleBlock", "Step")

__all__ = [
    "__version__",
    "GaitError",
    "InputError",
    "SignalError",
    "Bout",
    "GaitResult",
    "Gap",
    "Recording",
    "RecordingInfo",
    "SampleBlock",
    "Step",
]


def __getattr__(name: str):  # lazy: keep `import gait` (and so the CLI's start) light
    if name in _TYPES:
        from . import types

        return getattr(types, name)
    if name == "read_recording":
        from .io import read_recording

        return read_recording
    if name in ("analyze", "StreamAnalyzer"):
        from . import pipeline

        return getattr(pipeline, name)
    if name == "simulate":
        from .sim import simulate

        return simulate
    raise AttributeError(f"module 'gait' has no attribute {name!r}")
