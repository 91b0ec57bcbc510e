"""A live run: source -> (recorder, analyzer) with a state the view reads.

Recording never waits for analysis: every block is appended to the recording as soon as it
arrives; the analyzer runs in one worker thread fed by a queue and catches up by concatenating
whatever queued while it was busy.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable

import numpy as np

from ..types import SampleBlock, Step


@dataclass
class LiveState:
    """What the live view shows (updated by the session)."""

    device: str | None = None
    connection: str = "idle"
    t_s: float = 0.0
    n_steps: int = 0
    cadence_spm: float = float("nan")
    direction: str = "unknown"
    activity: str = "other"
    loss_fraction: float = 0.0
    n_lost_samples: int = 0
    n_samples: int = 0
    n_rejected: int = 0
    n_reconnects: int = 0
    n_restarts: int = 0
    recording: str | None = None
    analyzer_lag_s: float = 0.0
    last_event: str | None = None
    started_monotonic: float = field(default_factory=time.monotonic)
    finished: bool = False
    #: delays from a step's sample arriving to the analyzer emitting it, s
    step_delays_s: list[float] = field(default_factory=list)


def _concat(blocks: list[SampleBlock]) -> SampleBlock:
    if len(blocks) == 1:
        return blocks[0]
    gy = None if blocks[0].gyro_rad_s is None else np.concatenate([b.gyro_rad_s for b in blocks])
    return SampleBlock(t_s=np.concatenate([b.t_s for b in blocks]),
                       acc_m_s2=np.concatenate([b.acc_m_s2 for b in blocks]), gyro_rad_s=gy,
                       valid=np.concatenate([b.valid for b in blocks]))


class ShortGapFiller:
    """Apply the project's gap policy to the analyzer feed, as the readers do for files.

    A hole of at most :data:`gait.types.MAX_INTERPOLATED_GAP_S` between two valid samples (one
    lost notification) is filled by linear interpolation; longer holes stay gaps. The recording
    itself keeps every hole as a gap; this only makes the live analysis equal the analysis of the
    recording as ``gait`` reads it. Holds back at most that much signal.
    """

    def __init__(self, fs_hz: float, max_gap_s: float | None = None) -> None:
        from ..types import MAX_INTERPOLATED_GAP_S

        self.fs_hz = float(fs_hz)
        self.max_gap_s = MAX_INTERPOLATED_GAP_S if max_gap_s is None else float(max_gap_s)
        self._last: tuple[float, np.ndarray, np.ndarray | None] | None = None
        self._pending: list[SampleBlock] = []
        self._long = False
        self.n_filled = 0

    def _flush(self) -> list[SampleBlock]:
        out, self._pending = self._pending, []
        return out

    def feed(self, block: SampleBlock) -> list[SampleBlock]:
        if len(block) == 0:
            return []
        v = block.valid
        if not v.any():  # a hole (the assembler emits holes as whole blocks)
            if self._long or self._last is None:
                return self._flush() + [block]
            self._pending.append(block)
            span = float(block.t_s[-1]) + 1.0 / self.fs_hz - self._last[0]
            if span > self.max_gap_s + 1e-9:
                self._long = True
                return self._flush()
            return []
        out: list[SampleBlock] = []
        if self._pending:
            if v[0] and float(block.t_s[0]) - self._last[0] <= self.max_gap_s + 1e-9:
                out.append(self._fill(block))
            else:
                out += self._flush()
        self._pending = []
        self._long = False
        out.append(block)
        k = int(np.flatnonzero(v)[-1])
        self._last = (float(block.t_s[k]), block.acc_m_s2[k].copy(),
                      None if block.gyro_rad_s is None else block.gyro_rad_s[k].copy())
        if not v[-1]:  # a mixed block ending in a hole (replayed files): leave it as it is
            self._long = True
        return out

    def _fill(self, nxt: SampleBlock) -> SampleBlock:
        hole = _concat(self._pending)
        t0, a0, g0 = self._last  # type: ignore[misc]
        t1 = float(nxt.t_s[0])
        w = ((hole.t_s - t0) / (t1 - t0))[:, None]
        acc = a0 + w * (nxt.acc_m_s2[0] - a0)
        gyr = None
        if hole.gyro_rad_s is not None and g0 is not None and nxt.gyro_rad_s is not None:
            gyr = g0 + w * (nxt.gyro_rad_s[0] - g0)
        self.n_filled += len(hole)
        return SampleBlock(t_s=hole.t_s, acc_m_s2=acc, gyro_rad_s=gyr if gyr is not None else hole.gyro_rad_s,
                           valid=np.ones(len(hole), dtype=bool))

    def finish(self) -> list[SampleBlock]:
        return self._flush()


class LiveSession:
    """Run a source through the recorder and the streaming analyzer.

    Parameters
    ----------
    source
        A BLE, virtual or replay source (see :mod:`gait.live.sources`).
    output : path, optional
        Where to record (``gait-recording/1``); None = do not record.
    mount : str, optional
        Mount preset or mapping for the analyzer (direction needs it or the orientation-free
        method).
    on_update : callable, optional
        Called with the :class:`LiveState` after every analyzer update (views, tests).
    """

    def __init__(self, source: Any, *, output: str | Path | None = None, mount: str | None = None,
                 params: Any = None, on_update: Callable[[LiveState], None] | None = None,
                 overwrite: bool = False) -> None:
        self.source = source
        self.output = None if output is None else Path(output)
        self.mount = mount
        self.params = params
        self.on_update = on_update
        self.overwrite = overwrite
        self.state = LiveState(recording=None if output is None else str(output))
        self.events: list[dict[str, Any]] = []
        self.steps: list[Step] = []
        self.bouts: list[Any] = []
        self.writer: Any = None
        self.analyzer: Any = None
        self._arrivals: deque[tuple[float, float]] = deque(maxlen=4096)  # (block end t_s, monotonic)
        self._q: asyncio.Queue[SampleBlock | None] = asyncio.Queue()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="gait-analyzer")
        self._filler: ShortGapFiller | None = None

    # -- recorder ---------------------------------------------------------------------------
    def _open_writer(self, first: SampleBlock) -> None:
        if self.output is None:
            return
        from ..io.gaitcsv import RecordingWriter

        start = datetime.now(timezone.utc) - timedelta(seconds=float(len(first)) / self.source.fs_hz)
        extra = {"source": type(self.source).__name__, "live": True}
        sensor = getattr(self.source, "sensor", None)
        if sensor:
            extra["sensor"] = sensor
        self.writer = RecordingWriter.open(self.output, fs_hz=self.source.fs_hz,
                                           device=getattr(self.source, "device_name", None),
                                           mount=self.mount or getattr(self.source, "mount", None),
                                           start_time=start, has_gyro=bool(self.source.has_gyro),
                                           header_extra=extra, overwrite=self.overwrite)

    # -- analyzer (worker thread) ---------------------------------------------------------------
    def _analyze(self, block: SampleBlock | None) -> tuple[list[Any], Any]:
        out = self.analyzer.push(block) if block is not None else self.analyzer.finish()
        return out, self.analyzer.status()

    async def _analyzer_task(self) -> None:
        loop = asyncio.get_running_loop()
        done = False
        while not done:
            blocks = [await self._q.get()]
            while not self._q.empty():
                blocks.append(self._q.get_nowait())
            if blocks[-1] is None:
                done = True
                blocks.pop()
            if blocks:
                out, status = await loop.run_in_executor(self._pool, self._analyze, _concat(blocks))
                self._take(out, status)
        out, status = await loop.run_in_executor(self._pool, self._analyze, None)
        self._take(out, status)

    def _take(self, out: list[Any], status: Any) -> None:
        now = time.monotonic()
        for ev in out:
            if isinstance(ev, Step):
                self.steps.append(ev)
                arr = next((m for (t_end, m) in self._arrivals if t_end >= ev.t_s), None)
                if arr is not None:
                    self.state.step_delays_s.append(now - arr)
            else:
                self.bouts.append(ev)
        s = self.state
        s.n_steps = len(self.steps)
        s.cadence_spm = float(status.cadence_spm)
        s.direction = status.direction
        s.activity = status.activity
        s.analyzer_lag_s = max(0.0, s.t_s - float(status.t_s))
        if self.on_update is not None:
            self.on_update(s)

    # -- main ----------------------------------------------------------------------------------
    async def run(self) -> LiveState:
        from ..pipeline import StreamAnalyzer

        self.analyzer = StreamAnalyzer(self.source.fs_hz, mount=self.mount, params=self.params)
        self._filler = ShortGapFiller(self.source.fs_hz)
        task = asyncio.create_task(self._analyzer_task(), name="gait-analyzer")
        s = self.state
        try:
            async for item in self.source.stream():
                s.connection = getattr(self.source, "state", "streaming")
                s.device = getattr(self.source, "device_name", None)
                if isinstance(item, SampleBlock):
                    if self.writer is None and self.output is not None:
                        self._open_writer(item)
                        for ev in self.events:  # events from before the first sample
                            self.writer.event(ev)
                    if self.writer is not None:
                        self.writer.append(item)
                    if len(item):
                        s.t_s = float(item.t_s[-1]) + 1.0 / self.source.fs_hz
                        self._arrivals.append((float(item.t_s[-1]), time.monotonic()))
                    for b in self._filler.feed(item):
                        self._q.put_nowait(b)
                else:
                    ev = item.to_dict()
                    self.events.append(ev)
                    s.last_event = ev["kind"]
                    if ev["kind"] == "reconnected":
                        s.n_reconnects += 1
                    if self.writer is not None:
                        self.writer.event(ev)
                st = self.source.stats
                s.loss_fraction = st.loss_fraction
                s.n_lost_samples = st.n_lost_samples
                s.n_samples = st.n_samples
                s.n_rejected = int(sum(dict(st.rejected).values()))
                s.n_restarts = int(getattr(st, "n_restarts", 0))
        finally:
            for b in self._filler.finish():
                self._q.put_nowait(b)
            self._q.put_nowait(None)
            try:
                await task
            finally:
                self._pool.shutdown(wait=True)
                if self.writer is not None:
                    try:
                        stats = getattr(self.source, "stats", None)
                        if stats is not None and hasattr(stats, "to_dict"):
                            self.writer.event({"kind": "end", "t_s": round(s.t_s, 6), "stats": stats.to_dict()})
                    finally:
                        self.writer.close()
                s.connection = "finished"
                s.finished = True
                if self.on_update is not None:
                    self.on_update(s)
        return s

    def result(self) -> Any:
        """The analyzer's :class:`~gait.types.GaitResult` (after :meth:`run`)."""
        return self.analyzer.result()


def fmt_cadence(x: float) -> str:
    return "-" if not math.isfinite(x) else f"{x:.0f}"
