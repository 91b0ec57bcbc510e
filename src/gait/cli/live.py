"""``gait live``: record and analyse a BLE sensor live (or the virtual sensor with --virtual)."""

from __future__ import annotations

import argparse
import math
from datetime import datetime

from ._common import add_no_view_option, new_recording_path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("live", help="record a Bluetooth LE sensor and show steps, cadence and direction live",
                       description="Connect to a GaitSense (or Polar H10 / Verity Sense) sensor, record "
                                   "every sample to a gait-recording/1 CSV (crash-safe), show steps, "
                                   "cadence, direction, packet loss and connection state live, reconnect "
                                   "by itself after drops, and analyse the recording at the end. "
                                   "Ctrl-C stops and saves. Try `gait live --virtual` without hardware.")
    p.add_argument("--device", default=None, metavar="NAME|ADDRESS",
                   help="device name (or part of it) or address (default: the first sensor found)")
    p.add_argument("--sensor", choices=("gaitsense", "polar"), default="gaitsense",
                   help="sensor protocol (default gaitsense)")
    p.add_argument("-o", "--output", default=None, metavar="run.csv",
                   help="recording to write (default: gait-live-YYYYmmdd-HHMMSS.csv here)")
    p.add_argument("--fs", dest="fs_hz", type=float, default=None, metavar="HZ",
                   help="sampling rate to ask for (default 100 Hz GaitSense, 200 Hz Polar H10; "
                        "a Polar Verity Sense needs --fs 52)")
    p.add_argument("--no-gyro", action="store_true",
                   help="accelerometer only (by default a GaitSense sensor sends gyro too, and on a "
                        "Polar Verity Sense the GYRO stream is recorded next to ACC)")
    p.add_argument("--mount", default=None,
                   help="how the sensor is worn (default gaitsense-right-hip for GaitSense)")
    p.add_argument("--virtual", action="store_true",
                   help="use the built-in virtual sensor (bumble, in-process): no hardware needed")
    p.add_argument("--speed", type=float, default=1.0, help="virtual sensor: signal seconds per second (default 1)")
    p.add_argument("--programme", default="alternating", metavar="SPEC",
                   help="virtual sensor: what the simulated wearer does, a gait.sim preset or programme "
                        "such as 'stand:5,walk:60:forward:110,run:30:backward:175' (default alternating)")
    p.add_argument("--faults", action="store_true",
                   help="virtual sensor: 5 %% packet loss, two disconnects and a firmware restart")
    p.add_argument("--duration", type=float, default=None, metavar="S",
                   help="stop after this many seconds of wall time (default: until Ctrl-C)")
    add_no_view_option(p)
    p.add_argument("--no-report", action="store_true", help="do not write the HTML report at the end")
    p.set_defaults(func=run)


def _virtual_signal(fs_hz: float, programme: str = "alternating"):
    """The simulator's signal as the GaitSense sensor would see it worn on the right hip."""
    from ..sim import simulate

    return simulate(programme, fs_hz=fs_hz, seed=1, mount="gaitsense-right-hip").recording


def run(args: argparse.Namespace) -> int:
    from rich.console import Console

    from ..errors import GaitError
    from ..live.run import main_async, run_session, summarize

    fs = args.fs_hz or (100.0 if args.sensor == "gaitsense" else 200.0)
    if not fs > 0:
        raise GaitError(f"--fs must be positive, got {fs}")
    if args.sensor == "gaitsense" or args.virtual:  # the virtual sensor (Polar too) uses these rates
        from ..ble.protocols.gaitsense import RATE_HZ

        if fs not in RATE_HZ.values():
            what = "the virtual sensor" if args.virtual else "a GaitSense sensor"
            raise GaitError(f"--fs {fs:g}: {what} samples at "
                            f"{', '.join(f'{r:g}' for r in sorted(set(RATE_HZ.values())))} Hz")
    if not args.speed > 0:
        raise GaitError(f"--speed must be positive, got {args.speed}")
    if args.duration is not None and not (args.duration > 0 and math.isfinite(args.duration)):
        raise GaitError(f"--duration must be a positive number of seconds, got {args.duration} "
                        "(leave it out to record until Ctrl-C)")
    out = new_recording_path(args.output or datetime.now().strftime("gait-live-%Y%m%d-%H%M%S.csv"))
    # (the virtual sensor plays the simulator's signal as worn on the right hip, Polar or not)
    mount = args.mount or ("gaitsense-right-hip" if args.sensor == "gaitsense" or args.virtual else None)
    console = Console(stderr=True)
    title = "gait live" + (" (virtual sensor)" if args.virtual else "")

    async def go():
        sensor = None
        if args.virtual:  # bumble objects need the running event loop
            from ..ble.virtual import Faults
            from ..live.sources import virtual_ble_source

            signal_rec = _virtual_signal(fs, args.programme)
            faults = None
            if args.faults:
                d = signal_rec.duration_s
                faults = Faults(packet_loss=0.05, disconnect_at_s=(0.25 * d, 0.75 * d), restart_at_s=(0.5 * d,))
            source, sensor = virtual_ble_source(signal_rec, speed=args.speed, protocol=args.sensor,
                                                faults=faults, gyro=not args.no_gyro)
        else:
            from ..ble.transport import BleSource

            source = BleSource(args.device, sensor=args.sensor, fs_hz=fs, gyro=not args.no_gyro)
        return await run_session(source, output=out, mount=mount, view=not args.no_view, title=title,
                                 console=console, sensor=sensor, stop_after_s=args.duration)

    got = main_async(go())
    if got is None:
        return 130
    session, state = got
    summarize(session, state, output=out, report=not args.no_report, console=console)
    return 0
