"""Polar PMD ACC + GYRO: frames, the merge onto the ACC grid, recording NaN gyro, virtual device.

The merge tests build the two PMD streams by hand with known sample instants (gyro starting
later, sampled at other instants, other frame sizes, frames delivered late or lost, a sensor
restart), so the expected gyro at every ACC sample is computed independently of the decoder:
linear interpolation between the two received gyro samples around it when they are at most
2.5 gyro periods apart, NaN otherwise.
"""

from __future__ import annotations

import asyncio
import math
import struct

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from gait.ble.protocols import PacketError, RejectReason
from gait.ble.protocols import polar_pmd as pmd
from gait.ble.stream import PolarImuDecoder, StreamAssembler
from gait.types import SampleBlock

FS = 52.0
T0_NS = 820_000_000 * 10**9  # 2026 on the Polar clock
G_FACTOR = 0.1  # deg/s per count
A_FACTOR = 1.0 / 1024  # g per count


# -- GYRO frames ---------------------------------------------------------------------------------
def test_gyro_frame_known_vector_and_units():
    # reference (100, -200, 0) then one block: width 3, 1 sample, deltas (+1, -1, +3)
    payload = struct.pack("<hhh", 100, -200, 0) + bytes([3, 1]) + bytes([0b11111001, 0b0])
    frame = bytes([pmd.GYRO]) + struct.pack("<Q", T0_NS) + bytes([0x80]) + payload
    f = pmd.PmdDataFrame.from_bytes(frame)
    assert f.measurement_type == pmd.GYRO and f.compressed and f.n_samples == 2
    np.testing.assert_array_equal(f.samples, [[100, -200, 0], [101, -201, 3]])
    # compressed GYRO type 0: value x factor is deg/s; physical() is rad/s
    np.testing.assert_allclose(f.physical(G_FACTOR)[0], np.radians([10.0, -20.0, 0.0]))
    assert bytes(f) == frame


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 60), st.integers(0, 2**63 - 1), st.data())
def test_gyro_frame_round_trip(n, ts, data):
    vals = np.array(data.draw(st.lists(st.integers(-32768, 32767), min_size=3 * n, max_size=3 * n)),
                    dtype=np.int64).reshape(n, 3)
    f = pmd.PmdDataFrame(pmd.GYRO, ts, 0, True, vals)
    g = pmd.PmdDataFrame.from_bytes(bytes(f))
    assert g == f and g.measurement_type == pmd.GYRO


def test_raw_gyro_frames_are_rejected():
    with pytest.raises(PacketError) as e:
        pmd.PmdDataFrame.from_bytes(bytes([pmd.GYRO]) + struct.pack("<Q", 1) + b"\x01" + b"\x00" * 6)
    assert e.value.reason is RejectReason.UNSUPPORTED


# -- the merge -------------------------------------------------------------------------------------
def _counts(t_s: np.ndarray, f_hz: float, amp: float) -> np.ndarray:
    """Smooth integer-valued test signals (so frames hold them exactly)."""
    return np.rint(np.column_stack([amp * np.sin(2 * np.pi * f_hz * t_s), amp * np.cos(2 * np.pi * 0.7 * t_s),
                                    amp * 0.1 * t_s])).astype(np.int64)


def _frames(mtype: int, t_ns: np.ndarray, counts: np.ndarray, size: int, delay_s: float) -> list:
    """(delivery time, frame bytes) of a stream cut into frames of ``size`` samples."""
    out = []
    for a in range(0, len(counts), size):
        b = min(a + size, len(counts))
        ts = int(t_ns[b - 1])
        out.append(((ts - T0_NS) / 1e9 + delay_s, bytes(pmd.PmdDataFrame(mtype, ts, 0, True, counts[a:b]))))
    return out


