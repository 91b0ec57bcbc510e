#!/usr/bin/env python
"""Batch throughput: recording-hours analysed per wall-second with 1 and 2 workers, and
mobgap's full pipeline looped over the same files; plus peak memory of one long file.

    python scripts/bench_batch.py                     # 200 recordings, 5 min - 2 h each
    python scripts/bench_batch.py --n 40 --scale 0.25 # smaller: 40 recordings, 1.25 - 30 min
    python scripts/bench_batch.py --memory 1,24       # peak RSS of a 1 h and a 24 h file

Recordings are simulated (``gait.sim``: stand / walk / run / backward walk / turns, random
order and lengths, seeded) and written in mixed formats: ``gait-recording/1``, a generic CSV
(``t_s,ax,...``), a Sensor Logger export folder and a zipped Sensor Logger export. Durations are
log-uniform between ``5 min * scale`` and ``2 h * scale``.

For each worker count the batch is run from scratch (fresh output folder): wall time includes
discovery, hashing, reading, analysis and writing every output. mobgap
(``scripts/peers/run_mobgap.py --algo full``, in its own venv: ``GAIT_MOBGAP_PYTHON``) gets the
same recordings converted to its input CSV beforehand (not timed); its figure is the wall time
of one process looping over all files (numba JIT warm-up excluded) and the sum of its per-file
compute time. The machine is shared by other jobs: timings are noisy.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import time
import zipfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
FORMATS = ("gait", "generic", "sensorlogger", "sensorlogger-zip")
DEFAULT_MOBGAP = ROOT / ".peer-venvs" / "mobgap" / "bin" / "python"


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# ----------------------------------------------------------------------------- data
def programme(duration_s: float, rng: np.random.Generator):
    """A random mix of standing, walking (both ways), running and turns filling duration_s."""
    from gait.sim import Segment

    segs, t = [], 0.0
    while t < duration_s:
        d = float(min(rng.uniform(20, 300), duration_s - t))
        if d < 5:
            break
        kind = rng.choice(["stand", "walk", "walk", "walk", "walk-back", "run", "turn"])
        if kind == "stand":
            segs.append(Segment("stand", d, gestures=bool(rng.random() < 0.3)))
        elif kind == "walk":
            segs.append(Segment("walk", d, cadence_spm=float(rng.uniform(90, 125))))
        elif kind == "walk-back":
            segs.append(Segment("walk", d, direction="backward", cadence_spm=float(rng.uniform(90, 120))))
        elif kind == "run":
            segs.append(Segment("run", d, cadence_spm=float(rng.uniform(150, 185))))
        else:
            segs.append(Segment("turn", min(d, 20.0), direction=str(rng.choice(["left", "right"]))))
            d = min(d, 20.0)
        t += d
    return segs or [Segment("stand", duration_s)]


def write_sensorlogger(folder: Path, rec) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    t0_ns = int(rec.start_time.timestamp() * 1e9) if rec.start_time else 1_700_000_000 * 10**9
    t_ns = t0_ns + np.round(rec.t_s * 1e9).astype(np.int64)
    for name, v in (("TotalAcceleration.csv", rec.acc_m_s2), ("Gyroscope.csv", rec.gyro_rad_s)):
        if v is None:
            continue
        pd.DataFrame({"time": t_ns, "seconds_elapsed": rec.t_s, "z": v[:, 2], "y": v[:, 1],
                      "x": v[:, 0]}).to_csv(folder / name, index=False, float_format="%.5f")


def write_generic(path: Path, rec) -> None:
    df = pd.DataFrame({"t_s": rec.t_s, "ax": rec.acc_m_s2[:, 0], "ay": rec.acc_m_s2[:, 1],
                       "az": rec.acc_m_s2[:, 2]})
    if rec.gyro_rad_s is not None:
        for i, c in enumerate(("gx", "gy", "gz")):
            df[c] = rec.gyro_rad_s[:, i]
    df.to_csv(path, index=False, float_format="%.5f")


def make_one(args: tuple) -> dict:
    i, duration_s, fmt, folder, seed = args
    from gait.io import write_recording
    from gait.sim import simulate

    rng = np.random.default_rng(seed)
    start = datetime(2026, 1, 1, tzinfo=timezone.utc) + timedelta(hours=int(i) * 3)
    sim = simulate(programme(duration_s, rng), fs_hz=100.0, seed=int(seed), start_time=start,
                   name=f"rec{i:03d}")
    rec = sim.recording
    stem = f"rec{i:03d}_{fmt}"
    if fmt == "gait":
        path = folder / f"{stem}.csv"
        write_recording(path, rec)
    elif fmt == "generic":
        path = folder / f"{stem}.csv"
        write_generic(path, rec)
    elif fmt == "sensorlogger":
        path = folder / stem
        write_sensorlogger(path, rec)
    else:
        tmp = folder / f".{stem}"
        write_sensorlogger(tmp, rec)
        path = folder / f"{stem}.zip"
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
            for f in sorted(tmp.iterdir()):
                z.write(f, f"{stem}/{f.name}")
        shutil.rmtree(tmp)
    # mobgap's input: the same samples as a dev-format CSV (body frame, m/s^2, rad/s)
    mg = folder.parent / "mobgap_in" / f"{stem}.csv"
    mg.parent.mkdir(parents=True, exist_ok=True)
    write_generic(mg, rec)
    return {"path": str(path), "format": fmt, "duration_s": rec.duration_s, "mobgap_csv": str(mg)}


def make_dataset(root: Path, n: int, scale: float, seed: int, jobs: int) -> list[dict]:
    """Simulate n recordings (cached in root/manifest.json for the same n, scale and seed)."""
    man = root / "dataset.json"
    key = {"n": n, "scale": scale, "seed": seed, "formats": list(FORMATS)}  # as JSON reads it
    if man.is_file():
        d = json.loads(man.read_text())
        if d.get("key") == key and all(Path(r["path"]).exists() for r in d["recordings"]):
            log(f"dataset: reusing {len(d['recordings'])} recordings in {root}")
            return d["recordings"]
    if root.exists():
        shutil.rmtree(root)
    (root / "recordings").mkdir(parents=True)
    rng = np.random.default_rng(seed)
    lo, hi = 300.0 * scale, 7200.0 * scale
    durs = np.exp(rng.uniform(np.log(lo), np.log(hi), n))
    tasks = [(i, float(durs[i]), FORMATS[i % len(FORMATS)], root / "recordings", seed * 1000 + i)
             for i in range(n)]
    t0 = time.perf_counter()
    recs = []
    if jobs > 1:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(jobs) as pool:
            for k, r in enumerate(pool.map(make_one, tasks), 1):
                recs.append(r)
                if k % 20 == 0:
                    log(f"  simulated {k}/{n}")
    else:
        for k, t in enumerate(tasks, 1):
            recs.append(make_one(t))
            if k % 20 == 0:
                log(f"  simulated {k}/{n}")
    log(f"dataset: {n} recordings, {sum(r['duration_s'] for r in recs) / 3600:.1f} h, "
        f"made in {time.perf_counter() - t0:.0f} s")
    man.write_text(json.dumps({"key": key, "recordings": recs}, indent=1))
    return recs


# ----------------------------------------------------------------------------- runs
def cpu_s() -> float:
    """CPU seconds of this process and its waited-for children (user + system)."""
    a = resource.getrusage(resource.RUSAGE_SELF)
    b = resource.getrusage(resource.RUSAGE_CHILDREN)
    return a.ru_utime + a.ru_stime + b.ru_utime + b.ru_stime


def run_gait(root: Path, jobs: int) -> dict:
    from gait.batch import BatchOptions, run_batch

    out = root / f"out_j{jobs}"
    if out.exists():
        shutil.rmtree(out)
    t0, c0 = time.perf_counter(), cpu_s()
    rep = run_batch([root / "recordings"], BatchOptions(out_dir=str(out)), jobs=jobs,
                    progress=sys.stderr.isatty())
    wall = time.perf_counter() - t0
    return {"jobs": jobs, "wall_s": wall, "cpu_s": cpu_s() - c0, "hours": rep.data_hours, "n_ok": rep.n_ok,
            "n_failed": rep.n_failed, "failures": rep.failures[:5],
            "h_per_s": rep.data_hours / wall, "rows": rep.rows}


def run_mobgap(recs: list[dict], root: Path, python: str) -> dict:
    out = root / "out_mobgap"
    if out.exists():
        shutil.rmtree(out)
    files = [r["mobgap_csv"] for r in recs]
    cmd = [python, str(ROOT / "scripts" / "peers" / "run_mobgap.py"), "--algo", "full",
           "--out", str(out), *files]
    t0, c0 = time.perf_counter(), cpu_s()
    proc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - t0
    proc_cpu = cpu_s() - c0
    dets = [json.loads(p.read_text()) for p in sorted(out.glob("*.detections.json"))]
    warm = sum(float(d.get("warmup_s") or 0.0) for d in dets)
    compute = sum(float(d.get("runtime_s") or 0.0) for d in dets)
    hours = sum(float(d.get("duration_s") or 0.0) for d in dets) / 3600
    return {"wall_s": wall, "wall_minus_warmup_s": wall - warm, "compute_s": compute,
            "process_cpu_s": proc_cpu,
            "hours": hours, "n_ok": sum("error" not in d for d in dets),
            "n_failed": sum("error" in d for d in dets), "returncode": proc.returncode,
            "h_per_s": hours / max(wall - warm, 1e-9), "dets": {Path(d["recording"]).stem: d for d in dets},
            "stderr_tail": proc.stderr.strip().splitlines()[-3:]}


# ----------------------------------------------------------------------------- memory
def write_long_gait_csv(path: Path, hours: float, seed: int = 0) -> None:
    """A gait-recording/1 file of ``hours``, written piece by piece (bounded memory): a 10-min
    simulated programme is repeated (with a different seed per piece)."""
    from gait.io import RecordingWriter
    from gait.sim import simulate

    piece_s = 600.0
    n_pieces = int(round(hours * 3600 / piece_s))
    n = int(piece_s * 100)
    w = RecordingWriter.open(path, fs_hz=100.0, has_gyro=True, overwrite=True,
                             start_time=datetime(2026, 1, 1, tzinfo=timezone.utc))
    try:
        pieces = {}
        for k in range(n_pieces):
            j = k % 6  # six different 10-min programmes, repeated
            if j not in pieces:
                rng = np.random.default_rng(seed * 1000 + j)
                pieces[j] = simulate(programme(piece_s, rng), fs_hz=100.0, seed=j).recording
            rec = pieces[j]
            w.append(t_s=k * piece_s + rec.t_s[:n], acc_m_s2=rec.acc_m_s2[:n],
                     gyro_rad_s=rec.gyro_rad_s[:n])
    finally:
        w.close()


def measure_memory(root: Path, hours_list: list[float]) -> list[dict]:
    root.mkdir(parents=True, exist_ok=True)
    out = []
    for h in hours_list:
        path = root / f"long_{h:g}h.csv"
        if not path.is_file():
            t0 = time.perf_counter()
            log(f"memory: writing a {h:g} h file ...")
            write_long_gait_csv(path, h)
            log(f"  {path.stat().st_size / 1e6:.0f} MB in {time.perf_counter() - t0:.0f} s")
        code = (
            "import json, resource, sys, time\n"
            "from gait.batch import BatchOptions, process_file, _chunk_reader\n"
            "t0 = time.perf_counter()\n"
            f"row = process_file({str(path)!r}, BatchOptions(out_dir={str(root / 'out_mem')!r}, force=True))\n"
            "print(json.dumps({'status': row['status'], 'error': row['error'], 'n_steps': row['n_steps'],"
            " 'duration_s': row['duration_s'], 'wall_s': time.perf_counter() - t0,"
            " 'chunked': _chunk_reader() is not None,"
            " 'peak_rss_mb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))\n"
        )
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        if proc.returncode != 0:
            out.append({"hours": h, "failed": proc.stderr.strip().splitlines()[-1:]})
            continue
        r = json.loads(proc.stdout.strip().splitlines()[-1])
        r.update(hours=h, file_mb=path.stat().st_size / 1e6)
        out.append(r)
        log(f"memory: {h:g} h: peak RSS {r['peak_rss_mb']:.0f} MB, {r['wall_s']:.1f} s, "
            f"chunked={r['chunked']}, {r['status']} {r['error']}")
    return out


# ----------------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--n", type=int, default=200, help="number of recordings (default 200)")
    p.add_argument("--scale", type=float, default=1.0,
                   help="multiply the 5 min - 2 h durations (default 1)")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--workers", default="1,2", help="worker counts to time (default 1,2)")
    p.add_argument("--root", type=Path, default=ROOT / "bench_out" / "batch")
    p.add_argument("--no-mobgap", action="store_true")
    p.add_argument("--memory", default="", help="also measure peak RSS for these hours, e.g. 1,24")
    p.add_argument("--skip-throughput", action="store_true", help="only the --memory part")
    p.add_argument("--json", type=Path, help="write all figures to this JSON file")
    args = p.parse_args(argv)

    res: dict = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                 "machine": f"{platform.machine()}, {os.cpu_count()} CPUs (shared)",
                 "argv": sys.argv[1:]}
    if not args.skip_throughput:
        recs = make_dataset(args.root, args.n, args.scale, args.seed, jobs=2)
        hours = sum(r["duration_s"] for r in recs) / 3600
        res["dataset"] = {"n": len(recs), "hours": hours,
                          "formats": {f: sum(r["format"] == f for r in recs) for f in FORMATS},
                          "min_s": min(r["duration_s"] for r in recs),
                          "max_s": max(r["duration_s"] for r in recs)}
        res["gait"] = []
        rows_by_jobs = {}
        for j in [int(x) for x in args.workers.split(",") if x]:
            log(f"gait batch --jobs {j} ...")
            r = run_gait(args.root, j)
            rows_by_jobs[j] = r.pop("rows")
            res["gait"].append(r)
            log(f"  {r['hours']:.1f} h in {r['wall_s']:.1f} s = {r['h_per_s']:.2f} recording-h per "
                f"wall-s ({r['n_ok']} ok, {r['n_failed']} failed)")
        if len(rows_by_jobs) > 1:
            from gait.batch import compare_rows

            a, *others = list(rows_by_jobs.values())
            res["tables_identical"] = all(not compare_rows(a, o) for o in others)
        if not args.no_mobgap:
            py = os.environ.get("GAIT_MOBGAP_PYTHON", str(DEFAULT_MOBGAP))
            if not Path(py).exists():
                res["mobgap"] = {"error": f"{py} not found: run scripts/peers/setup_mobgap.sh"}
                log(res["mobgap"]["error"])
            else:
                log("mobgap full pipeline loop ...")
                m = run_mobgap(recs, args.root, py)
                dets = m.pop("dets")
                res["mobgap"] = m
                log(f"  {m['hours']:.1f} h in {m['wall_minus_warmup_s']:.1f} s = {m['h_per_s']:.3f} "
                    f"recording-h per wall-s ({m['n_ok']} ok, {m['n_failed']} failed)")
                # steps side by side (totals over the dataset)
                rows = rows_by_jobs[min(rows_by_jobs)] if rows_by_jobs else []
                g_steps = sum(int(r["n_steps"] or 0) for r in rows)
                m_steps = sum(len(d.get("initial_contacts_s", [])) for d in dets.values())
                res["steps_total"] = {"gait": g_steps, "mobgap_full": m_steps}
    if args.memory:
        res["memory"] = measure_memory(args.root, [float(h) for h in args.memory.split(",")])

    print(render(res))
    if args.json:
        args.json.write_text(json.dumps(res, indent=1, default=str))
    return 0


def render(res: dict) -> str:
    lines = [f"# bench_batch  {res['date']}  ({res['machine']})", ""]
    if "dataset" in res:
        d = res["dataset"]
        lines += [f"dataset: {d['n']} recordings, {d['hours']:.1f} h of 100 Hz 6-axis data, "
                  f"{d['min_s'] / 60:.1f}-{d['max_s'] / 60:.1f} min each, formats {d['formats']}", "",
                  "| tool | workers | recording-hours | wall s | recording-h per wall-s | CPU s | CPU s per recording-h | ok | failed |",
                  "|---|---|---|---|---|---|---|---|---|"]
        for r in res.get("gait", []):
            lines.append(f"| gait batch (read + analyse + write) | {r['jobs']} | {r['hours']:.1f} | "
                         f"{r['wall_s']:.1f} | {r['h_per_s']:.3f} | {r['cpu_s']:.0f} | "
                         f"{r['cpu_s'] / max(r['hours'], 1e-9):.2f} | {r['n_ok']} | {r['n_failed']} |")
        m = res.get("mobgap")
        if m and "error" not in m:
            lines.append(f"| mobgap 1.2.0 MobilisedPipelineHealthy, loop in one process "
                         f"(read + analyse + write) | 1 | {m['hours']:.1f} | "
                         f"{m['wall_minus_warmup_s']:.1f} | {m['h_per_s']:.3f} | "
                         f"{m['process_cpu_s']:.0f} | {m['process_cpu_s'] / max(m['hours'], 1e-9):.2f} | "
                         f"{m['n_ok']} | {m['n_failed']} |")
            lines.append("")
            lines.append(f"mobgap pipeline call alone (sum of per-file CPU s): {m['compute_s']:.1f} s "
                         f"= {m['compute_s'] / max(m['hours'], 1e-9):.2f} s per recording-hour "
                         "(mobgap's wall s excludes its one-time numba JIT warm-up; its CPU s includes it)")
        elif m:
            lines.append(f"mobgap: {m['error']}")
        if "tables_identical" in res:
            lines.append(f"tables identical across worker counts: {res['tables_identical']}")
        if "steps_total" in res:
            s = res["steps_total"]
            lines.append(f"steps found in all files: gait {s['gait']}, mobgap full pipeline {s['mobgap_full']}")
    if "memory" in res:
        lines += ["", "| recording | file MB | peak RSS MB | wall s | chunked reader | steps | status |",
                  "|---|---|---|---|---|---|---|"]
        for r in res["memory"]:
            if "failed" in r:
                lines.append(f"| {r['hours']:g} h | | | | | | {r['failed']} |")
                continue
            lines.append(f"| {r['hours']:g} h | {r['file_mb']:.0f} | {r['peak_rss_mb']:.0f} | "
                         f"{r['wall_s']:.1f} | {r['chunked']} | {r['n_steps']} | {r['status']} "
                         f"{r['error'] or ''} |")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
