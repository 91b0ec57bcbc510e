"""The GaitSense firmware protocol (the project's own DIY sensor), version 1.

See ``firmware_notes/protocol.md`` for the full specification. All fields are little-endian.

Sample packet (notify characteristic :data:`DATA_UUID`)::

    off size field
    0   1    version           = 1
    1   1    flags             bit0 gyro present, bit1 stream restarted, bit2 sensor FIFO overflow
    2   2    seq               packet sequence number, +1 per packet, wraps at 2**16
    4   4    first_index       index of the first sample since the stream started
    8   4    t_first_us        sensor clock (micros()) at the first sample, wraps at 2**32
    12  1    n_samples         1..255
    13  1    rate_code         see RATE_HZ
    14  1    range_code        low nibble accelerometer range (ACC_RANGE_G), high nibble gyro (GYRO_RANGE_DPS)
    15  1    reserved          0
    16  ...  samples           n_samples x (ax, ay, az[, gx, gy, gz]) int16

An int16 sample is ``value * full_scale / 32768`` (g or deg/s); decoding converts to m/s^2 and
rad/s. A packet whose length does not match its header is rejected.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass, field

import numpy as np

from ...types import G0_M_S2
from . import PacketError, RejectReason, lead_checked

#: 128-bit UUIDs of the GaitSense GATT service and its characteristics.
SERVICE_UUID = "6a9b0001-3c1d-4e7f-9a2b-5c8d0e1f2a3b"
DATA_UUID = "6a9b0002-3c1d-4e7f-9a2b-5c8d0e1f2a3b"
CONTROL_UUID = "6a9b0003-3c1d-4e7f-9a2b-5c8d0e1f2a3b"

PROTOCOL_VERSION = 1
HEADER = struct.Struct("<BBHIIBBBx")
HEADER_SIZE = HEADER.size  # 16

FLAG_GYRO = 0x01
FLAG_RESTARTED = 0x02
FLAG_OVERFLOW = 0x04

#: Rate codes -> nominal output data rate, Hz. 0x0k: 12.5 * 2**(k-1) Hz (InvenSense, Bosch);
#: 0x1k: the STMicro LSM6DS3 rates (12.5, 26, 52, 104, 208, 416, 833 Hz).
RATE_HZ: dict[int, float] = {
    0x01: 12.5, 0x02: 25.0, 0x03: 50.0, 0x04: 100.0, 0x05: 200.0, 0x06: 400.0, 0x07: 800.0,
    0x11: 12.5, 0x12: 26.0, 0x13: 52.0, 0x14: 104.0, 0x15: 208.0, 0x16: 416.0, 0x17: 833.0,
}
#: Accelerometer range codes -> full scale, g.
ACC_RANGE_G: dict[int, float] = {0: 2.0, 1: 4.0, 2: 8.0, 3: 16.0}
#: Gyro range codes -> full scale, deg/s.
GYRO_RANGE_DPS: dict[int, float] = {0: 125.0, 1: 250.0, 2: 500.0, 3: 1000.0, 4: 2000.0}

#: Largest ATT payload for a negotiated MTU (3 bytes of ATT header).
def samples_per_packet(mtu: int, *, gyro: bool = True) -> int:
    """How many samples fit one notification at ATT MTU ``mtu`` (e.g. 19 six-axis at 247)."""
    per = 12 if gyro else 6
    return max(0, min(255, (mtu - 3 - HEADER_SIZE) // per))


def rate_code_for(fs_hz: float) -> int:
    """The rate code whose nominal rate is ``fs_hz`` (binary family preferred)."""
    for code, hz in RATE_HZ.items():
        if abs(hz - fs_hz) < 1e-9:
            return code
    raise ValueError(f"no GaitSense rate code for {fs_hz} Hz; choose one of {sorted(set(RATE_HZ.values()))}")


@dataclass(frozen=True, eq=False)
class SamplePacket:
    """One notification of the data characteristic, raw integers plus decoding helpers."""

    seq: int
    first_index: int
    t_first_us: int
    rate_code: int
    acc_range_code: int
    acc_raw: np.ndarray  # (n, 3) int16
    gyro_raw: np.ndarray | None = None  # (n, 3) int16
    gyro_range_code: int = 4
    restarted: bool = False
    overflow: bool = False
    version: int = PROTOCOL_VERSION
    #: Flag bits this decoder does not know (kept so a round trip is exact).
    extra_flags: int = field(default=0)

    def __post_init__(self) -> None:
        n = len(self.acc_raw)
        if not 1 <= n <= 255:
            raise PacketError(RejectReason.BAD_FIELD, f"n_samples must be 1..255, got {n}")
        if self.gyro_raw is not None and len(self.gyro_raw) != n:
            raise PacketError(RejectReason.BAD_FIELD, "gyro and accelerometer sample counts differ")
        if self.rate_code not in RATE_HZ:
            raise PacketError(RejectReason.BAD_FIELD, f"unknown rate code 0x{self.rate_code:02x}")
        if self.acc_range_code not in ACC_RANGE_G:
            raise PacketError(RejectReason.BAD_FIELD, f"unknown accelerometer range code {self.acc_range_code}")
        if self.gyro_raw is not None and self.gyro_range_code not in GYRO_RANGE_DPS:
            raise PacketError(RejectReason.BAD_FIELD, f"unknown gyro range code {self.gyro_range_code}")

    # -- derived -------------------------------------------------------------------------
    @property
    def n_samples(self) -> int:
        return int(len(self.acc_raw))

    @property
    def has_gyro(self) -> bool:
        return self.gyro_raw is not None

    @property
    def fs_hz(self) -> float:
        return RATE_HZ[self.rate_code]

    @property
    def acc_m_s2(self) -> np.ndarray:
        """(n, 3) float64 specific force, m/s^2."""
        return self.acc_raw.astype(np.float64) * (ACC_RANGE_G[self.acc_range_code] * G0_M_S2 / 32768.0)

    @property
    def gyro_rad_s(self) -> np.ndarray | None:
        """(n, 3) float64 angular rate, rad/s (None without gyro)."""
        if self.gyro_raw is None:
            return None
        scale = GYRO_RANGE_DPS[self.gyro_range_code] * math.pi / 180.0 / 32768.0
        return self.gyro_raw.astype(np.float64) * scale

    # -- bytes ---------------------------------------------------------------------------
    @classmethod
    def from_bytes(cls, data: bytes) -> "SamplePacket":
        data = lead_checked(data, min_len=1, short="empty packet", lead=PROTOCOL_VERSION,
                            wrong=f"version {{b}} (this host reads {PROTOCOL_VERSION})",
                            wrong_reason=RejectReason.UNKNOWN_VERSION)
        if len(data) < HEADER_SIZE:
            raise PacketError(RejectReason.TRUNCATED, f"{len(data)} bytes, header needs {HEADER_SIZE}")
        version, flags, seq, first_index, t_us, n, rate, rng = HEADER.unpack_from(data)
        gyro = bool(flags & FLAG_GYRO)
        per = 12 if gyro else 6
        want = HEADER_SIZE + n * per
        if len(data) != want:
            raise PacketError(
                RejectReason.LENGTH_MISMATCH, f"{len(data)} bytes, header says {n} samples = {want} bytes"
            )
        if n == 0:
            raise PacketError(RejectReason.BAD_FIELD, "packet with no samples")
        vals = np.frombuffer(data, dtype="<i2", offset=HEADER_SIZE).reshape(n, per // 2)
        return cls(
            seq=seq, first_index=first_index, t_first_us=t_us, rate_code=rate,
            acc_range_code=rng & 0x0F, gyro_range_code=(rng >> 4) & 0x0F,
            acc_raw=vals[:, :3].astype(np.int16), gyro_raw=vals[:, 3:6].astype(np.int16) if gyro else None,
            restarted=bool(flags & FLAG_RESTARTED), overflow=bool(flags & FLAG_OVERFLOW),
            version=version, extra_flags=flags & ~(FLAG_GYRO | FLAG_RESTARTED | FLAG_OVERFLOW) & 0xFF,
        )

    def __bytes__(self) -> bytes:
        flags = (
            (FLAG_GYRO if self.has_gyro else 0)
            | (FLAG_RESTARTED if self.restarted else 0)
            | (FLAG_OVERFLOW if self.overflow else 0)
            | self.extra_flags
        )
        rng = (self.acc_range_code & 0x0F) | ((self.gyro_range_code & 0x0F) << 4)
        head = HEADER.pack(
            self.version, flags, self.seq & 0xFFFF, self.first_index & 0xFFFFFFFF,
            self.t_first_us & 0xFFFFFFFF, self.n_samples, self.rate_code, rng,
        )
        body = self.acc_raw if self.gyro_raw is None else np.hstack([self.acc_raw, self.gyro_raw])
        return head + np.ascontiguousarray(body, dtype="<i2").tobytes()

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SamplePacket):
            return NotImplemented
        return bytes(self) == bytes(other)

    __hash__ = None  # type: ignore[assignment]


def quantize(acc_m_s2: np.ndarray, gyro_rad_s: np.ndarray | None, *, acc_range_code: int = 2,
             gyro_range_code: int = 4) -> tuple[np.ndarray, np.ndarray | None]:
    """Physical values -> int16 counts as the firmware would send them (saturating).

    Used by the virtual sensor; the inverse of :attr:`SamplePacket.acc_m_s2` up to rounding.
    """
    a = np.asarray(acc_m_s2, dtype=np.float64) / (ACC_RANGE_G[acc_range_code] * G0_M_S2 / 32768.0)
    acc = np.clip(np.rint(np.nan_to_num(a)), -32768, 32767).astype(np.int16)
    gyr = None
    if gyro_rad_s is not None:
        g = np.asarray(gyro_rad_s, dtype=np.float64) / (GYRO_RANGE_DPS[gyro_range_code] * math.pi / 180.0 / 32768.0)
        gyr = np.clip(np.rint(np.nan_to_num(g)), -32768, 32767).astype(np.int16)
    return acc, gyr


# -- control characteristic ------------------------------------------------------------------
OP_START = 0x01
OP_STOP = 0x02


@dataclass(frozen=True)
class ControlCommand:
    """A write to the control characteristic: START (with rate, ranges, gyro on/off) or STOP."""

    opcode: int
    rate_code: int = 0x04
    acc_range_code: int = 2
    gyro_range_code: int = 4
    gyro: bool = True

    @classmethod
    def start(cls, fs_hz: float, *, acc_range_g: float = 8.0, gyro_range_dps: float = 2000.0,
              gyro: bool = True) -> "ControlCommand":
        acc_code = {v: k for k, v in ACC_RANGE_G.items()}.get(float(acc_range_g))
        gyr_code = {v: k for k, v in GYRO_RANGE_DPS.items()}.get(float(gyro_range_dps))
        if acc_code is None or gyr_code is None:
            raise ValueError(f"unsupported range {acc_range_g} g / {gyro_range_dps} deg/s")
        return cls(OP_START, rate_code_for(fs_hz), acc_code, gyr_code, gyro)

    @classmethod
    def stop(cls) -> "ControlCommand":
        return cls(OP_STOP)

    @classmethod
    def from_bytes(cls, data: bytes) -> "ControlCommand":
        data = bytes(data)
        if not data:
            raise PacketError(RejectReason.TRUNCATED, "empty command")
        op = data[0]
        if op == OP_STOP:
            if len(data) != 1:
                raise PacketError(RejectReason.LENGTH_MISMATCH, f"STOP is 1 byte, got {len(data)}")
            return cls(OP_STOP)
        if op == OP_START:
            if len(data) != 4:
                raise PacketError(RejectReason.LENGTH_MISMATCH, f"START is 4 bytes, got {len(data)}")
            rate, rng, opts = data[1], data[2], data[3]
            if rate not in RATE_HZ or (rng & 0x0F) not in ACC_RANGE_G or (rng >> 4) not in GYRO_RANGE_DPS:
                raise PacketError(RejectReason.BAD_FIELD, f"bad START parameters {data.hex()}")
            return cls(OP_START, rate, rng & 0x0F, rng >> 4, bool(opts & 0x01))
        raise PacketError(RejectReason.UNSUPPORTED, f"unknown opcode 0x{op:02x}")

    def __bytes__(self) -> bytes:
        if self.opcode == OP_STOP:
            return bytes([OP_STOP])
        rng = (self.acc_range_code & 0x0F) | ((self.gyro_range_code & 0x0F) << 4)
        return bytes([self.opcode, self.rate_code, rng, 0x01 if self.gyro else 0x00])


STATUS = struct.Struct("<BBBBIH")
STATE_IDLE = 0
STATE_STREAMING = 1


@dataclass(frozen=True)
class DeviceStatus:
    """What a read of the control characteristic returns (10 bytes)."""

    protocol_version: int
    state: int
    rate_code: int
    range_code: int
    #: Random 32-bit number drawn at power-up: a new value means the firmware restarted.
    boot_id: int
    firmware_version: int

    @classmethod
    def from_bytes(cls, data: bytes) -> "DeviceStatus":
        data = lead_checked(data, min_len=1, short="empty status", lead=PROTOCOL_VERSION,
                            wrong="protocol version {b}", wrong_reason=RejectReason.UNKNOWN_VERSION)
        if len(data) != STATUS.size:
            raise PacketError(RejectReason.LENGTH_MISMATCH, f"status is {STATUS.size} bytes, got {len(data)}")
        return cls(*STATUS.unpack(data))

    def __bytes__(self) -> bytes:
        return STATUS.pack(self.protocol_version, self.state, self.rate_code, self.range_code,
                           self.boot_id & 0xFFFFFFFF, self.firmware_version & 0xFFFF)