def _expected_gyro(ta: np.ndarray, tg: np.ndarray, g: np.ndarray, fs_g: float) -> np.ndarray:
    """Gyro at ACC times ``ta`` from the RECEIVED gyro samples (tg, g), by the documented rule:
    a gyro sample within 2 % of a period of the ACC instant as it is, else linear interpolation
    between the gyro samples around it when at most 2.5 gyro periods apart, else NaN."""
    out = np.full((len(ta), 3), np.nan)
    same = 0.02 / max(FS, fs_g)
    for k, t in enumerate(ta):
        near = np.flatnonzero(np.abs(tg - t) <= same)
        if len(near):
            out[k] = g[near[0]]
            continue
        left, right = np.flatnonzero(tg < t), np.flatnonzero(tg > t)
        if not len(left) or not len(right):
            continue
        i, j = left[-1], right[0]
        if tg[j] - tg[i] <= 2.5 / fs_g:
            out[k] = g[i] + (t - tg[i]) / (tg[j] - tg[i]) * (g[j] - g[i])
    return out


def _epoch(start_ns: int, dur_s: float, fs_g: float, g_offset_s: float, g_start_s: float):
    """One sensor epoch: ACC from start_ns, GYRO from start_ns + g_start_s, sampled g_offset_s
    after the ACC instants. Returns (acc t_ns, acc counts, gyro t_ns, gyro counts)."""
    n = int(dur_s * FS)
    ta_ns = start_ns + np.rint(np.arange(n) / FS * 1e9).astype(np.int64)
    m = int((dur_s - g_start_s) * fs_g)
    tg_ns = start_ns + np.rint((g_start_s + g_offset_s + np.arange(m) / fs_g) * 1e9).astype(np.int64)
    rel_a, rel_g = (ta_ns - start_ns) / 1e9, (tg_ns - start_ns) / 1e9
    return ta_ns, _counts(rel_a, 1.1, 900), tg_ns, _counts(rel_g, 0.9, 3000)


@pytest.mark.parametrize("fs_g", [52.0, 104.0])
def test_merge_puts_gyro_on_the_acc_grid_by_timestamp(fs_g):
    # epoch 1: 12 s; gyro starts 0.5 s after ACC, sampled 0.4 ACC periods later, 23-sample frames
    # (ACC 36), delivered 0.15 s late; GYRO frame 7 is lost. Then the sensor restarts: epoch 2
    # (its clock 100 s back), 6 s, gyro sampled 0.25 periods EARLIER than ACC, starting first.
    ep1 = _epoch(T0_NS, 12.0, fs_g, 0.4 / FS, 0.5)
    ep2 = _epoch(T0_NS - 100 * 10**9, 6.0, fs_g, -0.25 / FS, 0.0)
    t2 = 13.0  # epoch 2 is delivered after epoch 1 (its delivery clock continues)
    deliveries, lost = [], 7
    g_keep = []
    for e, (ta_ns, acc, tg_ns, gyr) in enumerate((ep1, ep2)):
        shift = 0.0 if e == 0 else t2 + 100.0
        deliveries += [(t + shift, b) for t, b in _frames(pmd.ACC, ta_ns, acc, 36, 0.0)]
        gf = _frames(pmd.GYRO, tg_ns, gyr, 23, 0.15)
        keep = np.ones(len(tg_ns), dtype=bool)
        if e == 0:
            keep[lost * 23:(lost + 1) * 23] = False
            gf.pop(lost)
        g_keep.append(keep)
        deliveries += [(t + shift, b) for t, b in gf]
    deliveries.sort(key=lambda x: x[0])

    dec = PolarImuDecoder(FS, gyro_fs_hz=fs_g, factor=A_FACTOR, gyro_factor=G_FACTOR)
    chunks, max_waiting = [], 0
    for _, b in deliveries:
        chunks += dec(b)
        max_waiting = max(max_waiting, dec.n_waiting)
    chunks += dec.flush()
    assert dec.n_waiting == 0
    # lossless: every ACC sample comes out once, in order, with its values
    got_acc = np.concatenate([c.acc_m_s2 for c in chunks])
    want_acc = np.concatenate([ep1[1], ep2[1]]) * A_FACTOR * 9.80665
    np.testing.assert_allclose(got_acc, want_acc, rtol=1e-12)
    # the index grid: epoch 1 from 0, then a restart with the index from 0 again
    restarts = [i for i, c in enumerate(chunks) if c.restarted]
    assert len(restarts) == 1
    n1 = len(ep1[0])
    assert sum(len(c) for c in chunks[:restarts[0]]) == n1 and chunks[restarts[0]].first_index == 0
    idx = np.concatenate([c.first_index + np.arange(len(c)) for c in chunks])
    np.testing.assert_array_equal(idx, np.concatenate([np.arange(n1), np.arange(len(ep2[0]))]))
    # the gyro: interpolated from the received gyro samples at each ACC instant, NaN in the hole
    got = np.concatenate([c.gyro_rad_s for c in chunks])
    want = []
    for (ta_ns, _, tg_ns, gyr), keep in zip((ep1, ep2), g_keep):
        g = gyr[keep] * G_FACTOR * math.pi / 180
        want.append(_expected_gyro((ta_ns - T0_NS) / 1e9, (tg_ns[keep] - T0_NS) / 1e9, g, fs_g))
    want = np.concatenate(want)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    # (sample instants are rounded to 1 ns on the wire: 30 rad/s^2 x 1 ns)
    np.testing.assert_allclose(got[~np.isnan(got)], want[~np.isnan(want)], atol=1e-6)
    nan_rows = np.isnan(got).any(axis=1)
    # NaN: before the gyro started (0.5 s), the lost frame's span (23 gyro samples), and the end of
    # epoch 1 after its last gyro sample; nothing else
    hole_s = 24 / fs_g
    assert dec.n_gyro_missing == int(nan_rows.sum())
    assert 0.5 * FS <= nan_rows[:n1].sum() <= (0.5 + hole_s) * FS + 4
    # epoch 2's gyro starts first and is complete; only its last ACC sample lies after the last
    # gyro sample (sampled 0.25 periods earlier) and waits for gyro that never comes
    assert not nan_rows[n1:-1].any() and (nan_rows[-1] == (fs_g == FS))
    # the wait is bounded (a few frames), and late gyro frames are still merged
    assert max_waiting <= (dec.wait_s + 2 * 36 / FS) * FS


