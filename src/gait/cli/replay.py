"""``gait replay``: feed a recording through the live path (source -> analyzer -> view)."""

from __future__ import annotations

import argparse
import math
from pathlib import Path

from ._common import add_no_view_option, add_read_options, new_recording_path, read_from_args


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("replay", help="replay a recording through the live view",
                       description="Replay a recording through exactly the live path (source, "
                                   "streaming analyzer, live view) at real speed or faster.")
    p.add_argument("recording", help="recording to replay (any format gait reads)")
    p.add_argument("--speed", default="1", metavar="1|10|max",
                   help="1 = real time (default), 10 = ten times faster, max = as fast as possible")
    p.add_argument("-o", "--output", default=None, metavar="copy.csv",
                   help="also record what was replayed (gait-recording/1)")
    add_no_view_option(p)
    add_read_options(p)
    p.set_defaults(func=run)


def _speed(text: str) -> float:
    from ..errors import GaitError

    if str(text).lower() == "max":
        return math.inf
    try:
        v = float(text)
    except ValueError:
        raise GaitError(f"--speed must be a number or 'max', got {text!r}") from None
    if not v > 0:
        raise GaitError(f"--speed must be positive, got {text!r}")
    return v


def run(args: argparse.Namespace) -> int:
    from rich.console import Console

    from ..live.run import main_async, run_session
    from ..live.sources import ReplaySource

    speed = _speed(args.speed)
    out = new_recording_path(args.output) if args.output else None
    rec = read_from_args(args, args.recording)
    console = Console(stderr=True)
    source = ReplaySource(rec, speed=speed)
    got = main_async(run_session(source, output=out, mount=args.mount or rec.info.mount, view=not args.no_view,
                                 title=f"gait replay {Path(args.recording).name} (x{args.speed})",
                                 console=console))
    if got is None:
        return 130
    session, state = got
    res = session.result()
    print(f"{state.t_s:.1f} s replayed, {len(res.steps)} steps, {len(res.bouts)} bouts")
    return 0
