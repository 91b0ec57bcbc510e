"""A virtual GaitSense sensor (and Polar PMD device) for tests and ``gait live --virtual``.

Two layers:

* :class:`VirtualFirmware` (pure, no bumble): the firmware's packet generator. It plays a signal
  (a recording or the simulator's) sample by sample, batches samples per MTU, keeps the sample
  index, the drifting microsecond clock, the sequence number and the boot id, and models the
  faults: packet loss (a packet sent but never received), time spent disconnected (samples are
  taken but nobody receives them) and firmware restarts (index, clock and seq start again).
  It records which source samples reached the air (:attr:`VirtualFirmware.sent`), so a test can
  check that nothing was lost beyond the injected faults.
* :class:`VirtualSensor`: a bumble peripheral on a :class:`~gait.ble.bumble_backend.VirtualRadio`
  that advertises like the real firmware, serves the GATT service (and Polar PMD) and streams
  the firmware's packets in (accelerated) real time, executing a :class:`Faults` schedule.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from .protocols import PacketError
from .protocols import gaitsense as gs
from .protocols import polar_pmd as pmd

log = logging.getLogger(__name__)


@dataclass
class Faults:
    """What goes wrong, in seconds of the played signal (sensor time)."""

    #: Probability that a notification is lost in the air.
    packet_loss: float = 0.0
    #: Sensor times at which the peripheral drops the connection.
    disconnect_at_s: tuple[float, ...] = ()
    #: Sensor times at which the firmware restarts (drops the link, reboots, waits for START).
    restart_at_s: tuple[float, ...] = ()
    #: How long the device stays unreachable after a disconnect or restart, sensor seconds.
    down_s: float = 1.0
    seed: int = 0


class VirtualFirmware:
    """The firmware's sampling and packetising, without any radio."""

    def __init__(self, acc_m_s2: np.ndarray, *, fs_hz: float, gyro_rad_s: np.ndarray | None = None,
                 mtu: int = 247, drift_ppm: float = 30.0, loop: bool = False, seed: int = 0,
                 acc_range_code: int = 2, gyro_range_code: int = 4) -> None:
        self.fs_hz = float(fs_hz)
        self.rate_code = gs.rate_code_for(self.fs_hz)
        self.acc_range_code, self.gyro_range_code = acc_range_code, gyro_range_code
        self.acc_raw, self.gyro_raw = gs.quantize(acc_m_s2, gyro_rad_s, acc_range_code=acc_range_code,
                                                  gyro_range_code=gyro_range_code)
        self.n_source = len(self.acc_raw)
        self.mtu = mtu
        self.drift = drift_ppm * 1e-6
        self.loop = loop
        self._rng = np.random.default_rng(seed)
        self.boot_id = int(self._rng.integers(1, 2**32 - 1))
        self.streaming = False
        self.j = 0  # next source sample to be taken
        self.epoch_start_j = 0
        self.boot_j = 0
        self.seq = 0
        self._restart_flag = False
        #: source sample indices that went out in a delivered notification
        self.sent = np.zeros(self.n_source if not loop else 0, dtype=bool)
        self.n_packets_dropped = 0
        self.n_packets_sent = 0
        self.last_ranges: list[tuple[int, int]] = []
        # Polar GYRO: its own stream (started by its own START), cursor and frames
        self.gyro_streaming = False
        self.gj = 0  # next source sample of the gyro stream
        #: source sample indices whose gyro went out in a delivered GYRO frame
        self.gyro_sent = np.zeros(len(self.sent), dtype=bool)
        self.last_gyro_ranges: list[tuple[int, int]] = []

    # -- control ---------------------------------------------------------------------------
    @property
    def spp(self) -> int:
        return gs.samples_per_packet(self.mtu, gyro=self.gyro_raw is not None)

    @property
    def finished(self) -> bool:
        return not self.loop and self.j >= self.n_source

    def status(self) -> gs.DeviceStatus:
        rng = (self.acc_range_code & 0x0F) | (self.gyro_range_code << 4)
        return gs.DeviceStatus(gs.PROTOCOL_VERSION, gs.STATE_STREAMING if self.streaming else gs.STATE_IDLE,
                               self.rate_code, rng, self.boot_id, 0x0100)

    def command(self, data: bytes) -> None:
        cmd = gs.ControlCommand.from_bytes(data)  # PacketError -> ATT error by the caller
        if cmd.opcode == gs.OP_STOP:
            self.streaming = False
            return
        if cmd.rate_code != self.rate_code:
            raise PacketError(gs.RejectReason.BAD_FIELD, "the virtual sensor plays its signal at its own rate")
        if not self.streaming:  # a START while streaming resumes the same stream
            self.streaming = True
            self.epoch_start_j = self.j
            self._restart_flag = True

    def restart(self) -> None:
        """Power cycle: new boot id, idle until START, index/clock/seq from zero."""
        self.boot_id = int(self._rng.integers(1, 2**32 - 1))
        self.streaming = False
        self.gyro_streaming = False
        self.seq = 0
        self.boot_j = self.j

    def t_us(self, j: int) -> int:
        """The sensor's micros() when source sample j is taken (drifting crystal)."""
        return int(round(((j - self.boot_j) / self.fs_hz + 0.25) * 1e6 * (1.0 + self.drift)))

    # -- sampling ---------------------------------------------------------------------------
    def _src(self, j0: int, j1: int) -> tuple[np.ndarray, np.ndarray | None]:
        idx = np.arange(j0, j1) % self.n_source
        return self.acc_raw[idx], None if self.gyro_raw is None else self.gyro_raw[idx]

    def advance(self, j_now: int, *, deliver: bool, loss: float = 0.0, flush: bool = False,
                mark: bool = True) -> list[bytes]:
        """Take samples up to source index ``j_now``; return the notifications that reach the air.

        Without ``deliver`` (no link, not streaming) the samples are taken and discarded. With
        ``mark`` the samples of the returned packets count as received (:attr:`sent`); a radio
        caller passes False and calls :meth:`mark_sent` once a notification really went out.
        """
        def packet(j0: int, j1: int) -> bytes:
            acc, gyr = self._src(j0, j1)
            pkt = gs.SamplePacket(seq=self.seq, first_index=j0 - self.epoch_start_j, t_first_us=self.t_us(j0),
                                  rate_code=self.rate_code, acc_range_code=self.acc_range_code,
                                  gyro_range_code=self.gyro_range_code, acc_raw=acc, gyro_raw=gyr,
                                  restarted=self._restart_flag)
            self._restart_flag = False
            self.seq = (self.seq + 1) & 0xFFFF
            return bytes(pkt)

        flush = flush or (not self.loop and j_now >= self.n_source)
        return self._cut(j_now, self.spp, packet, deliver=deliver, loss=loss, flush=flush, mark=mark)

    def mark_sent(self, j0: int, j1: int) -> None:
        if len(self.sent):
            self.sent[j0:j1] = True

    def polar_frames(self, j_now: int, *, deliver: bool, loss: float = 0.0, per_frame: int = 36,
                     mark: bool = True, flush: bool = False) -> list[bytes]:
        """Polar PMD ACC frames (delta-compressed type 0, factor :data:`POLAR_FACTOR`) up to j_now."""
        scale = gs.ACC_RANGE_G[self.acc_range_code] / 32768.0 / POLAR_FACTOR  # counts -> Polar counts

        def frame(j0: int, j1: int) -> bytes:
            acc, _ = self._src(j0, j1)
            vals = np.rint(acc.astype(np.float64) * scale).astype(np.int64)
            return bytes(pmd.PmdDataFrame(pmd.ACC, self._polar_ts(j1 - 1), 0, True, vals))

        flush = flush or (not self.loop and j_now >= self.n_source)  # the end of the signal
        return self._cut(j_now, per_frame, frame, deliver=deliver, loss=loss, flush=flush, mark=mark)

    def _polar_ts(self, j: int) -> int:
        """PMD timestamp (ns since 2000) of source sample j: both streams sample at the same
        instants (one IMU), so equal j means equal time."""
        return POLAR_T0_NS + int(round((j - self.boot_j) / self.fs_hz * 1e9 * (1.0 + self.drift)))

    def polar_gyro_frames(self, j_now: int, *, deliver: bool, loss: float = 0.0, per_frame: int = 23,
                          mark: bool = True, flush: bool = False) -> list[bytes]:
        """Polar PMD GYRO frames (delta-compressed type 0, factor :data:`POLAR_GYRO_FACTOR`,
        deg/s) up to j_now, cut on their own cursor: a frame size other than the ACC one (36) and
        a start at their own START, so GYRO frames never line up with ACC frames."""
        if self.gyro_raw is None:
            self.last_gyro_ranges = []
            return []
        scale = gs.GYRO_RANGE_DPS[self.gyro_range_code] / 32768.0 / POLAR_GYRO_FACTOR

        def frame(j0: int, j1: int) -> bytes:
            _, gyr = self._src(j0, j1)
            vals = np.rint(gyr.astype(np.float64) * scale).astype(np.int64)
            return bytes(pmd.PmdDataFrame(pmd.GYRO, self._polar_ts(j1 - 1), 0, True, vals))

        flush = flush or (not self.loop and j_now >= self.n_source)
        return self._cut(j_now, per_frame, frame, deliver=deliver, loss=loss, flush=flush, mark=mark,
                         gyro=True)

    def mark_gyro_sent(self, j0: int, j1: int) -> None:
        if len(self.gyro_sent):
            self.gyro_sent[j0:j1] = True

    def _cut(self, j_now: int, size: int, make: Callable[[int, int], bytes], *, deliver: bool,
             loss: float, flush: bool, mark: bool, gyro: bool = False) -> list[bytes]:
        """Cut the samples up to ``j_now`` into notifications of ``size`` samples, each made by
        ``make(j0, j1)`` (a shorter last one with ``flush``); drop each with probability ``loss``.

        Without ``deliver`` (or while not streaming) the samples are taken and discarded.
        ``gyro``: the Polar GYRO stream, on its own cursor (``gj``), streaming flag, ranges
        (``last_gyro_ranges``) and marks (:meth:`mark_gyro_sent`).
        """
        ranges: list[tuple[int, int]] = []
        if gyro:
            self.last_gyro_ranges = ranges
            cur, streaming, mark_fn = self.gj, self.gyro_streaming, self.mark_gyro_sent
        else:
            self.last_ranges = ranges
            cur, streaming, mark_fn = self.j, self.streaming, self.mark_sent
        if not self.loop:
            j_now = min(j_now, self.n_source)
        out: list[bytes] = []
        if not (deliver and streaming):
            cur = max(cur, j_now)
        else:
            while cur + size <= j_now or (flush and cur < j_now):
                j0, j1 = cur, min(cur + size, j_now)
                payload = make(j0, j1)
                cur = j1
                if loss > 0 and self._rng.random() < loss:
                    self.n_packets_dropped += 1
                    continue
                self.n_packets_sent += 1
                if mark:
                    mark_fn(j0, j1)
                ranges.append((j0, j1))
                out.append(payload)
        if gyro:
            self.gj = cur
        else:
            self.j = cur
        return out


