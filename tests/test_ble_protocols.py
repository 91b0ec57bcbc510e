"""Decoders/encoders of the BLE protocols: round trips, known vectors, malformed packets."""

from __future__ import annotations

import math
import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gait.ble.protocols import PacketCounter, PacketError, RejectReason
from gait.ble.protocols import gaitsense as gs
from gait.ble.protocols import polar_pmd as pmd
from gait.types import G0_M_S2

i16 = st.integers(-32768, 32767)


@st.composite
def sample_packets(draw):
    n = draw(st.integers(1, 40))
    gyro = draw(st.booleans())
    acc = np.array(draw(st.lists(i16, min_size=3 * n, max_size=3 * n)), dtype=np.int16).reshape(n, 3)
    gyr = (np.array(draw(st.lists(i16, min_size=3 * n, max_size=3 * n)), dtype=np.int16).reshape(n, 3)
           if gyro else None)
    return gs.SamplePacket(
        seq=draw(st.integers(0, 65535)), first_index=draw(st.integers(0, 2**32 - 1)),
        t_first_us=draw(st.integers(0, 2**32 - 1)), rate_code=draw(st.sampled_from(sorted(gs.RATE_HZ))),
        acc_range_code=draw(st.sampled_from(sorted(gs.ACC_RANGE_G))), acc_raw=acc, gyro_raw=gyr,
        gyro_range_code=draw(st.sampled_from(sorted(gs.GYRO_RANGE_DPS))),
        restarted=draw(st.booleans()), overflow=draw(st.booleans()))


@settings(max_examples=60, deadline=None)
@given(sample_packets())
def test_gaitsense_packet_round_trip(p):
    b = bytes(p)
    assert len(b) == gs.HEADER_SIZE + p.n_samples * (12 if p.has_gyro else 6)
    q = gs.SamplePacket.from_bytes(b)
    assert q == p
    assert bytes(q) == b
    assert (q.seq, q.first_index, q.t_first_us, q.restarted, q.overflow) == (
        p.seq, p.first_index, p.t_first_us, p.restarted, p.overflow)


@settings(max_examples=60, deadline=None)
@given(sample_packets(), st.data())
def test_gaitsense_truncated_or_padded_packets_are_rejected_with_a_reason(p, data):
    b = bytes(p)
    cut = data.draw(st.integers(0, len(b) - 1))
    with pytest.raises(PacketError) as e:
        gs.SamplePacket.from_bytes(b[:cut])
    assert e.value.reason in (RejectReason.TRUNCATED, RejectReason.LENGTH_MISMATCH)
    extra = data.draw(st.binary(min_size=1, max_size=20))
    with pytest.raises(PacketError) as e:
        gs.SamplePacket.from_bytes(b + extra)
    assert e.value.reason is RejectReason.LENGTH_MISMATCH


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=300))
def test_counter_never_raises_on_arbitrary_bytes(data):
    c = PacketCounter(gs.SamplePacket.from_bytes)
    out = c.decode(data)
    assert (out is None) == (c.n_rejected == 1)
    assert c.n_ok + c.n_rejected == 1
    c2 = PacketCounter(pmd.PmdDataFrame.from_bytes)
    c2.decode(data)
    assert c2.n_ok + c2.n_rejected == 1


def test_gaitsense_unknown_version_and_bad_fields_are_counted():
    good = bytes(gs.SamplePacket(seq=1, first_index=0, t_first_us=0, rate_code=0x04, acc_range_code=2,
                                 acc_raw=np.zeros((2, 3), np.int16)))
    c = PacketCounter(gs.SamplePacket.from_bytes)
    assert c.decode(good) is not None
    assert c.decode(bytes([2]) + good[1:]) is None  # version 2
    assert c.decode(good[:5]) is None
    bad_rate = bytearray(good)
    bad_rate[13] = 0x0F
    assert c.decode(bytes(bad_rate)) is None
    zero = bytearray(good[:16])
    zero[12] = 0  # n_samples = 0 and no payload
    assert c.decode(bytes(zero)) is None
    assert c.rejected == {"unknown_version": 1, "truncated": 1, "bad_field": 2}
    assert c.n_ok == 1 and c.n_rejected == 4


