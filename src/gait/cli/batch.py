"""``gait batch PATH_OR_GLOB... -o OUT [--jobs N | --dask tcp://HOST:8786]``."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from ..errors import GaitError
from ._common import add_read_options, check_read_options, parse_params, read_options


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "batch",
        help="analyse many recordings (resumable, parallel, or on a Dask cluster)",
        description="Analyse every recording found under the given files, folders, zips or glob "
                    "patterns. Writes OUT/files/<id>/result.json (+ steps.csv, bouts.csv) per "
                    "recording and one table OUT/runs.csv + OUT/runs.parquet. Re-running skips "
                    "recordings whose results are current (same content, options and version).",
    )
    p.add_argument("inputs", nargs="+", metavar="PATH_OR_GLOB",
                   help="recording files, folders (searched recursively), zips, or quoted globs "
                        "such as 'data/**/*.csv'")
    p.add_argument("-o", "--out", required=True, type=Path, help="output folder")
    where = p.add_mutually_exclusive_group()
    where.add_argument("-j", "--jobs", type=int, default=None,
                       help="local worker processes (default: number of CPUs)")
    where.add_argument("--dask", metavar="ADDRESS", default=None,
                       help="submit one task per file to a dask.distributed scheduler, "
                            "e.g. tcp://HOST:8786 (needs the 'dask' extra)")
    p.add_argument("--force", action="store_true", help="re-analyse files whose results are current")
    p.add_argument("--params", metavar="JSON", default=None,
                   help="analysis parameters as JSON, or @FILE (fields of AnalysisParams; a "
                        "result's info block is accepted too; default: the built-in defaults)")
    add_read_options(p)
    p.add_argument("--no-steps", action="store_true",
                   help="write only result.json per file (no steps.csv / bouts.csv)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..batch import BatchOptions, run_batch

    check_read_options(args)  # a bad option fails here, before any file is read
    params = parse_params(args.params)
    if params is not None:
        params = params.to_dict()
    jobs = args.jobs if args.jobs is not None else (os.cpu_count() or 1)
    if args.jobs is not None and args.jobs < 1:
        raise GaitError(f"--jobs must be 1 or more, got {args.jobs}")
    ro = read_options(args)
    opts = BatchOptions(out_dir=str(args.out), params=params, mount=ro["mount"],
                        format=ro["format"], acc_unit=ro["acc_unit"], gyro_unit=ro["gyro_unit"],
                        fs_hz=ro["fs_hz"], force=args.force, write_steps=not args.no_steps)
    report = run_batch(args.inputs, opts, jobs=jobs, dask_address=args.dask,
                       progress=not args.quiet and sys.stderr.isatty())
    err = sys.stderr
    print(f"{report.n_found} recordings ({report.data_hours:.2f} h of data): "
          f"{report.n_ok} analysed, {report.n_skipped} current (skipped), "
          f"{report.n_failed} failed, in {report.wall_s:.1f} s", file=err)
    for f, reason in report.failures:
        print(f"  failed: {f}: {reason}", file=err)
    for w in report.warnings:
        print(f"gait: warning: {w}", file=err)
    print(f"table: {', '.join(str(t) for t in report.tables)}", file=err)
    return 1 if report.n_failed else 0
