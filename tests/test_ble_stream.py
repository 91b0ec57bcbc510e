"""Above the transport, without bluetooth: clock fit, loss counting, gaps, restarts, Polar frames.

The packets come from the virtual sensor's firmware model (:class:`VirtualFirmware`), so these
tests exercise exactly the bytes the bumble device would notify.
"""

from __future__ import annotations

import numpy as np
import pytest

from gait.ble.clock import ClockFit, Unwrapper
from gait.ble.protocols import gaitsense as gs
from gait.ble.stream import GaitSenseDecoder, PolarImuDecoder, SensorChunk, StreamAssembler
from gait.ble.virtual import POLAR_FACTOR, VirtualFirmware
from gait.types import SampleBlock

FS = 100.0


def _signal(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    acc = rng.normal(0, 3, (n, 3)) + [0, 0, 9.81]
    gyr = rng.normal(0, 1, (n, 3))
    return acc, gyr


def test_clock_fit_finds_offset_and_drift_under_one_sided_latency():
    rng = np.random.default_rng(3)
    c = ClockFit(window_s=60.0)
    drift = 40e-6
    for k in range(600):
        s = k * 0.19
        lat = 0.008 + rng.exponential(0.015)  # always late, sometimes very late
        c.add(s, 1000.0 + s * (1 + drift) + lat)
    assert c.drift_ppm == pytest.approx(40.0, abs=15.0)
    assert float(c.host_time(100.0)) == pytest.approx(1000.0 + 100.0 * (1 + drift) + 0.008, abs=0.004)
    assert 0.0 < c.latency_s < 0.03


def test_clock_fit_tracks_a_change_of_drift():
    c = ClockFit(window_s=30.0)
    h = 0.0
    for k in range(1200):  # 114 s at +0 ppm, then -200 ppm
        s = k * 0.095
        h = s if s < 57 else 57 + (s - 57) * (1 - 200e-6)
        c.add(s, h)
    assert c.drift_ppm == pytest.approx(-200.0, abs=5.0)


def test_clock_fit_needs_points_and_unwrapper_unwraps():
    with pytest.raises(ValueError):
        ClockFit().host_time(1.0)
    u = Unwrapper(1 << 32)
    vals = [2**32 - 10, 2**32 - 1, 5, 100, 2**32 - 3]  # wraps forward, then a small step back
    assert [u(v) for v in vals] == [2**32 - 10, 2**32 - 1, 2**32 + 5, 2**32 + 100, 2**32 - 3]


def _collect(items):
    blocks = [i for i in items if isinstance(i, SampleBlock)]
    events = [i for i in items if not isinstance(i, SampleBlock)]
    return blocks, events


def _run(fw: VirtualFirmware, schedule, *, loss=0.0, speed=1.0):
    """Drive the firmware through (j_until, deliver, action) steps; host time = sensor time / speed."""
    dec = GaitSenseDecoder()
    asm = StreamAssembler(FS, has_gyro=True)
    items = []
    j = 0
    for j_until, deliver, action in schedule:
        if action == "restart":
            fw.restart()
            asm.note_disconnect()
        if action == "start":
            fw.command(bytes(gs.ControlCommand.start(FS)))
        while j < j_until:
            j = min(j_until, j + 7)
            for pkt in fw.advance(j, deliver=deliver, loss=loss):
                chunk = dec(pkt)
                items += asm.push(chunk, 50.0 + j / FS / speed + 0.004)
    return asm, dec, items


def test_loss_counting_gaps_and_values_are_exact():
    acc, gyr = _signal(3000)
    fw = VirtualFirmware(acc, gyro_rad_s=gyr, fs_hz=FS, seed=2)
    fw.command(bytes(gs.ControlCommand.start(FS)))
    asm, dec, items = _run(fw, [(1000, True, None), (1400, False, "disconnect"), (3000, True, None)], loss=0.05)
    blocks, events = _collect(items)
    t = np.concatenate([b.t_s for b in blocks])
    valid = np.concatenate([b.valid for b in blocks])
    got = np.concatenate([b.acc_m_s2 for b in blocks])
    # one uniform clock from the first sample, gaps included
    np.testing.assert_allclose(t, np.arange(len(t)) / FS)
    # every valid sample is the source sample of the same index (quantized by 16 bits at 8 g)
    sent = fw.sent[:len(t)]
    np.testing.assert_array_equal(valid, sent)
    np.testing.assert_allclose(got[valid], acc[:len(t)][valid], atol=8 * 9.81 / 32768)
    assert np.isnan(got[~valid]).all()
    # counts
    st = asm.stats
    assert st.n_samples == fw.sent.sum()
    assert st.n_lost_samples == (~valid).sum()
    assert st.n_lost_packets + 400 // 19 + 1 >= fw.n_packets_dropped > 0
    causes = [e.data["cause"] for e in events if e.kind == "lost_samples"]
    assert causes.count("packet_loss") >= 1
    assert dec.counter.n_rejected == 0
    # the sensor rate measured on its own (30 ppm fast) crystal
    assert st.fs_measured_hz == pytest.approx(FS / (1 + 30e-6), abs=1e-3)


def test_duplicates_and_out_of_order_packets_are_dropped():
    acc, gyr = _signal(200)
    fw = VirtualFirmware(acc, gyro_rad_s=gyr, fs_hz=FS)
    fw.command(bytes(gs.ControlCommand.start(FS)))
    pk = fw.advance(200, deliver=True)
    dec = GaitSenseDecoder()
    asm = StreamAssembler(FS, has_gyro=True)
    for i, p in enumerate([pk[0], pk[1], pk[1], pk[0], pk[2]]):
        asm.push(dec(p), float(i))
    assert asm.stats.n_samples == 3 * 19
    assert asm.stats.n_duplicate_samples == 2 * 19
    assert asm.stats.n_lost_samples == 0


def test_firmware_restart_is_bridged_with_the_host_clock():
    acc, gyr = _signal(4000)
    fw = VirtualFirmware(acc, gyro_rad_s=gyr, fs_hz=FS, drift_ppm=50.0)
    fw.command(bytes(gs.ControlCommand.start(FS)))
    speed = 10.0  # host time runs 10x slower than the signal (accelerated virtual sensor)
    asm, dec, items = _run(fw, [(1500, True, None), (1800, False, "restart"), (4000, True, "start")], speed=speed)
    blocks, events = _collect(items)
    kinds = [e.kind for e in events]
    assert "firmware_restart" in kinds
    assert asm.stats.n_restarts == 1
    valid = np.concatenate([b.valid for b in blocks])
    got = np.concatenate([b.acc_m_s2 for b in blocks])
    # after the restart, recorded sample k should be source sample k (host-clock estimate)
    k_first_after = int(np.flatnonzero(~valid).max()) + 1
    src_first_after = 1800 + 1 - 1  # the firmware's first sample after START
    src = int(np.argmin(np.abs(acc[1790:1830, 0] - got[k_first_after, 0]))) + 1790
    assert src == src_first_after
    assert abs(k_first_after - src) <= 2  # within 20 ms at 100 Hz
    gap = [e for e in events if e.kind == "lost_samples"][-1]
    assert gap.data["cause"] == "firmware_restart"


def test_polar_frames_through_the_assembler():
    acc, _ = _signal(1000)
    fw = VirtualFirmware(acc, fs_hz=FS)
    fw.streaming = True
    frames = fw.polar_frames(1000, deliver=True)
    dec = PolarImuDecoder(FS, factor=POLAR_FACTOR, gyro=False)
    asm = StreamAssembler(FS, has_gyro=False)
    items = []
    for i, f in enumerate(frames):
        if i == 5:
            continue  # one lost frame
        chunks = dec(f)
        assert len(chunks) == 1  # (accelerometer only: every frame comes out at once)
        items += asm.push(chunks[0], float(i))
    blocks, events = _collect(items)
    valid = np.concatenate([b.valid for b in blocks])
    got = np.concatenate([b.acc_m_s2 for b in blocks])
    assert asm.stats.n_lost_samples == 36 and (~valid).sum() == 36
    n = len(valid)
    np.testing.assert_allclose(got[valid], acc[:n][valid], atol=2 * 8 * 9.81 / 32768)
    assert events[0].kind == "lost_samples" and events[0].data["start_s"] == pytest.approx(5 * 36 / FS)


def test_bad_packets_are_counted_not_fatal():
    dec = GaitSenseDecoder()
    assert dec(b"\x01\x00") is None
    assert dec(b"") is None
    assert dec.counter.rejected == {"truncated": 2}
    asm = StreamAssembler(FS, has_gyro=False)
    assert asm.push(SensorChunk(0, 0.0, np.zeros((0, 3))), 0.0) == []
    with pytest.raises(ValueError):
        StreamAssembler(0.0, has_gyro=False)
