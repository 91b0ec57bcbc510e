"""From decoded packets to sample blocks on the recording clock (pure; no bleak, no I/O).

Time comes from the sensor: a sample's place in the recording is its sample index (GaitSense)
or its sensor timestamp (Polar), never the time a notification arrived. Missing samples stay
missing: a lost packet or a disconnect becomes a block of NaN samples with ``valid`` False and a
``lost_samples`` event (with its cause; the recorder adds its own ``gap`` event); a firmware
restart (the index starts again at 0) is bridged with the host clock
(:class:`gait.ble.clock.ClockFit`) and marked too.
"""

from __future__ import annotations

import math
from collections import Counter, deque
from dataclasses import asdict, dataclass, field
from typing import Any, Union

import numpy as np

from ..types import SampleBlock
from .clock import ClockFit, Unwrapper
from .protocols import PacketCounter
from .protocols import gaitsense as gs
from .protocols import polar_pmd as pmd


@dataclass(frozen=True, eq=False)
class SensorChunk:
    """Consecutive samples from one packet, indexed on the sensor's own clock."""

    #: Index of the first sample within the current sensor epoch (since the stream started).
    first_index: int
    #: Sensor clock at the first sample, s (unwrapped).
    t_sensor_s: float
    acc_m_s2: np.ndarray
    gyro_rad_s: np.ndarray | None = None
    #: First packet of a new stream epoch (index and sensor clock start again).
    restarted: bool = False
    #: The sensor's FIFO overflowed before this packet (samples lost on the sensor itself).
    overflow: bool = False
    seq: int | None = None

    def __len__(self) -> int:
        return int(len(self.acc_m_s2))


@dataclass
class Event:
    """Something the recording should remember (written as ``# event {json}``)."""

    kind: str
    t_s: float
    data: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "t_s": round(self.t_s, 6), **self.data}


Item = Union[SampleBlock, Event]


@dataclass
class StreamStats:
    n_packets: int = 0
    n_samples: int = 0
    n_lost_samples: int = 0
    n_gaps: int = 0
    n_duplicate_samples: int = 0
    n_restarts: int = 0
    n_overflow: int = 0
    n_lost_packets: int = 0
    n_wrong_rate: int = 0
    #: Sampling rate measured on the sensor's own clock (sample index vs microseconds), Hz.
    fs_measured_hz: float | None = None
    #: How much faster the host clock runs than the sensor clock, ppm (the clock fit's slope).
    drift_ppm: float | None = None
    rejected: Counter = field(default_factory=Counter)

    @property
    def loss_fraction(self) -> float:
        tot = self.n_samples + self.n_lost_samples
        return self.n_lost_samples / tot if tot else 0.0

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["rejected"] = dict(self.rejected)
        d["loss_fraction"] = round(self.loss_fraction, 6)
        return d


