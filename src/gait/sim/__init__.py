"""A simulated hip IMU with known steps and direction.

::

    from gait.sim import Segment, simulate
    sim = simulate([Segment("stand", 5),
                    Segment("walk", 30, direction="forward", cadence_spm=110, speed_m_s=1.3),
                    Segment("run", 20, direction="backward", cadence_spm=175)],
                   fs_hz=100.0, seed=1)
    sim.recording      # gait.types.Recording (m/s^2, rad/s)
    sim.labels         # gait.labels.Labels (gait-labels/1): ICs, feet, segments, simulator params

See ``docs/simulator.md`` for the model and how it compares with the labeled dev data.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .programme import PRESETS, Segment, parse_programme, preset_programme, programme_spec

if TYPE_CHECKING:  # pragma: no cover
    from .core import DEVICE, NOISE_PRESETS, SIM_MODEL, Simulation, simulate
    from .output import write_simulation

#: Names loaded on first use: the model needs scipy, which `gait --help` should not wait for.
_LAZY = {"DEVICE": "core", "NOISE_PRESETS": "core", "SIM_MODEL": "core", "Simulation": "core",
         "simulate": "core", "write_simulation": "output"}

__all__ = [
    "DEVICE", "NOISE_PRESETS", "PRESETS", "SIM_MODEL", "Segment", "Simulation", "parse_programme",
    "preset_programme", "programme_spec", "simulate", "write_simulation",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
