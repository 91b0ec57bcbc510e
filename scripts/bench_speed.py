"""Speed and memory of the step / bout / cadence analysis, on one core.

    python scripts/bench_speed.py [--hours 1 24] [--peer mobgap-full] [--keep DIR] [--json OUT]
    python scripts/bench_speed.py --latency

For each length (default 1 h and 24 h) a 100 Hz 6-axis recording is generated: one hour of
``gait.sim`` (standing, forward and backward walking and running, impacts, noise; right hip),
tiled to the length, and written as a ``gait-recording/1`` CSV. Then, each in a fresh
subprocess pinned to one core (``taskset -c 0`` when available, BLAS/OpenMP threads = 1):

* **analysis alone**: ``gait.analyze(recording)`` on the in-memory recording (CPU seconds), with
  the default direction stage and with direction off (``UnknownDirection``);
* **end to end**: ``gait analyze FILE --format json`` (read CSV + analyse + write JSON), wall
  seconds and peak resident memory of the process.

Figures: hours of data analysed per second, seconds per hour of data, peak memory.
``--peer mobgap-full`` also times mobgap's full pipeline on the 1 h file through
``scripts/peers/run_mobgap.py --time`` (its own ``runtime_s``, CPU seconds of the mobgap call).
The machine may be shared: the load average is printed with the results.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

G = 9.80665
ONE_CORE_ENV = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
                "NUMBA_NUM_THREADS": "1"}


#: Half an hour of the simulator: standing, forward/backward walking and running.
SIM_HALF_HOUR = ("stand:60,walk:420:forward:108,run:180:forward:168,walk:120:backward:100,stand:120,"
                 "walk:300:forward:115,run:60:backward:175,walk:240:forward:102,stand:300")


def sim_input(hours: float, fs_hz: float = 100.0, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(acc, gyro) from ``gait.sim``: one simulated hour (impacts, noise, right hip, body
    mount), tiled to the requested length (a 24 h day is 24 copies of that hour)."""
    from gait.sim import simulate

    sim = simulate(",".join([SIM_HALF_HOUR] * 2), fs_hz=fs_hz, seed=seed)
    acc, gyro = sim.recording.acc_m_s2, sim.recording.gyro_rad_s
    n = int(round(hours * 3600 * fs_hz))
    reps = -(-n // len(acc))
    return np.tile(acc, (reps, 1))[:n], np.tile(gyro, (reps, 1))[:n]


def synth(hours: float, fs_hz: float = 100.0, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(acc (n, 3) m/s^2, gyro (n, 3) rad/s) of a fast synthetic day of standing/walking/running
    (used with ``--input synthetic``)."""
    rng = np.random.default_rng(seed)
    n = int(round(hours * 3600 * fs_hz))
    t = np.arange(n) / fs_hz
    # Activity blocks of 20-300 s: 0 stand, 1 walk, 2 run.
    edges = [0.0]
    while edges[-1] < t[-1] + 1:
        edges.append(edges[-1] + rng.uniform(20, 300))
    kinds = rng.choice([0, 1, 1, 2], size=len(edges))
    cad = np.where(kinds == 1, rng.uniform(95, 125, len(edges)),
                   np.where(kinds == 2, rng.uniform(150, 185, len(edges)), 0.0))
    blk = np.searchsorted(np.asarray(edges), t, side="right") - 1
    f = cad[blk] / 60.0
    amp = np.where(kinds[blk] == 2, 9.0, np.where(kinds[blk] == 1, 3.0, 0.0))
    ph = 2 * np.pi * np.cumsum(f) / fs_hz
    u = (ph / (2 * np.pi)) % 1.0  # phase within a step
    hump = np.exp(-u / 0.2) * (1 - np.exp(-u / 0.02)) - 0.17
    v = amp * hump * 2.0
    ap = 0.4 * amp * np.sin(ph + 0.5)
    ml = 0.3 * amp * np.sin(ph / 2)
    body = np.stack([ap, ml, G + v], axis=1) + rng.normal(0, 0.15, (n, 3))
    # A fixed tilt of the sensor (20 deg about x, 10 deg about y).
    a, b = np.radians(20), np.radians(10)
    Rx = np.array([[1, 0, 0], [0, np.cos(a), -np.sin(a)], [0, np.sin(a), np.cos(a)]])
    Ry = np.array([[np.cos(b), 0, np.sin(b)], [0, 1, 0], [-np.sin(b), 0, np.cos(b)]])
    acc = body @ (Rx @ Ry).T
    gyro = np.stack([0.3 * np.sin(ph / 2), 0.4 * np.sin(ph + 1.0), 0.2 * np.sin(ph / 2 + 0.3)], axis=1)
    gyro *= (amp > 0)[:, None]
    gyro += rng.normal(0, 0.01, (n, 3))
    return acc, gyro


def write_csv(path: Path, acc: np.ndarray, gyro: np.ndarray, fs_hz: float = 100.0) -> None:
    import pandas as pd

    n = len(acc)
    header = {"device": "bench_speed synthetic", "mount": "body", "fs_hz": fs_hz,
              "units": {"acc": "m/s^2", "gyro": "rad/s"}, "start_time": "2026-11-24T00:00:00+00:00"}
    with open(path, "w") as fh:
        fh.write("# gait-recording/1\n")
        fh.write("# " + json.dumps(header) + "\n")
        df = pd.DataFrame({"t_s": np.arange(n) / fs_hz, "ax": acc[:, 0], "ay": acc[:, 1], "az": acc[:, 2],
                           "gx": gyro[:, 0], "gy": gyro[:, 1], "gz": gyro[:, 2]})
        df.to_csv(fh, index=False, float_format="%.5f", lineterminator="\n", chunksize=500_000)


CHILD_ANALYSIS = r"""
import json, resource, sys, time
import numpy as np
sys.path.insert(0, {src!r})
from gait.types import Recording
from gait.pipeline import analyze
from gait.signal.stages import UnknownDirection
d = np.load({npz!r})
rec = Recording.from_arrays(d["acc"], fs_hz=100.0, gyro_rad_s=d["gyro"])
out = {{}}
for name, stage in (("no direction", UnknownDirection), ("with direction", None)):
    best = None
    for _ in range({reps}):
        t0 = time.process_time(); w0 = time.perf_counter()
        res = analyze(rec, direction_stage=None if stage is None else stage())
        cpu = time.process_time() - t0; wall = time.perf_counter() - w0
        if best is None or cpu < best[0]:
            best = (cpu, wall, len(res.steps), len(res.bouts), res.info.get("direction_mode"))
    out[name] = dict(cpu_s=best[0], wall_s=best[1], steps=best[2], bouts=best[3], direction_mode=best[4])
out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(out))
"""


def pinned(cmd: list[str]) -> list[str]:
    return (["taskset", "-c", "0"] + cmd) if shutil.which("taskset") else cmd


def run_child(cmd: list[str]) -> tuple[subprocess.CompletedProcess, float, float]:
    """Run cmd; return (result, wall seconds, peak RSS of the child in MB)."""
    env = dict(os.environ, **ONE_CORE_ENV)
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t0 = time.perf_counter()
    r = subprocess.run(pinned(cmd), capture_output=True, text=True, env=env)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return r, wall, max(after, before) / 1024.0  # ru_maxrss of children: max over all so far


def measure_rss(cmd: list[str]) -> tuple[subprocess.CompletedProcess, float, float]:
    """Like run_child, but the peak RSS of this very child (via /usr/bin/time when available)."""
    tm = shutil.which("time") or ("/usr/bin/time" if Path("/usr/bin/time").exists() else None)
    if tm is None:
        return run_child(cmd)
    with tempfile.NamedTemporaryFile("r", suffix=".txt") as fh:
        r, wall, _ = run_child([tm, "-f", "%M", "-o", fh.name] + cmd)
        try:
            rss = float(Path(fh.name).read_text().strip().splitlines()[-1]) / 1024.0
        except (ValueError, IndexError):
            rss = float("nan")
    return r, wall, rss


def latency(block_s: float = 0.1) -> int:
    """Streaming latency: simulated steady walks and runs pushed in blocks of ``block_s``; for
    every step emitted, newest sample time minus the step's ``t_s``. Steps after the 4th of
    the walk (the first ones wait for the bout), with and without the direction stage."""
    from gait import sim
    from gait.pipeline import StreamAnalyzer
    from gait.signal.stages import UnknownDirection
    from gait.types import Step

    print(f"latency (s) from a step's t_s to the push that returns it, blocks of {block_s:g} s")
    print("| programme | stage | steps | first 3 (max) | median | p95 | max | bound |")
    print("|---|---|---|---|---|---|---|---|")
    for prog in ("stand:3,walk:40:forward:105,stand:3", "stand:3,run:40:forward:170,stand:3",
                 "stand:3,walk:40:backward:110,stand:3", "stand:3,run:40:backward:180,stand:3"):
        rec = sim.simulate(prog, fs_hz=100.0, seed=4).recording
        for stage in ("none", "default"):
            sa = StreamAnalyzer(rec.fs_hz, direction_stage=UnknownDirection() if stage == "none" else None)
            blk = max(1, int(round(block_s * rec.fs_hz)))
            lat = []
            for i in range(0, rec.n_samples, blk):
                newest = float(rec.t_s[min(i + blk, rec.n_samples) - 1])
                lat += [newest - e.t_s for e in sa.push(rec.block(i, i + blk)) if isinstance(e, Step)]
            d = np.asarray(lat)
            st = d[4:]
            print(f"| {prog.split(',')[1]} | {stage} | {d.size} | {d[:3].max():.2f} | {np.median(st):.2f} | "
                  f"{np.percentile(st, 95):.2f} | {st.max():.2f} | {sa.latency_bound_s:.2f} |")
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--latency", action="store_true",
                    help="only measure the streaming latency of steps (simulated walks and runs)")
    ap.add_argument("--hours", type=float, nargs="+", default=[1.0, 24.0])
    ap.add_argument("--peer", action="append", default=[], help="mobgap-full (times the 1 h file)")
    ap.add_argument("--keep", default=None, help="folder for the generated files (reused if present)")
    ap.add_argument("--reps", type=int, default=3, help="analysis repetitions (best CPU time kept)")
    ap.add_argument("--json", dest="json_out", default=None)
    ap.add_argument("--input", choices=("sim", "synthetic"), default="sim",
                    help="gait.sim hour tiled to length (default), or a faster cruder generator")
    args = ap.parse_args(argv)
    if args.latency:
        return latency()
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="gait-speed-"))
    work.mkdir(parents=True, exist_ok=True)
    results: dict = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                     "load_avg_before": os.getloadavg(), "nproc": os.cpu_count(), "runs": {}}
    gait_exe = [sys.executable, "-m", "gait"]
    for h in args.hours:
        tag = f"{h:g}h"
        csv = work / f"{args.input}_{tag}.csv"
        npz = work / f"{args.input}_{tag}.npz"
        if not (csv.exists() and npz.exists()):
            t0 = time.perf_counter()
            acc, gyro = sim_input(h) if args.input == "sim" else synth(h)
            np.savez(npz, acc=acc, gyro=gyro)
            write_csv(csv, acc, gyro)
            del acc, gyro
            print(f"generated {csv} ({csv.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - t0:.0f} s",
                  file=sys.stderr)
        reps = args.reps if h <= 2 else 1
        code = CHILD_ANALYSIS.format(src=str(ROOT / "src"), npz=str(npz), reps=reps)
        r, _, _ = run_child([sys.executable, "-c", code])
        if r.returncode != 0:
            print(r.stderr, file=sys.stderr)
            return 1
        an = json.loads(r.stdout.strip().splitlines()[-1])
        r2, wall2, rss2 = measure_rss(gait_exe + ["analyze", str(csv), "--format", "json"])
        if r2.returncode != 0:
            print(r2.stderr, file=sys.stderr)
            return 1
        run = {
            "hours": h,
            "analysis_no_direction_cpu_s": an["no direction"]["cpu_s"],
            "analysis_with_direction_cpu_s": an["with direction"]["cpu_s"],
            "direction_mode": an["with direction"]["direction_mode"],
            "steps": an["no direction"]["steps"],
            "analysis_peak_rss_mb": an["peak_rss_mb"],
            "end_to_end_wall_s": wall2,
            "end_to_end_peak_rss_mb": rss2,
        }
        results["runs"][tag] = run
        print(f"\n{tag}: {run['steps']} steps", flush=True)
        for k in ("analysis_no_direction_cpu_s", "analysis_with_direction_cpu_s"):
            s = run[k]
            print(f"  {k:32s} {s:8.3f} s = {s / h:.3f} s per hour = {h * 3600 / s / 3600 if s else float('inf'):8.1f} h/s")
        print(f"  {'end_to_end_wall_s':32s} {wall2:8.2f} s = {wall2 / h:.3f} s per hour "
              f"({h / wall2 * 1:.2f} h/s), peak RSS {rss2:.0f} MB")
    for peer in args.peer:
        if peer != "mobgap-full":
            print(f"unknown peer {peer}", file=sys.stderr)
            continue
        py = Path(os.environ.get("GAIT_MOBGAP_PYTHON", ROOT / ".peer-venvs" / "mobgap" / "bin" / "python"))
        if not py.exists():
            print(f"skipping {peer}: no peer virtualenv at {py}", file=sys.stderr)
            continue
        h = min(args.hours)
        csv = work / f"{args.input}_{h:g}h.csv"
        r, wall, rss = measure_rss([str(py), str(ROOT / "scripts" / "peers" / "run_mobgap.py"),
                                    "--algo", "full", "--time", str(csv)])
        try:
            d = json.loads([ln for ln in r.stdout.splitlines() if ln.strip().startswith("{")][-1])
        except (IndexError, json.JSONDecodeError):
            print(f"{peer} failed: {r.stderr[-800:]}", file=sys.stderr)
            continue
        rt = float(d.get("runtime_s", float("nan")))
        import re

        m = re.search(r"(\d+) ICs", r.stderr)
        if "initial_contacts_s" not in d and m:
            d["initial_contacts_s"] = [0.0] * int(m.group(1))
        ours = results["runs"][f"{h:g}h"]["analysis_no_direction_cpu_s"]
        ours_d = results["runs"][f"{h:g}h"]["analysis_with_direction_cpu_s"]
        results["runs"][f"{peer} {h:g}h"] = {"runtime_s": rt, "wall_s": wall, "peak_rss_mb": rss,
                                             "n_ics": len(d.get("initial_contacts_s", [])),
                                             "speedup_vs_gait_no_direction": rt / ours if ours else None,
                                             "speedup_vs_gait_with_direction": rt / ours_d if ours_d else None}
        print(f"\n{peer} on {h:g} h: runtime {rt:.2f} s ({rt / h:.2f} s per hour), "
              f"{len(d.get('initial_contacts_s', []))} ICs; gait is {rt / ours:.0f}x faster "
              f"(steps only), {rt / ours_d:.0f}x (with direction)")
    results["load_avg_after"] = os.getloadavg()
    print(f"\nload average before/after: {results['load_avg_before']} / {results['load_avg_after']} "
          f"on {results['nproc']} cores")
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(results, indent=1))
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
