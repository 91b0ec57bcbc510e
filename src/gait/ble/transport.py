"""Bluetooth LE transport: the only module that uses bleak.

* :func:`scan` lists sensors (filtered by service UUID and/or name, with RSSI).
* :class:`BleSource` finds a sensor, connects (``bleak-retry-connector`` retries transient
  failures; a scan-and-connect loop with exponential back-off around it),
  subscribes, and streams :class:`~gait.types.SampleBlock` s and events. The notification
  callback only puts ``(bytes, host time)`` on an :class:`asyncio.Queue`; a consumer task
  decodes, maps the sensor clock, counts losses and assembles blocks
  (:class:`gait.ble.stream.StreamAssembler`). After a drop it reconnects by itself and the
  same recording continues with the gap marked; a new boot id means the firmware restarted.

Every bleak call takes the ``scanner_backend`` / ``client_backend`` given here, so tests and
``gait live --virtual`` run this exact code against a bumble virtual sensor
(:mod:`gait.ble.bumble_backend`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Any, AsyncIterator

from bleak import BleakClient, BleakScanner
from bleak.exc import BleakError
from bleak_retry_connector import BleakConnectionError, BleakNotFoundError, establish_connection

from ..errors import DeviceError
from .protocols import PacketError
from .protocols import gaitsense as gs
from .protocols import polar_pmd as pmd
from .stream import Event, GaitSenseDecoder, Item, PolarImuDecoder, StreamAssembler

log = logging.getLogger(__name__)

#: Queued in place of notification bytes: release what the decoder holds (the link dropped).
_FLUSH: Any = object()

SENSORS = {
    "gaitsense": gs.SERVICE_UUID,
    "polar": pmd.SERVICE_UUID,
}


@dataclass
class Found:
    """A device seen while scanning."""

    name: str | None
    address: str
    rssi: int
    sensor: str | None  # "gaitsense", "polar" or None

    def matches(self, target: str | None) -> bool:
        if not target:
            return True
        t = target.lower()
        return self.address.lower() == t or (self.name or "").lower() == t or t in (self.name or "").lower()


async def scan(timeout_s: float = 5.0, *, sensors: tuple[str, ...] = ("gaitsense", "polar"),
               name: str | None = None, backend: Any = None, stop_when_found: bool = False) -> list[Found]:
    """Scan for GaitSense / Polar sensors.

    Parameters
    ----------
    timeout_s : float
        How long to listen, s.
    sensors : tuple of str
        Which services to look for.
    name : str, optional
        Keep only devices whose name contains this (or whose address equals it).
    backend : type, optional
        A bleak scanner backend class (tests use the bumble one).
    stop_when_found : bool
        Return as soon as one matching device is seen.
    """
    uuids = {SENSORS[s].lower(): s for s in sensors}
    found: dict[str, Found] = {}
    hit = asyncio.Event()

    def on_adv(device: Any, adv: Any) -> None:
        kind = next((uuids[u.lower()] for u in adv.service_uuids if u.lower() in uuids), None)
        local = adv.local_name or device.name
        if kind is None and not (local or "").lower().startswith(("gaitsense", "polar")):
            return
        f = Found(local, device.address, int(adv.rssi), kind or (found.get(device.address).sensor
                                                                    if device.address in found else None))
        if not f.matches(name):
            return
        found[device.address] = f
        if f.name or not name:
            hit.set()

    try:
        async with BleakScanner(on_adv, backend=backend) if backend else BleakScanner(on_adv):
            if stop_when_found:
                try:
                    await asyncio.wait_for(hit.wait(), timeout_s)
                    await asyncio.sleep(min(0.2, timeout_s))  # let the scan response arrive
                except asyncio.TimeoutError:
                    pass
            else:
                await asyncio.sleep(timeout_s)
    except BleakError as exc:
        raise DeviceError(f"Bluetooth is not available: {exc}") from exc
    except FileNotFoundError as exc:  # no D-Bus / BlueZ on this machine
        raise DeviceError(f"Bluetooth is not available here (no BlueZ/D-Bus: {exc}); "
                          "try `gait scan --virtual`") from exc
    return sorted(found.values(), key=lambda f: -f.rssi)


class BleSource:
    """A live sensor as a source of sample blocks and events.

    Parameters
    ----------
    target : str, optional
        Device name (or part of it) or address; None = the strongest sensor found.
    sensor : {"gaitsense", "polar"}
    fs_hz : float
        Rate to request (GaitSense rate codes; Polar ACC rates such as 25, 50, 100, 200 Hz).
    gyro : bool
        Ask for gyro too: a GaitSense sensor sends it in the same packets; on a Polar device
        (Verity Sense) the GYRO stream is started next to ACC and merged onto the ACC samples
        (:class:`gait.ble.stream.PolarImuDecoder`). A Polar device without GYRO (H10) records
        accelerometer only.
    scanner_backend, client_backend : type, optional
        bleak backend classes (tests, ``--virtual``).
    connect_attempts : int
        Attempts per (re)connection before giving up.
    reconnect_for_s : float
        Keep trying to get the sensor back for this long after a drop (then stop the run).
    """

    def __init__(self, target: str | None = None, *, sensor: str = "gaitsense", fs_hz: float = 100.0,
                 gyro: bool = True, scanner_backend: Any = None, client_backend: Any = None,
                 connect_attempts: int = 5, reconnect_for_s: float = 60.0, scan_timeout_s: float = 10.0,
                 backoff_s: float = 0.25) -> None:
        if sensor not in SENSORS:
            raise DeviceError(f"unknown sensor type {sensor!r}; use one of {', '.join(SENSORS)}")
        self.target = target
        self.sensor = sensor
        self.fs_hz = float(fs_hz)
        self.gyro = bool(gyro)
        self.scanner_backend = scanner_backend
        self.client_backend = client_backend
        self.connect_attempts = connect_attempts
        self.reconnect_for_s = reconnect_for_s
        self.scan_timeout_s = scan_timeout_s
        self.backoff_s = backoff_s
        self.state = "idle"
        self.device_name: str | None = None
        self.address: str | None = None
        self.n_connects = 0
        self.n_connect_failures = 0
        self.decoder: Any = (GaitSenseDecoder() if sensor == "gaitsense"
                             else PolarImuDecoder(self.fs_hz, gyro=self.gyro))
        self.assembler = StreamAssembler(self.fs_hz, has_gyro=self.gyro)
        self._raw: asyncio.Queue[tuple[bytes, float] | None] = asyncio.Queue()
        self._out: asyncio.Queue[Item | None] = asyncio.Queue()
        self._stop = asyncio.Event()
        self._disconnected = asyncio.Event()
        self._boot_id: int | None = None
        self._tasks: list[asyncio.Task] = []
        self._pmd_responses: asyncio.Queue[bytes] = asyncio.Queue()
        self.has_gyro = self.gyro
        self.mount = None

    # -- public ------------------------------------------------------------------------------
    @property
    def stats(self):
        s = self.assembler.stats
        s.rejected = self.decoder.counter.rejected
        s.n_gyro_missing = int(getattr(self.decoder, "n_gyro_missing", 0))
        return s

    def stop(self) -> None:
        """Ask the source to end (Ctrl-C): disconnect and close the stream."""
        self._stop.set()

    async def stream(self) -> AsyncIterator[Item]:
        """Connect and yield items until :meth:`stop` or the sensor is gone for good."""
        runner = asyncio.create_task(self._run(), name="ble-connection")
        consumer = asyncio.create_task(self._consume(), name="ble-consumer")
        self._tasks = [runner, consumer]
        try:
            while True:
                item = await self._out.get()
                if item is None:
                    break
                yield item
        finally:
            self._stop.set()
            for t in (runner, consumer):
                if not t.done():
                    t.cancel()
            for t in (runner, consumer):
                try:
                    await t
                except (asyncio.CancelledError, Exception) as exc:  # noqa: PERF203
                    if not isinstance(exc, asyncio.CancelledError):
                        log.debug("task ended: %r", exc)
            self.state = "stopped"
        if runner.done() and not runner.cancelled() and runner.exception() is not None:
            raise runner.exception()  # type: ignore[misc]

    # -- internals -------------------------------------------------------------------------------
    def _on_notify(self, _char: Any, data: bytearray) -> None:
        # the callback does nothing but queue the bytes with their arrival time
        self._raw.put_nowait((bytes(data), time.monotonic()))

    async def _consume(self) -> None:
        flush = getattr(self.decoder, "flush", None)
        t_host = time.monotonic()
        while True:
            got = await self._raw.get()
            if got is None:
                if flush is not None:  # the end: what still waits for its gyro goes out now
                    self._push(flush(), t_host)
                break
            data, t_host = got
            if data is _FLUSH:
                if flush is not None:
                    self._push(flush(), t_host)
                continue
            out = self.decoder(data)
            self._push(out if isinstance(out, list) else [] if out is None else [out], t_host)

    def _push(self, chunks: list[Any], t_host: float) -> None:
        for chunk in chunks:
            for item in self.assembler.push(chunk, t_host):
                self._out.put_nowait(item)

    def _event(self, kind: str, **data: Any) -> None:
        self._out.put_nowait(Event(kind, self.assembler.next_t_s, data))

    async def _find(self) -> Any:
        self.state = "scanning"
        kw = {"backend": self.scanner_backend} if self.scanner_backend else {}
        uuid = SENSORS[self.sensor]

        def match(device: Any, adv: Any) -> bool:
            if uuid not in [u.lower() for u in adv.service_uuids]:
                return False
            if not self.target:
                return True
            t = self.target.lower()
            name = (adv.local_name or device.name or "").lower()
            return device.address.lower() == t or (bool(name) and t in name)

        try:
            dev = await BleakScanner.find_device_by_filter(match, timeout=self.scan_timeout_s, **kw)
        except BleakError as exc:
            raise DeviceError(f"Bluetooth is not available: {exc}") from exc
        except FileNotFoundError as exc:
            raise DeviceError(f"Bluetooth is not available here (no BlueZ/D-Bus: {exc}); "
                              "try `gait live --virtual`") from exc
        return dev

    async def _connect_once(self) -> BleakClient:
        """Scan + connect with retries and exponential back-off."""
        last: Exception | None = None
        for attempt in range(1, self.connect_attempts + 1):
            if self._stop.is_set():
                raise asyncio.CancelledError
            try:
                dev = await self._find()
                if dev is None:
                    raise DeviceError(
                        f"no {self.sensor} sensor{' named ' + repr(self.target) if self.target else ''} found")
                self.state = "connecting"
                self._disconnected.clear()
                kw = {"backend": self.client_backend} if self.client_backend else {}
                # bleak-retry-connector retries the transient failures (BlueZ aborts, timeouts)
                client = await establish_connection(
                    BleakClient, dev, dev.name or dev.address,
                    disconnected_callback=lambda c: self._disconnected.set(),
                    max_attempts=3, **kw)
                self.device_name = dev.name or self.device_name
                self.address = dev.address
                return client
            except (BleakError, BleakConnectionError, BleakNotFoundError, DeviceError, asyncio.TimeoutError,
                    OSError) as exc:
                last = exc
                self.n_connect_failures += 1
                log.info("connect attempt %d failed: %s", attempt, exc)
                await asyncio.sleep(self.backoff_s * 2 ** (attempt - 1))
        if isinstance(last, DeviceError):
            raise last
        raise DeviceError(f"could not connect after {self.connect_attempts} attempts: {last}")

    async def _start_gaitsense(self, client: BleakClient) -> None:
        try:
            status = gs.DeviceStatus.from_bytes(await client.read_gatt_char(gs.CONTROL_UUID))
        except PacketError as exc:
            raise DeviceError(f"{self.device_name}: unexpected status from the sensor ({exc})") from exc
        if self._boot_id is not None and status.boot_id != self._boot_id:
            self.assembler.note_restart("boot id changed")
            self._event("firmware_restart_detected", boot_id=status.boot_id, previous_boot_id=self._boot_id)
        self._boot_id = status.boot_id
        await client.start_notify(gs.DATA_UUID, self._on_notify)
        cmd = gs.ControlCommand.start(self.fs_hz, gyro=self.gyro)
        await client.write_gatt_char(gs.CONTROL_UUID, bytes(cmd), response=True)

    async def _pmd_request(self, client: BleakClient, cmd: bytes) -> pmd.PmdControlResponse:
        """Write a PMD control point command and wait for its response (op code and type match)."""
        op, mtype = cmd[0], cmd[1] & 0x3F if len(cmd) > 1 else 0
        await client.write_gatt_char(pmd.CONTROL_UUID, cmd, response=True)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 5.0
        while True:
            try:
                raw = await asyncio.wait_for(self._pmd_responses.get(), max(0.01, deadline - loop.time()))
                resp = pmd.PmdControlResponse.from_bytes(raw)
            except (asyncio.TimeoutError, PacketError) as exc:
                raise DeviceError(f"{self.device_name}: no valid answer to the PMD command "
                                  f"{cmd[:2].hex()} ({exc or 'timeout'})") from exc
            if resp.op_code == op and resp.measurement_type == mtype:
                return resp

    async def _pmd_offered(self, client: BleakClient, mtype: int) -> dict[int, tuple[float, ...]]:
        """Settings the device offers for ``mtype`` (GET_SETTINGS); {} if it does not say."""
        try:
            resp = await self._pmd_request(client, bytes([pmd.OP_GET_SETTINGS, mtype]))
            if resp.ok:
                return dict(resp.settings.values)
        except (DeviceError, PacketError) as exc:
            log.info("PMD settings of %s: %s", pmd.MEASUREMENT_NAMES.get(mtype), exc)
        return {}

    async def _pmd_rates(self, client: BleakClient, mtype: int) -> tuple[float, ...]:
        return tuple(float(r) for r in (await self._pmd_offered(client, mtype)).get(pmd.SAMPLE_RATE, ()))

    def _gyro_start(self, offered: dict[int, tuple[float, ...]]) -> pmd.PmdStartCommand:
        """GYRO start from what the device offers: the rate closest to the ACC rate, the finest
        resolution, the widest range, all channels (defaults where it does not say)."""
        cmd = pmd.PmdStartCommand.gyro(sample_rate_hz=int(round(self.fs_hz)))
        vals = dict(cmd.settings.values)
        rates = offered.get(pmd.SAMPLE_RATE, ())
        if rates:
            vals[pmd.SAMPLE_RATE] = (min(rates, key=lambda r: (abs(r - self.fs_hz), -r)),)
        for typ in (pmd.RESOLUTION, pmd.RANGE, pmd.CHANNELS):
            if offered.get(typ):
                vals[typ] = (max(offered[typ]),)
        return pmd.PmdStartCommand(pmd.GYRO, pmd.PmdSettings(vals))

    @staticmethod
    def _factor(resp: pmd.PmdControlResponse) -> float | None:
        if not resp.parameters:
            return None
        try:
            f = resp.settings.first(pmd.FACTOR)
        except PacketError:
            return None
        return float(f) if f else None

    async def _start_polar(self, client: BleakClient) -> None:
        """Subscribe, then start GYRO (when wanted and offered) and ACC.

        GYRO first: whether the recording has gyro is settled before the first ACC sample
        arrives (on the first connection). The gyro rate is the offered rate closest to the ACC
        rate; the decoder interpolates it onto the ACC samples either way.
        """
        def on_cp(_c: Any, data: bytearray) -> None:
            self._pmd_responses.put_nowait(bytes(data))

        while not self._pmd_responses.empty():  # answers from a previous connection
            self._pmd_responses.get_nowait()
        await client.start_notify(pmd.CONTROL_UUID, on_cp)
        await client.start_notify(pmd.DATA_UUID, self._on_notify)
        dec = self.decoder
        if dec.has_gyro:
            features = None
            try:
                raw = bytes(await client.read_gatt_char(pmd.CONTROL_UUID))
                if len(raw) >= 2 and raw[0] == pmd.FEATURES_CODE:
                    features = raw[1]
            except (BleakError, asyncio.TimeoutError, OSError) as exc:
                log.info("PMD features not readable: %s", exc)
            ok = False
            if features is None or features & (1 << pmd.GYRO):
                cmd = self._gyro_start(await self._pmd_offered(client, pmd.GYRO))
                try:
                    resp = await self._pmd_request(client, bytes(cmd))
                except DeviceError as exc:  # no answer: go on without gyro rather than fail
                    log.warning("%s", exc)
                else:
                    ok = resp.ok or resp.status == 6  # 6 = already streaming: fine after a reconnect
                    if ok:
                        dec.gyro_fs_hz = float(cmd.settings.first(pmd.SAMPLE_RATE))
                        dec.gyro_factor = self._factor(resp) or dec.gyro_factor
                    else:
                        log.warning("%s: GYRO not started: %s", self.device_name, resp.status_name)
            if not ok and self.n_connects <= 1:  # settled before any sample: accelerometer only
                dec.has_gyro = False
                self.has_gyro = self.gyro = False
                self.assembler.has_gyro = False
                self._event("no_gyro", device=self.device_name,
                            reason="the device has no GYRO stream" if features is not None
                            and not features & (1 << pmd.GYRO) else "the device refused to start GYRO")
        resp = await self._pmd_request(client, bytes(pmd.PmdStartCommand.acc(sample_rate_hz=int(self.fs_hz))))
        if not resp.ok and resp.status != 6:  # 6 = already streaming: fine after a reconnect
            hint = ""
            if resp.status == 8:  # ERROR_INVALID_SAMPLE_RATE: say what it offers
                rates = await self._pmd_rates(client, pmd.ACC)
                if rates:
                    hint = f" (it offers {', '.join(f'{r:g}' for r in rates)} Hz: use --fs)"
            raise DeviceError(f"{self.device_name}: the sensor refused to start: {resp.status_name}{hint}")
        dec.factor = self._factor(resp) or dec.factor

    async def _until_stopped(self, coro: Any) -> Any:
        """Await ``coro`` unless :meth:`stop` comes first (then cancel it and return None)."""
        task = asyncio.ensure_future(coro)
        stop = asyncio.ensure_future(self._stop.wait())
        done, _ = await asyncio.wait({task, stop}, return_when=asyncio.FIRST_COMPLETED)
        if task in done:
            stop.cancel()
            return task.result()
        task.cancel()
        try:
            await task
        except (asyncio.CancelledError, Exception):
            pass
        return None

    async def _run(self) -> None:
        first = True
        t_lost = time.monotonic()
        try:
            while not self._stop.is_set():
                try:
                    client = await self._until_stopped(self._connect_once())
                    if client is None:
                        break
                except DeviceError:
                    if first:
                        raise
                    if time.monotonic() - t_lost > self.reconnect_for_s:
                        # the run so far is recorded: end it normally, saying why
                        self._event("sensor_lost", device=self.device_name,
                                    gave_up_after_s=round(time.monotonic() - t_lost, 1))
                        log.warning("sensor not back after %.0f s: ending the run", self.reconnect_for_s)
                        break
                    continue
                self.n_connects += 1
                try:
                    if self.sensor == "gaitsense":
                        await self._start_gaitsense(client)
                    else:
                        await self._start_polar(client)
                    self.state = "streaming"
                    self._event("connected" if first else "reconnected", device=self.device_name,
                                address=self.address, mtu=client.mtu_size)
                    first = False
                    stop = asyncio.create_task(self._stop.wait())
                    drop = asyncio.create_task(self._disconnected.wait())
                    await asyncio.wait({stop, drop}, return_when=asyncio.FIRST_COMPLETED)
                    stop.cancel()
                    drop.cancel()
                except (BleakError, asyncio.TimeoutError, OSError) as exc:
                    if first:
                        raise DeviceError(f"{self.device_name}: {exc}") from exc
                    log.info("lost the sensor during setup: %s", exc)
                finally:
                    if self._stop.is_set():
                        self.state = "stopping"
                        try:
                            if client.is_connected:
                                if self.sensor == "gaitsense":
                                    await client.write_gatt_char(gs.CONTROL_UUID, bytes(gs.ControlCommand.stop()),
                                                                 response=True)
                                await client.disconnect()
                        except Exception as exc:  # the link may be gone already
                            log.debug("stop: %r", exc)
                if self._stop.is_set():
                    break
                # the link dropped: mark it and go again
                self.state = "reconnecting"
                t_lost = time.monotonic()
                self._raw.put_nowait((_FLUSH, t_lost))  # ACC waiting for gyro that will not come
                self.assembler.note_disconnect()
                self._event("disconnected", device=self.device_name)
        finally:
            await asyncio.sleep(0.05)  # let the last notifications reach the queue
            self._raw.put_nowait(None)
            consumer = self._tasks[1] if len(self._tasks) > 1 else None
            if consumer is not None:
                try:
                    await asyncio.wait_for(asyncio.shield(consumer), 2.0)
                except Exception:
                    pass
            self._out.put_nowait(None)
