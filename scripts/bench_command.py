"""What the direction stage adds to one ``gait analyze`` command, as a user runs it.

    python scripts/bench_command.py FILE... [--reps 5] [--mount MOUNT] [--arg=--acc-unit=g ...]
        [--src OTHER_CHECKOUT/src]
    python scripts/bench_command.py --batch PATH... [--reps 3]

``--batch`` times one ``gait batch PATH... -o TMP -j 1 --force -q`` (every recording in one
process, in-process: the import is paid once) instead of one command per file; its exit status
1 (some recordings refused, e.g. shorter than 2 s) is accepted.

Each repetition runs, in fresh Python processes, ``gait analyze FILE --format json`` (output
discarded) twice: with the default direction stage, and with the analyzer's do-nothing stage
(:class:`gait.signal.stages.UnknownDirection`, patched in before the command runs). The CPU
time (user + system) of each whole process is measured: interpreter start, imports, reading
the file, analysis and writing the JSON. The two variants alternate (the machine is shared);
the best time per variant is kept. ``bench_direction.py --timing`` measures the analysis alone
(in-process, after imports); this script measures the command.

Prints one row per file (CPU with / without direction, what direction adds) and the total.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import sys
import gait.pipeline as pipeline
if sys.argv[1] == "none":
    from gait.signal.stages import UnknownDirection
    pipeline.default_stage = lambda **kw: UnknownDirection()
from gait.cli import main
sys.exit(main(sys.argv[2:]))
"""


def run_once(variant: str, args: list[str], src: Path = ROOT / "src", ok_codes=(0,)) -> float:
    """CPU seconds (user + system) of one child process running the command."""
    env = dict(os.environ, PYTHONPATH=str(src), OPENBLAS_NUM_THREADS="1")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    r = subprocess.run([sys.executable, "-c", CHILD, variant, *args], env=env,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if r.returncode not in ok_codes:
        raise SystemExit(f"bench_command: {' '.join(args)} failed: {r.stderr.strip()}")
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def best_pair(cmd: list[str], reps: int, src: Path, ok_codes=(0,)) -> tuple[float, float]:
    """(CPU with direction, without): the best of ``reps`` alternating runs of each."""
    best = {"default": float("inf"), "none": float("inf")}
    for _ in range(reps):
        for variant in best:
            best[variant] = min(best[variant], run_once(variant, cmd, src, ok_codes))
    return best["default"], best["none"]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("files", nargs="+", type=Path)
    ap.add_argument("--reps", type=int, default=5, help="repetitions per variant (best kept)")
    ap.add_argument("--mount", default=None, help="pass --mount to the command (known-mount mode)")
    ap.add_argument("--arg", action="append", default=[],
                    help="extra argument for the command, e.g. --arg=--acc-unit=g")
    ap.add_argument("--src", type=Path, default=ROOT / "src",
                    help="the gait sources to run (default: this checkout's src)")
    ap.add_argument("--batch", action="store_true",
                    help="time one 'gait batch -j 1' over all the paths instead")
    args = ap.parse_args(argv)
    mount = ["--mount", args.mount] if args.mount else []
    if args.batch:
        with tempfile.TemporaryDirectory() as tmp:
            cmd = ["batch", *map(str, args.files), "-o", tmp, "-j", "1", "--force", "-q", *args.arg, *mount]
            w, n = best_pair(cmd, args.reps, args.src, ok_codes=(0, 1))
        print(f"gait batch -j 1 over {' '.join(map(str, args.files))}: CPU with direction {w:.2f} s, "
              f"without {n:.2f} s: direction adds {100 * (w - n) / n:+.1f} % "
              f"(best of {args.reps} alternating runs)")
        return 0
    print("| file | CPU with direction, s | without, s | direction adds |")
    print("|---|---:|---:|---:|")
    tot_w = tot_n = 0.0
    for f in args.files:
        w, n = best_pair(["analyze", str(f), "--format", "json", *args.arg, *mount], args.reps, args.src)
        tot_w += w
        tot_n += n
        print(f"| {f.name} | {w:.3f} | {n:.3f} | {100 * (w - n) / n:+.1f} % |")
    print(f"| **total** ({len(args.files)} files) | {tot_w:.3f} | {tot_n:.3f} | "
          f"**{100 * (tot_w - tot_n) / tot_n:+.1f} %** |")
    mode = f"known mount {args.mount}" if args.mount else "no mount (orientation-free)"
    print(f"\n(`gait analyze FILE --format json` in fresh processes, {mode}, best of {args.reps} "
          f"alternating runs, CPU = user + system)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
