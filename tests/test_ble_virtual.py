"""The REAL BleakScanner / BleakClient code against the bumble virtual sensor (in-process link).

The fault scenario of issue 6: scan, connect, stream 60 s of 100 Hz at 10x speed, 5 % packet
loss, two disconnects (the sensor drops the link and is unreachable for 1 s), one firmware
restart. Nothing may be lost beyond the injected faults, the gaps must be marked in the
recording, and the steps found live must equal the offline analysis of the recording.
"""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

pytest.importorskip("bumble")

from gait.ble.bumble_backend import VirtualRadio, bumble_backend  # noqa: E402
from gait.ble.transport import BleSource, scan  # noqa: E402
from gait.ble.virtual import Faults, VirtualFirmware, VirtualSensor  # noqa: E402
from gait.errors import DeviceError  # noqa: E402
from gait.live.session import LiveSession  # noqa: E402
from gait.live.sources import virtual_ble_source  # noqa: E402

FS = 100.0
ACC_LSB = 8 * 9.80665 / 32768  # +-8 g, 16 bit


@pytest.fixture(scope="module")
def walk60():
    from gait.sim import simulate

    return simulate("stand:3,walk:54:forward:110,stand:3", fs_hz=FS, seed=1).recording


async def _play(rec, tmp_path, *, faults=None, protocol="gaitsense", speed=10.0, stop_after_s=None,
                mount="body", **kw):
    """A live session on the virtual sensor playing ``rec`` once; returns (source, sensor,
    session, final state). Also used by test_polar_gyro."""
    src, sensor = virtual_ble_source(rec, speed=speed, protocol=protocol, faults=faults, loop_signal=False,
                                     reconnect_for_s=20.0, **kw)
    await sensor.start()
    sess = LiveSession(src, output=tmp_path / "run.csv", mount=mount)

    async def stopper():
        if stop_after_s is not None:  # counted from the first recorded sample, not the connect
            while sess.writer is None:  # (connecting may take seconds on a loaded machine)
                await asyncio.sleep(0.05)
            await asyncio.sleep(stop_after_s)
        else:
            await sensor.done.wait()
            await asyncio.sleep(0.3)
        src.stop()

    stop_task = asyncio.create_task(stopper())
    try:
        state = await asyncio.wait_for(sess.run(), 60)
    finally:
        stop_task.cancel()
        await sensor.stop()
    return src, sensor, sess, state


def test_scan_finds_the_virtual_sensor_with_name_and_rssi():
    async def go():
        radio = VirtualRadio()
        fw = VirtualFirmware(np.tile([0.0, 0.0, 9.81], (500, 1)), fs_hz=FS, loop=True)
        dev = VirtualSensor(radio, fw, name="GaitSense-A1B2")
        await dev.start()
        scanner, _ = bumble_backend(radio)
        try:
            all_ = await scan(0.5, backend=scanner)
            named = await scan(0.3, backend=scanner, name="a1b2")
            other = await scan(0.3, backend=scanner, name="nope")
            polar_only = await scan(0.3, backend=scanner, sensors=("polar",))
        finally:
            await dev.stop()
        return all_, named, other, polar_only

    all_, named, other, polar_only = asyncio.run(go())
    assert [(f.name, f.address, f.sensor) for f in all_] == [("GaitSense-A1B2", "C0:FF:EE:00:00:01", "gaitsense")]
    assert all_[0].rssi < 0
    assert len(named) == 1 and other == []
    # the name is not in the advertisement (31-byte limit) but in the scan response
    from gait.ble.protocols.gaitsense import SERVICE_UUID
    from gait.ble.virtual import advertising_payloads

    adv, sr = advertising_payloads(SERVICE_UUID, "GaitSense-A1B2")
    assert len(adv) == 21 and len(sr) <= 31 and b"GaitSense" in sr and b"GaitSense" not in adv
    assert polar_only == [] or all(f.sensor != "gaitsense" for f in polar_only)