@settings(max_examples=25, deadline=None)
@given(st.integers(4, 60), st.integers(4, 60), st.sampled_from([26.0, 52.0, 104.0]), st.floats(-1.0, 1.0),
       st.floats(0.0, 1.0), st.floats(0.0, 0.6), st.sets(st.integers(0, 30), max_size=4))
def test_merge_invariants(acc_size, gyro_size, fs_g, offset_periods, g_start_s, delay_s, lost):
    # any frame sizes, gyro rate, relative sampling instants, start, delivery delay and lost
    # GYRO frames: every ACC sample comes out once and in order, with the documented gyro
    # (as long as gyro arrives within the wait, 2 s before the first GYRO frame: else NaN)
    assume(gyro_size / fs_g + delay_s < 1.9)
    ta_ns, acc, tg_ns, gyr = _epoch(T0_NS, 8.0, fs_g, offset_periods / FS, g_start_s)
    gf = _frames(pmd.GYRO, tg_ns, gyr, gyro_size, delay_s)
    keep = np.ones(len(tg_ns), dtype=bool)
    for i in sorted(lost, reverse=True):
        if i < len(gf):
            gf.pop(i)
            keep[i * gyro_size:(i + 1) * gyro_size] = False
    frames = sorted(_frames(pmd.ACC, ta_ns, acc, acc_size, 0.0) + gf, key=lambda x: x[0])
    dec = PolarImuDecoder(FS, gyro_fs_hz=fs_g, factor=A_FACTOR, gyro_factor=G_FACTOR)
    chunks = []
    for _, b in frames:
        chunks += dec(b)
        assert dec.n_waiting <= (dec.wait_s + 0.7) * FS + acc_size
    chunks += dec.flush()
    idx = np.concatenate([c.first_index + np.arange(len(c)) for c in chunks])
    np.testing.assert_array_equal(idx, np.arange(len(acc)))
    np.testing.assert_allclose(np.concatenate([c.acc_m_s2 for c in chunks]), acc * A_FACTOR * 9.80665)
    got = np.concatenate([c.gyro_rad_s for c in chunks])
    want = _expected_gyro((ta_ns - T0_NS) / 1e9, (tg_ns[keep] - T0_NS) / 1e9,
                          gyr[keep] * G_FACTOR * math.pi / 180, fs_g)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    np.testing.assert_allclose(got[~np.isnan(got)], want[~np.isnan(want)], atol=1e-6)


