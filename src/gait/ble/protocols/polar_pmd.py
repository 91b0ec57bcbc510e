"""Polar Measurement Data (PMD) service: Polar H10 / Verity Sense accelerometer and gyro.

Layouts as documented by the Polar BLE SDK (``PmdDataFrame``, ``PmdControlPointResponse``,
``PmdSetting``); see ``firmware_notes/polar_pmd.md``. All little-endian.

Data frame (notify :data:`DATA_UUID`)::

    0     measurement type (2 = ACC, 5 = GYRO)
    1..8  timestamp of the LAST sample of the frame, uint64 ns since 2000-01-01T00:00:00 UTC
    9     frame type: bit7 = delta-compressed, bits0..6 = type number
    10..  payload

Raw ACC frames (types 0, 1, 2) hold int8 / int16 / int24 (x, y, z) samples in mG.
Compressed frames hold one reference sample (channels x ceil(resolution/8) bytes, signed) and
then blocks ``[delta bit width u8][sample count u8][count x channels deltas, LSB-first bit
packed, two's complement]``; each delta adds to the previous sample. A compressed value times
the stream's ``factor`` (from the start response) is in g for ACC type 0, mG for ACC type 1 and
deg/s for GYRO type 0.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass, field

import numpy as np

from ...types import G0_M_S2
from . import PacketError, RejectReason, lead_checked

SERVICE_UUID = "fb005c80-02e7-f387-1cad-8acd2d8df0c8"
CONTROL_UUID = "fb005c81-02e7-f387-1cad-8acd2d8df0c8"
DATA_UUID = "fb005c82-02e7-f387-1cad-8acd2d8df0c8"

#: Seconds from the Unix epoch to the Polar epoch (2000-01-01T00:00:00Z).
POLAR_EPOCH_UNIX_S = 946_684_800

# measurement types
ECG, PPG, ACC, PPI, GYRO, MAGNETOMETER = 0, 1, 2, 3, 5, 6
MEASUREMENT_NAMES = {ECG: "ECG", PPG: "PPG", ACC: "ACC", PPI: "PPI", GYRO: "GYRO", MAGNETOMETER: "MAG"}

# control point op codes
OP_GET_SETTINGS = 0x01
OP_START = 0x02
OP_STOP = 0x03
RESPONSE_CODE = 0xF0
#: First byte of a read of the control point: the features bitmap follows.
FEATURES_CODE = 0x0F

#: Control point response status codes.
STATUS_NAMES: dict[int, str] = {
    0: "SUCCESS",
    1: "ERROR_INVALID_OP_CODE",
    2: "ERROR_INVALID_MEASUREMENT_TYPE",
    3: "ERROR_NOT_SUPPORTED",
    4: "ERROR_INVALID_LENGTH",
    5: "ERROR_INVALID_PARAMETER",
    6: "ERROR_ALREADY_IN_STATE",
    7: "ERROR_INVALID_RESOLUTION",
    8: "ERROR_INVALID_SAMPLE_RATE",
    9: "ERROR_INVALID_RANGE",
    10: "ERROR_INVALID_MTU",
    11: "ERROR_INVALID_NUMBER_OF_CHANNELS",
    12: "ERROR_INVALID_STATE",
    13: "ERROR_DEVICE_IN_CHARGER",
}

# setting types and their field sizes in bytes
SAMPLE_RATE, RESOLUTION, RANGE, RANGE_MILLIUNIT, CHANNELS, FACTOR = 0, 1, 2, 3, 4, 5
SETTING_SIZES = {SAMPLE_RATE: 2, RESOLUTION: 2, RANGE: 2, RANGE_MILLIUNIT: 4, CHANNELS: 1, FACTOR: 4}

HEADER = struct.Struct("<BQB")
HEADER_SIZE = HEADER.size  # 10


# -- settings ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class PmdSettings:
    """Setting TLVs ``[type u8][count u8][count x value]``; FACTOR values are float32."""

    values: dict[int, tuple[float, ...]] = field(default_factory=dict)

    @classmethod
    def from_bytes(cls, data: bytes) -> "PmdSettings":
        data = bytes(data)
        out: dict[int, tuple[float, ...]] = {}
        i = 0
        while i < len(data):
            if i + 2 > len(data):
                raise PacketError(RejectReason.TRUNCATED, f"setting header cut at byte {i}")
            typ, count = data[i], data[i + 1]
            i += 2
            size = SETTING_SIZES.get(typ)
            if size is None:
                raise PacketError(RejectReason.UNSUPPORTED, f"unknown setting type {typ}")
            if i + size * count > len(data):
                raise PacketError(RejectReason.TRUNCATED, f"setting {typ} needs {size * count} bytes")
            vals: list[float] = []
            for _ in range(count):
                chunk = data[i:i + size]
                if typ == FACTOR:
                    vals.append(struct.unpack("<f", chunk)[0])
                else:
                    vals.append(int.from_bytes(chunk, "little", signed=False))
                i += size
            out[typ] = tuple(vals)
        return cls(out)

    def __bytes__(self) -> bytes:
        parts = []
        for typ, vals in self.values.items():
            size = SETTING_SIZES[typ]
            parts.append(bytes([typ, len(vals)]))
            for v in vals:
                parts.append(struct.pack("<f", v) if typ == FACTOR else int(v).to_bytes(size, "little"))
        return b"".join(parts)

    def first(self, typ: int, default: float | None = None) -> float | None:
        v = self.values.get(typ)
        return v[0] if v else default


@dataclass(frozen=True)
class PmdStartCommand:
    """``[0x02][measurement type][settings]``: start online streaming of one measurement."""

    measurement_type: int
    settings: PmdSettings

    @classmethod
    def acc(cls, *, sample_rate_hz: int = 200, range_g: int = 8, resolution_bits: int = 16) -> "PmdStartCommand":
        return cls(ACC, PmdSettings({SAMPLE_RATE: (sample_rate_hz,), RESOLUTION: (resolution_bits,),
                                     RANGE: (range_g,)}))

    @classmethod
    def gyro(cls, *, sample_rate_hz: int = 52, range_dps: int = 2000, resolution_bits: int = 16) -> "PmdStartCommand":
        return cls(GYRO, PmdSettings({SAMPLE_RATE: (sample_rate_hz,), RESOLUTION: (resolution_bits,),
                                      RANGE: (range_dps,)}))

    @classmethod
    def from_bytes(cls, data: bytes) -> "PmdStartCommand":
        data = lead_checked(data, min_len=2, short="start command needs at least 2 bytes",
                            lead=OP_START, wrong="op code 0x{b:02x} is not START",
                            wrong_reason=RejectReason.UNSUPPORTED)
        return cls(data[1] & 0x3F, PmdSettings.from_bytes(data[2:]))

    def __bytes__(self) -> bytes:
        return bytes([OP_START, self.measurement_type & 0x3F]) + bytes(self.settings)


@dataclass(frozen=True)
class PmdControlResponse:
    """``[0xF0][op code][measurement type][status][more][parameters...]`` (an indication)."""

    op_code: int
    measurement_type: int
    status: int
    more: bool = False
    parameters: bytes = b""

    @property
    def ok(self) -> bool:
        return self.status == 0

    @property
    def status_name(self) -> str:
        return STATUS_NAMES.get(self.status, f"UNKNOWN_{self.status}")

    @property
    def settings(self) -> PmdSettings:
        """Parameters parsed as settings (a START response carries the FACTOR here)."""
        return PmdSettings.from_bytes(self.parameters)

    @classmethod
    def from_bytes(cls, data: bytes) -> "PmdControlResponse":
        data = lead_checked(data, min_len=4, short="control response of {n} bytes",
                            lead=RESPONSE_CODE, wrong="not a control point response (0x{b:02x})",
                            wrong_reason=RejectReason.UNSUPPORTED)
        more = bool(data[4]) if len(data) > 4 else False
        return cls(data[1], data[2], data[3], more, data[5:])

    def __bytes__(self) -> bytes:
        head = bytes([RESPONSE_CODE, self.op_code, self.measurement_type, self.status])
        if not self.parameters and not self.more:
            return head
        return head + bytes([1 if self.more else 0]) + self.parameters


# -- data frames ------------------------------------------------------------------------------
def _sign_extend(v: np.ndarray, bits: int) -> np.ndarray:
    v = v.astype(np.int64)
    sign = np.int64(1) << np.int64(bits - 1)
    return (v ^ sign) - sign


def _read_ints(buf: bytes, nbytes: int) -> np.ndarray:
    raw = np.frombuffer(buf, dtype=np.uint8).reshape(-1, nbytes).astype(np.int64)
    vals = np.zeros(len(raw), dtype=np.int64)
    for b in range(nbytes):
        vals |= raw[:, b] << (8 * b)
    return _sign_extend(vals, 8 * nbytes)


def decode_delta_payload(payload: bytes, *, channels: int, resolution_bits: int) -> np.ndarray:
    """Reference sample + delta blocks -> (n, channels) int64 samples."""
    ref_bytes = (resolution_bits + 7) // 8
    need = channels * ref_bytes
    if len(payload) < need:
        raise PacketError(RejectReason.TRUNCATED, "compressed frame shorter than its reference sample")
    rows = [_read_ints(payload[:need], ref_bytes).reshape(1, channels)]
    off = need
    while off < len(payload):
        if off + 2 > len(payload):
            raise PacketError(RejectReason.TRUNCATED, "delta block header cut")
        width, count = payload[off], payload[off + 1]
        off += 2
        if width == 0 or width > 32:
            raise PacketError(RejectReason.BAD_FIELD, f"delta bit width {width}")
        nbits = width * count * channels
        nbytes = (nbits + 7) // 8
        if off + nbytes > len(payload):
            raise PacketError(RejectReason.TRUNCATED, "delta block payload cut")
        bits = np.unpackbits(np.frombuffer(payload[off:off + nbytes], dtype=np.uint8), bitorder="little")[:nbits]
        bits = bits.reshape(count * channels, width).astype(np.int64)
        vals = (bits << np.arange(width, dtype=np.int64)).sum(axis=1)
        deltas = _sign_extend(vals, width).reshape(count, channels)
        rows.append(rows[-1][-1] + np.cumsum(deltas, axis=0))
        off += nbytes
    return np.vstack(rows)


def encode_delta_payload(samples: np.ndarray, *, resolution_bits: int, block: int = 32) -> bytes:
    """Inverse of :func:`decode_delta_payload` (minimal bit width per block)."""
    s = np.asarray(samples, dtype=np.int64)
    n, channels = s.shape
    ref_bytes = (resolution_bits + 7) // 8
    out = bytearray()
    for v in s[0]:
        out += int(v).to_bytes(ref_bytes, "little", signed=True)
    d = np.diff(s, axis=0)
    for start in range(0, len(d), block):
        blk = d[start:start + block]
        m = int(np.abs(blk).max()) if blk.size else 0
        width = max(1, int(m).bit_length() + 1)
        bits = ((blk.reshape(-1, 1) >> np.arange(width)) & 1).astype(np.uint8)
        out += bytes([width, len(blk)]) + np.packbits(bits.ravel(), bitorder="little").tobytes()
    return bytes(out)


@dataclass(frozen=True, eq=False)
class PmdDataFrame:
    """One PMD data notification, samples as integers in the frame's own units."""

    measurement_type: int
    timestamp_ns: int
    frame_type: int
    compressed: bool
    samples: np.ndarray  # (n, 3) int64

    @property
    def n_samples(self) -> int:
        return int(len(self.samples))

    @classmethod
    def from_bytes(cls, data: bytes) -> "PmdDataFrame":
        data = bytes(data)
        if len(data) < HEADER_SIZE:
            raise PacketError(RejectReason.TRUNCATED, f"{len(data)} bytes, PMD header needs {HEADER_SIZE}")
        mtype, ts, ftype = HEADER.unpack_from(data)
        compressed = bool(ftype & 0x80)
        ftype &= 0x7F
        payload = data[HEADER_SIZE:]
        if mtype not in (ACC, GYRO):
            raise PacketError(RejectReason.UNSUPPORTED, f"measurement type {mtype} is not ACC or GYRO")
        if compressed:
            if ftype not in (0, 1):
                raise PacketError(RejectReason.UNSUPPORTED, f"compressed frame type {ftype}")
            samples = decode_delta_payload(payload, channels=3, resolution_bits=16)
        else:
            if mtype != ACC or ftype not in (0, 1, 2):
                raise PacketError(RejectReason.UNSUPPORTED, f"raw frame type {ftype} for {MEASUREMENT_NAMES[mtype]}")
            step = ftype + 1
            if len(payload) == 0 or len(payload) % (3 * step):
                raise PacketError(RejectReason.LENGTH_MISMATCH,
                                  f"raw payload of {len(payload)} bytes is not n x {3 * step}")
            samples = _read_ints(payload, step).reshape(-1, 3)
        return cls(mtype, ts, ftype, compressed, samples)

    def __bytes__(self) -> bytes:
        head = HEADER.pack(self.measurement_type, self.timestamp_ns, self.frame_type | (0x80 if self.compressed else 0))
        if self.compressed:
            return head + encode_delta_payload(self.samples, resolution_bits=16)
        step = self.frame_type + 1
        s = np.asarray(self.samples, dtype=np.int64).ravel()
        return head + b"".join(int(v).to_bytes(step, "little", signed=True) for v in s)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PmdDataFrame):
            return NotImplemented
        return (self.measurement_type, self.timestamp_ns, self.frame_type, self.compressed) == (
            other.measurement_type, other.timestamp_ns, other.frame_type, other.compressed
        ) and np.array_equal(self.samples, other.samples)

    __hash__ = None  # type: ignore[assignment]

    def physical(self, factor: float = 1.0) -> np.ndarray:
        """Samples in SI units: m/s^2 for ACC, rad/s for GYRO."""
        s = self.samples.astype(np.float64)
        if self.measurement_type == ACC:
            if not self.compressed:
                return s * (G0_M_S2 / 1000.0)  # mG
            if self.frame_type == 0:
                return s * (factor * G0_M_S2)  # g
            return s * (factor * G0_M_S2 / 1000.0)  # mG
        return s * (factor * math.pi / 180.0)  # deg/s

    @property
    def timestamp_unix_s(self) -> float:
        return POLAR_EPOCH_UNIX_S + self.timestamp_ns / 1e9