def test_gaitsense_batching_and_unit_scaling():
    assert gs.samples_per_packet(247) == 19  # 16 + 19 * 12 = 244 = 247 - 3
    assert gs.samples_per_packet(247, gyro=False) == 38
    assert gs.samples_per_packet(23) == 0  # the default MTU cannot carry a six-axis packet
    acc = np.array([[4096, -4096, 0]], np.int16)  # at +-8 g: 4096 counts = 1 g
    gyr = np.array([[16384, 0, -16384]], np.int16)  # at +-2000 dps: half scale = 1000 dps
    p = gs.SamplePacket(seq=0, first_index=0, t_first_us=0, rate_code=0x04, acc_range_code=2, acc_raw=acc,
                        gyro_raw=gyr, gyro_range_code=4)
    np.testing.assert_allclose(p.acc_m_s2, [[G0_M_S2, -G0_M_S2, 0.0]])
    np.testing.assert_allclose(p.gyro_rad_s, [[1000 * math.pi / 180, 0.0, -1000 * math.pi / 180]])
    assert p.fs_hz == 100.0
    # quantize is the inverse up to one count
    a, g = gs.quantize(p.acc_m_s2, p.gyro_rad_s, acc_range_code=2, gyro_range_code=4)
    np.testing.assert_array_equal(a, acc)
    np.testing.assert_array_equal(g, gyr)


def test_gaitsense_control_and_status_round_trip():
    cmd = gs.ControlCommand.start(400.0, acc_range_g=16, gyro_range_dps=1000, gyro=False)
    assert bytes(cmd) == bytes([0x01, 0x06, 0x33, 0x00])
    assert gs.ControlCommand.from_bytes(bytes(cmd)) == cmd
    assert gs.ControlCommand.from_bytes(bytes(gs.ControlCommand.stop())).opcode == gs.OP_STOP
    for bad, reason in [(b"", RejectReason.TRUNCATED), (b"\x01\x04", RejectReason.LENGTH_MISMATCH),
                        (b"\x09", RejectReason.UNSUPPORTED), (b"\x01\x99\x00\x00", RejectReason.BAD_FIELD)]:
        with pytest.raises(PacketError) as e:
            gs.ControlCommand.from_bytes(bad)
        assert e.value.reason is reason
    s = gs.DeviceStatus(1, 1, 0x04, 0x42, 0xDEADBEEF, 0x0100)
    assert len(bytes(s)) == 10
    assert gs.DeviceStatus.from_bytes(bytes(s)) == s
    with pytest.raises(PacketError):
        gs.DeviceStatus.from_bytes(bytes(s)[:9])
    with pytest.raises(ValueError):
        gs.ControlCommand.start(123.0)


# -- Polar PMD ----------------------------------------------------------------------------------
def test_pmd_compressed_known_vector():
    # reference (1, 2, 3); one block: width 4, 1 sample, deltas (+1, -1, +7), bits LSB first
    payload = bytes([1, 0, 2, 0, 3, 0, 4, 1, 0xF1, 0x07])
    frame = bytes([pmd.ACC]) + struct.pack("<Q", 123_000_000_000) + bytes([0x80]) + payload
    f = pmd.PmdDataFrame.from_bytes(frame)
    assert f.compressed and f.frame_type == 0 and f.measurement_type == pmd.ACC
    np.testing.assert_array_equal(f.samples, [[1, 2, 3], [2, 1, 10]])
    # compressed type 0: value x factor is in g
    np.testing.assert_allclose(f.physical(0.5)[1], [1.0 * G0_M_S2, 0.5 * G0_M_S2, 5.0 * G0_M_S2])
    assert f.timestamp_unix_s == pytest.approx(946_684_800 + 123.0)


def test_pmd_raw_frames_are_milli_g():
    payload = struct.pack("<hhh", 1000, -1000, 0) + struct.pack("<hhh", 0, 500, -2)
    f = pmd.PmdDataFrame.from_bytes(bytes([pmd.ACC]) + struct.pack("<Q", 5) + bytes([0x01]) + payload)
    np.testing.assert_array_equal(f.samples, [[1000, -1000, 0], [0, 500, -2]])
    np.testing.assert_allclose(f.physical()[0], [G0_M_S2, -G0_M_S2, 0.0])
    assert pmd.PmdDataFrame.from_bytes(bytes(f)) == f


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 60), st.integers(0, 2**63 - 1), st.sampled_from([(True, 0), (True, 1), (False, 0),
                                                                       (False, 1), (False, 2)]), st.data())
