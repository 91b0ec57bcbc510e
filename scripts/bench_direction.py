"""Direction benchmark: forward/backward accuracy over folders of labelled recordings.

    python scripts/bench_direction.py ../shared/data/dev/* [--mode both|known|free]
        [--steps pipeline|reference] [--timing] [--no-gyro] [--params JSON]
    python scripts/bench_direction.py ../shared/data/dev_variants/rotated/* --mode free

For every recording (``<name>.csv`` + ``<name>.labels.json``, any format ``gait.io`` reads) the
analyzer runs with the mount the labels state (``sensor_frame``; "known" mode) and with no mount
("free", orientation-free); recordings whose frame is ``"unknown"`` run in "free" mode only.
Scoring follows ``../shared/data/README.md`` (:mod:`gait.evaluation_direction`):

* accuracy = labelled forward + backward seconds whose detected direction is right (time no
  detected step covers counts as wrong), with the confusion matrix in seconds;
* per-segment majority for labelled forward/backward segments of >= 2 s and >= 5 s (the
  "bouts" of the targets);
* delay at each labelled forward <-> backward change, in detected steps (within 2 = found);
* ``--timing``: analysis time with the direction stage vs. the same analyzer with the
  do-nothing stage (``UnknownDirection``), i.e. what direction adds.

``--no-gyro`` drops the gyroscope columns first (what a user with an accelerometer-only
sensor gets). ``--steps reference`` runs the direction stage on the labels' reference initial contacts
instead of detected steps (measures the direction method without step-detection errors).
``bench_accuracy.py --direction`` calls :func:`direction_report` from here.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from gait.errors import GaitError  # noqa: E402
from gait.evaluation_direction import (DET_COLS, SCORED, DirectionScore, score_bouts,  # noqa: E402
                                      score_direction)
from gait.frames import parse_mount  # noqa: E402
from gait.io import read_recording  # noqa: E402
from gait.pipeline import analyze  # noqa: E402
from gait.signal.direction import directions_for_steps  # noqa: E402
from gait.signal.stages import UnknownDirection  # noqa: E402
from gait.types import Recording  # noqa: E402


def _mount_of(labels: dict) -> str | None:
    sf = labels.get("sensor_frame")
    if not isinstance(sf, dict):
        return None
    return ",".join(f"{k}={sf[k]}" for k in ("x", "y", "z") if k in sf)


def _plain(rec: Recording, *, gyro: bool = True) -> Recording:
    """The same samples without the header's mount (so 'free' mode really has no mount)."""
    return Recording(t_s=rec.t_s, acc_m_s2=rec.acc_m_s2, gyro_rad_s=rec.gyro_rad_s if gyro else None,
                     fs_hz=rec.fs_hz, valid=rec.valid, gaps=rec.gaps, start_time=rec.start_time)


def iter_labelled(dirs: list[Path]):
    for d in dirs:
        d = Path(d)
        files = [d] if d.is_file() else sorted(d.glob("*.labels.json"))
        for lp in files:
            csv = lp.with_name(lp.name.replace(".labels.json", ".csv"))
            if not csv.exists():
                continue
            yield csv, json.loads(lp.read_text())


def direction_report(dirs: list[Path], *, modes=("known", "free"), steps: str = "pipeline",
                     timing: bool = False, gyro: bool = True, out=print,
                     params: dict | None = None) -> dict[str, DirectionScore]:
    """Score direction over folders; print Markdown tables; return the total score per mode
    (``params``: analysis parameters, AnalysisParams fields; default: the defaults)."""
    totals: dict[str, DirectionScore] = {}
    by_group: dict[str, dict[str, DirectionScore]] = defaultdict(lambda: defaultdict(DirectionScore))
    t_dir = t_none = 0.0
    n_rec = defaultdict(int)
    misses: list[str] = []
    refused: list[str] = []
    for csv, lab in iter_labelled(dirs):
        units = lab.get("units", {})
        mount_spec = _mount_of(lab)
        try:
            rec = read_recording(csv, acc_unit=units.get("acc"), gyro_unit=units.get("gyro"))
        except GaitError as e:  # e.g. shorter than the 2 s we analyse: scored as all uncovered
            rec = None
            refused.append(f"{csv.name}: {e.message}")
        for mode in modes:
            if mode == "known" and mount_spec is None:
                continue
            if rec is None:
                sc = score_direction(lab, [], [], name=lab.get("name", csv.stem))
                totals[mode] = totals.get(mode, DirectionScore()) + sc
                by_group[mode][lab.get("group", "?")] += sc
                n_rec[mode] += 1
                continue
            mount = parse_mount(mount_spec) if mode == "known" else None
            r = rec if mode == "known" and gyro else _plain(rec, gyro=gyro)
            if steps == "reference":
                ics = np.asarray(lab["initial_contacts_s"], float)
                st, _ = directions_for_steps(r.acc_m_s2, r.gyro_rad_s, fs_hz=r.fs_hz, steps_s=ics,
                                             mount=mount)
                t_det, d_det = ics, [s.direction for s in st]
            else:
                res = analyze(r, mount=mount, params=params)
                if timing:  # CPU time, best of 3 alternating runs (the machine is shared)
                    a, b = [], []
                    for _ in range(3):
                        t0 = time.process_time()
                        analyze(r, mount=mount, params=params)
                        t1 = time.process_time()
                        analyze(r, mount=mount, params=params, direction_stage=UnknownDirection())
                        b.append(time.process_time() - t1)
                        a.append(t1 - t0)
                    t_dir += min(a)
                    t_none += min(b)
                t_det = [s.t_s for s in res.steps]
                d_det = [s.direction for s in res.steps]
            sc = score_direction(lab, t_det, d_det, name=lab.get("name", csv.stem))
            if steps != "reference":
                sc.bouts = score_bouts(lab, res.bouts, name=lab.get("name", csv.stem))
            totals[mode] = totals.get(mode, DirectionScore()) + sc
            g = f"{lab.get('group', '?')}"
            by_group[mode][g] = by_group[mode][g] + sc
            n_rec[mode] += 1
            for s in sc.segments:
                if s[4] != s[1]:
                    misses.append(f"{mode}: {s[0]} {s[1]} {s[2]:.1f}-{s[3]:.1f} s -> {s[4]}")
            for b in sc.bouts:
                if b[3] != b[4]:
                    misses.append(f"{mode}: {b[0]} bout {b[1]:.1f}-{b[2]:.1f} s labelled {b[3]} -> {b[4]}")
            for t in sc.transitions:
                if t[3] is None or t[3] > 2:
                    misses.append(f"{mode}: {t[0]} change to {t[2]} at {t[1]:.1f} s: delay {t[3]} steps")
    out("recordings per mode: " + ", ".join(f"{m} {n}" for m, n in n_rec.items()))
    direction_tables(totals, out)
    out("\nBy group (seconds right / labelled s):\n")
    out("| group | " + " | ".join(totals) + " |")
    out("|---|" + "---:|" * len(totals))
    groups = sorted({g for m in by_group.values() for g in m})
    for g in groups:
        cells = []
        for mode in totals:
            s = by_group[mode].get(g)
            cells.append("-" if s is None or s.labelled_s == 0 else f"{100 * s.accuracy:.1f} % of {s.labelled_s:.0f}")
        out(f"| {g} | " + " | ".join(cells) + " |")
    if timing and t_none > 0:
        out(f"\nTiming (CPU, best of 3): analysis with direction {t_dir:.2f} s, without {t_none:.2f} s: "
            f"direction adds {100 * (t_dir - t_none) / t_none:.1f} %")
    if refused:
        out(f"\nNot analysed ({len(refused)}; their labelled time counts as uncovered):")
        for m in refused:
            out(f"- {m}")
    if misses:
        out(f"\nMisses ({len(misses)}):")
        for m in misses[:60]:
            out(f"- {m}")
    return totals