def test_merge_without_any_gyro_releases_acc_after_the_bounded_wait():
    ta_ns, acc, _, _ = _epoch(T0_NS, 20.0, FS, 0.0, 0.0)
    dec = PolarImuDecoder(FS, factor=A_FACTOR, gyro_factor=G_FACTOR, max_wait_s=1.0)  # (default 2 s)
    out, waiting = [], []
    for _, b in _frames(pmd.ACC, ta_ns, acc, 36, 0.0):
        out += dec(b)
        waiting.append(dec.n_waiting)
    assert max(waiting) <= 1.0 * FS + 36  # at most the wait plus one frame is held back
    assert sum(len(c) for c in out) >= len(acc) - 1.0 * FS - 36
    out += dec.flush()
    assert sum(len(c) for c in out) == len(acc) == dec.n_gyro_missing
    assert all(np.isnan(c.gyro_rad_s).all() for c in out)


def test_merge_through_the_assembler_and_acc_only_mode():
    ta_ns, acc, tg_ns, gyr = _epoch(T0_NS, 6.0, FS, 0.0, 0.0)  # same instants: exact gyro
    frames = sorted(_frames(pmd.ACC, ta_ns, acc, 36, 0.0) + _frames(pmd.GYRO, tg_ns, gyr, 20, 0.05),
                    key=lambda x: x[0])
    frames.pop(3)  # one lost frame (ACC or GYRO, whichever was 4th): nothing else may go
    for gyro in (True, False):
        dec = PolarImuDecoder(FS, factor=A_FACTOR, gyro_factor=G_FACTOR, gyro=gyro)
        asm = StreamAssembler(FS, has_gyro=gyro)
        items = []
        for t, b in frames:
            for c in dec(b):
                items += asm.push(c, t)
        for c in dec.flush():
            items += asm.push(c, 99.0)
        blocks = [i for i in items if isinstance(i, SampleBlock)]
        valid = np.concatenate([b.valid for b in blocks])
        assert asm.stats.n_samples + asm.stats.n_lost_samples == len(acc) == len(valid)
        if gyro:
            g = np.concatenate([b.gyro_rad_s for b in blocks])[valid]
            k = np.flatnonzero(valid)
            fin = np.isfinite(g).all(axis=1)
            np.testing.assert_allclose(g[fin], gyr[k[fin]] * G_FACTOR * math.pi / 180, atol=1e-7)
        else:
            assert all(b.gyro_rad_s is None for b in blocks) and dec.n_ignored > 0


