"""Accuracy of steps and cadence on folders of labeled recordings (``gait-labels/1``).

    python scripts/bench_accuracy.py DIR... [--tol 0.25] [--json OUT] [--peer mobgap-full]
                                     [--peer mobgap-shin] [--params '{"ic_lag_s": 0.01}']
                                     [--split train=mocap_bn2] [--mount labels]

Each DIR holds ``<name>.csv`` + ``<name>.labels.json`` pairs (e.g. ``../shared/data/dev/*``,
``../shared/data/dev_variants/*/*``, or the simulator's ``scripts/make_sim_dataset.py`` output).
Scoring follows ``../shared/data/README.md`` exactly (see :mod:`gait.evaluation`): ICs matched
one-to-one within +-0.25 s (and +-0.1 s), smallest |dt| first; FPs only inside
``scored_intervals``; precision, recall, F1, mean |error| and bias of matched pairs, step-count
error; cadence error per walk/run/sprint segment with >= 4 reference ICs; false steps per
minute of standing/gesturing. Tables by folder and by labeled activity/direction.

``--peer mobgap-full`` / ``--peer mobgap-shin`` run ``scripts/peers/run_mobgap.py`` in its own
virtualenv (``$GAIT_MOBGAP_PYTHON``, default ``.peer-venvs/mobgap/bin/python``) on the same
files and score its detections with the same code.

Direction metrics: other scorers can be added to ``EXTRA_SCORERS`` (each called as
``scorer(labels, result) -> dict`` per recording, and ``scorer.table(rows) -> str`` at the end).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any, Callable

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from gait import evaluation as ev  # noqa: E402
from gait.errors import GaitError  # noqa: E402

#: Hooks for extra per-recording metrics (direction); see the module docstring.
EXTRA_SCORERS: list[Callable[[dict, Any], dict]] = []

TOLS = (0.25, 0.1)
DEFAULT_MOBGAP_PY = ROOT / ".peer-venvs" / "mobgap" / "bin" / "python"


def find_recordings(dirs: list[str]) -> list[tuple[str, Path, Path]]:
    """(folder label, csv, labels) for every labeled recording under the given folders."""
    out = []
    for d in dirs:
        p = Path(d)
        files = [p] if p.is_file() else sorted(p.rglob("*.labels.json"))
        for lab in files:
            csv = lab.with_name(lab.name[: -len(".labels.json")] + ".csv")
            if csv.exists():
                folder = str(lab.parent.relative_to(p.parent)) if p.is_dir() else lab.parent.name
                out.append((folder, csv, lab))
    return out


def load(csv: Path, labels: dict):
    """The recording, read by :func:`gait.io.read_recording`; recordings shorter than the
    reader's minimum (some dev takes last 0.6 s) are built from the CSV columns directly."""
    from gait.errors import SignalError
    from gait.io import read_recording

    unit = labels.get("units", {}).get("acc")
    try:
        return read_recording(csv, acc_unit=unit)
    except SignalError:
        import pandas as pd

        from gait.types import ACC_TO_M_S2, Recording

        df = pd.read_csv(csv, comment="#")
        acc = df[["ax", "ay", "az"]].to_numpy(float) * ACC_TO_M_S2.get(unit or "m/s^2", 1.0)
        gyro = df[["gx", "gy", "gz"]].to_numpy(float) if "gx" in df else None
        return Recording.from_arrays(acc, fs_hz=float(labels["fs_hz"]), gyro_rad_s=gyro)


class Tally:
    """Sums of every figure over a group of recordings."""

    def __init__(self) -> None:
        self.ic = {t: ev.ICScore(tol_s=t) for t in TOLS}
        self.cad_err: list[float] = []
        self.cad_det_missing = 0
        self.stand = ev.StandingScore()
        self.n_rec = 0
        self.seconds = 0.0

    def add_ic(self, sc: dict[float, ev.ICScore]) -> None:
        for t in TOLS:
            self.ic[t] = self.ic[t] + sc[t]

    def row(self) -> dict[str, Any]:
        a, b = self.ic[0.25], self.ic[0.1]
        ce = np.array(self.cad_err)
        return {
            "recordings": self.n_rec,
            "n_ref": a.n_ref,
            "precision": a.precision,
            "recall": a.recall,
            "f1": a.f1,
            "f1_100ms": b.f1,
            "mean_abs_err_ms": a.mean_abs_err_ms,
            "bias_ms": a.bias_ms,
            "step_count_err_pct": a.step_count_err_pct,
            "cadence_segments": int(ce.size) + self.cad_det_missing,
            "cadence_mae_spm": float(ce.mean()) if ce.size else float("nan"),
            "cadence_max_err_spm": float(ce.max()) if ce.size else float("nan"),
            "cadence_within_2spm_pct": 100.0 * float((ce <= 2.0).mean()) if ce.size else float("nan"),
            "cadence_segments_without_detection": self.cad_det_missing,
            "standing_s": self.stand.seconds,
            "standing_false_steps": self.stand.false_steps,
            "false_steps_per_min_standing": self.stand.per_min,
        }