class DirectionScorer:
    """Hook for ``bench_accuracy.py --direction`` (its ``EXTRA_SCORERS`` protocol).

    Called per recording as ``scorer(labels, result)``; ``table(rows)`` gives the Markdown
    summary over the rows it produced (the mode is whatever ``bench_accuracy`` ran).
    """

    key = "direction"

    def __call__(self, labels: dict, result) -> dict:
        sc = score_direction(labels, [s.t_s for s in result.steps],
                             [s.direction for s in result.steps], name=labels.get("name"))
        sc.bouts = score_bouts(labels, result.bouts, name=labels.get("name"))
        return {self.key: sc, "mode": result.info.get("direction_mode", "?")}

    def table(self, rows: list[dict]) -> str:
        by_mode: dict[str, DirectionScore] = {}
        for r in rows:
            if self.key in r:
                by_mode[r["mode"]] = by_mode.get(r["mode"], DirectionScore()) + r[self.key]
        lines: list[str] = []
        direction_tables(by_mode, lines.append)
        return "\n".join(lines)


def direction_tables(totals: dict[str, DirectionScore], out=print) -> None:
    """The summary and confusion tables of :func:`direction_report`."""
    out("\n### direction\n")
    out("| mode | labelled s | seconds right | segments >= 2 s | segments >= 5 s "
        "| detected bouts right | transitions within 2 steps | delays (steps) |")
    out("|---|---:|---:|---:|---:|---:|---:|---|")
    for mode, sc in totals.items():
        r2, n2 = sc.segment_accuracy(2.0)
        r5, n5 = sc.segment_accuracy(5.0)
        tr, tn = sc.transition_summary(2)
        delays = [t[3] for t in sc.transitions]
        hist = {k: sum(1 for d in delays if d == k) for k in sorted({d for d in delays if d is not None})}
        if any(d is None for d in delays):
            hist["never"] = sum(1 for d in delays if d is None)
        rb, nb = sc.bout_accuracy()
        out(f"| {mode} | {sc.labelled_s:.1f} | {100 * sc.accuracy:.2f} % | {r2}/{n2} "
            f"| {r5}/{n5} | {rb}/{nb} | {tr}/{tn} | {hist} |")
    for mode, sc in totals.items():
        out(f"\nConfusion ({mode}), seconds:\n")
        out("| label \\ detected | " + " | ".join(DET_COLS) + " |")
        out("|---|" + "---:|" * len(DET_COLS))
        for rr in SCORED:
            out(f"| {rr} | " + " | ".join(f"{sc.confusion_s[rr][c]:.1f}" for c in DET_COLS) + " |")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("dirs", nargs="+", type=Path, help="folders of labelled recordings")
    ap.add_argument("--mode", choices=("both", "known", "free"), default="both")
    ap.add_argument("--steps", choices=("pipeline", "reference"), default="pipeline")
    ap.add_argument("--timing", action="store_true", help="also time analysis with/without direction")
    ap.add_argument("--no-gyro", action="store_true", help="drop the gyroscope (accelerometer only)")
    ap.add_argument("--params", default=None, help="analysis parameters as JSON (AnalysisParams fields)")
    args = ap.parse_args(argv)
    modes = ("known", "free") if args.mode == "both" else (args.mode,)
    t0 = time.perf_counter()
    direction_report(args.dirs, modes=modes, steps=args.steps, timing=args.timing, gyro=not args.no_gyro,
                     params=json.loads(args.params) if args.params else None)
    print(f"\n({time.perf_counter() - t0:.1f} s; steps: {args.steps}{'; no gyroscope' if args.no_gyro else ''})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
