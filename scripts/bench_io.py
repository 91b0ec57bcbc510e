"""Time and peak memory of reading a long recording (default: 24 h at 100 Hz, 6 axes).

    python scripts/bench_io.py [--hours 24] [--fs 100] [--file /tmp/gait_bench_24h.csv] [--jitter]

Writes a generic CSV ``t_s,ax,ay,az,gx,gy,gz`` once (cached), then reads it in a fresh
process with ``gait.io.read_recording`` and with ``iter_recording_chunks`` and prints wall time
and the peak resident memory of each reading process.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np


def make_file(path: Path, hours: float, fs: float, jitter: bool) -> None:
    n = int(hours * 3600 * fs)
    rng = np.random.default_rng(0)
    step = 1_000_000
    with open(path, "w") as f:
        f.write("t_s,ax,ay,az,gx,gy,gz\n")
        for a in range(0, n, step):
            k = np.arange(a, min(n, a + step))
            t = k / fs
            if jitter:
                t = t + rng.uniform(-0.2, 0.2, len(k)) / fs
                t[k == 0] = 0.0
            arr = np.empty((len(k), 7))
            arr[:, 0] = t
            arr[:, 1] = np.sin(2 * np.pi * 1.8 * t)
            arr[:, 2] = 0.3 * np.cos(2 * np.pi * 0.9 * t)
            arr[:, 3] = 9.81 + 2.0 * np.sin(2 * np.pi * 1.8 * t)
            arr[:, 4:7] = rng.normal(0, 0.5, (len(k), 3))
            # fast fixed-point formatting through pandas' C writer
            import pandas as pd

            pd.DataFrame(arr).to_csv(f, header=False, index=False, float_format="%.5f",
                                     lineterminator="\n")


CHILD = r"""
import json, resource, sys, time
mode, path = sys.argv[1], sys.argv[2]
t0 = time.perf_counter()
if mode == "full":
    from gait.io import read_recording
    rec = read_recording(path)
    n, fs = rec.n_samples, rec.fs_hz
else:
    from gait.io import iter_recording_chunks
    n = 0
    for block, ctx in iter_recording_chunks(path, chunk_s=600.0):
        n += len(block)
    fs = ctx.fs_hz
dt = time.perf_counter() - t0
rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"mode": mode, "seconds": round(dt, 2), "peak_rss_mb": round(rss_mb), "n": n, "fs_hz": fs}))
"""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--hours", type=float, default=24.0)
    ap.add_argument("--fs", type=float, default=100.0)
    ap.add_argument("--file", type=Path, default=None)
    ap.add_argument("--jitter", action="store_true", help="+-20 %% stamp jitter (forces resampling)")
    ap.add_argument("--modes", default="full,chunks")
    args = ap.parse_args()
    path = args.file or Path(f"/tmp/gait_bench_{args.hours:g}h_{args.fs:g}hz{'_jit' if args.jitter else ''}.csv")
    if not path.exists():
        t0 = time.perf_counter()
        make_file(path, args.hours, args.fs, args.jitter)
        print(f"wrote {path} ({path.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - t0:.0f} s")
    print(f"file: {path} ({path.stat().st_size / 1e6:.0f} MB), cpus: {os.cpu_count()}")
    for mode in args.modes.split(","):
        out = subprocess.run([sys.executable, "-c", CHILD, mode, str(path)], capture_output=True,
                             text=True)
        if out.returncode:
            print(out.stderr)
            continue
        print(json.loads(out.stdout.strip().splitlines()[-1]))


if __name__ == "__main__":
    main()
