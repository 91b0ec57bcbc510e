"""``gait info REC [--format json]``: what a recording holds and how it was read."""

from __future__ import annotations

import argparse
import json
import sys

from ._common import add_read_options, read_from_args


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "info",
        help="show format, device, units, rate, duration and gaps of a recording",
        description="Read a recording (any supported format: file, folder or zip) and print what "
                    "was found: format, device, units and how they were decided, rate, duration, "
                    "gaps and the share of samples repaired.",
    )
    p.add_argument("recording", help="recording file, export folder or zip")
    p.add_argument("--format", dest="output", choices=("text", "json"), default="text",
                   help="output: a readable table (text, default) or JSON")
    p.add_argument("--json", dest="output", action="store_const", const="json",
                   help="same as --format json")
    add_read_options(p, format_option="--input-format")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    rec = read_from_args(args, args.recording)
    s = rec.summary()
    if args.output == "json":
        json.dump(s, sys.stdout, indent=2, default=str)
        sys.stdout.write("\n")
        return 0
    _print_table(s)
    return 0


def _fmt_duration(sec: float) -> str:
    if sec < 120:
        return f"{sec:.2f} s"
    h, rem = divmod(int(round(sec)), 3600)
    m, s = divmod(rem, 60)
    return (f"{h} h " if h else "") + f"{m:02d} min {s:02d} s ({sec:.1f} s)"


def _print_table(s: dict) -> None:
    rows: list[tuple[str, str]] = [
        ("file", str(s["path"])),
        ("format", s["format"]),
        ("device", s["device"] or "-"),
        ("mount", s["mount"] or "-"),
    ]
    start = s["start_time"] or (s.get("extra", {}).get("start_time_local") and
                                f"{s['extra']['start_time_local']} (local, no zone)") or "-"
    rows.append(("start", start))
    rows.append(("duration", _fmt_duration(s["duration_s"])))
    meas = s["fs_hz_measured"]
    rate = f"{s['fs_hz']:g} Hz ({s['units_source'].get('fs', '')}"
    rate += f"; measured {meas:.4g} Hz)" if meas else ")"
    rows.append(("rate", rate))
    rows.append(("samples", f"{s['n_samples']} on the uniform clock, {s['n_raw_samples']} in the file"))
    for k in ("acc", "gyro"):
        if k in s["units"]:
            rows.append((f"{k} unit", f"{s['units'][k]}  [{s['units_source'].get(k, '')}]"))
    if "gyro" not in s["units"]:
        rows.append(("gyro", "none"))
    rows.append(("acceleration", s["acc_kind"]))
    gaps = s["gaps"]
    if gaps:
        shown = ", ".join(f"{g['start_s']:.2f}-{g['end_s']:.2f} s" for g in gaps[:5])
        more = f" (+{len(gaps) - 5} more)" if len(gaps) > 5 else ""
        rows.append(("gaps", f"{len(gaps)}, {s['gap_total_s']:.2f} s in all: {shown}{more}"))
    else:
        rows.append(("gaps", "none"))
    rows.append(("repaired", f"{s['n_repaired']} samples ({100 * s['repaired_fraction']:.2f} %)"))
    extra = s.get("extra", {})
    events = extra.get("events")
    if events:
        kinds: dict[str, int] = {}
        for e in events:
            kinds[str(e.get("kind"))] = kinds.get(str(e.get("kind")), 0) + 1
        rows.append(("events", ", ".join(f"{n} {k}" for k, n in kinds.items())))
    header = {k: v for k, v in (extra.get("header") or {}).items()
              if k not in ("clock", "acc_kind", "writer")}
    for k, v in header.items():  # e.g. the simulator's parameters
        text = v if isinstance(v, str) else json.dumps(v, default=str)
        rows.append((f"header.{k}", text if len(text) <= 300 else text[:297] + "..."))
    for i, n in enumerate(s["notes"]):
        rows.append(("note" if i == 0 else "", n))
    try:
        from rich.console import Console
        from rich.table import Table
        from rich.text import Text

        t = Table(show_header=False, box=None, pad_edge=False)
        t.add_column(style="bold")
        t.add_column(overflow="fold")
        for k, v in rows:
            t.add_row(Text(k), Text(v))
        Console(highlight=False, markup=False).print(t)
    except ImportError:  # pragma: no cover - rich is a dependency
        w = max(len(k) for k, _ in rows)
        for k, v in rows:
            print(f"{k:<{w}}  {v}")
