"""``gait scan``: list GaitSense and Polar sensors in range, with RSSI."""

from __future__ import annotations

import argparse
import asyncio


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("scan", help="list Bluetooth LE gait sensors in range (GaitSense, Polar)",
                       description="Scan for GaitSense and Polar PMD sensors and show name, address "
                                   "and signal strength (RSSI).")
    p.add_argument("--timeout", type=float, default=5.0, metavar="S", help="seconds to listen (default 5)")
    p.add_argument("--name", default=None, help="only devices whose name contains this (or with this address; default: any)")
    p.add_argument("--sensor", choices=("gaitsense", "polar", "all"), default="all",
                   help="which sensor family to look for (default all)")
    p.add_argument("--virtual", action="store_true",
                   help="scan the in-process virtual sensor instead of the radio (no hardware)")
    p.set_defaults(func=run)


async def _virtual_scan(args: argparse.Namespace, sensors: tuple[str, ...]):
    import numpy as np

    from ..ble.bumble_backend import VirtualRadio, bumble_backend
    from ..ble.transport import scan
    from ..ble.virtual import VirtualFirmware, VirtualSensor

    radio = VirtualRadio()
    fw = VirtualFirmware(np.tile([0.0, 0.0, 9.81], (1000, 1)), fs_hz=100.0, loop=True)
    dev = VirtualSensor(radio, fw, name="GaitSense-Virtual")
    await dev.start()
    try:
        return await scan(min(args.timeout, 2.0), sensors=sensors, name=args.name,
                          backend=bumble_backend(radio)[0])
    finally:
        await dev.stop()


def run(args: argparse.Namespace) -> int:
    from ..ble.transport import scan
    from ..errors import GaitError

    if not args.timeout > 0:
        raise GaitError(f"--timeout must be positive, got {args.timeout}")
    sensors = ("gaitsense", "polar") if args.sensor == "all" else (args.sensor,)
    if args.virtual:
        found = asyncio.run(_virtual_scan(args, sensors))
    else:
        found = asyncio.run(scan(args.timeout, sensors=sensors, name=args.name))
    if not found:
        print("no sensors found")
        return 1
    print(f"{'rssi':>5}  {'sensor':<9}  {'address':<17}  name")
    for f in found:
        print(f"{f.rssi:>5}  {f.sensor or '?':<9}  {f.address:<17}  {f.name or '-'}")
    return 0
