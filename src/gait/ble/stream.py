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
    #: Samples recorded with NaN gyro (Polar: lost GYRO frames, gyro late or absent).
    n_gyro_missing: int = 0
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


@dataclass
class _PendingAcc:
    """ACC samples of one frame (or its tail) still waiting for their gyro."""

    first_index: int
    t_first_s: float  # sensor clock (absolute, s)
    t_rel_s: float  # the same on the decoder's relative clock (s since its first frame)
    acc_m_s2: np.ndarray
    restarted: bool
    epoch: int


class PolarImuDecoder:
    """Polar PMD ACC **and** GYRO frames -> six-axis :class:`SensorChunk` s on the ACC grid.

    The two measurements arrive as separate notifications on the PMD data characteristic, each
    frame stamped with the sensor time of its LAST sample (ns) and each stream at its own rate;
    they need not start together and their frames need not line up. The accelerometer defines
    the sample grid (its samples are indexed from their frame timestamps, a timestamp going
    back by more than 1 s starting a new index epoch); each ACC sample gets the gyro linearly interpolated at its
    sensor time between the two gyro samples around it.

    * An ACC sample waits until gyro covering its time has arrived. The wait is bounded: once
      the newest ACC sample is more than ``wait_s`` (the larger of ``max_wait_s`` and three gyro
      frames) past it, it is released with NaN gyro. A gyro sample within 2 % of a period of an
      ACC sample's instant is taken as it is. ACC samples are never dropped.
    * Gyro is interpolated only between gyro samples at most ``max_hole_periods`` gyro periods
      apart: across a lost GYRO frame the ACC samples get NaN gyro (the analysis then uses its
      accelerometer-only direction evidence for the steps there). NaN gyro is counted in
      :attr:`n_gyro_missing`.
    * A timestamp going back by more than 1 s is a sensor restart (a new epoch) for either
      stream; ACC still waiting from the old epoch is released with the gyro of the old epoch.
    * :meth:`flush` (a disconnect, the end of the stream) releases everything still waiting.

    Parameters
    ----------
    fs_hz : float
        ACC sampling rate, Hz (the recording's rate).
    gyro_fs_hz : float, optional
        GYRO sampling rate, Hz (default ``fs_hz``).
    factor, gyro_factor : float
        Scale factors of compressed frames (from the START responses).
    gyro : bool
        False: accelerometer only (gyro frames ignored, no waiting).
    max_wait_s : float
        Lower bound of the wait for gyro, s of sensor time (before the first GYRO frame it is
        the whole bound, so it must exceed one GYRO frame plus its delivery delay).
    max_hole_periods : float
        Longest spacing of two gyro samples that is interpolated across, in gyro periods.
    """

    def __init__(self, fs_hz: float, *, gyro_fs_hz: float | None = None, factor: float = 1.0,
                 gyro_factor: float = 1.0, gyro: bool = True, max_wait_s: float = 2.0,
                 max_hole_periods: float = 2.5) -> None:
        if not (fs_hz > 0 and math.isfinite(fs_hz)):
            raise ValueError(f"fs_hz must be positive, got {fs_hz}")
        self.fs_hz = float(fs_hz)
        self.gyro_fs_hz = float(gyro_fs_hz or fs_hz)
        self.factor = float(factor)
        self.gyro_factor = float(gyro_factor)
        self.has_gyro = bool(gyro)
        self.max_wait_s = float(max_wait_s)
        self.max_hole_periods = float(max_hole_periods)
        self.counter: PacketCounter[pmd.PmdDataFrame] = PacketCounter(pmd.PmdDataFrame.from_bytes)
        self.n_ignored = 0
        self.n_gyro_frames = 0
        #: ACC samples released with NaN gyro (lost GYRO frames, gyro late or absent).
        self.n_gyro_missing = 0
        self._ref_ns: int | None = None
        # ACC stream
        self._t0: float | None = None  # relative time of ACC index 0 in this epoch
        self._last_t: float | None = None
        self._a_epoch = 0
        self._pending: deque[_PendingAcc] = deque()
        self._next_t: float | None = None  # relative time of the next ACC sample not yet released
        # GYRO stream: one buffer, of epoch _g_epoch
        self._g_epoch = 0
        self._g_last_t: float | None = None
        self._gt = np.empty(0)
        self._gx = np.empty((0, 3))
        self._g_frame_s = 0.0

    @property
    def wait_s(self) -> float:
        """How long (sensor time) an ACC sample waits for its gyro at most, s."""
        return max(self.max_wait_s, 3.0 * self._g_frame_s)

    @property
    def n_waiting(self) -> int:
        """ACC samples received but not yet released."""
        return int(sum(len(p.acc_m_s2) for p in self._pending))

    def _rel(self, ts_ns: int) -> float:
        if self._ref_ns is None:
            self._ref_ns = int(ts_ns)
        return (int(ts_ns) - self._ref_ns) / 1e9

    # -- input --------------------------------------------------------------------------------
    def __call__(self, data: bytes) -> list[SensorChunk]:
        f = self.counter.decode(data)
        if f is None:
            return []
        if f.measurement_type == pmd.ACC:
            return self._acc(f)
        if f.measurement_type == pmd.GYRO and self.has_gyro:
            return self._gyro(f)
        self.n_ignored += 1
        return []

    def flush(self) -> list[SensorChunk]:
        """Release every waiting ACC sample (gyro where it has arrived, NaN elsewhere)."""
        return self._release(force=True)

    def _acc(self, f: pmd.PmdDataFrame) -> list[SensorChunk]:
        n = f.n_samples
        t_last = self._rel(f.timestamp_ns)
        t_first = t_last - (n - 1) / self.fs_hz
        out: list[SensorChunk] = []
        restarted = False
        if self._t0 is None or (self._last_t is not None and t_last < self._last_t - 1.0):
            restarted = self._t0 is not None
            if restarted:  # the old epoch's samples get what gyro the old epoch has
                out += self._release(force=True)
                self._a_epoch += 1
                self._next_t = None
            self._t0 = t_first
        self._last_t = t_last
        idx = int(round((t_first - self._t0) * self.fs_hz))
        acc = f.physical(self.factor)
        t_abs = f.timestamp_ns / 1e9 - (n - 1) / self.fs_hz
        if not self.has_gyro:  # (anything still waiting from before gyro was turned off first)
            out += self._release(force=True) if self._pending else []
            return out + [SensorChunk(first_index=idx, t_sensor_s=t_abs, acc_m_s2=acc, restarted=restarted)]
        self._pending.append(_PendingAcc(idx, t_abs, t_first, acc, restarted, self._a_epoch))
        return out + self._release()

    def _gyro(self, f: pmd.PmdDataFrame) -> list[SensorChunk]:
        self.n_gyro_frames += 1
        n = f.n_samples
        t_last = self._rel(f.timestamp_ns)
        out: list[SensorChunk] = []
        if self._g_last_t is not None and t_last < self._g_last_t - 1.0:  # the gyro restarted
            # no more gyro for the old epoch: what waits from it (or before it) is final
            out += self._release(final_epoch=self._g_epoch)
            self._g_epoch += 1
            self._gt, self._gx = np.empty(0), np.empty((0, 3))
        self._g_last_t = t_last
        t = t_last - (n - 1 - np.arange(n)) / self.gyro_fs_hz
        x = f.physical(self.gyro_factor)
        if len(self._gt):  # drop what overlaps what we have (a repeated frame)
            keep = t > self._gt[-1] + self._tol
            t, x = t[keep], x[keep]
        self._gt = np.concatenate([self._gt, t])
        self._gx = np.concatenate([self._gx, x])
        self._g_frame_s = max(self._g_frame_s, n / self.gyro_fs_hz)
        return out + self._release()

    @property
    def _tol(self) -> float:
        return 0.02 / max(self.fs_hz, self.gyro_fs_hz)

    # -- output -------------------------------------------------------------------------------
    def _covered_until(self, epoch: int) -> float:
        """Relative time up to which gyro of ``epoch`` has arrived (-inf: none yet)."""
        if epoch < self._g_epoch:
            return math.inf
        if epoch > self._g_epoch or not len(self._gt):
            return -math.inf
        return float(self._gt[-1]) + self._tol

    def _release(self, *, force: bool = False, final_epoch: int | None = None) -> list[SensorChunk]:
        out: list[SensorChunk] = []
        newest = -math.inf if self._last_t is None else self._last_t
        while self._pending:
            p = self._pending[0]
            m = len(p.acc_m_s2)
            times = p.t_rel_s + np.arange(m) / self.fs_hz
            if force or (final_epoch is not None and p.epoch <= final_epoch) or p.epoch < self._a_epoch:
                k = m
            else:
                k = int(np.searchsorted(times, self._covered_until(p.epoch), side="right"))
                if p.epoch == self._a_epoch:  # the bounded wait
                    k = max(k, int(np.searchsorted(times, newest - self.wait_s, side="right")))
            if k == 0:
                break
            gyr = self._gyro_at(times[:k], p.epoch)
            self.n_gyro_missing += int((~np.isfinite(gyr).all(axis=1)).sum())
            out.append(SensorChunk(first_index=p.first_index, t_sensor_s=p.t_first_s, acc_m_s2=p.acc_m_s2[:k],
                                   gyro_rad_s=gyr, restarted=p.restarted))
            if p.epoch == self._a_epoch:
                self._next_t = float(times[k - 1]) + 1.0 / self.fs_hz
            if k < m:
                self._pending[0] = _PendingAcc(p.first_index + k, p.t_first_s + k / self.fs_hz,
                                               p.t_rel_s + k / self.fs_hz, p.acc_m_s2[k:], False, p.epoch)
                break
            self._pending.popleft()
        self._prune()
        return out

    def _gyro_at(self, times: np.ndarray, epoch: int) -> np.ndarray:
        out = np.full((len(times), 3), np.nan)
        gt = self._gt
        if epoch != self._g_epoch or len(gt) == 0:
            return out
        tol = self._tol
        i = np.searchsorted(gt, times + tol, side="right") - 1  # gt[i] <= t (+tol)
        ok = i >= 0
        il = np.clip(i, 0, len(gt) - 1)
        ir = np.clip(i + 1, 0, len(gt) - 1)
        # a gyro sample at the same instant (within 2 % of a period) is taken as it is
        exact = ok & (np.abs(gt[il] - times) <= tol)
        bracket = ok & ~exact & (i + 1 < len(gt)) & (gt[ir] - gt[il] <= self.max_hole_periods / self.gyro_fs_hz)
        out[exact] = self._gx[il[exact]]
        if bracket.any():
            for c in range(3):
                out[bracket, c] = np.interp(times[bracket], gt, self._gx[:, c])
        return out

    def _prune(self) -> None:
        """Forget gyro older than any ACC sample can still need (keeps the buffer small)."""
        if not len(self._gt):
            return
        if self._pending and self._pending[0].epoch == self._g_epoch:
            keep_from = self._pending[0].t_rel_s
        elif self._next_t is not None and self._a_epoch == self._g_epoch:
            keep_from = self._next_t
        else:
            keep_from = float(self._gt[-1]) - 10.0
        cut = int(np.searchsorted(self._gt, keep_from - 1.0))
        if cut > 0:
            self._gt, self._gx = self._gt[cut:], self._gx[cut:]
