"""Pure byte decoders/encoders, one module per sensor family.

Every packet type is a small frozen dataclass with ``from_bytes`` (raises
:class:`PacketError` with a :class:`RejectReason`) and ``__bytes__``. Stream code never calls
``from_bytes`` directly; it uses a :class:`PacketCounter` that turns a rejection into a counted
reason and ``None``, so one bad packet never stops a stream.
"""

from __future__ import annotations

from collections import Counter
from enum import Enum
from typing import Callable, Generic, TypeVar


class RejectReason(str, Enum):
    """Why a packet was rejected (the key of the rejection counters)."""

    TRUNCATED = "truncated"
    LENGTH_MISMATCH = "length_mismatch"
    UNKNOWN_VERSION = "unknown_version"
    BAD_FIELD = "bad_field"
    UNSUPPORTED = "unsupported"


class PacketError(ValueError):
    """A packet that cannot be decoded; ``reason`` says which kind of problem."""

    def __init__(self, reason: RejectReason, detail: str) -> None:
        self.reason = reason
        self.detail = detail
        super().__init__(f"{reason.value}: {detail}")


def lead_checked(data: bytes | bytearray | memoryview, *, min_len: int, short: str, lead: int,
                 wrong: str, wrong_reason: RejectReason) -> bytes:
    """``data`` as bytes once it has ``min_len`` bytes or more and starts with byte ``lead``.

    The guard every decoder starts with. ``short`` and ``wrong`` are the details of the two
    rejections, formatted with ``n`` (the length) and ``b`` (the first byte).

    Raises
    ------
    PacketError
        ``TRUNCATED`` when shorter than ``min_len``; ``wrong_reason`` when the lead byte differs.
    """
    data = bytes(data)
    if len(data) < min_len:
        raise PacketError(RejectReason.TRUNCATED, short.format(n=len(data)))
    if data[0] != lead:
        raise PacketError(wrong_reason, wrong.format(n=len(data), b=data[0]))
    return data


T = TypeVar("T")


class PacketCounter(Generic[T]):
    """Wrap a ``from_bytes`` decoder: count accepted packets and rejections by reason.

    ``decode(data)`` returns the packet or ``None``; it never raises for bad bytes.
    """

    def __init__(self, decoder: Callable[[bytes], T]) -> None:
        self._decoder = decoder
        self.n_ok = 0
        self.rejected: Counter[str] = Counter()
        self.last_error: str | None = None

    def decode(self, data: bytes | bytearray | memoryview) -> T | None:
        try:
            pkt = self._decoder(bytes(data))
        except PacketError as exc:
            self.rejected[exc.reason.value] += 1
            self.last_error = str(exc)
            return None
        self.n_ok += 1
        return pkt

    @property
    def n_rejected(self) -> int:
        return int(sum(self.rejected.values()))


__all__ = ["RejectReason", "PacketError", "PacketCounter"]