# -- the recording keeps ACC rows whose gyro is missing ---------------------------------------------
def test_recording_keeps_acc_rows_with_nan_gyro(tmp_path):
    from gait.io import read_recording
    from gait.io.gaitcsv import RecordingWriter

    n = 520
    rng = np.random.default_rng(0)
    acc = rng.normal(0, 1, (n, 3)) + [0, 0, 9.81]
    gyr = rng.normal(0, 1, (n, 3))
    gyr[100:140] = np.nan
    gyr[300:303] = np.nan
    w = RecordingWriter.open(tmp_path / "r.csv", fs_hz=FS, has_gyro=True)
    w.append(SampleBlock(t_s=np.arange(n) / FS, acc_m_s2=acc, gyro_rad_s=gyr, valid=np.ones(n, dtype=bool)))
    w.close()
    rec = read_recording(tmp_path / "r.csv")
    assert rec.n_samples == n and rec.valid.all() and rec.gaps == ()
    np.testing.assert_allclose(rec.acc_m_s2, acc, atol=1e-5)
    np.testing.assert_array_equal(np.isnan(rec.gyro_rad_s).any(axis=1), np.isnan(gyr).any(axis=1))
    np.testing.assert_allclose(rec.gyro_rad_s[~np.isnan(gyr)], gyr[~np.isnan(gyr)], atol=1e-5)
    # no gyro value at all: read as accelerometer only
    w = RecordingWriter.open(tmp_path / "none.csv", fs_hz=FS, has_gyro=True)
    w.append(t_s=np.arange(n) / FS, acc_m_s2=acc, gyro_rad_s=np.full((n, 3), np.nan))
    w.close()
    rec = read_recording(tmp_path / "none.csv")
    assert rec.n_samples == n and not rec.has_gyro


# -- end to end: the virtual Polar device over the real bleak code -----------------------------------
@pytest.fixture(scope="module")
def walk52():
    from gait.sim import simulate

    return simulate("stand:2,walk:16:forward:110,walk:14:backward:100,stand:2", fs_hz=FS, seed=2,
                    mount=MOUNT).recording


async def _play(rec, tmp_path, *, faults=None, speed=12.0):
    from test_ble_virtual import _play as play  # (the same live run, on the virtual Polar device)

    return await play(rec, tmp_path, faults=faults, protocol="polar", speed=speed, mount=MOUNT)


MOUNT = "gaitsense-right-hip"
GYRO_LSB = 2000 * math.pi / 180 / 32768
ACC_LSB = 8 * 9.80665 / 32768


def _rows(path):
    lines = [ln for ln in path.read_text().splitlines()[3:] if ln and not ln.startswith("#")]
    return np.array([[float(x) for x in ln.split(",")] for ln in lines])


def test_virtual_polar_records_gyro_and_analyses_like_the_source(walk52, tmp_path):
    pytest.importorskip("bumble")
    from gait.io import read_recording
    from gait.pipeline import analyze
    from gait.types import Recording

    src, sensor, sess, state = asyncio.run(_play(walk52, tmp_path))
    fw = sensor.fw
    assert src.has_gyro and src.decoder.gyro_factor == pytest.approx(2000 / 32768)
    assert src.stats.n_lost_samples == 0 and src.stats.n_samples == int(fw.sent.sum())
    rows = _rows(tmp_path / "run.csv")
    assert rows.shape == (int(fw.sent.sum()), 7)  # t_s, ax..az, gx..gz
    np.testing.assert_allclose(rows[:, 1:4], walk52.acc_m_s2[fw.sent], atol=2 * ACC_LSB)
    np.testing.assert_allclose(rows[:, 4:7], walk52.gyro_rad_s[fw.sent], atol=GYRO_LSB)  # no NaN either
    rec = read_recording(tmp_path / "run.csv")
    assert rec.has_gyro and rec.valid.all()
    # the same steps and directions as the source over the same samples (16-bit quantisation
    # moves step times by < 0.1 ms here)
    j0, n = int(np.flatnonzero(fw.sent)[0]), rec.n_samples
    part = Recording.from_arrays(walk52.acc_m_s2[j0:j0 + n], fs_hz=FS, gyro_rad_s=walk52.gyro_rad_s[j0:j0 + n])
    got, want = analyze(rec, mount=MOUNT), analyze(part, mount=MOUNT)
    assert len(got.steps) == len(want.steps) > 40
    np.testing.assert_allclose(got.step_times_s, want.step_times_s, atol=1e-3)
    dirs = [s.direction for s in got.steps]
    assert dirs == [s.direction for s in want.steps] and {"forward", "backward"} <= set(dirs)
    # and the live steps are the offline analysis of the recording
    np.testing.assert_allclose([s.t_s for s in sess.steps], got.step_times_s, atol=1e-6)