def test_pmd_frame_round_trip(n, ts, kind, data):
    compressed, ftype = kind
    lim = {0: 127, 1: 32767, 2: 2**23 - 1}[ftype] if not compressed else 32767
    vals = np.array(data.draw(st.lists(st.integers(-lim - 1, lim), min_size=3 * n, max_size=3 * n)),
                    dtype=np.int64).reshape(n, 3)
    f = pmd.PmdDataFrame(pmd.ACC, ts, ftype, compressed, vals)
    g = pmd.PmdDataFrame.from_bytes(bytes(f))
    assert g == f


@settings(max_examples=60, deadline=None)
@given(st.integers(2, 40), st.data())
def test_pmd_truncated_compressed_frames_are_rejected(n, data):
    vals = np.cumsum(np.array(data.draw(st.lists(st.integers(-300, 300), min_size=3 * n, max_size=3 * n)))
                     .reshape(n, 3), axis=0)
    b = bytes(pmd.PmdDataFrame(pmd.ACC, 1, 0, True, vals))
    cut = data.draw(st.integers(0, len(b) - 1))
    try:
        g = pmd.PmdDataFrame.from_bytes(b[:cut])
    except PacketError as e:
        assert e.reason in (RejectReason.TRUNCATED, RejectReason.BAD_FIELD)
    else:  # a cut exactly between blocks is a valid shorter frame: it must be a prefix
        np.testing.assert_array_equal(g.samples, vals[:len(g.samples)])
        assert len(g.samples) < n


def test_pmd_malformed_frames():
    head = struct.pack("<Q", 0)
    cases = {
        b"\x02\x00": RejectReason.TRUNCATED,
        bytes([pmd.ACC]) + head + b"\x01" + b"\x00" * 5: RejectReason.LENGTH_MISMATCH,
        bytes([pmd.ACC]) + head + b"\x01": RejectReason.LENGTH_MISMATCH,
        bytes([pmd.ECG]) + head + b"\x00" + b"\x00" * 3: RejectReason.UNSUPPORTED,
        bytes([pmd.ACC]) + head + b"\x85" + b"\x00" * 6: RejectReason.UNSUPPORTED,
        bytes([pmd.ACC]) + head + b"\x80" + b"\x00" * 6 + b"\x00\x01\x00": RejectReason.BAD_FIELD,
    }
    for frame, reason in cases.items():
        with pytest.raises(PacketError) as e:
            pmd.PmdDataFrame.from_bytes(frame)
        assert e.value.reason is reason, frame.hex()


def test_pmd_start_command_and_responses():
    # the H10 ACC start: 200 Hz, 16 bit, 8 g
    assert bytes(pmd.PmdStartCommand.acc()).hex() == "02020001c80001011000020108" + "00"
    cmd = pmd.PmdStartCommand.from_bytes(bytes(pmd.PmdStartCommand.gyro(sample_rate_hz=52)))
    assert cmd.measurement_type == pmd.GYRO and cmd.settings.first(pmd.SAMPLE_RATE) == 52
    ok = pmd.PmdControlResponse.from_bytes(bytes.fromhex("f002020000") + bytes(pmd.PmdSettings({pmd.FACTOR: (0.25,)})))
    assert ok.ok and ok.op_code == pmd.OP_START and ok.settings.first(pmd.FACTOR) == 0.25
    busy = pmd.PmdControlResponse.from_bytes(bytes.fromhex("f0020206"))
    assert not busy.ok and busy.status_name == "ERROR_ALREADY_IN_STATE"
    assert pmd.PmdControlResponse.from_bytes(bytes(busy)) == busy
    assert pmd.STATUS_NAMES[8] == "ERROR_INVALID_SAMPLE_RATE"
    for bad in (b"", b"\xf0\x02", b"\x0f\x02\x02\x00"):
        with pytest.raises(PacketError):
            pmd.PmdControlResponse.from_bytes(bad)
    with pytest.raises(PacketError):
        pmd.PmdSettings.from_bytes(b"\x00\x02\xc8")  # two sample rates announced, one half given
    with pytest.raises(PacketError):
        pmd.PmdSettings.from_bytes(b"\x09\x01\x00")  # unknown setting type
    s = pmd.PmdSettings({pmd.SAMPLE_RATE: (25, 50, 100, 200), pmd.RANGE: (2, 4, 8)})
    assert pmd.PmdSettings.from_bytes(bytes(s)) == s