#: g per count of the virtual Polar device's compressed ACC frames (a Verity-Sense-like factor).
POLAR_FACTOR = 8.0 / 32768.0
#: deg/s per count of the virtual Polar device's compressed GYRO frames (+-2000 deg/s, 16 bit).
POLAR_GYRO_FACTOR = 2000.0 / 32768.0
#: Polar timestamps of the virtual device start in 2026 (ns since 2000-01-01).
POLAR_T0_NS = 820_000_000 * 10**9


def advertising_payloads(service_uuid: str, name: str) -> tuple[bytes, bytes]:
    """Legacy advertising as the firmware does it: flags + the 128-bit service UUID (21 bytes) in
    the advertisement, the complete local name in the scan response."""
    from bumble.core import UUID, AdvertisingData

    adv = bytes(AdvertisingData([
        (AdvertisingData.FLAGS, bytes([0x06])),
        (AdvertisingData.COMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS, bytes(UUID(service_uuid))),
    ]))
    sr = bytes(AdvertisingData([(AdvertisingData.COMPLETE_LOCAL_NAME, name.encode())]))
    return adv, sr


class VirtualSensor:
    """A bumble peripheral that behaves like the GaitSense firmware (or a Polar PMD device).

    Parameters
    ----------
    radio : gait.ble.bumble_backend.VirtualRadio
        The in-process link to live on.
    firmware : VirtualFirmware
        Signal, batching and fault state.
    speed : float
        How many seconds of signal per second of wall time.
    protocol : {"gaitsense", "polar"}
    """

    def __init__(self, radio: Any, firmware: VirtualFirmware, *, name: str = "GaitSense-V1",
                 address: str = "C0:FF:EE:00:00:01", speed: float = 1.0, protocol: str = "gaitsense",
                 faults: Faults | None = None) -> None:
        from bumble import gatt

        self.radio = radio
        self.fw = firmware
        self.name = name
        self.address = address
        self.speed = float(speed)
        self.protocol = protocol
        self.faults = faults or Faults()
        self.device = radio.make_device(address, name=name)
        self._conn: Any = None
        self._task: asyncio.Task | None = None
        self._down_until_j = 0
        self._pending = sorted([(t, "disconnect") for t in self.faults.disconnect_at_s]
                               + [(t, "restart") for t in self.faults.restart_at_s])
        self.log: list[tuple[float, str]] = []
        self.done = asyncio.Event()
        P = gatt.Characteristic.Properties
        if protocol == "gaitsense":
            self._data = gatt.Characteristic(gs.DATA_UUID, P.NOTIFY, gatt.Characteristic.READABLE, b"")
            self._ctrl = gatt.Characteristic(
                gs.CONTROL_UUID, P.READ | P.WRITE, gatt.Characteristic.READABLE | gatt.Characteristic.WRITEABLE,
                gatt.CharacteristicValue(read=self._read_status, write=self._write_control))
            self.device.add_service(gatt.Service(gs.SERVICE_UUID, [self._data, self._ctrl]))
            self._service_uuid = gs.SERVICE_UUID
        elif protocol == "polar":
            self._data = gatt.Characteristic(pmd.DATA_UUID, P.NOTIFY, gatt.Characteristic.READABLE, b"")
            self._ctrl = gatt.Characteristic(
                pmd.CONTROL_UUID, P.READ | P.WRITE | P.INDICATE,
                gatt.Characteristic.READABLE | gatt.Characteristic.WRITEABLE,
                gatt.CharacteristicValue(read=self._read_pmd_features, write=self._write_pmd))
            self.device.add_service(gatt.Service(pmd.SERVICE_UUID, [self._ctrl, self._data]))
            self._service_uuid = pmd.SERVICE_UUID
        else:
            raise ValueError(f"unknown protocol {protocol!r}")

    # -- GATT handlers ---------------------------------------------------------------------
    def _read_status(self, connection: Any) -> bytes:
        return bytes(self.fw.status())

    def _write_control(self, connection: Any, value: bytes) -> None:
        from bumble.att import ATT_Error

        try:
            self.fw.command(bytes(value))
        except PacketError as exc:
            raise ATT_Error(0x80) from exc  # application error: bad command
        self.log.append((self.fw.j / self.fw.fs_hz, f"command {bytes(value).hex()}"))

    def _read_pmd_features(self, connection: Any) -> bytes:
        bits = 1 << pmd.ACC
        if self.fw.gyro_raw is not None:
            bits |= 1 << pmd.GYRO
        return bytes([pmd.FEATURES_CODE, bits])

    def _write_pmd(self, connection: Any, value: bytes) -> None:
        """The PMD control point: GET_SETTINGS, START and STOP of ACC and (with gyro) GYRO."""
        value = bytes(value)
        op = value[0] if value else 0
        mtype = value[1] & 0x3F if len(value) > 1 else 0
        status, params = 0, b""
        offered = {pmd.ACC: True, pmd.GYRO: self.fw.gyro_raw is not None}
        if op in (pmd.OP_GET_SETTINGS, pmd.OP_START, pmd.OP_STOP) and not offered.get(mtype, False):
            status = 3  # ERROR_NOT_SUPPORTED
        elif op == pmd.OP_GET_SETTINGS:
            rng = 8 if mtype == pmd.ACC else 2000
            params = bytes(pmd.PmdSettings({pmd.SAMPLE_RATE: (int(self.fw.fs_hz),), pmd.RESOLUTION: (16,),
                                            pmd.RANGE: (rng,)}))
        elif op == pmd.OP_START:
            try:
                cmd = pmd.PmdStartCommand.from_bytes(value)
            except PacketError:
                status = 4
            else:
                on = self.fw.streaming if mtype == pmd.ACC else self.fw.gyro_streaming
                if on:
                    status = 6
                elif int(cmd.settings.first(pmd.SAMPLE_RATE, self.fw.fs_hz)) != int(self.fw.fs_hz):
                    status = 8
                elif mtype == pmd.ACC:
                    self.fw.streaming = True
                    params = bytes(pmd.PmdSettings({pmd.FACTOR: (POLAR_FACTOR,)}))
                else:
                    self.fw.gyro_streaming = True
                    self.fw.gj = max(self.fw.gj, self.fw.j)  # from now on
                    params = bytes(pmd.PmdSettings({pmd.FACTOR: (POLAR_GYRO_FACTOR,)}))
        elif op == pmd.OP_STOP:
            if mtype == pmd.GYRO:
                self.fw.gyro_streaming = False
            else:
                self.fw.streaming = False
        else:
            status = 1
        resp = pmd.PmdControlResponse(op, mtype, status, False, params)
        asyncio.get_running_loop().create_task(self.device.indicate_subscribers(self._ctrl, bytes(resp)))

    # -- advertising -------------------------------------------------------------------------
    def advertising_data(self) -> tuple[bytes, bytes]:
        """(advertisement, scan response) as the firmware sends them (both <= 31 bytes)."""
        return advertising_payloads(self._service_uuid, self.name)

    async def _advertise(self) -> None:
        adv, sr = self.advertising_data()
        await self.device.start_advertising(advertising_data=adv, scan_response_data=sr,
                                            advertising_interval_min=20, advertising_interval_max=20)

    # -- life cycle ------------------------------------------------------------------------------
    async def start(self) -> None:
        await self.device.power_on()
        self.device.on("connection", self._on_connection)
        await self._advertise()
        self._t0 = asyncio.get_running_loop().time()
        self._task = asyncio.create_task(self._run(), name="virtual-sensor")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except (asyncio.CancelledError, Exception):
                pass
        try:
            if self._conn is not None:
                await self._conn.disconnect()
        except Exception:
            pass
        try:
            await self.device.stop_advertising()
        except Exception:
            pass

    def _on_connection(self, conn: Any) -> None:
        self._conn = conn
        self.log.append((self.fw.j / self.fw.fs_hz, "connected"))

        def gone(reason: Any) -> None:
            if self._conn is conn:
                self._conn = None

        conn.on("disconnection", gone)

    def _j_now(self) -> int:
        return int((asyncio.get_running_loop().time() - self._t0) * self.speed * self.fw.fs_hz)

    async def _drop_link(self) -> None:
        conn = self._conn
        self._conn = None
        if conn is not None:
            try:
                await conn.disconnect()
            except Exception as exc:
                log.debug("virtual disconnect: %r", exc)

    async def _run(self) -> None:
        tick = 0.01
        fs = self.fw.fs_hz
        advertising = True
        try:
            while not self.fw.finished:
                await asyncio.sleep(tick)
                j_now = self._j_now()
                # faults due before j_now
                while self._pending and self._pending[0][0] * fs <= j_now:
                    t, kind = self._pending.pop(0)
                    j_fault = int(t * fs)
                    await self._send(j_fault)
                    self.log.append((t, kind))
                    await self._drop_link()
                    if kind == "restart":
                        self.fw.restart()
                    self._down_until_j = j_fault + int(self.faults.down_s * fs)
                    if advertising:
                        await self.device.stop_advertising()
                        advertising = False
                if not advertising and j_now >= self._down_until_j and self._conn is None:
                    await self._advertise()
                    advertising = True
                await self._send(j_now)
            await self._send(self.fw.n_source, flush=True)
            self.log.append((self.fw.j / fs, "end of signal"))
        finally:
            self.done.set()

    def _subscribed(self) -> bool:
        """Has the current connection enabled notifications (CCCD) on the data characteristic?"""
        if self._conn is None:
            return False
        for cccds in self.device.gatt_server.subscribers.values():
            v = cccds.get(self._data.handle)
            if v and v[0] & 0x01:
                return True
        return False

    async def _send(self, j_now: int, flush: bool = False) -> None:
        # like the firmware: notify only while a client is subscribed, else the samples are lost
        deliver = self._subscribed()
        if self.protocol == "polar":
            pkts = self.fw.polar_frames(j_now, deliver=deliver, loss=self.faults.packet_loss, mark=False,
                                        flush=flush)
            sent = [(j1, p, self.fw.mark_sent, j0) for p, (j0, j1) in zip(pkts, self.fw.last_ranges)]
            gpkts = self.fw.polar_gyro_frames(j_now, deliver=deliver, loss=self.faults.packet_loss, mark=False,
                                              flush=flush)
            sent += [(j1, p, self.fw.mark_gyro_sent, j0) for p, (j0, j1) in zip(gpkts, self.fw.last_gyro_ranges)]
            sent.sort(key=lambda x: x[0])  # in the order the frames fill up
        else:
            pkts = self.fw.advance(j_now, deliver=deliver, loss=self.faults.packet_loss, flush=flush, mark=False)
            sent = [(j1, p, self.fw.mark_sent, j0) for p, (j0, j1) in zip(pkts, self.fw.last_ranges)]
        for j1, p, mark, j0 in sent:
            if self._conn is None:
                break
            await self.device.notify_subscribers(self._data, p)
            mark(j0, j1)


async def _self_check() -> None:  # pragma: no cover - manual smoke test
    from .bumble_backend import VirtualRadio

    radio = VirtualRadio()
    fw = VirtualFirmware(np.zeros((500, 3)) + [0, 0, 9.81], fs_hz=100.0)
    s = VirtualSensor(radio, fw, speed=10)
    await s.start()
    await asyncio.sleep(1)
    await s.stop()
