"""``gait report REC [REC ...] [-o OUT]``: the per-run cadence report.

One recording: ``OUT/report.html`` (self-contained), ``OUT/figures/*.png`` + ``*.svg`` and
``OUT/result.json``. Many recordings: one such folder per recording under ``OUT`` and
``OUT/index.html`` linking them. Every run is stored in the run history (``--db``,
``GAIT_HISTORY_DB``, or the user's data directory) unless ``--no-history``.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path

from ..errors import GaitError
from ._common import add_history_db_option, add_read_options, read_from_args


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "report",
        help="write a self-contained HTML cadence report (figures, tables, run history)",
        description="Analyse recordings and write, for each, a self-contained HTML report "
                    "(cadence over time by direction, distribution, direction timeline, "
                    "per-minute splits, bouts, effort by direction, data quality, trend against "
                    "earlier runs), its figures as PNG and SVG, and result.json. Each run is "
                    "stored in the run history (see `gait history`).",
    )
    p.add_argument("recordings", nargs="+", metavar="REC", help="recording file(s), export folder or zip")
    p.add_argument("-o", "--out", default=None, metavar="OUT",
                   help="output folder (default: <name>_report for one recording, "
                        "gait_reports for several)")
    h = p.add_argument_group("run history")
    add_history_db_option(h)
    h.add_argument("--no-history", action="store_true",
                   help="do not store this run, and show no trend against earlier runs")
    p.add_argument("--dpi", type=int, default=144, help="resolution of the PNG figures (default 144)")
    add_read_options(p)
    p.set_defaults(func=run)


def _safe_dirname(name: str, used: set[str]) -> str:
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "recording"
    cand, i = stem, 2
    while cand.lower() in used:
        cand = f"{stem}-{i}"
        i += 1
    used.add(cand.lower())
    return cand


def _report_one(args: argparse.Namespace, path: str, out_dir: Path,
                extra_links: dict[str, str] | None = None) -> dict:
    from ..history import History
    from ..pipeline import analyze
    from ..report import write_report
    from ..report.tables import run_record

    src = Path(path)
    if not src.exists():
        raise GaitError("no such file or folder", path=path)
    _check_out_dir(out_dir)  # an unwritable output fails before the work and the history row
    hist = None if args.no_history else History(args.db)  # a bad --db fails before the work
    try:
        rec = read_from_args(args, path)
        result = analyze(rec, mount=getattr(args, "mount", None))
        runs = key = None
        known: set[str] = set()
        if hist is not None:
            known = {r["key"] for r in hist.runs()}
            key = hist.upsert(result, source_path=src, report_path=out_dir / "report.html")
            runs = hist.runs()
        try:
            files = write_report(result, out_dir, source_name=src.name, history_runs=runs,
                                 current_key=key, dpi=args.dpi, extra_links=extra_links)
        except BaseException:  # failed or Ctrl-C: no new history row for a report not written
            if hist is not None and key is not None and key not in known:
                hist.remove(key)
            raise
    finally:
        if hist is not None:
            hist.close()
    return {"files": files, "record": run_record(result)}


def _check_out_dir(out_dir: Path) -> None:
    """Fail early (one line) when ``out_dir`` cannot be made or written; create nothing."""
    probe = out_dir
    while not probe.exists() and probe.parent != probe:
        probe = probe.parent
    if probe.exists() and not probe.is_dir():
        what = "the output path" if probe == out_dir else f"{probe} (on the way to the output)"
        raise GaitError(f"{what} exists and is not a folder; pick a folder with -o", path=out_dir)
    if not os.access(probe, os.W_OK | os.X_OK):
        raise GaitError(f"cannot write there ({probe} is not writable); pick another folder "
                        "with -o", path=out_dir)


def _brief(r: dict) -> str:
    """One line: steps, mean cadence, backward share."""
    from ..report.html import fmt_duration, fmt_num, fmt_pct

    parts = [f"{r['n_steps']} steps", f"{fmt_duration(r['active_s'])} active"]
    if r.get("mean_cadence_spm") is not None:
        parts.append(f"{fmt_num(r['mean_cadence_spm'])} steps/min")
    if r.get("backward_share") is not None:
        parts.append(f"{fmt_pct(r['backward_share'])} of steps backward")
    return ", ".join(parts)


def run(args: argparse.Namespace) -> int:
    paths = list(args.recordings)
    if args.dpi < 30 or args.dpi > 600:
        raise GaitError(f"--dpi must be between 30 and 600, got {args.dpi}")
    if len(paths) == 1:
        src = Path(paths[0])
        out = Path(args.out) if args.out else Path(f"{src.stem or 'recording'}_report")
        done = _report_one(args, paths[0], out)
        print(f"{src.name}: {_brief(done['record'])}")
        print(f"wrote {done['files'].html}")
        return 0

    out = Path(args.out) if args.out else Path("gait_reports")
    _check_out_dir(out)
    out.mkdir(parents=True, exist_ok=True)
    used: set[str] = {"index.html"}
    entries = []
    failed = 0
    for i, path in enumerate(paths, 1):
        name = Path(path).name
        sub = _safe_dirname(Path(path).stem, used)
        try:
            done = _report_one(args, path, out / sub, {"all reports": "../index.html"})
        except GaitError as exc:
            failed += 1
            print(f"gait: error: {exc}", file=sys.stderr)
            entries.append({"name": name, "error": exc.message})
            continue
        print(f"[{i}/{len(paths)}] {name}: {_brief(done['record'])} -> {done['files'].html}",
              file=sys.stderr)
        entries.append(dict(done["record"], name=name, href=f"{sub}/report.html"))
    from ..report import write_index

    idx = write_index(entries, out)
    print(f"wrote {idx} ({len(paths) - failed} report(s){f', {failed} failed' if failed else ''})")
    return 2 if failed else 0