def fmt(x: Any, nd: int = 3) -> str:
    if isinstance(x, float):
        if not math.isfinite(x):
            return "-"
        return f"{x:.{nd}f}"
    return str(x)


def print_table(title: str, rows: dict[str, dict[str, Any]], file=sys.stdout) -> None:
    cols = [
        ("n_ref", "ICs", 0), ("precision", "P", 3), ("recall", "R", 3), ("f1", "F1", 3),
        ("f1_100ms", "F1@0.1", 3), ("mean_abs_err_ms", "|err| ms", 0), ("bias_ms", "bias ms", 0),
        ("step_count_err_pct", "count %", 1), ("cadence_segments", "cad segs", 0),
        ("cadence_mae_spm", "cad err", 2), ("cadence_max_err_spm", "cad max", 1),
        ("cadence_within_2spm_pct", "<=2spm %", 0),
        ("standing_s", "stand s", 0), ("false_steps_per_min_standing", "FP/min st", 2),
    ]
    name_w = max([len(k) for k in rows] + [len(title), 10])
    print(f"\n### {title}\n", file=file)
    head = "| " + "group".ljust(name_w) + " | " + " | ".join(h for _, h, _ in cols) + " |"
    print(head, file=file)
    print("|" + "-" * (name_w + 2) + "|" + "|".join("-" * (len(h) + 2) for _, h, _ in cols) + "|", file=file)
    for k, r in rows.items():
        cells = []
        for key, h, nd in cols:
            v = r.get(key)
            if isinstance(v, (int, np.integer)) and nd == 0:
                s = str(int(v))
            elif isinstance(v, float) and nd == 0:
                s = "-" if not math.isfinite(v) else f"{v:.0f}"
            else:
                s = fmt(v, nd)
            cells.append(s.rjust(len(h)))
        print("| " + k.ljust(name_w) + " | " + " | ".join(cells) + " |", file=file)


def score_one(labels: dict, det_s: np.ndarray, tallies: list[Tally], groups: dict[str, Tally]) -> dict:
    sc = ev.score_recording(labels, det_s, tols_s=TOLS)
    cad_rows = sc.cadence
    for t in tallies:
        t.add_ic(sc.ic)
        t.stand = t.stand + sc.standing
        for c in cad_rows:
            if math.isfinite(c.det_spm):
                t.cad_err.append(abs(c.det_spm - c.ref_spm))
            else:
                t.cad_det_missing += 1
        t.n_rec += 1
        t.seconds += float(labels.get("duration_s", 0.0))
    for key, d in sc.ic_by_group.items():
        g = groups.setdefault(key, Tally())
        g.add_ic(d)
        g.n_rec += 1
    for c in cad_rows:
        g = groups.setdefault(f"{c.activity}/{c.direction}", Tally())
        if math.isfinite(c.det_spm):
            g.cad_err.append(abs(c.det_spm - c.ref_spm))
        else:
            g.cad_det_missing += 1
    if sc.standing.seconds > 0:
        g = groups.setdefault("stand (all)", Tally())
        g.stand = g.stand + sc.standing
        g.n_rec += 1
    return {
        "name": sc.name,
        "ic": {str(t): sc.ic[t].to_dict() for t in TOLS},
        "cadence": [
            {"start_s": c.start_s, "end_s": c.end_s, "activity": c.activity, "direction": c.direction,
             "ref_spm": c.ref_spm, "det_spm": c.det_spm} for c in cad_rows
        ],
        "standing": {"seconds": sc.standing.seconds, "false_steps": sc.standing.false_steps},
    }


