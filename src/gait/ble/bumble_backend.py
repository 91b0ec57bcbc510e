"""A small bleak backend on bumble's in-process link (tests and ``gait live --virtual``).

bleak's ``BleakScanner(..., backend=X)`` and ``BleakClient(..., backend=Y)`` accept any
:class:`~bleak.backends.scanner.BaseBleakScanner` / :class:`~bleak.backends.client.BaseBleakClient`
subclass. :func:`bumble_backend` returns such a pair bound to one :class:`VirtualRadio`: a bumble
:class:`~bumble.link.LocalLink` with a central device on it. The real ``BleakScanner`` /
``BleakClient`` code (and everything of ours above it) then talks, through a bumble host and
an emulated controller, to a bumble peripheral (:mod:`gait.ble.virtual`) in the same process:
no radio, no BlueZ.

Emulation gap bridged here: bumble's emulated controller answers an active scan with the
advertising data again instead of the advertiser's scan response. The scanner reads the scan
response the advertiser configured from its controller on the link, as a radio would deliver it.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Callable

from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.client import BaseBleakClient, NotifyCallback
from bleak.backends.descriptor import BleakGATTDescriptor
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData, BaseBleakScanner
from bleak.backends.service import BleakGATTService, BleakGATTServiceCollection
from bleak.exc import BleakDeviceNotFoundError, BleakError
from bumble.controller import Controller
from bumble.core import AdvertisingData
from bumble.device import Device, Peer
from bumble.hci import Address
from bumble.host import Host
from bumble.link import LocalLink
from bumble.transport.common import AsyncPipeSink

log = logging.getLogger(__name__)

_PROPS = [
    (0x01, "broadcast"), (0x02, "read"), (0x04, "write-without-response"), (0x08, "write"),
    (0x10, "notify"), (0x20, "indicate"), (0x40, "authenticated-signed-writes"),
    (0x80, "extended-properties"),
]


def _uuid_str(u: Any) -> str:
    """bumble UUID -> bleak's normalized lower-case 128-bit string."""
    from bleak.uuids import normalize_uuid_str

    s = str(u.to_hex_str("-")) if hasattr(u, "to_hex_str") else str(u)
    return normalize_uuid_str(s.lower())


class VirtualRadio:
    """One in-process Bluetooth 'air': a bumble LocalLink and the host's central device."""

    def __init__(self, central_address: str = "F0:F0:F0:F0:F0:01") -> None:
        self.link = LocalLink()
        self.central = self.make_device(central_address)
        self._powered = False
        self._lock = asyncio.Lock()

    def make_device(self, address: str, name: str = "bumble") -> Device:
        c = Controller(f"ctrl-{address}", link=self.link, public_address=address)
        return Device(name=name, address=Address(address), host=Host(c, AsyncPipeSink(c)))

    async def ensure_central(self) -> Device:
        async with self._lock:
            if not self._powered:
                await self.central.power_on()
                self._powered = True
        return self.central

    def scan_response_of(self, address: Any) -> bytes:
        """The scan response data the advertiser at ``address`` configured (see module doc)."""
        for c in list(self.link.controllers):
            if str(c.random_address) == str(address) or str(c.public_address) == str(address):
                adv = getattr(c, "le_legacy_advertiser", None)
                data = bytes(getattr(adv, "scan_response_data", b"") or b"")
                if data:
                    return data
                for s in getattr(c, "advertising_sets", {}).values():
                    d = bytes(getattr(s, "scan_response_data", b"") or b"")
                    if d:
                        return d
        return b""


def bumble_backend(radio: VirtualRadio) -> tuple[type[BaseBleakScanner], type[BaseBleakClient]]:
    """Scanner and client backend classes bound to ``radio`` (pass them as ``backend=``)."""

    class BumbleScanner(_BumbleScanner):
        _radio = radio

    class BumbleClient(_BumbleClient):
        _radio = radio

    return BumbleScanner, BumbleClient


class _BumbleScanner(BaseBleakScanner):
    _radio: VirtualRadio

    def __init__(self, detection_callback: Any, service_uuids: Any, scanning_mode: str = "active",
                 **kwargs: Any) -> None:
        super().__init__(detection_callback, service_uuids)
        self._active = scanning_mode != "passive"
        self._listener: Callable[..., None] | None = None

    async def start(self) -> None:
        dev = await self._radio.ensure_central()
        self.seen_devices = {}

        def on_adv(adv: Any) -> None:
            data: AdvertisingData = adv.data
            if getattr(adv, "is_scan_response", False):
                sr = self._radio.scan_response_of(adv.address)
                if sr:
                    data = AdvertisingData.from_bytes(sr)
            key = str(adv.address)
            prev = self.seen_devices.get(key)
            name = data.get(AdvertisingData.COMPLETE_LOCAL_NAME) or data.get(AdvertisingData.SHORTENED_LOCAL_NAME)
            if isinstance(name, bytes):
                name = name.decode("utf-8", "replace")
            uuids = []
            for t in (AdvertisingData.COMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS,
                      AdvertisingData.INCOMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS,
                      AdvertisingData.COMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS):
                for u in data.get(t) or []:
                    uuids.append(_uuid_str(u))
            if prev is not None:  # merge advertisement and scan response, as OS stacks do
                p = prev[1]
                name = name or p.local_name
                uuids = sorted(set(uuids) | set(p.service_uuids))
            if not self.is_allowed_uuid(uuids):
                return
            ad = AdvertisementData(local_name=name, manufacturer_data={}, service_data={},
                                   service_uuids=uuids, tx_power=None, rssi=int(adv.rssi),
                                   platform_data=(adv,))
            device = self.create_or_update_device(key, key, name, adv, ad)
            self.call_detection_callbacks(device, ad)

        self._listener = on_adv
        dev.on("advertisement", on_adv)
        await dev.start_scanning(active=self._active, filter_duplicates=False)

    async def stop(self) -> None:
        dev = self._radio.central
        if self._listener is not None:
            dev.remove_listener("advertisement", self._listener)
            self._listener = None
        if dev.is_scanning:
            await dev.stop_scanning()