class StreamAssembler:
    """Turn :class:`SensorChunk` s into gap-aware :class:`SampleBlock` s and :class:`Event` s.

    Parameters
    ----------
    fs_hz : float
        Nominal sampling rate of the stream (the recording's rate).
    has_gyro : bool
        Whether blocks carry gyro (missing gyro in a chunk becomes NaN).
    """

    def __init__(self, fs_hz: float, *, has_gyro: bool) -> None:
        if not (fs_hz > 0 and math.isfinite(fs_hz)):
            raise ValueError(f"fs_hz must be positive, got {fs_hz}")
        self.fs_hz = float(fs_hz)
        self.has_gyro = bool(has_gyro)
        self.stats = StreamStats()
        self.clock = ClockFit()
        #: recording index = epoch index + offset
        self._offset: int | None = None
        self._expected: int = 0  # next recording index
        self._last_t_sensor_end: float | None = None
        self._last_seq: int | None = None
        self._pending_cause: str | None = None
        self._pending_restart: str | None = None
        self._epoch = 0
        self._recent: deque[tuple] = deque(maxlen=64)
        self._epoch_first: tuple[int, float] | None = None

    # -- signals from the transport ------------------------------------------------------
    def note_disconnect(self) -> None:
        """The link dropped: the next gap is caused by a disconnect."""
        self._pending_cause = "disconnect"

    def note_restart(self, reason: str = "boot id changed") -> None:
        """The transport knows the firmware restarted (e.g. a new boot id after reconnect)."""
        self._pending_restart = reason

    @property
    def next_t_s(self) -> float:
        """Recording time of the next expected sample, s."""
        return self._expected / self.fs_hz

    # -- main entry ----------------------------------------------------------------------
    def push(self, chunk: SensorChunk, t_host_s: float) -> list[Item]:
        n = len(chunk)
        out: list[Item] = []
        if n == 0:
            return out
        key = (chunk.seq, chunk.first_index, round(chunk.t_sensor_s, 6))
        if key in self._recent:  # the very same packet again (a retransmission, a replayed buffer)
            self.stats.n_duplicate_samples += n
            return out
        self._recent.append(key)
        self.stats.n_packets += 1
        if chunk.overflow:
            self.stats.n_overflow += 1
        if chunk.seq is not None:
            if self._last_seq is not None and not chunk.restarted:
                jump = (chunk.seq - self._last_seq) % 65536
                if 1 < jump < 32768:
                    self.stats.n_lost_packets += jump - 1
            self._last_seq = chunk.seq

        if self._offset is None:  # the very first chunk defines t_s = 0
            self._offset = -chunk.first_index
            self._expected = 0
        else:
            epoch_expected = self._expected - self._offset
            went_back = chunk.first_index < epoch_expected
            clock_back = self._last_t_sensor_end is not None and chunk.t_sensor_s < self._last_t_sensor_end - 0.5
            if self._pending_restart or (went_back and (chunk.restarted or chunk.first_index == 0 or clock_back)):
                out.extend(self._restart(chunk, t_host_s))
            elif chunk.first_index + n <= epoch_expected:
                self.stats.n_duplicate_samples += n
                return out

        first = chunk.first_index + self._offset
        acc, gyr = chunk.acc_m_s2, chunk.gyro_rad_s
        if first < self._expected:  # partial overlap with what we already have
            cut = self._expected - first
            self.stats.n_duplicate_samples += cut
            acc = acc[cut:]
            gyr = None if gyr is None else gyr[cut:]
            first = self._expected
        if first > self._expected:
            out.extend(self._gap(self._expected, first))
        m = len(acc)
        if m:
            t = np.arange(first, first + m, dtype=np.float64) / self.fs_hz
            if self.has_gyro:
                g = np.asarray(gyr, dtype=np.float64) if gyr is not None else np.full((m, 3), np.nan)
            else:
                g = None
            out.append(SampleBlock(t_s=t, acc_m_s2=np.asarray(acc, dtype=np.float64), gyro_rad_s=g,
                                   valid=np.ones(m, dtype=bool)))
            self.stats.n_samples += m
            self._expected = first + m
        t_end = chunk.t_sensor_s + (n - 1) / self.fs_hz
        self.clock.add(t_end, t_host_s)
        self._last_t_sensor_end = t_end
        if self._epoch_first is None:
            self._epoch_first = (chunk.first_index, chunk.t_sensor_s)
        else:
            di = chunk.first_index - self._epoch_first[0]
            dt = chunk.t_sensor_s - self._epoch_first[1]
            if di > 0 and dt > 0:
                self.stats.fs_measured_hz = round(di / dt, 4)
        if self.clock.n_points >= 16:
            self.stats.drift_ppm = round(self.clock.drift_ppm, 1)
        return out

    def _gap(self, start: int, stop: int) -> list[Item]:
        k = stop - start
        cause = self._pending_cause or "packet_loss"
        self._pending_cause = None
        self.stats.n_lost_samples += k
        self.stats.n_gaps += 1
        t = np.arange(start, stop, dtype=np.float64) / self.fs_hz
        nan = np.full((k, 3), np.nan)
        block = SampleBlock(t_s=t, acc_m_s2=nan, gyro_rad_s=nan.copy() if self.has_gyro else None,
                            valid=np.zeros(k, dtype=bool))
        ev = Event("lost_samples", start / self.fs_hz, {"start_s": round(start / self.fs_hz, 6),
                                               "end_s": round(stop / self.fs_hz, 6),
                                               "n_samples": int(k), "cause": cause})
        return [ev, block]

    def _restart(self, chunk: SensorChunk, t_host_s: float) -> list[Item]:
        """A new sensor epoch: place it on the recording clock with the host clock."""
        reason = self._pending_restart or ("restart flag" if chunk.restarted else "sample index went back")
        self._pending_restart = None
        self.stats.n_restarts += 1
        self._epoch += 1
        n = len(chunk)
        gap = 0
        if self.clock.intercept is not None and self._last_t_sensor_end is not None:
            # host time of the sample we expected next, and of this chunk's first sample
            slope = self.clock.slope if self.clock.slope > 0 else 1.0
            h_expected = float(self.clock.host_time(self._last_t_sensor_end + 1.0 / self.fs_hz))
            h_first = t_host_s - self.clock.latency_s - slope * (n - 1) / self.fs_hz
            gap = max(0, int(round((h_first - h_expected) / slope * self.fs_hz)))
        self._offset = self._expected + gap - chunk.first_index
        self.clock = ClockFit()
        self._epoch_first = None
        self._recent.clear()
        self._recent.append((chunk.seq, chunk.first_index, round(chunk.t_sensor_s, 6)))
        self._last_t_sensor_end = None
        self._last_seq = chunk.seq
        self._pending_cause = "firmware_restart"  # a restart also drops the link: name the real cause
        return [Event("firmware_restart", self._expected / self.fs_hz,
                      {"reason": reason, "estimated_gap_s": round(gap / self.fs_hz, 3), "epoch": self._epoch})]


