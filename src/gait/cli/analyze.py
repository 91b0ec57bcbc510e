"""``gait analyze REC [--out DIR] [--format json|csv|table]``: steps, bouts and cadence.

* ``--format table`` (default): a readable summary and the bouts.
* ``--format json``: the ``gait-result/1`` document (docs/result_schema.md) on stdout.
* ``--format csv``: the steps as CSV on stdout.
* ``--out DIR``: also write ``DIR/result.json``, ``DIR/steps.csv`` and ``DIR/bouts.csv``.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

from ..errors import GaitError
from ..io.results import write_bouts_csv, write_result_json, write_steps_csv
from ._common import add_read_options, parse_params, read_from_args

def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "analyze",
        help="steps, walking/running bouts and cadence of a recording",
        description="Detect steps (initial contacts), walking and running bouts and cadence (and "
                    "direction, when available) in a recording, with the same streaming core as "
                    "the live view. Prints a summary table, the gait-result/1 JSON or the steps "
                    "as CSV; --out DIR writes result.json, steps.csv and bouts.csv.",
    )
    p.add_argument("recording", help="recording file, export folder or zip")
    p.add_argument("--out", metavar="DIR", default=None,
                   help="write DIR/result.json, DIR/steps.csv and DIR/bouts.csv")
    p.add_argument("--format", dest="output", choices=("table", "json", "csv"), default="table",
                   help="what to print: a readable table (default), the gait-result/1 JSON, or "
                        "the steps as CSV")
    p.add_argument("--params", metavar="JSON", default=None,
                   help="analysis parameters as JSON, or @FILE (fields of AnalysisParams; see "
                        "docs/algorithms.md)")
    add_read_options(p, format_option="--input-format")
    p.set_defaults(func=run)


def write_outputs(result, out_dir: str | Path) -> list[Path]:
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
        paths = [out / "result.json", out / "steps.csv", out / "bouts.csv"]
        write_result_json(paths[0], result)
        write_steps_csv(paths[1], result)
        write_bouts_csv(paths[2], result)
    except OSError as exc:
        raise GaitError(f"cannot write results: {exc.strerror}", path=out) from None
    return paths


def _fmt_cad(x) -> str:
    return "-" if x is None or (isinstance(x, float) and not math.isfinite(x)) else f"{x:.1f}"


def table(result, path: str) -> str:
    s = result.summary
    info = result.info
    lines = [f"gait analyze: {path}"]
    dur = s.get("duration_s")
    lines.append(f"  duration        {dur:.1f} s" if dur is not None else "  duration        -")
    lines.append(f"  steps           {s['n_steps']} ({s['n_steps_in_bouts']} in {s['n_bouts']} bouts)")
    lines.append(f"  active time     {s['active_time_s']:.1f} s")
    c = s["cadence_spm"]
    lines.append(f"  cadence (spm)   mean {_fmt_cad(c['mean'])}, median {_fmt_cad(c['median'])}, "
                 f"peak (10 steps) {_fmt_cad(c['peak_10_steps'])}")
    for act, a in sorted(s.get("by_activity", {}).items()):
        lines.append(f"  {act:<15} {a['time_s']:.1f} s, {a['steps']} steps, {a['bouts']} bouts, cadence "
                     f"{_fmt_cad(a.get('cadence_spm'))} spm")
    mode = info.get("direction_mode", "none")
    dirs = s.get("by_direction", {})
    if mode != "none":
        lines.append(f"  direction       ({mode})")
        for d in ("forward", "backward", "unknown"):
            x = dirs.get(d, {})
            if x.get("steps"):
                lines.append(f"    {d:<13} {x['time_s']:.1f} s, {x['steps']} steps, cadence "
                             f"{_fmt_cad(x.get('cadence_spm'))} spm")
    if result.bouts:
        lines.append("")
        lines.append("  bout    start s     end s  activity  direction  steps  cadence spm")
        for b in result.bouts:
            lines.append(f"  {b.id:>4} {b.start_s:>9.2f} {b.end_s:>9.2f}  {b.activity:<8}  "
                         f"{b.direction:<9} {b.n_steps:>6}  {_fmt_cad(b.cadence_spm):>11}")
    return "\n".join(lines) + "\n"


def run(args: argparse.Namespace) -> int:
    from ..pipeline import analyze

    params = parse_params(args.params)
    rec = read_from_args(args, args.recording)
    if rec.duration_s >= 1800 and sys.stderr.isatty():
        from rich.progress import Progress

        with Progress(transient=True, console=None) as bar:
            task = bar.add_task("analysing", total=1.0)
            result = analyze(rec, params=params, progress=lambda f: bar.update(task, completed=f))
    else:
        result = analyze(rec, params=params)
    if args.out:
        write_outputs(result, args.out)
    if args.output == "json":
        write_result_json(sys.stdout, result)
    elif args.output == "csv":
        write_steps_csv(sys.stdout, result)
    else:
        sys.stdout.write(table(result, args.recording))
        if args.out:
            sys.stdout.write(f"\nwrote {Path(args.out) / 'result.json'}, steps.csv, bouts.csv\n")
    return 0