def test_fault_scenario_loss_disconnects_restart(walk60, tmp_path):
    faults = Faults(packet_loss=0.05, disconnect_at_s=(12.0, 45.0), restart_at_s=(30.0,), down_s=1.0, seed=3)
    src, sensor, sess, state = asyncio.run(_play(walk60, tmp_path, faults=faults))
    fw = sensor.fw
    st = src.stats
    kinds = [e["kind"] for e in sess.events]
    # the connection story
    assert kinds[0] == "connected"
    # every fault that hit a live link (normally all three) cost one reconnect
    story = [what for _, what in sensor.log if not what.startswith("command")]
    hits = sum(1 for a, b in zip(story, story[1:]) if a == "connected" and b in ("disconnect", "restart"))
    assert kinds.count("reconnected") == kinds.count("disconnected") == hits >= 2
    assert st.n_restarts == 1 and "firmware_restart" in kinds and "firmware_restart_detected" in kinds
    assert fw.n_packets_dropped > 5
    # nothing lost beyond the injected faults: every notification that went out was recorded
    assert st.n_samples == int(fw.sent.sum())
    rows = _rows(tmp_path / "run.csv")  # exactly the rows the recorder wrote
    want = walk60.acc_m_s2[fw.sent]
    assert rows.shape == (len(want), 7)
    np.testing.assert_allclose(rows[:, 1:4], want, atol=ACC_LSB)
    np.testing.assert_allclose(rows[:, 4:7], walk60.gyro_rad_s[fw.sent], atol=2000 * np.pi / 180 / 32768)
    # before the restart the recording clock is exact: recorded sample k is source sample k + j0
    j0 = int(np.flatnonzero(fw.sent)[0])
    restart_t = next(e["t_s"] for e in sess.events if e["kind"] == "firmware_restart")
    k = np.rint(rows[:, 0] * FS).astype(int)
    pre = rows[:, 0] < restart_t
    np.testing.assert_allclose(rows[pre, 1:4], walk60.acc_m_s2[k[pre] + j0], atol=ACC_LSB)
    # after it, the host clock places the new stream (index and sensor clock restarted at 0). At
    # 10x speed every ms of event-loop jitter is 10 ms of signal, so allow 0.3 s of host time;
    # test_ble_stream checks the bridging to 2 samples with clean timing
    k_after = int(k[~pre][0])
    j_after = int(np.flatnonzero(fw.sent[int(30 * FS):])[0]) + int(30 * FS)
    assert abs((k_after + j0) - j_after) <= 0.3 * 10 * FS
    # gaps are marked in the recording
    from gait.io import read_recording

    rec = read_recording(tmp_path / "run.csv")
    file_events = rec.info.extra.get("events") or []
    file_kinds = [e["kind"] for e in file_events]
    assert file_kinds.count("gap") == st.n_gaps
    assert "firmware_restart" in file_kinds and file_kinds.count("reconnected") == hits
    assert file_kinds.count("lost_samples") == st.n_gaps
    causes = {e["cause"] for e in sess.events if e["kind"] == "lost_samples"}
    assert {"packet_loss", "firmware_restart"} <= causes <= {"packet_loss", "disconnect", "firmware_restart"}
    assert "disconnect" in causes or hits == 2
    assert 0.05 < state.loss_fraction < 0.5
    # the reader keeps the long gaps (disconnects, restart) as gaps
    assert (~rec.valid).sum() >= 3 * FS
    # steps found live equal the offline analysis of the recording as `gait` reads it (both fill
    # holes <= 0.25 s, one lost notification, and keep longer ones as gaps)
    from gait.pipeline import analyze

    live_t = np.array([s.t_s for s in sess.steps])
    offline = analyze(rec, mount="body", chunk_s=19 / FS)  # the core promises any chunking is equal
    assert len(live_t) == len(offline.steps) > 50  # 97 steps in the signal, minus the faults
    np.testing.assert_allclose(live_t, offline.step_times_s, atol=1e-6)


def _rows(path):
    lines = [ln for ln in path.read_text().splitlines()[3:] if ln and not ln.startswith("#")]
    return np.array([[float(x) for x in ln.split(",")] for ln in lines])


def test_polar_pmd_stream_with_compressed_frames(walk60, tmp_path):
    rec10 = walk60  # 10 s of it at 20x is enough
    src, sensor, sess, state = asyncio.run(  # accelerometer only (`gait live --no-gyro`)
        _play(rec10, tmp_path, protocol="polar", speed=20.0, stop_after_s=1.2, gyro=False))
    assert src.decoder.factor == pytest.approx(8 / 32768)  # from the start response
    assert state.n_samples > 300 and src.stats.n_lost_samples == 0
    from gait.io import read_recording

    rec = read_recording(tmp_path / "run.csv")
    assert not rec.has_gyro
    fw = sensor.fw
    n = rec.n_samples
    want = walk60.acc_m_s2[fw.sent][:n]
    np.testing.assert_allclose(rec.acc_m_s2, want, atol=2 * ACC_LSB)


def test_stop_mid_stream_closes_a_readable_recording(walk60, tmp_path):
    src, sensor, sess, state = asyncio.run(_play(walk60, tmp_path, speed=5.0, stop_after_s=2.0))
    assert state.finished and src.state == "stopped"
    from gait.io import read_recording

    rec = read_recording(tmp_path / "run.csv")
    assert 100 < rec.n_samples < 5000
    assert sensor.log[-1][1] == "command 02"  # the host told the sensor to stop


def test_no_sensor_is_a_device_error():
    async def go():
        radio = VirtualRadio()
        scanner, client = bumble_backend(radio)
        src = BleSource("GaitSense-XYZ", scanner_backend=scanner, client_backend=client, scan_timeout_s=0.3,
                        connect_attempts=1)
        async for _ in src.stream():
            pass

    with pytest.raises(DeviceError, match="no gaitsense sensor named 'GaitSense-XYZ' found"):
        asyncio.run(go())


def test_a_sensor_that_never_comes_back_ends_the_run_normally(walk60, tmp_path):
    # the sensor drops the link and stays away longer than the host keeps trying
    faults = Faults(disconnect_at_s=(8.0,), down_s=1000.0)

    async def go():
        src, sensor = virtual_ble_source(walk60, speed=10.0, faults=faults, loop_signal=False,
                                         reconnect_for_s=0.5)
        src.scan_timeout_s = 0.2
        src.connect_attempts = 1
        src.backoff_s = 0.05
        await sensor.start()
        sess = LiveSession(src, output=tmp_path / "run.csv", mount="body")
        try:
            state = await asyncio.wait_for(sess.run(), 30)
        finally:
            await sensor.stop()
        return sess, state

    sess, state = asyncio.run(go())
    kinds = [e["kind"] for e in sess.events]
    assert kinds[-2:] == ["disconnected", "sensor_lost"] and state.finished
    from gait.io import read_recording

    assert read_recording(tmp_path / "run.csv").n_samples > 50
