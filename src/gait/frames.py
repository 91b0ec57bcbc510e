"""Frames and mounts: which sensor axis points where on the body.

The **body frame** is x forward, y left, z up (right-handed). A **mount** maps the sensor frame
to the body frame as a rotation matrix ``R`` with ``v_body = R @ v_sensor``. A mount is either a
named preset (:data:`MOUNT_PRESETS`) or an axis mapping such as ``"x=forward,y=left,z=up"``
(each sensor axis names the body direction it points to when the wearer stands upright).

Vertical can always be found from gravity; forward/backward needs a mount or the
orientation-free method of :mod:`gait.signal.direction`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import GaitError

BODY_AXES = {
    "forward": (1.0, 0.0, 0.0),
    "backward": (-1.0, 0.0, 0.0),
    "left": (0.0, 1.0, 0.0),
    "right": (0.0, -1.0, 0.0),
    "up": (0.0, 0.0, 1.0),
    "down": (0.0, 0.0, -1.0),
}

#: Named mounts. Each value is an axis mapping; see ``firmware_notes/`` for how the
#: project's own sensor is worn, and ``docs/mounts.md`` for the phone presets.
MOUNT_PRESETS: dict[str, str] = {
    # The body frame itself (e.g. the labeled dev recordings, the simulator's default).
    "body": "x=forward,y=left,z=up",
    # The project's own sensor (GaitSense firmware), clipped on the belt, USB-C up,
    # component side facing away from the body.
    "gaitsense-right-hip": "x=up,y=backward,z=right",
    "gaitsense-left-hip": "x=up,y=forward,z=left",
    # A phone upright (top up) in a front trouser pocket, screen facing away from the thigh.
    "phone-front-pocket": "x=left,y=up,z=forward",
    # A phone upright in a back trouser pocket, screen facing away from the body.
    "phone-back-pocket": "x=right,y=up,z=backward",
    # A phone upright in a front pocket with the screen facing the thigh.
    "phone-front-pocket-screen-in": "x=right,y=up,z=backward",
    # Mobilise-D / mobgap lower-back convention: x vertical (up), y medio-lateral,
    # z anterior-posterior (forward); y completes a right-handed frame.
    "lower-back-mobgap": "x=up,y=right,z=forward",
}


@dataclass(frozen=True)
class Mount:
    """A sensor-to-body rotation with the name or mapping it came from."""

    name: str
    #: v_body = R @ v_sensor
    R: np.ndarray

    def to_body(self, v_sensor: np.ndarray) -> np.ndarray:
        """Rotate (n, 3) sensor-frame vectors to the body frame."""
        return np.asarray(v_sensor) @ self.R.T

    @property
    def mapping(self) -> str:
        """The axis mapping, e.g. ``"x=forward,y=left,z=up"`` (for the nearest axis-aligned R)."""
        names = {v: k for k, v in BODY_AXES.items()}
        parts = []
        for i, ax in enumerate("xyz"):
            col = np.round(self.R[:, i]).astype(float)
            parts.append(f"{ax}={names.get(tuple(col), '?')}")
        return ",".join(parts)

    def turned_180(self) -> "Mount":
        """The same mount turned half a turn about vertical (forward <-> backward, left <-> right)."""
        Rz = np.diag([-1.0, -1.0, 1.0])
        return Mount(name=f"{self.name} (turned 180 deg)", R=Rz @ self.R)


def parse_mount(spec: "str | Mount | None") -> Mount | None:
    """A :class:`Mount` from a preset name or an axis mapping; None stays None.

    Raises
    ------
    GaitError
        For an unknown preset or a mapping that is not a right-handed set of three body axes.
    """
    if spec is None or isinstance(spec, Mount):
        return spec
    text = str(spec).strip()
    key = text.lower()
    if key in MOUNT_PRESETS:
        R = _mapping_to_matrix(MOUNT_PRESETS[key], text)
        return Mount(name=key, R=R)
    if "=" not in text:
        raise GaitError(
            f"unknown mount {text!r}; use a preset ({', '.join(sorted(MOUNT_PRESETS))}) "
            "or an axis mapping such as 'x=forward,y=left,z=up'"
        )
    return Mount(name=text, R=_mapping_to_matrix(text, text))


def _mapping_to_matrix(mapping: str, shown: str) -> np.ndarray:
    cols: dict[str, np.ndarray] = {}
    for part in mapping.replace(";", ",").split(","):
        if not part.strip():
            continue
        if "=" not in part:
            raise GaitError(f"mount {shown!r}: expected 'axis=direction', got {part.strip()!r}")
        axis, direction = (s.strip().lower() for s in part.split("=", 1))
        if axis not in ("x", "y", "z"):
            raise GaitError(f"mount {shown!r}: sensor axis must be x, y or z, got {axis!r}")
        if direction not in BODY_AXES:
            raise GaitError(
                f"mount {shown!r}: direction must be one of {', '.join(BODY_AXES)}, got {direction!r}"
            )
        if axis in cols:
            raise GaitError(f"mount {shown!r}: axis {axis} is given twice")
        cols[axis] = np.array(BODY_AXES[direction])
    if len(cols) == 2:  # the third axis follows from right-handedness
        missing = ({"x", "y", "z"} - set(cols)).pop()
        if missing == "x":
            cols["x"] = np.cross(cols["y"], cols["z"])
        elif missing == "y":
            cols["y"] = np.cross(cols["z"], cols["x"])
        else:
            cols["z"] = np.cross(cols["x"], cols["y"])
    if len(cols) != 3:
        raise GaitError(f"mount {shown!r}: give at least two of the axes x, y, z")
    R = np.column_stack([cols["x"], cols["y"], cols["z"]])
    det = float(np.linalg.det(R))
    if abs(abs(det) - 1.0) > 1e-9:
        raise GaitError(f"mount {shown!r}: two axes point along the same body axis")
    if det < 0:
        raise GaitError(f"mount {shown!r}: the mapping is left-handed (a mirror image); check the signs")
    return R


def rotation_between(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The smallest rotation R with ``R @ a_hat == b_hat``."""
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    a = a / np.linalg.norm(a)
    b = b / np.linalg.norm(b)
    v = np.cross(a, b)
    c = float(np.dot(a, b))
    if c < -1.0 + 1e-12:  # opposite: half a turn about any axis orthogonal to a
        axis = np.cross(a, [1.0, 0.0, 0.0])
        if np.linalg.norm(axis) < 1e-6:
            axis = np.cross(a, [0.0, 1.0, 0.0])
        axis /= np.linalg.norm(axis)
        return 2.0 * np.outer(axis, axis) - np.eye(3)
    vx = np.array([[0.0, -v[2], v[1]], [v[2], 0.0, -v[0]], [-v[1], v[0], 0.0]])
    return np.eye(3) + vx + vx @ vx / (1.0 + c)


def random_rotation(rng: np.random.Generator) -> np.ndarray:
    """A rotation matrix drawn uniformly from SO(3)."""
    q = rng.normal(size=4)
    q /= np.linalg.norm(q)
    w, x, y, z = q
    return np.array(
        [
            [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
            [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
            [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
        ]
    )
