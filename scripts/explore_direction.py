"""Research: direction features and the streaming direction stage on labelled recordings.

Uses the REFERENCE initial contacts of each recording (``initial_contacts_s``), so it measures
the direction method alone (the step detector's errors are left out; see
``scripts/bench_accuracy.py --direction`` for the full pipeline).

    python scripts/explore_direction.py ../shared/data/dev/* [--mount body|none] [--per-step]
    python scripts/explore_direction.py ../shared/data/dev_variants/rotated/* --mount none
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import pandas as pd

from gait.evaluation_direction import DirectionScore, format_confusion, score_direction
from gait.frames import parse_mount
from gait.signal.direction import directions_for_steps

G0 = 9.80665


def load(csv: Path) -> tuple[dict, np.ndarray, np.ndarray | None, float]:
    lab = json.loads(csv.with_suffix("").with_suffix(".labels.json").read_text()) if False else \
        json.loads((csv.parent / (csv.stem + ".labels.json")).read_text())
    df = pd.read_csv(csv)
    acc = df[["ax", "ay", "az"]].to_numpy(float)
    if lab["units"]["acc"] == "g":
        acc = acc * G0
    gyro = df[["gx", "gy", "gz"]].to_numpy(float) if "gx" in df else None
    fs = float(lab["fs_hz"])
    if "t_s" in df and lab.get("variant", {}).get("kind") == "jitter_drop":
        pass  # research script: the jitter_drop variant is not used here
    return lab, acc, gyro, fs


class _InfoOnly:
    def __init__(self, info: dict) -> None:
        self._i = info

    def mount_check(self):
        return self._i.get("mount_check")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("dirs", nargs="+", type=Path)
    ap.add_argument("--mount", default="body", help="mount for all recordings, or 'none' (orientation-free)")
    ap.add_argument("--per-recording", action="store_true")
    ap.add_argument("--steps", choices=("reference", "pipeline"), default="reference",
                    help="reference ICs from the labels (default) or steps from gait.analyze")
    ap.add_argument("--no-gyro", action="store_true", help="drop the gyroscope (accelerometer-only)")
    ap.add_argument("--group-by", default="group", help="label field to group by (group, style)")
    args = ap.parse_args(argv)
    mount = None if args.mount == "none" else parse_mount(args.mount)
    total = DirectionScore()
    by: dict[str, DirectionScore] = defaultdict(DirectionScore)
    step_ok: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    t0 = time.perf_counter()
    for d in args.dirs:
        for csv in sorted(Path(d).glob("*.csv")):
            lab, acc, gyro, fs = load(csv)
            if args.no_gyro:
                gyro = None
            if args.steps == "reference":
                ics = np.asarray(lab["initial_contacts_s"], float)
                steps, est = directions_for_steps(acc, gyro, fs_hz=fs, steps_s=ics, mount=mount)
            else:
                from gait.pipeline import analyze
                from gait.types import Recording

                res = analyze(Recording.from_arrays(acc, fs_hz=fs, gyro_rad_s=gyro), mount=mount)
                steps = res.steps
                ics = np.array([s.t_s for s in steps])
                est = _InfoOnly(res.info.get("direction", {}))
            dirs = [s.direction for s in steps]
            sc = score_direction(lab, ics, dirs, name=lab["name"])
            total = total + sc
            key = str(lab.get(args.group_by, "?"))
            by[key] = by[key] + sc
            for s in steps:
                seg = next((g for g in lab["segments"] if g["start_s"] <= s.t_s < g["end_s"]), None)
                if seg and seg["direction"] in ("forward", "backward"):
                    c = step_ok[f'{seg["activity"]}-{seg["direction"]}']
                    c[0] += s.direction == seg["direction"]
                    c[1] += s.direction == "unknown"
                    c[2] += 1
            if args.per_recording and sc.labelled_s > 0 and sc.accuracy < 0.999:
                mc = est.mount_check()
                print(f"{lab['name']:34s} acc {sc.accuracy:6.3f}  "
                      f"labelled {sc.labelled_s:5.1f}s  {''.join(x[0] for x in dirs)}"
                      + (f"  mount:{mc['status']}" if mc else ""))
    print(f"mode: {'known mount ' + args.mount if mount else 'orientation-free'}; "
          f"{time.perf_counter() - t0:.1f} s")
    print(f"seconds right: {total.accuracy:.4f} of {total.labelled_s:.1f} s")
    print(format_confusion(total))
    r2, n2 = total.segment_accuracy(2.0)
    r5, n5 = total.segment_accuracy(5.0)
    tr, tn = total.transition_summary(2)
    print(f"segments >= 2 s right: {r2}/{n2}; >= 5 s: {r5}/{n5}; transitions within 2 steps: {tr}/{tn}")
    print("delays:", [t[3] for t in total.transitions])
    for k in sorted(by):
        s = by[k]
        if s.labelled_s > 0:
            print(f"  {k:14s} {s.accuracy:6.3f} of {s.labelled_s:6.1f} s")
    for k in sorted(step_ok):
        c = step_ok[k]
        print(f"  steps {k:18s} right {c[0]}/{c[2]}  unknown {c[1]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
