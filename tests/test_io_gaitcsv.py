"""The own format gait-recording/1: round trips, events, and the crash-safe append writer."""

from __future__ import annotations

import json
import time
from datetime import datetime, timezone

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gait.errors import GaitError, InputError
from gait.io import read_recording
from gait.io.gaitcsv import MAGIC, RecordingWriter, write_recording
from gait.types import Gap, Recording, RecordingInfo, SampleBlock

START = datetime(2026, 11, 24, 10, 0, tzinfo=timezone.utc)


def make_rec(n=1000, fs=100.0, gyro=True, seed=0) -> Recording:
    rng = np.random.default_rng(seed)
    acc = rng.normal(0, 1, (n, 3))
    acc[:, 2] += 9.81
    g = rng.normal(0, 0.5, (n, 3)) if gyro else None
    info = RecordingInfo(format="memory", device="GaitSense A1", mount="gaitsense-right-hip")
    return Recording.from_arrays(acc, fs_hz=fs, gyro_rad_s=g, start_time=START, info=info)


def test_round_trip(tmp_path):
    rec = make_rec()
    p = write_recording(tmp_path / "r.csv", rec, header_extra={"subject": "S01"})
    back = read_recording(p)
    assert back.info.format == "gait"
    assert back.fs_hz == rec.fs_hz and back.n_samples == rec.n_samples
    assert back.start_time == START
    assert back.info.device == "GaitSense A1"
    assert back.info.extra["mount_mapping"] == "x=up,y=backward,z=right"
    assert back.info.extra["header"]["subject"] == "S01"
    assert np.allclose(back.acc_m_s2, rec.acc_m_s2, atol=6e-7)
    assert np.allclose(back.gyro_rad_s, rec.gyro_rad_s, atol=6e-7)
    assert back.info.n_repaired == 0 and back.gaps == ()
    lines = p.read_text().splitlines()
    assert lines[0] == MAGIC
    assert json.loads(lines[1][2:])["units"] == {"acc": "m/s^2", "gyro": "rad/s"}
    assert lines[2] == "t_s,ax,ay,az,gx,gy,gz"


def test_round_trip_keeps_gaps(tmp_path):
    rec = make_rec(n=2000, gyro=False)
    valid = np.ones(2000, bool)
    valid[700:800] = False
    acc = rec.acc_m_s2.copy()
    acc[~valid] = np.nan
    gapped = Recording(t_s=rec.t_s, acc_m_s2=acc, gyro_rad_s=None, fs_hz=100.0, valid=valid,
                       gaps=(Gap(6.99, 8.0),), start_time=START, info=rec.info)
    p = write_recording(tmp_path / "g.csv", gapped)
    back = read_recording(p)
    assert np.array_equal(back.valid, valid)
    assert back.gaps == (Gap(6.99, 8.0),)
    assert back.info.extra["events"] == [{"kind": "gap", "start_s": 6.99, "end_s": 8.0}]
    assert not back.has_gyro


@settings(max_examples=10, deadline=None)
@given(n=st.integers(450, 900), fs=st.sampled_from([50.0, 100.0, 208.0]), seed=st.integers(0, 99))
def test_property_round_trip(tmp_path_factory, n, fs, seed):
    rec = make_rec(n=n, fs=fs, seed=seed)
    p = write_recording(tmp_path_factory.mktemp("rt") / "r.csv", rec)
    back = read_recording(p)
    assert back.n_samples == n and back.fs_hz == fs
    assert np.allclose(back.acc_m_s2, rec.acc_m_s2, atol=6e-7)


def test_writer_appends_blocks_and_events(tmp_path):
    rec = make_rec(n=600)
    p = tmp_path / "live.csv"
    with RecordingWriter.open(p, fs_hz=100.0, device="GaitSense A1", mount="body",
                              start_time=START) as w:
        for a in range(0, 600, 50):
            w.append(rec.block(a, a + 50))
            if a == 300:
                w.event({"kind": "reconnect", "t_s": 3.0})
    back = read_recording(p)
    assert back.n_samples == 600
    assert np.allclose(back.acc_m_s2, rec.acc_m_s2, atol=6e-7)
    assert back.info.extra["events"] == [{"kind": "reconnect", "t_s": 3.0}]
    assert back.start_time == START


