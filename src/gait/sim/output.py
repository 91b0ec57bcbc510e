"""Writing a :class:`~gait.sim.core.Simulation` to disk: ``OUT.csv`` + ``OUT.labels.json``."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..errors import GaitError
from ..labels import labels_path_for, write_labels
from ..types import G0_M_S2
from .core import Simulation

MAGIC = "# gait-recording/1"


def write_simulation(path: str | Path, sim: Simulation, *, labels_path: str | Path | None = None
                     ) -> tuple[Path, Path]:
    """Write the recording (``gait-recording/1``) and its labels beside it.

    m/s^2 output goes through :func:`gait.io.gaitcsv.write_recording`; output in g (which that
    writer does not offer) through :func:`_write_recording_g`, same format with
    ``units.acc = "g"``. Returns ``(recording_path, labels_path)``.
    """
    p, lp = check_output(path, labels_path=labels_path)
    extra = {k: v for k, v in sim.header.items() if k not in ("device", "mount", "fs_hz", "units",
                                                               "start_time")}
    if sim.acc_unit == "g":
        _write_recording_g(p, sim, extra)
    else:
        from ..io.gaitcsv import write_recording

        write_recording(p, sim.recording, header_extra=extra)
    labels = sim.labels
    if labels.name == "sim":
        labels.name = p.stem
    write_labels(lp, labels)
    return p, lp


def check_output(path: str | Path, *, labels_path: str | Path | None = None) -> tuple[Path, Path]:
    """``(recording_path, labels_path)`` for :func:`write_simulation`, checked before any work.

    Raises
    ------
    GaitError
        Not ``.csv``, no such folder, or a file there that the simulator did not write (a real
        recording or hand-made labels are never overwritten; an earlier simulation is).
    """
    p = Path(path)
    if p.suffix.lower() != ".csv":
        raise GaitError("the output file must end in .csv", path=p)
    if not p.parent.exists():
        raise GaitError("the output folder does not exist", path=p.parent)
    lp = Path(labels_path) if labels_path else labels_path_for(p)
    for f, simulated in ((p, _is_simulated_recording), (lp, _is_simulated_labels)):
        if f.exists() and not simulated(f):
            raise GaitError("the file exists and was not written by `gait simulate` (refusing to "
                            "overwrite a recording or its labels); choose another name", path=f)
    return p, lp


def _is_simulated_recording(path: Path) -> bool:
    """True when ``path`` is a gait-recording/1 file whose header names the simulator."""
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            magic, header = f.readline().strip(), f.readline()
        return (magic == MAGIC and header.startswith("# ")
                and bool(json.loads(header[2:]).get("simulator")))
    except (OSError, ValueError, TypeError, AttributeError):
        return False


def _is_simulated_labels(path: Path) -> bool:
    """True when ``path`` is a labels file the simulator wrote (it has ``simulator``)."""
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return bool(json.load(f).get("simulator"))
    except (OSError, ValueError, TypeError, AttributeError):
        return False


def _write_recording_g(path: Path, sim: Simulation, extra: dict) -> None:
    rec = sim.recording
    h = {"device": rec.info.device, "mount": rec.info.mount, "fs_hz": rec.fs_hz,
         "units": {"acc": "g", **({"gyro": "rad/s"} if rec.has_gyro else {})},
         "start_time": rec.start_time.isoformat() if rec.start_time else None,
         "clock": "sensor", "acc_kind": "with gravity", **extra}
    cols = [rec.t_s[:, None], rec.acc_m_s2 / G0_M_S2]
    fmt = ["%.6f", "%.6f", "%.6f", "%.6f"]
    if rec.has_gyro:
        cols.append(rec.gyro_rad_s)
        fmt += ["%.6f"] * 3
    names = "t_s,ax,ay,az" + (",gx,gy,gz" if rec.has_gyro else "")
    from ..io.gaitcsv import write_atomically

    def write(f) -> None:
        f.write(MAGIC + "\n# " + json.dumps(h, separators=(", ", ": ")) + "\n" + names + "\n")
        np.savetxt(f, np.hstack(cols), fmt=",".join(fmt), delimiter=",", newline="\n")

    write_atomically(path, write)
