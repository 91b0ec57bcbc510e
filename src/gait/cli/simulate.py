"""``gait simulate OUT.csv``: a simulated hip IMU recording plus its labels."""

from __future__ import annotations

import argparse
from datetime import datetime, timezone

from ..errors import GaitError


def register(subparsers: argparse._SubParsersAction) -> None:
    from ..sim import PRESETS

    p = subparsers.add_parser(
        "simulate",
        help="write a simulated hip IMU recording (forward/backward walking and running) with labels",
        description="Simulate a hip-worn IMU for a programme of standing, walking, running and "
                    "turning, forward or backward, and write OUT.csv (gait-recording/1) and "
                    "OUT.labels.json (gait-labels/1: initial contacts, feet, direction segments, "
                    "every simulator parameter). The same seed gives the same bytes.",
        epilog="Programme: comma-separated segments. walk|run:SECONDS[:forward|backward][:CADENCE]"
               "[:SPEED], stand:SECONDS[:gestures], turn:SECONDS[:left|right][:DEGREES][:walk|run]. "
               "Example: 'stand:5,walk:30:forward:110,run:20:backward:175,stand:5'. "
               "Presets: " + ", ".join(PRESETS) + ".",
    )
    p.add_argument("out", metavar="OUT.csv", help="recording to write (labels go to OUT.labels.json)")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--programme", "--program", dest="programme", metavar="SPEC",
                   help="what the simulated person does (see below)")
    g.add_argument("--preset", metavar="NAME", help=f"a named programme: {', '.join(PRESETS)} "
                   "(default: mixed-run)")
    p.add_argument("--fs", type=float, default=100.0, metavar="HZ",
                   help="sampling rate, 25-400 Hz (default 100)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--side", choices=("right", "left"), default="right",
                   help="hip the sensor is clipped on (default right)")
    p.add_argument("--mount", default=None,
                   help="mount preset or axis mapping (default: gaitsense-<side>-hip)")
    p.add_argument("--rotation", default="none",
                   help="extra sensor rotation: none (default), random, or x=DEG,y=DEG,z=DEG in "
                        "degrees (labels then say sensor_frame 'unknown')")
    p.add_argument("--noise", default="low",
                   help="sensor noise: none, low (default), high, or ACC_SD[,GYRO_SD] in m/s^2, rad/s")
    p.add_argument("--no-gyro", action="store_true", help="accelerometer only")
    p.add_argument("--acc-unit", choices=("g", "m/s2", "m/s^2"), default="m/s2",
                   help="unit the acceleration is written in (default m/s2)")
    p.add_argument("--no-impacts", action="store_true",
                   help="no landing transients (like motion-capture data)")
    p.add_argument("--intensity", type=float, default=1.0,
                   help="gait style: scales the pelvis accelerations and rotations (0.5 smooth, "
                        "1.5 bouncy; default 1)")
    p.add_argument("--start-time", default=None, metavar="ISO",
                   help="absolute start, e.g. 2026-06-01T08:00:00+00:00 (default that, fixed)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..sim import preset_programme, parse_programme, simulate, write_simulation
    from ..sim.output import check_output

    check_output(args.out)  # before the work: a bad or taken output path fails at once
    if args.programme is not None:
        segs = parse_programme(args.programme)
    else:
        segs = preset_programme(args.preset or "mixed-run")
    start = None
    if args.start_time:
        try:
            start = datetime.fromisoformat(args.start_time.replace("Z", "+00:00"))
        except ValueError:
            raise GaitError(f"--start-time {args.start_time!r} is not an ISO date-time") from None
        if start.tzinfo is None:
            start = start.replace(tzinfo=timezone.utc)
    mount = args.mount or f"gaitsense-{args.side}-hip"
    total_s = sum(s.duration_s for s in segs)
    if total_s > 1800:  # long: say what is happening (about 5 s per simulated hour, and writing)
        import sys

        print(f"simulating {total_s / 3600:.2f} h at {args.fs:g} Hz ...", file=sys.stderr, flush=True)
    sim = simulate(segs, fs_hz=args.fs, seed=args.seed, side=args.side, mount=mount,
                   rotation=args.rotation, noise=args.noise, gyro=not args.no_gyro,
                   acc_unit="g" if args.acc_unit == "g" else "m/s^2", start_time=start,
                   impacts=0.0 if args.no_impacts else 1.0, intensity=args.intensity)
    rec_path, lab_path = write_simulation(args.out, sim)
    lab = sim.labels
    print(f"wrote {rec_path} ({sim.recording.n_samples} samples, {lab.duration_s:.1f} s at "
          f"{sim.recording.fs_hz:g} Hz, {len(lab.initial_contacts_s)} steps) and {lab_path}")
    return 0