def run_peer(peer: str, csvs: list[Path], out_dir: Path) -> dict[str, dict] | None:
    py = Path(os.environ.get("GAIT_MOBGAP_PYTHON", DEFAULT_MOBGAP_PY))
    algo = {"mobgap-full": "full", "mobgap-shin": "shin"}.get(peer)
    if algo is None:
        raise GaitError(f"unknown peer {peer!r}; use mobgap-full or mobgap-shin")
    if not py.exists():
        print(f"skipping {peer}: no peer virtualenv at {py} (run scripts/peers/setup_mobgap.sh "
              "or set GAIT_MOBGAP_PYTHON)", file=sys.stderr)
        return None
    out_dir.mkdir(parents=True, exist_ok=True)
    cmd = [str(py), str(ROOT / "scripts" / "peers" / "run_mobgap.py"), "--algo", algo, "--out", str(out_dir)]
    # Same stems can occur in several folders (variants): run per folder.
    by_parent: dict[Path, list[Path]] = defaultdict(list)
    for c in csvs:
        by_parent[c.parent].append(c)
    dets: dict[str, dict] = {}
    for parent, files in by_parent.items():
        sub = out_dir / str(abs(hash(str(parent))))
        sub.mkdir(exist_ok=True)
        r = subprocess.run(cmd[:-1] + [str(sub)] + [str(f) for f in files], capture_output=True, text=True)
        if r.returncode not in (0, 1):
            print(f"{peer} failed in {parent}: {r.stderr.strip()[-500:]}", file=sys.stderr)
        for f in files:
            p = sub / f"{f.stem}.detections.json"
            if p.exists():
                dets[str(f)] = json.loads(p.read_text())
    return dets


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("dirs", nargs="+", help="folders of labeled recordings (or single labels files)")
    ap.add_argument("--tol", type=float, default=0.25, help="main matching tolerance, s (0.1 is also reported)")
    ap.add_argument("--json", dest="json_out", default=None, help="write every number to this JSON file")
    ap.add_argument("--peer", action="append", default=[], help="mobgap-full and/or mobgap-shin")
    ap.add_argument("--params", default=None, help="analysis parameters as JSON (AnalysisParams fields)")
    ap.add_argument("--no-gait", action="store_true", help="score only the peers")
    ap.add_argument("--split", default=None,
                    help="also report a train/test split: 'train=SUBSTR' puts recordings whose folder "
                         "contains SUBSTR in train, the rest in test")
    # -- direction (issue 4; scripts/bench_direction.py: both modes, reference ICs, timing) --
    ap.add_argument("--direction", action="store_true",
                    help="also score forward/backward direction (see scripts/bench_direction.py)")
    ap.add_argument("--mount", choices=("labels",), default=None,
                    help="analyse with the mount in each recording's labels (known-mount mode; "
                         "default: none, orientation-free)")
    args = ap.parse_args(argv)
    if args.direction:
        from bench_direction import DirectionScorer  # scripts/ is on sys.path when run as a script

        EXTRA_SCORERS.append(DirectionScorer())
    global TOLS
    TOLS = tuple(sorted({args.tol, 0.1}, reverse=True)) if args.tol != 0.25 else (0.25, 0.1)

    from gait.pipeline import analyze
    from gait.signal.params import AnalysisParams

    params = AnalysisParams.from_dict(json.loads(args.params)) if args.params else AnalysisParams()
    recs = find_recordings(args.dirs)
    if not recs:
        print("no labeled recordings found", file=sys.stderr)
        return 2
    systems: list[str] = [] if args.no_gait else ["gait"]
    peer_dets: dict[str, dict[str, dict]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for peer in args.peer:
            t0 = time.perf_counter()
            d = run_peer(peer, [c for _, c, _ in recs], Path(tmp) / peer)
            if d is not None:
                peer_dets[peer] = d
                systems.append(peer)
                print(f"{peer}: {len(d)} recordings in {time.perf_counter() - t0:.1f} s", file=sys.stderr)

    report: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "command": "python scripts/bench_accuracy.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "params": params.to_dict(),
        "systems": {},
    }
    for system in systems:
        total = Tally()
        by_folder: dict[str, Tally] = defaultdict(Tally)
        groups: dict[str, Tally] = {}
        split: dict[str, Tally] = defaultdict(Tally)
        per_rec = []
        extra_rows: list[dict] = []
        runtime = 0.0
        for folder, csv, labp in recs:
            labels = json.loads(labp.read_text())
            if system == "gait":
                rec = load(csv, labels)
                t0 = time.process_time()
                mount = None
                if args.mount == "labels":
                    from bench_direction import _mount_of

                    mount = _mount_of(labels)
                res = analyze(rec, params=params, mount=mount)
                runtime += time.process_time() - t0
                det = res.step_times_s
                for scorer in EXTRA_SCORERS:
                    extra_rows.append(scorer(labels, res))
            else:
                d = peer_dets[system].get(str(csv))
                if d is None:
                    continue
                det = np.asarray(d.get("initial_contacts_s", []), dtype=float)
                runtime += float(d.get("runtime_s") or 0.0)
            tallies = [total, by_folder[folder]]
            if args.split:
                key = args.split.split("=", 1)[1]
                tallies.append(split["train" if key in folder else "test"])
            r = score_one(labels, det, tallies, groups)
            r["folder"] = folder
            per_rec.append(r)
        print(f"\n## {system}: {total.n_rec} recordings, {total.seconds / 60:.1f} min, "
              f"analysis CPU {runtime:.2f} s", flush=True)
        rows_f = {k: v.row() for k, v in sorted(by_folder.items())}
        rows_f["ALL"] = total.row()
        print_table(f"{system}: by folder (+-{TOLS[0]} s)", rows_f)
        order = sorted(groups, key=lambda k: (k.startswith("stand"), k))
        rows_g = {k: groups[k].row() for k in order}
        print_table(f"{system}: by labeled activity/direction (+-{TOLS[0]} s)", rows_g)
        if args.split:
            print_table(f"{system}: split {args.split}", {k: v.row() for k, v in sorted(split.items())})
        for scorer in EXTRA_SCORERS:
            if hasattr(scorer, "table") and extra_rows:
                print(scorer.table(extra_rows))
        report["systems"][system] = {
            "runtime_cpu_s": runtime,
            "by_folder": rows_f,
            "by_group": rows_g,
            "split": {k: v.row() for k, v in split.items()},
            "recordings": per_rec,
            "extra": extra_rows,
        }
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(report, indent=1, default=float))
        print(f"\nwrote {args.json_out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