def test_writer_invalid_samples_become_a_gap_event(tmp_path):
    rec = make_rec(n=800, gyro=False)
    p = tmp_path / "gappy.csv"
    valid = np.ones(800, bool)
    valid[300:400] = False
    with RecordingWriter.open(p, fs_hz=100.0, has_gyro=False) as w:
        w.append(t_s=rec.t_s[:350], acc_m_s2=rec.acc_m_s2[:350], valid=valid[:350])
        w.append(t_s=rec.t_s[350:], acc_m_s2=rec.acc_m_s2[350:], valid=valid[350:])
    back = read_recording(p)
    assert np.array_equal(back.valid, valid)
    assert back.info.extra["events"] == [{"kind": "gap", "start_s": 2.99, "end_s": 4.0}]


def test_writer_flushes_within_a_second_without_being_asked(tmp_path):
    rec = make_rec(n=300)
    p = tmp_path / "timed.csv"
    w = RecordingWriter.open(p, fs_hz=100.0)
    try:
        w.append(rec.block(0, 300))
        size0 = p.stat().st_size
        time.sleep(1.6)
        size1 = p.stat().st_size
        assert size1 > size0  # the background flush wrote the rows
        # the partial (still open) file reads
        back = read_recording(p)
        assert back.n_samples == 300
    finally:
        w.close()


def test_crash_mid_line_leaves_a_readable_file(tmp_path):
    rec = make_rec(n=500)
    p = tmp_path / "crash.csv"
    w = RecordingWriter.open(p, fs_hz=100.0)
    w.append(rec.block(0, 500))
    w.flush()
    with open(p, "a") as f:  # what a crash in the middle of a write leaves behind
        f.write("5.000000,0.12,9.8")
    back = read_recording(p)
    assert back.n_samples == 500
    assert any("cut off" in n for n in back.info.notes)
    w.close()  # closing after the simulated crash must not raise


def test_writer_refuses_to_overwrite_and_checks_input(tmp_path):
    p = tmp_path / "x.csv"
    RecordingWriter.open(p, fs_hz=100.0).close()
    with pytest.raises(GaitError, match="exists"):
        RecordingWriter.open(p, fs_hz=100.0)
    w = RecordingWriter.open(p, fs_hz=100.0, overwrite=True)
    with pytest.raises(GaitError, match="gyro"):
        w.append(t_s=[0.0], acc_m_s2=[[0, 0, 9.81]])
    with pytest.raises(GaitError, match="kind"):
        w.event({"t_s": 1})
    w.close()
    with pytest.raises(GaitError, match="closed"):
        w.event({"kind": "late"})


def test_header_only_file_is_a_clear_error(tmp_path):
    p = tmp_path / "empty_rec.csv"
    RecordingWriter.open(p, fs_hz=100.0).close()
    with pytest.raises(InputError, match="no data rows"):
        read_recording(p)


def test_bad_header_json(tmp_path):
    p = tmp_path / "bad.csv"
    p.write_text(MAGIC + "\n# {not json\nt_s,ax,ay,az\n0,0,0,9.81\n")
    with pytest.raises(InputError, match="line 2 is not valid JSON"):
        read_recording(p)


def test_block_is_the_sample_block_of_that_slice(tmp_path):
    rec = make_rec(n=10)
    rec.valid[3] = False
    b = rec.block(2, 7)
    assert isinstance(b, SampleBlock)
    np.testing.assert_array_equal(b.t_s, np.arange(2, 7) / rec.fs_hz)
    np.testing.assert_array_equal(b.acc_m_s2, rec.acc_m_s2[2:7])
    np.testing.assert_array_equal(b.gyro_rad_s, rec.gyro_rad_s[2:7])
    assert b.valid.tolist() == [True, False, True, True, True]
    assert make_rec(n=10, gyro=False).block(0, 5).gyro_rad_s is None


def test_atomic_write_leaves_the_old_file_on_failure(tmp_path):
    """A writer that fails half-way leaves the destination as it was and no temporary file."""
    from gait.io.atomic import write_text_atomically

    p = tmp_path / "rec.csv"
    write_text_atomically(p, lambda f: f.write("old\n"))

    def broken(f):
        f.write("half of the new")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        write_text_atomically(p, broken)
    assert p.read_text() == "old\n"
    assert sorted(x.name for x in tmp_path.iterdir()) == ["rec.csv"]
