"""The live path without bluetooth: replay source -> session (recorder + analyzer) -> view; CLI."""

from __future__ import annotations

import asyncio
import math
import time

import numpy as np
import pytest
from rich.console import Console

from gait.cli import main
from gait.live.session import LiveSession, LiveState
from gait.live.sources import ReplaySource
from gait.live.view import render

FS = 100.0


@pytest.fixture(scope="module")
def walk30():
    from gait.sim import simulate

    return simulate("stand:3,walk:24:backward:105,stand:3", fs_hz=FS, seed=2).recording


def test_replay_equals_offline_analysis_and_records_losslessly(walk30, tmp_path):
    from gait.io import read_recording
    from gait.pipeline import analyze

    sess = LiveSession(ReplaySource(walk30, speed=math.inf), output=tmp_path / "copy.csv", mount="body")
    state = asyncio.run(sess.run())
    offline = analyze(walk30, mount="body")
    assert len(sess.steps) == len(offline.steps) > 30
    np.testing.assert_allclose([s.t_s for s in sess.steps], offline.step_times_s, atol=1e-9)
    assert state.finished and state.n_steps == len(offline.steps)
    assert state.t_s == pytest.approx(walk30.duration_s)
    copy = read_recording(tmp_path / "copy.csv")
    assert copy.n_samples == walk30.n_samples and copy.fs_hz == FS
    np.testing.assert_allclose(copy.acc_m_s2, walk30.acc_m_s2, atol=1e-6)
    np.testing.assert_allclose(copy.gyro_rad_s, walk30.gyro_rad_s, atol=1e-6)
    assert copy.info.mount == "x=forward,y=left,z=up" or copy.info.mount == "body"


def test_replay_paces_itself_at_the_requested_speed(walk30):
    short = walk30
    src = ReplaySource(short, speed=60.0)  # 30 s of signal in ~0.5 s
    t0 = time.perf_counter()
    asyncio.run(LiveSession(src).run())
    dt = time.perf_counter() - t0
    assert 0.45 < dt < 6.0  # paced, not instantaneous (generous upper bound: shared machine)
    with pytest.raises(Exception):
        ReplaySource(short, speed=0.0)


def test_recording_never_waits_for_a_slow_analyzer(walk30, tmp_path, monkeypatch):
    from gait.pipeline import StreamAnalyzer

    orig = StreamAnalyzer.push

    def slow_push(self, block):
        time.sleep(0.05)  # an analyzer that lags behind a fast source
        return orig(self, block)

    monkeypatch.setattr(StreamAnalyzer, "push", slow_push)
    lags: list[float] = []
    written_when_source_done: list[int] = []
    steps_when_source_done: list[int] = []
    sess = LiveSession(ReplaySource(walk30, speed=math.inf, block_s=0.05), output=tmp_path / "r.csv",
                       on_update=lambda s: lags.append(s.analyzer_lag_s))
    src_stream = sess.source.stream

    async def watched():
        async for item in src_stream():
            yield item
        written_when_source_done.append(sess.writer.n_written)
        steps_when_source_done.append(len(sess.steps))

    sess.source.stream = watched
    asyncio.run(sess.run())
    # every sample was on disk when the source ended, while the analyzer was still far behind
    assert written_when_source_done == [walk30.n_samples]
    assert max(lags) > 1.0
    assert steps_when_source_done[0] < len(sess.steps) - 5
    assert len(sess.steps) > 20  # and the analysis still caught up completely


def test_view_shows_the_live_state():
    st = LiveState(device="GaitSense-A1B2", connection="reconnecting", t_s=754.3, n_steps=1234,
                   cadence_spm=171.6, direction="backward", activity="run", loss_fraction=0.052,
                   n_lost_samples=3921, n_samples=71000, n_reconnects=2, n_restarts=1, recording="run.csv")
    con = Console(record=True, width=100, color_system=None)
    con.print(render(st))
    text = con.export_text()
    for want in ("0:12:34.3", "1234", "172 steps/min", "backward", "run", "5.2 %", "3921 samples lost",
                 "reconnecting", "2 reconnects, 1 firmware restarts", "GaitSense-A1B2", "run.csv"):
        assert want in text, want
    st2 = LiveState()
    con2 = Console(record=True, width=100, color_system=None)
    con2.print(render(st2))
    text2 = con2.export_text()
    assert "cadence  -" in text2 and "0:00:00.0" in text2


