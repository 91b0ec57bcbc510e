"""Do two versions of the code give the same steps? (for speed work that must not move results)

    python scripts/compare_steps.py OLD_SRC NEW_SRC FILE... [--tol 1e-6]

OLD_SRC and NEW_SRC are ``src`` folders of two checkouts (e.g. ``git worktree add /tmp/old
main`` then ``/tmp/old/src`` and ``src``). Every FILE (a recording ``gait.io`` reads, or an
``.npz`` with ``acc`` and ``gyro`` arrays at 100 Hz) is analysed by each version in its own
subprocess: ``gait.analyze`` without the direction stage (default blocks, and 7.3 s blocks)
and with the default direction stage. Steps (time, index, bout, direction) and bouts (start,
end, steps, activity, direction) must agree; step times may differ by at most ``--tol`` s.
Prints one line per differing run and a summary; exit status 1 when anything differs.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

CHILD = r"""
import json, sys
sys.path.insert(0, {src!r})
import numpy as np
from gait.pipeline import analyze
from gait.signal.stages import UnknownDirection
from gait.types import Recording

def pack(r):
    return {{"t": [s.t_s for s in r.steps], "i": [s.index for s in r.steps], "b": [s.bout for s in r.steps],
            "d": [s.direction for s in r.steps],
            "bouts": [[b.start_s, b.end_s, b.n_steps, b.activity, b.direction] for b in r.bouts]}}

res = {{}}
for f in {files!r}:
    try:
        if f.endswith(".npz"):
            d = np.load(f)
            rec = Recording.from_arrays(d["acc"], fs_hz=100.0, gyro_rad_s=d["gyro"])
        else:
            from gait.io import read_recording
            rec = read_recording(f)
    except Exception as e:  # unreadable or too short: skipped by both versions alike
        res[f] = {{"skipped": type(e).__name__}}
        continue
    res[f + " | no direction"] = pack(analyze(rec, direction_stage=UnknownDirection()))
    res[f + " | no direction, 7.3 s blocks"] = pack(analyze(rec, direction_stage=UnknownDirection(), chunk_s=7.3))
    res[f + " | default direction stage"] = pack(analyze(rec))
json.dump(res, open({out!r}, "w"))
"""


def run(src: str, files: list[str], out: Path) -> dict:
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    r = subprocess.run([sys.executable, "-c", CHILD.format(src=src, files=files, out=str(out))],
                       capture_output=True, text=True, env=env)
    if r.returncode != 0:
        sys.exit(f"{src}: analysis failed:\n{r.stderr[-2000:]}")
    return json.loads(out.read_text())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("old_src")
    ap.add_argument("new_src")
    ap.add_argument("files", nargs="+")
    ap.add_argument("--tol", type=float, default=1e-6, help="largest accepted step-time difference, s")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        a = run(str(Path(args.old_src).resolve()), args.files, Path(tmp) / "old.json")
        b = run(str(Path(args.new_src).resolve()), args.files, Path(tmp) / "new.json")
    bad = 0
    n_steps = 0
    worst = 0.0
    for key in a:
        x, y = a[key], b.get(key)
        if "skipped" in x or y is None or "skipped" in y:
            if x != y:
                bad += 1
                print(f"DIFF {key}: {x.get('skipped')} vs {None if y is None else y.get('skipped')}")
            continue
        same = (len(x["t"]) == len(y["t"]) and x["i"] == y["i"] and x["b"] == y["b"] and x["d"] == y["d"]
                and len(x["bouts"]) == len(y["bouts"]))
        dt = max((abs(u - v) for u, v in zip(x["t"], y["t"])), default=0.0)
        for u, v in zip(x["bouts"], y["bouts"]) if same else ():
            same &= u[2:] == v[2:] and abs(u[0] - v[0]) <= args.tol and abs(u[1] - v[1]) <= args.tol
        if not same or dt > args.tol:
            bad += 1
            print(f"DIFF {key}: {len(x['t'])} vs {len(y['t'])} steps, max |dt| {dt:.3g} s")
        n_steps += len(x["t"])
        worst = max(worst, dt)
    print(f"{len(a)} runs, {n_steps} steps: {bad} differing, largest step-time difference {worst:.3g} s")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
