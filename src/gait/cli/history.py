"""``gait history [--db PATH] [--json]``: the runs stored by ``gait report``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ._common import add_history_db_option


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "history",
        help="list the runs stored by `gait report` (cadence and backward share per run)",
        description="List the runs in the run history, oldest first: start time, file, duration, "
                    "steps, mean cadence, time and share of steps backward, and the report.",
    )
    add_history_db_option(p)
    p.add_argument("--json", action="store_true", help="print the rows as JSON")
    p.add_argument("--remove", metavar="KEY", default=None,
                   help="delete the run with this key (or the unique start of the key shown in "
                        "the list) and exit")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..errors import GaitError
    from ..history import History, default_db_path
    from ..report.html import fmt_duration, fmt_num, fmt_pct, fmt_time

    path = Path(args.db).expanduser() if args.db else default_db_path()
    if not path.exists():  # listing creates nothing (a mistyped --db must not leave a new file)
        if args.remove:
            raise GaitError(f"no run has a key starting with {args.remove!r} (no history "
                            "database here yet)", path=path)
        if args.json:
            json.dump({"db": str(path), "runs": []}, sys.stdout, indent=2)
            sys.stdout.write("\n")
        else:
            print(f"no runs yet in {path} (gait report REC stores one)")
        return 0
    with History(path) as h:
        rows = h.runs()
        if args.remove:
            match = [r["key"] for r in rows
                     if args.remove in (r["key"], r["key"].split(":")[-1][:len(args.remove)])
                     or r["key"].startswith(args.remove)]
            if len(match) != 1:
                raise GaitError(f"{'no' if not match else 'more than one'} run has a key starting "
                                f"with {args.remove!r}", path=h.path)
            h.remove(match[0])
            print(f"removed {match[0]}")
            return 0
        db = h.path
    if args.json:
        json.dump({"db": str(db), "runs": rows}, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    if not rows:
        print(f"no runs yet in {db} (gait report REC stores one)")
        return 0
    head = ["#", "start", "file", "duration", "steps", "spm", "backward", "key"]
    table = [[str(i), fmt_time(r.get("start_time") or r.get("reported_at"))[:16],
              Path(r.get("path") or "").name or "-", fmt_duration(r.get("duration_s")),
              fmt_num(r.get("n_steps")), fmt_num(r.get("mean_cadence_spm")),
              fmt_pct(r.get("backward_share")), r["key"].split(":")[-1][:10]]
             for i, r in enumerate(rows, 1)]
    try:
        from rich.console import Console
        from rich.table import Table
        from rich.text import Text

        console = Console(highlight=False, markup=False,
                          width=None if sys.stdout.isatty() else 200)
        t = Table(title=f"{len(rows)} run(s) in {db}", title_justify="left")
        for i, c in enumerate(head):
            t.add_column(c, justify="left" if i in (1, 2, 7) else "right",
                         no_wrap=i != 2, overflow="fold")
        for row in table:
            t.add_row(*(Text(x) for x in row))
        console.print(t)
    except ImportError:  # pragma: no cover - rich is a dependency
        print("\t".join(head))
        for row in table:
            print("\t".join(row))
    return 0
