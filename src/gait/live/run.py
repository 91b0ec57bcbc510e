"""Glue for the ``gait live`` / ``gait replay`` commands: run a session with the terminal view,
stop cleanly on Ctrl-C, then analyse (and report) the recording."""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.live import Live

from .session import LiveSession, LiveState
from .view import render


async def run_session(source: Any, *, output: str | Path | None, mount: str | None, view: bool,
                      title: str, console: Console | None = None, sensor: Any = None,
                      stop_after_s: float | None = None) -> tuple[LiveSession, LiveState]:
    """Run ``source`` through a :class:`LiveSession` with an optional rich view.

    Ctrl-C (SIGINT) and SIGTERM ask the source to stop; the recording is closed properly.
    ``sensor`` is a virtual sensor to start before and stop after.
    """
    console = console or Console(stderr=True)
    loop = asyncio.get_running_loop()
    if sensor is not None:
        await sensor.start()
    session = LiveSession(source, output=output, mount=mount)
    stopping = {"n": 0}

    def on_signal() -> None:
        stopping["n"] += 1
        source.stop()

    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, on_signal)
        except (NotImplementedError, RuntimeError):  # Windows / not the main thread
            pass
    timer = None
    if stop_after_s is not None:
        timer = loop.call_later(stop_after_s, source.stop)
    try:
        if view and console.is_terminal:
            with Live(render(session.state, title=title), console=console, refresh_per_second=4,
                      transient=False) as live:
                session.on_update = lambda s: None
                task = asyncio.create_task(session.run())
                while not task.done():
                    live.update(render(session.state, title=title))
                    await asyncio.wait({task}, timeout=0.25)
                live.update(render(session.state, title=title))
                state = task.result()
        else:
            state = await session.run()
    finally:
        if timer is not None:
            timer.cancel()
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.remove_signal_handler(sig)
            except (NotImplementedError, RuntimeError):
                pass
        if sensor is not None:
            await sensor.stop()
    return session, state


def summarize(session: LiveSession, state: LiveState, *, output: Path | None, report: bool,
              console: Console) -> None:
    """Print what happened; analyse the recording offline and write the report next to it."""
    lost = f"{100 * state.loss_fraction:.1f} % samples lost" if state.n_samples else "no samples"
    no_gyro = int(getattr(getattr(session.source, "stats", None), "n_gyro_missing", 0) or 0)
    console.print(f"{state.t_s:.1f} s, {state.n_steps} steps (live), {lost}, "
                  f"{state.n_reconnects} reconnects, {state.n_restarts} firmware restarts"
                  + (f", {no_gyro} samples without gyro (lost GYRO frames)" if no_gyro else ""))
    if output is None or not output.exists():
        return
    console.print(f"recording: {output}")
    from ..io import read_recording
    from ..pipeline import analyze

    try:
        rec = read_recording(output)
        result = analyze(rec, mount=session.mount)
    except Exception as exc:  # a short or empty run: say so, keep the recording
        console.print(f"[yellow]analysis skipped: {exc}[/yellow]")
        return
    s = result.summary
    console.print(f"analysis of the recording: {len(result.steps)} steps, {len(result.bouts)} bouts"
                  + (f", mean cadence {s.get('cadence_spm_mean'):.0f} steps/min"
                     if isinstance(s.get("cadence_spm_mean"), (int, float)) else ""))
    if report:
        try:
            from ..report import write_report
        except ImportError:
            return
        out_dir = output.with_name(output.stem + "_report")
        try:
            files = write_report(result, out_dir, source_name=output.name)
            console.print(f"report: {getattr(files, 'html', out_dir)}")
        except Exception as exc:
            console.print(f"[yellow]report not written: {exc}[/yellow]")


def main_async(coro: Any) -> Any:
    """``asyncio.run`` that turns a stray KeyboardInterrupt into a clean exit."""
    try:
        return asyncio.run(coro)
    except KeyboardInterrupt:
        print("gait: interrupted", file=sys.stderr)
        return None
