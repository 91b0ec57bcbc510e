"""Sources for the live path. A source has ``fs_hz``, ``has_gyro``, ``device_name``, ``state``,
``stats`` (with ``loss_fraction``), ``stop()`` and ``stream()``: an async iterator of
:class:`~gait.types.SampleBlock` and :class:`~gait.ble.stream.Event` items on the sensor clock.

Replay is a source like any other: a recording replayed at real speed (or faster) goes through
exactly the code a BLE stream does.
"""

from __future__ import annotations

import asyncio
import math
from typing import Any, AsyncIterator

from ..errors import GaitError
from ..types import Recording


class _ReplayStats:
    def __init__(self) -> None:
        self.n_samples = 0
        self.n_lost_samples = 0
        self.rejected: dict[str, int] = {}

    @property
    def loss_fraction(self) -> float:
        tot = self.n_samples + self.n_lost_samples
        return self.n_lost_samples / tot if tot else 0.0


class ReplaySource:
    """Feed a :class:`~gait.types.Recording` through the live path.

    Parameters
    ----------
    recording : Recording
    speed : float
        1 = real time, 10 = ten times faster, ``math.inf`` = as fast as possible.
    block_s : float
        Seconds of signal per block (about one BLE notification's worth by default).
    """

    def __init__(self, recording: Recording, *, speed: float = 1.0, block_s: float = 0.19) -> None:
        if not (speed > 0):
            raise GaitError(f"speed must be positive, got {speed}")
        self.recording = recording
        self.speed = float(speed)
        self.fs_hz = recording.fs_hz
        self.has_gyro = recording.has_gyro
        self.device_name = f"replay of {recording.info.path or recording.info.format}"
        self.mount = recording.info.mount
        self.state = "idle"
        self.stats = _ReplayStats()
        self._block = max(1, int(round(block_s * recording.fs_hz)))
        self._stop = False

    def stop(self) -> None:
        self._stop = True

    async def stream(self) -> AsyncIterator[Any]:
        rec = self.recording
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        self.state = "replaying"
        n = rec.n_samples
        for i in range(0, n, self._block):
            if self._stop:
                break
            j = min(n, i + self._block)
            block = rec.block(i, j)
            if math.isfinite(self.speed):
                due = t0 + (j / rec.fs_hz) / self.speed
                delay = due - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
            else:
                await asyncio.sleep(0)
            k = int(block.valid.sum())
            self.stats.n_samples += k
            self.stats.n_lost_samples += len(block) - k
            yield block
        self.state = "finished" if not self._stop else "stopped"


def virtual_ble_source(signal: Recording, *, speed: float = 1.0, protocol: str = "gaitsense",
                       faults: Any = None, loop_signal: bool = True, name: str | None = None,
                       gyro: bool = True, **source_kw: Any) -> tuple[Any, Any]:
    """A :class:`gait.ble.transport.BleSource` wired to a bumble virtual sensor playing ``signal``.

    Returns ``(source, sensor)``; call ``await sensor.start()`` before streaming and
    ``await sensor.stop()`` after.
    """
    import logging

    from ..ble.bumble_backend import VirtualRadio, bumble_backend
    from ..ble.transport import BleSource
    from ..ble.virtual import VirtualFirmware, VirtualSensor

    logging.getLogger("bumble").setLevel(logging.ERROR)  # the emulated controller is chatty
    radio = VirtualRadio()
    use_gyro = gyro and signal.has_gyro
    fw = VirtualFirmware(signal.acc_m_s2, gyro_rad_s=signal.gyro_rad_s if use_gyro else None,
                         fs_hz=signal.fs_hz, loop=loop_signal)
    name = name or ("GaitSense-Virtual" if protocol == "gaitsense" else "Polar Sense Virtual")
    sensor = VirtualSensor(radio, fw, name=name, speed=speed, protocol=protocol, faults=faults)
    scanner, client = bumble_backend(radio)
    src = BleSource(None, sensor=protocol, fs_hz=signal.fs_hz, gyro=gyro and signal.has_gyro,
                    scanner_backend=scanner, client_backend=client, **source_kw)
    return src, sensor
