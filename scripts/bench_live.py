"""Benchmark the live path (issue 6).

1. Sustained decode + analysis rate on one core: GaitSense packets of a simulated 400 Hz six-axis
   walk/run (MTU 247, 19 samples per notification) -> decoder -> stream assembler ->
   StreamAnalyzer, as fast as possible. Target: >= 10x real time of 400 Hz (>= 4000 samples/s).
2. CPU at 100 Hz: the same chain's CPU time per second of 100 Hz signal, and a real-time
   LiveSession (replay source at speed 1, recorder + analyzer thread + asyncio) measured with
   the process CPU clock. Target: < 10 % of one core.
3. Delay from notification to step event: packets "arrive" when their last sample is taken;
   for every step, the time from the notification that carried its foot strike to the moment
   the analyzer emitted it (signal time between the two notifications + processing time).

Usage: python scripts/bench_live.py [--seconds 120] [--realtime-s 15]
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import argparse  # noqa: E402
import asyncio  # noqa: E402
import datetime as dt  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

from gait.ble.protocols import gaitsense as gs  # noqa: E402
from gait.ble.stream import GaitSenseDecoder, StreamAssembler  # noqa: E402
from gait.ble.virtual import VirtualFirmware  # noqa: E402
from gait.pipeline import StreamAnalyzer  # noqa: E402
from gait.sim import simulate  # noqa: E402
from gait.types import SampleBlock, Step  # noqa: E402


def packets_for(fs_hz: float, seconds: float, seed: int = 1):
    n_walk = max(10, seconds * 0.45)
    stand_s, run_s = max(1.0, seconds * 0.05), max(10.0, seconds * 0.45)  # short --seconds: no 0 s segment
    prog = f"stand:{stand_s:.0f},walk:{n_walk:.0f}:forward:110,run:{run_s:.0f}:forward:170,stand:{stand_s:.0f}"
    rec = simulate(prog, fs_hz=fs_hz, seed=seed).recording
    fw = VirtualFirmware(rec.acc_m_s2, gyro_rad_s=rec.gyro_rad_s, fs_hz=fs_hz)
    fw.command(bytes(gs.ControlCommand.start(fs_hz)))
    pk = fw.advance(rec.n_samples, deliver=True, flush=True)
    return rec, pk


def run_chain(pk, fs_hz: float):
    """Decode + assemble + analyze every packet; return cpu seconds, samples, per-step delays."""
    dec = GaitSenseDecoder()
    asm = StreamAssembler(fs_hz, has_gyro=True)
    sa = StreamAnalyzer(fs_hz, mount="body")
    arrivals = []  # (t_s of the last sample in the packet) per packet index
    delays_signal, proc = [], []
    n = 0
    t_cpu0 = time.process_time()
    t_wall0 = time.perf_counter()
    for p in pk:
        t0 = time.perf_counter()
        chunk = dec(p)
        t_end = (chunk.first_index + len(chunk) - 1) / fs_hz
        arrivals.append(t_end)
        out = []
        for item in asm.push(chunk, t_end):
            if isinstance(item, SampleBlock):
                n += len(item)
                out += sa.push(item)
        dt_proc = time.perf_counter() - t0
        for ev in out:
            if isinstance(ev, Step):
                # the notification that carried the foot strike arrived at the first t_end >= step time
                carried = next(a for a in arrivals if a >= ev.t_s - 1e-9)
                delays_signal.append(t_end - carried)
                proc.append(dt_proc)
    sa.finish()
    return time.process_time() - t_cpu0, time.perf_counter() - t_wall0, n, np.array(delays_signal), np.array(proc)


async def realtime_session(fs_hz: float, seconds: float) -> float:
    from gait.live.session import LiveSession
    from gait.live.sources import ReplaySource

    rec = simulate(f"walk:{seconds:.0f}:forward:110", fs_hz=fs_hz, seed=3).recording
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        sess = LiveSession(ReplaySource(rec, speed=1.0), output=os.path.join(d, "r.csv"), mount="body")
        c0, w0 = time.process_time(), time.perf_counter()
        await sess.run()
        return (time.process_time() - c0) / (time.perf_counter() - w0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=120.0, help="seconds of signal per throughput run")
    ap.add_argument("--realtime-s", type=float, default=15.0, help="length of the real-time session")
    args = ap.parse_args()
    try:
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
        pinned = "pinned to one core"
    except (AttributeError, OSError):
        pinned = "not pinned"
    print(f"# bench_live {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC, {pinned}, "
          f"{os.cpu_count()} cpus (shared machine: timings are noisy)")

    rec, pk = packets_for(400.0, args.seconds)
    cpu, wall, n, delays, proc = run_chain(pk, 400.0)
    rate = n / cpu
    print(f"400 Hz six-axis, {len(pk)} notifications x {gs.samples_per_packet(247)} samples, {n} samples:")
    print(f"  decode+assemble+analyze: {rate:,.0f} samples/s on one core (cpu {cpu:.2f} s, wall {wall:.2f} s)"
          f" = {rate / 400.0:.1f}x real time of 400 Hz  (target >= 10x); by wall clock {n / wall:,.0f}"
          f" samples/s = {n / wall / 400.0:.1f}x")
    print(f"  notification -> step event: median {np.median(delays):.2f} s, p95 {np.percentile(delays, 95):.2f} s"
          f" of signal time + processing median {1e3 * np.median(proc):.2f} ms ({len(delays)} steps)")

    rec, pk = packets_for(100.0, args.seconds)
    cpu, wall, n, delays, proc = run_chain(pk, 100.0)
    dur = n / 100.0
    print(f"100 Hz six-axis, {n} samples ({dur:.0f} s of signal):")
    print(f"  decode+assemble+analyze cpu: {cpu:.3f} s = {100 * cpu / dur:.2f} % of one core in real time"
          f"  (target < 10 %)")
    print(f"  notification -> step event: median {np.median(delays):.2f} s, p95 {np.percentile(delays, 95):.2f} s"
          f" of signal time + processing median {1e3 * np.median(proc):.2f} ms ({len(delays)} steps)")
    frac = asyncio.run(realtime_session(100.0, args.realtime_s))
    print(f"  real-time LiveSession (replay at speed 1, recorder + analyzer thread), {args.realtime_s:.0f} s: "
          f"process cpu {100 * frac:.1f} % of one core")


if __name__ == "__main__":
    main()