def test_cli_replay(walk30, tmp_path, capsys):
    from gait.io.gaitcsv import write_recording

    path = tmp_path / "walk.csv"
    write_recording(path, walk30)
    assert main(["replay", str(path), "--speed", "max", "--no-view", "--mount", "body"]) == 0
    out = capsys.readouterr().out
    assert "30.0 s replayed" in out and "steps" in out
    assert main(["replay", str(path), "--speed", "0"]) == 2
    assert "--speed must be positive" in capsys.readouterr().err
    assert main(["replay", str(path), "--speed", "fast"]) == 2
    assert main(["replay", str(tmp_path / "missing.csv")]) == 2


def test_cli_live_refuses_to_overwrite(tmp_path, capsys):
    p = tmp_path / "run.csv"
    p.write_text("x")
    assert main(["live", "--virtual", "-o", str(p)]) == 2
    assert "refusing to overwrite" in capsys.readouterr().err


def test_cli_live_virtual_and_scan_virtual(tmp_path, capsys):
    pytest.importorskip("bumble")
    out = tmp_path / "v.csv"
    assert main(["live", "--virtual", "--speed", "20", "--duration", "3", "--no-view", "--no-report",
                 "--programme", "stand:3,walk:60:backward:105", "-o", str(out)]) == 0
    err = capsys.readouterr().err
    assert "recording:" in err and "analysis of the recording" in err
    from gait.io import read_recording

    rec = read_recording(out)
    assert rec.n_samples > 500 and rec.info.device == "GaitSense-Virtual"
    assert main(["scan", "--virtual", "--timeout", "0.5"]) == 0
    assert "GaitSense-Virtual" in capsys.readouterr().out


def test_short_holes_are_filled_for_the_analyzer_only_like_the_reader_does():
    from gait.live.session import ShortGapFiller
    from gait.types import SampleBlock

    def blk(i0, n, valid=True, v=0.0):
        t = np.arange(i0, i0 + n) / FS
        a = np.full((n, 3), v if valid else np.nan)
        a[:, 0] = t if valid else np.nan
        return SampleBlock(t_s=t, acc_m_s2=a, gyro_rad_s=None, valid=np.full(n, valid))

    f = ShortGapFiller(FS)
    assert len(f.feed(blk(0, 19))) == 1
    assert f.feed(blk(19, 19, valid=False)) == []  # held back: might be one lost notification
    out = f.feed(blk(38, 19))
    assert [len(b) for b in out] == [19, 19] and out[0].valid.all()
    np.testing.assert_allclose(out[0].acc_m_s2[:, 0], np.arange(19, 38) / FS)  # linear across the hole
    # a hole longer than 0.25 s stays a gap (passed on as soon as it is known to be long)
    assert f.feed(blk(57, 19, valid=False)) == []
    out = f.feed(blk(76, 19, valid=False))
    assert [len(b) for b in out] == [19, 19] and not any(b.valid.any() for b in out)
    assert [len(b) for b in f.feed(blk(95, 10, valid=False))] == [10]
    assert [b.valid.all() for b in f.feed(blk(105, 5))] == [True]
    assert f.n_filled == 19
    assert f.feed(blk(110, 3, valid=False)) == [] and len(f.finish()) == 1


def test_killed_live_run_leaves_a_readable_recording(tmp_path):
    """kill -9 in the middle of `gait live --virtual`: the file is readable up to the last flush."""
    pytest.importorskip("bumble")
    import os
    import signal
    import subprocess
    import sys

    out = tmp_path / "killed.csv"
    p = subprocess.Popen([sys.executable, "-m", "gait", "live", "--virtual", "--speed", "5", "--no-view",
                          "--no-report", "--programme", "walk:60:forward:110", "-o", str(out)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        t0 = time.monotonic()
        while not (out.exists() and out.stat().st_size > 20_000) and time.monotonic() - t0 < 30:
            time.sleep(0.2)
        time.sleep(1.5)
    finally:
        os.kill(p.pid, signal.SIGKILL)
        p.wait()
    from gait.io import read_recording

    rec = read_recording(out)
    assert rec.n_samples > 500 and rec.has_gyro
