"""iter_recording_chunks: bounded-memory reading gives what read_recording gives."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gait.errors import SignalError
from gait.io import iter_recording_chunks, read_recording

FIX = Path(__file__).parent / "fixtures" / "formats"


def gappy_file(path: Path, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    n = 3000
    t = np.arange(n) / 100.0 + rng.uniform(-0.002, 0.002, n)
    t[0] = 0.0
    keep = np.ones(n, bool)
    keep[rng.choice(n, 30, replace=False)] = False  # single dropped rows: holes
    keep[1200:1290] = False  # 0.9 s gap
    keep[0] = True
    acc = np.column_stack([np.sin(2 * np.pi * 1.7 * t), 0.3 * np.cos(t), 9.81 + np.sin(3 * t)])
    gyro = np.column_stack([0.5 * np.sin(t), np.zeros(n), np.full(n, 0.2)])
    arr = np.column_stack([t, acc, gyro])[keep]
    np.savetxt(path, arr, fmt="%.6f", delimiter=",", header="t_s,ax,ay,az,gx,gy,gz", comments="")
    return path


def collect(path, **kw):
    blocks = list(iter_recording_chunks(path, **kw))
    ctx = blocks[-1][1]
    t = np.concatenate([b.t_s for b, _ in blocks])
    acc = np.vstack([b.acc_m_s2 for b, _ in blocks])
    gyro = None if blocks[0][0].gyro_rad_s is None else np.vstack([b.gyro_rad_s for b, _ in blocks])
    valid = np.concatenate([b.valid for b, _ in blocks])
    return blocks, ctx, t, acc, gyro, valid


def assert_same(path, **kw):
    rec = read_recording(path)
    blocks, ctx, t, acc, gyro, valid = collect(path, **kw)
    assert ctx.streamed
    assert ctx.fs_hz == rec.fs_hz
    assert np.allclose(t, rec.t_s)
    assert np.array_equal(valid, rec.valid)
    assert np.allclose(acc, rec.acc_m_s2, equal_nan=True, atol=1e-9)
    if rec.has_gyro:
        assert np.allclose(gyro, rec.gyro_rad_s, equal_nan=True, atol=1e-9)
    assert tuple(ctx.gaps) == rec.gaps
    assert ctx.info.n_repaired == rec.info.n_repaired
    assert ctx.info.n_raw_samples == rec.info.n_raw_samples
    assert ctx.info.units == rec.info.units
    assert ctx.start_time == rec.start_time
    return blocks, ctx


def test_chunks_equal_the_whole_file(tmp_path):
    p = gappy_file(tmp_path / "g.csv")
    blocks, ctx = assert_same(p, chunk_s=5.0, _chunk_rows=400)
    assert [len(b) for b, _ in blocks[:-1]] == [500] * (len(blocks) - 1)
    assert len(ctx.gaps) == 1
    s = ctx.summary(sum(len(b) for b, _ in blocks))
    assert s["n_samples"] == read_recording(p).n_samples and s["gaps"] and s["format"] == "generic"


@settings(max_examples=8, deadline=None)
@given(rows=st.integers(50, 3000), chunk_s=st.sampled_from([0.7, 3.0, 60.0]))
def test_property_chunking_does_not_change_the_result(tmp_path_factory, rows, chunk_s):
    p = gappy_file(tmp_path_factory.mktemp("c") / "g.csv", seed=3)
    assert_same(p, chunk_s=chunk_s, _chunk_rows=rows)


def test_gait_format_streams_with_header_and_events():
    blocks, ctx = assert_same(FIX / "gait" / "recording.csv", chunk_s=1.0, _chunk_rows=97)
    assert ctx.info.extra["events"][0]["kind"] == "marker"
    assert ctx.info.units_source["fs"] == "nominal"


def test_other_formats_are_read_whole_and_sliced():
    blocks, ctx, t, acc, gyro, valid = collect(FIX / "mbient", chunk_s=2.0)
    assert not ctx.streamed
    assert [len(b) for b, _ in blocks] == [200, 200, 200]
    assert ctx.info.format == "mbient"


def test_too_short_fails_before_the_first_block(tmp_path):
    t = np.arange(150) / 100.0
    arr = np.column_stack([t, np.zeros(150), np.sin(t), np.full(150, 9.81)])
    p = tmp_path / "short.csv"
    np.savetxt(p, arr, fmt="%.5f", delimiter=",", header="t_s,ax,ay,az", comments="")
    it = iter_recording_chunks(p, chunk_s=0.5)
    with pytest.raises(SignalError, match="only 1.50 s"):
        next(it)


@pytest.mark.shared_data
def test_dev_jitter_drop_streams(shared_data):
    assert_same(shared_data / "dev_variants" / "jitter_drop" / "sessions" / "session_02.csv",
                chunk_s=4.0, _chunk_rows=1000)


def test_cut_last_line_and_gap_events_stream_like_the_whole_file(tmp_path):
    from gait.io.gaitcsv import RecordingWriter

    rng = np.random.default_rng(2)
    n = 1500
    t = np.arange(n) / 100.0
    acc = np.column_stack([rng.normal(0, 1, n), rng.normal(0, 1, n), 9.81 + rng.normal(0, 1, n)])
    valid = np.ones(n, bool)
    valid[600:700] = False
    p = tmp_path / "live.csv"
    w = RecordingWriter.open(p, fs_hz=100.0, has_gyro=False)
    w.append(t_s=t, acc_m_s2=acc, valid=valid)
    w.flush()
    with open(p, "a") as f:
        f.write("15.000000,0.1")  # a crash mid-line
    blocks, ctx = assert_same(p, chunk_s=2.0, _chunk_rows=333)
    assert ctx.info.extra["events"] == [{"kind": "gap", "start_s": 5.99, "end_s": 7.0}]
    assert any("cut off" in s for s in ctx.info.notes)
    w.close()
