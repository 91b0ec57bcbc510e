"""A labeled benchmark folder of simulated hip IMU recordings, laid out like ../shared/data.

    python scripts/make_sim_dataset.py OUT_DIR [--n 40] [--seed 0] [--variants rotated,fs50,fs200,noisy,acc_g,no_impacts]

Writes ``OUT_DIR/dev/sim/<name>.csv`` + ``<name>.labels.json`` (gait-recording/1 and
gait-labels/1; body-frame mount x=forward,y=left,z=up, 100 Hz, low noise) and the same
recordings again under ``OUT_DIR/dev_variants/<variant>/sim/``:

* ``rotated``: one uniform random 3-D rotation per recording (``sensor_frame`` "unknown",
  the matrix under ``variant.R``);
* ``fs50`` / ``fs200``: simulated at 50 / 200 Hz (same seed, so the same steps);
* ``noisy``: 0.05 g white noise and +-0.05 g bias on acc, 0.01 rad/s noise and +-0.02 rad/s
  bias on the gyro (as the dev data's ``noisy``);
* ``acc_g``: acceleration written in g;
* ``no_impacts``: without landing transients (smooth pelvis motion, like motion capture).

Recordings cycle through: forward / backward walking and running at varied cadences and
speeds, sessions that alternate forward and backward every 20-60 s (walking and running),
mixed walk/run sessions, slow (50-70 steps/min) and fast (200-230 steps/min) extremes, turns,
and standing with gestures. So ``scripts/bench_accuracy.py OUT_DIR/dev/*`` works as on
``../shared/data/dev/*``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from gait.sim import Segment, programme_spec, simulate, write_simulation  # noqa: E402

KINDS = ("walk", "walk-back", "run", "run-back", "session-walk", "session-run", "session-mixed",
         "stand", "walk-slow", "run-fast", "walk-turn")
VARIANTS = ("rotated", "fs50", "fs200", "noisy", "acc_g", "no_impacts")


def recipe(kind: str, rng: np.random.Generator) -> list[Segment]:
    u = rng.uniform
    lead = [Segment("stand", round(u(2, 5), 1))]
    tail = [Segment("stand", round(u(2, 5), 1))]
    if kind == "walk":
        body = [Segment("walk", round(u(30, 60)), "forward", round(u(85, 125)))]
    elif kind == "walk-back":
        body = [Segment("walk", round(u(30, 60)), "backward", round(u(80, 125)))]
    elif kind == "run":
        body = [Segment("run", round(u(30, 60)), "forward", round(u(150, 185)))]
    elif kind == "run-back":
        body = [Segment("run", round(u(30, 60)), "backward", round(u(160, 205)))]
    elif kind in ("session-walk", "session-run"):
        gait = "walk" if kind == "session-walk" else "run"
        lo, hi = (90, 125) if gait == "walk" else (155, 195)
        body = []
        d = "forward" if rng.random() < 0.7 else "backward"
        for _ in range(int(rng.integers(3, 7))):
            body.append(Segment(gait, round(u(20, 60)), d, round(u(lo, hi))))
            d = "backward" if d == "forward" else "forward"
    elif kind == "session-mixed":
        body = [Segment("walk", round(u(20, 40)), "forward", round(u(95, 120))),
                Segment("run", round(u(20, 50)), "forward", round(u(155, 185))),
                Segment("run", round(u(20, 40)), "backward", round(u(165, 200))),
                Segment("walk", round(u(20, 40)), "backward", round(u(90, 125))),
                Segment("walk", round(u(20, 40)), "forward", round(u(90, 115)))]
    elif kind == "stand":
        return [Segment("stand", round(u(30, 60)), gestures=True)]
    elif kind == "walk-slow":
        body = [Segment("walk", round(u(30, 50)), "forward", round(u(50, 70)))]
    elif kind == "run-fast":
        body = [Segment("run", round(u(25, 40)), "forward", round(u(200, 230)))]
    elif kind == "walk-turn":
        body = [Segment("walk", round(u(10, 20)), "forward", round(u(95, 120))),
                Segment("turn", round(u(2, 4), 1), "left" if rng.random() < 0.5 else "right",
                        turn_deg=round(u(90, 180))),
                Segment("walk", round(u(10, 20)), "forward", round(u(95, 120)))]
    else:  # pragma: no cover
        raise ValueError(kind)
    return lead + body + tail


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    ap.add_argument("out_dir")
    ap.add_argument("--n", type=int, default=40, help="recordings in the base set (default 40)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--variants", default=",".join(VARIANTS),
                    help=f"comma-separated subset of {','.join(VARIANTS)} ('' for none)")
    args = ap.parse_args(argv)
    variants = [v for v in args.variants.split(",") if v]
    bad = [v for v in variants if v not in VARIANTS]
    if bad:
        ap.error(f"unknown variant(s): {', '.join(bad)}")
    out = Path(args.out_dir)
    rng = np.random.default_rng(args.seed)
    t0 = time.perf_counter()
    total_s = 0.0
    for i in range(args.n):
        kind = KINDS[i % len(KINDS)]
        segs = recipe(kind, rng)
        seed = int(rng.integers(0, 2**31 - 1))
        side = "left" if rng.random() < 0.2 else "right"
        name = f"sim_{i:03d}_{kind}"
        common = dict(seed=seed, side=side, mount="body",
                      intensity=round(float(rng.uniform(0.7, 1.4)), 2))
        jobs = [("dev/sim", dict(fs_hz=100.0, noise="low"), None)]
        for v in variants:
            if v == "rotated":
                jobs.append((f"dev_variants/{v}/sim", dict(fs_hz=100.0, noise="low", rotation="random"), v))
            elif v in ("fs50", "fs200"):
                jobs.append((f"dev_variants/{v}/sim", dict(fs_hz=float(v[2:]), noise="low"), v))
            elif v == "noisy":
                jobs.append((f"dev_variants/{v}/sim", dict(fs_hz=100.0, noise="high"), v))
            elif v == "acc_g":
                jobs.append((f"dev_variants/{v}/sim", dict(fs_hz=100.0, noise="low", acc_unit="g"), v))
            elif v == "no_impacts":
                jobs.append((f"dev_variants/{v}/sim", dict(fs_hz=100.0, noise="low", impacts=0.0), v))
        for folder, kw, variant in jobs:
            sim = simulate(segs, name=name, **common, **kw)
            lab = sim.labels
            lab.group = kind
            if variant:
                lab.variant = {"name": variant, "seed": seed,
                               "description": {"rotated": "random 3-D rotation of the sensor frame: v_new = R @ v_old",
                                               "fs50": "simulated at 50 Hz", "fs200": "simulated at 200 Hz",
                                               "noisy": "noise 'high': 0.05 g white noise, +-0.05 g bias",
                                               "acc_g": "acceleration in g",
                                               "no_impacts": "no landing transients (like motion capture)"}[variant]}
                if variant == "rotated":
                    lab.variant["R"] = sim.params["rotation"]["R"]
                    lab.variant["original_sensor_frame"] = {"x": "forward", "y": "left", "z": "up"}
            d = out / folder
            d.mkdir(parents=True, exist_ok=True)
            write_simulation(d / f"{name}.csv", sim)
            if variant is None:
                total_s += lab.duration_s
        print(f"{name}: {programme_spec(segs)}")
    dt = time.perf_counter() - t0
    print(f"{args.n} recordings ({total_s / 60:.1f} min) x {1 + len(variants)} versions in {dt:.1f} s -> {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