class _BumbleClient(BaseBleakClient):
    _radio: VirtualRadio

    def __init__(self, address_or_ble_device: BLEDevice | str, **kwargs: Any) -> None:
        super().__init__(address_or_ble_device, disconnected_callback=kwargs.pop("disconnected_callback", None),
                         timeout=kwargs.pop("timeout", 10.0))
        self._name = address_or_ble_device.name if isinstance(address_or_ble_device, BLEDevice) else None
        self._conn: Any = None
        self._peer: Peer | None = None
        self._proxies: dict[int, Any] = {}
        self._subs: dict[int, Callable[[bytes], None]] = {}

    @property
    def name(self) -> str:
        return self._name or self.address

    @property
    def mtu_size(self) -> int:
        return int(self._conn.att_mtu) if self._conn is not None else 23

    @property
    def is_connected(self) -> bool:
        return self._conn is not None

    async def connect(self, pair: bool = False, **kwargs: Any) -> None:
        dev = await self._radio.ensure_central()
        try:
            conn = await asyncio.wait_for(dev.connect(Address(self.address)), timeout=self._timeout)
        except (asyncio.TimeoutError, Exception) as exc:  # bumble raises several kinds
            raise BleakDeviceNotFoundError(self.address, f"could not connect to {self.address}: {exc!r}") from exc
        self._conn = conn

        def on_disconnection(reason: Any) -> None:
            self._conn = None
            self._peer = None
            cb = self._disconnected_callback
            if cb is not None:
                asyncio.get_running_loop().call_soon(cb)

        conn.on("disconnection", on_disconnection)
        try:
            peer = Peer(conn)
            await peer.request_mtu(247)
            await peer.discover_services()
            coll = BleakGATTServiceCollection()
            for s in peer.services:
                await s.discover_characteristics()
                bs = BleakGATTService(s, s.handle, _uuid_str(s.uuid))
                coll.add_service(bs)
                for c in s.characteristics:
                    await c.discover_descriptors()
                    props = [name for bit, name in _PROPS if int(c.properties) & bit]
                    bc = BleakGATTCharacteristic(c, c.handle, _uuid_str(c.uuid), props,
                                                 lambda: self.mtu_size - 3, bs)
                    coll.add_characteristic(bc)
                    self._proxies[c.handle] = c
                    for d in c.descriptors:
                        coll.add_descriptor(BleakGATTDescriptor(d, d.handle, _uuid_str(d.type), bc))
            self._peer = peer
            self.services = coll
        except Exception as exc:
            await self.disconnect()
            raise BleakError(f"service discovery failed: {exc!r}") from exc

    async def disconnect(self) -> None:
        conn = self._conn
        if conn is None:
            return
        try:
            await conn.disconnect()
        except Exception as exc:  # already gone
            log.debug("disconnect: %r", exc)
        self._conn = None

    async def pair(self, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError("pairing is not emulated")

    async def unpair(self) -> None:
        raise NotImplementedError("pairing is not emulated")

    def _proxy(self, characteristic: BleakGATTCharacteristic) -> Any:
        if self._conn is None:
            raise BleakError("not connected")
        return self._proxies[characteristic.handle]

    async def read_gatt_char(self, characteristic: BleakGATTCharacteristic, *, use_cached: bool = False,
                             **kwargs: Any) -> bytearray:
        return bytearray(await self._proxy(characteristic).read_value())

    async def read_gatt_descriptor(self, descriptor: BleakGATTDescriptor, *, use_cached: bool = False,
                                   **kwargs: Any) -> bytearray:
        if self._peer is None:
            raise BleakError("not connected")
        return bytearray(await self._peer.read_value(descriptor.handle))

    async def write_gatt_char(self, characteristic: BleakGATTCharacteristic, data: Any, response: bool) -> None:
        await self._proxy(characteristic).write_value(bytes(data), with_response=bool(response))

    async def write_gatt_descriptor(self, descriptor: BleakGATTDescriptor, data: Any) -> None:
        if self._peer is None:
            raise BleakError("not connected")
        await self._peer.write_value(descriptor.handle, bytes(data), with_response=True)

    async def start_notify(self, characteristic: BleakGATTCharacteristic, callback: NotifyCallback,
                           **kwargs: Any) -> None:
        proxy = self._proxy(characteristic)

        def sub(value: bytes) -> None:
            callback(bytearray(value))

        self._subs[characteristic.handle] = sub
        await proxy.subscribe(sub, prefer_notify="indicate" not in characteristic.properties
                              or "notify" in characteristic.properties)

    async def stop_notify(self, characteristic: BleakGATTCharacteristic) -> None:
        sub = self._subs.pop(characteristic.handle, None)
        if self._conn is not None:
            await self._proxy(characteristic).unsubscribe(sub)