def test_virtual_polar_lost_gyro_frames_give_nan_gyro_not_lost_acc(walk52, tmp_path):
    pytest.importorskip("bumble")
    from gait.ble.virtual import Faults
    from gait.io import read_recording
    from gait.pipeline import analyze

    faults = Faults(packet_loss=0.1, disconnect_at_s=(18.0,), down_s=1.0, seed=5)
    src, sensor, sess, state = asyncio.run(_play(walk52, tmp_path, faults=faults))
    fw = sensor.fw
    assert fw.n_packets_dropped >= 3
    # every ACC sample that went out is in the recording; its gyro is there exactly when the
    # gyro of that sample went out too
    rows = _rows(tmp_path / "run.csv")
    assert len(rows) == src.stats.n_samples == int(fw.sent.sum())
    np.testing.assert_allclose(rows[:, 1:4], walk52.acc_m_s2[fw.sent], atol=2 * ACC_LSB)
    has_g = np.isfinite(rows[:, 4:7]).all(axis=1)
    gyro_went = fw.gyro_sent[fw.sent]
    assert (~gyro_went).sum() > 10
    np.testing.assert_array_equal(has_g, gyro_went)
    np.testing.assert_allclose(rows[has_g, 4:7], walk52.gyro_rad_s[fw.sent][has_g], atol=GYRO_LSB)
    assert src.stats.n_gyro_missing == int((~has_g).sum())
    # the reader keeps those samples (NaN gyro), and the live steps equal the offline analysis
    rec = read_recording(tmp_path / "run.csv")
    assert int(rec.valid.sum()) == len(rows)
    assert int(np.isnan(rec.gyro_rad_s[rec.valid]).any(axis=1).sum()) == int((~has_g).sum())
    offline = analyze(rec, mount=MOUNT, chunk_s=19 / FS)
    assert len(sess.steps) == len(offline.steps) > 20
    np.testing.assert_allclose([s.t_s for s in sess.steps], offline.step_times_s, atol=1e-6)


def test_polar_device_without_gyro_records_acc_only_and_a_wrong_rate_is_explained(tmp_path):
    pytest.importorskip("bumble")
    from gait.ble.bumble_backend import VirtualRadio, bumble_backend
    from gait.ble.transport import BleSource
    from gait.ble.virtual import VirtualFirmware, VirtualSensor
    from gait.errors import DeviceError
    from gait.io import read_recording
    from gait.live.session import LiveSession

    acc = np.random.default_rng(1).normal(0, 1, (int(30 * FS), 3)) + [0.0, 0.0, 9.81]

    async def go(fs_hz, with_gyro_signal):
        radio = VirtualRadio()
        fw = VirtualFirmware(acc, fs_hz=FS, gyro_rad_s=np.zeros_like(acc) if with_gyro_signal else None)
        dev = VirtualSensor(radio, fw, name="Polar H10 Virtual", protocol="polar", speed=10.0)
        await dev.start()
        scanner, client = bumble_backend(radio)
        src = BleSource(None, sensor="polar", fs_hz=fs_hz, gyro=True, scanner_backend=scanner,
                        client_backend=client, connect_attempts=1)
        sess = LiveSession(src, output=tmp_path / f"{fs_hz:g}.csv")
        asyncio.get_running_loop().call_later(2.5, src.stop)
        try:
            await asyncio.wait_for(sess.run(), 30)
        finally:
            await dev.stop()
        return src, sess

    # an H10-like device (no GYRO in its features): accelerometer only, said in an event
    src, sess = asyncio.run(go(FS, False))
    assert not src.has_gyro and src.stats.n_samples > 100
    assert any(e["kind"] == "no_gyro" for e in sess.events)
    assert not read_recording(tmp_path / "52.csv").has_gyro
    # a rate the device does not offer: the error says which it does
    with pytest.raises(DeviceError, match=r"ERROR_INVALID_SAMPLE_RATE \(it offers 52 Hz: use --fs\)"):
        asyncio.run(go(200.0, True))