# -- packet -> chunk adapters ------------------------------------------------------------------
class GaitSenseDecoder:
    """GaitSense notification bytes -> :class:`SensorChunk` (or None, counted)."""

    def __init__(self) -> None:
        self.counter: PacketCounter[gs.SamplePacket] = PacketCounter(gs.SamplePacket.from_bytes)
        self._unwrap = Unwrapper(1 << 32)
        self.fs_hz: float | None = None
        self.has_gyro: bool | None = None

    def __call__(self, data: bytes) -> SensorChunk | None:
        p = self.counter.decode(data)
        if p is None:
            return None
        if self.fs_hz is None:
            self.fs_hz, self.has_gyro = p.fs_hz, p.has_gyro
        elif p.fs_hz != self.fs_hz:
            self.counter.rejected["wrong_rate"] += 1
            return None
        if p.restarted:
            self._unwrap.reset()
        t_us = self._unwrap(p.t_first_us)
        return SensorChunk(first_index=p.first_index, t_sensor_s=t_us * 1e-6, acc_m_s2=p.acc_m_s2,
                           gyro_rad_s=p.gyro_rad_s, restarted=p.restarted, overflow=p.overflow, seq=p.seq)


class PolarAccDecoder:
    """Polar PMD ACC frames -> :class:`SensorChunk`, indexed from the frame timestamps."""

    def __init__(self, fs_hz: float, *, factor: float = 1.0) -> None:
        self.fs_hz = float(fs_hz)
        self.factor = float(factor)
        self.has_gyro = False
        self.counter: PacketCounter[pmd.PmdDataFrame] = PacketCounter(pmd.PmdDataFrame.from_bytes)
        self._t0: float | None = None
        self._last_t: float | None = None
        self.n_ignored = 0

    def __call__(self, data: bytes) -> SensorChunk | None:
        f = self.counter.decode(data)
        if f is None:
            return None
        if f.measurement_type != pmd.ACC:
            self.n_ignored += 1
            return None
        n = f.n_samples
        t_last = f.timestamp_ns / 1e9
        t_first = t_last - (n - 1) / self.fs_hz
        restarted = False
        if self._t0 is None or (self._last_t is not None and t_last < self._last_t - 1.0):
            restarted = self._t0 is not None
            self._t0 = t_first
        self._last_t = t_last
        idx = int(round((t_first - self._t0) * self.fs_hz))
        return SensorChunk(first_index=idx, t_sensor_s=t_first, acc_m_s2=f.physical(self.factor),
                           restarted=restarted)
