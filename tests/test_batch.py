"""Batch orchestration: discovery, per-file jobs, resumability, atomic writes, failures, CLI."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gait import batch as B
from gait.cli import main
from gait.errors import GaitError, InputError

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data" / "walk.csv"
from gait.io import read_recording
from gait.io.results import write_steps_csv
from gait.pipeline import analyze

FS_HZ = 100.0


def walk_signal(duration_s: float, *, step_hz: float = 1.8, seed: int = 0):
    """A walking-like hip signal in the body frame (x fwd, y left, z up): m/s^2, rad/s."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(duration_s * FS_HZ)) / FS_HZ
    ph = 2 * np.pi * step_hz * t
    acc = np.column_stack([
        1.0 * np.sin(ph + 0.6),
        0.6 * np.sin(ph / 2),
        9.80665 + 3.0 * np.sin(ph) + 0.8 * np.sin(2 * ph),
    ]) + rng.normal(0, 0.05, (t.size, 3))
    gyro = np.column_stack([0.3 * np.sin(ph / 2), 0.2 * np.sin(ph), 0.4 * np.sin(ph / 2 + 1)])
    return t, acc, gyro


def write_generic(path: Path, duration_s: float, seed: int = 0, **kw) -> Path:
    t, acc, gyro = walk_signal(duration_s, seed=seed, **kw)
    df = pd.DataFrame({"t_s": t, "ax": acc[:, 0], "ay": acc[:, 1], "az": acc[:, 2],
                       "gx": gyro[:, 0], "gy": gyro[:, 1], "gz": gyro[:, 2]})
    path.parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(path, index=False, float_format="%.5f")
    return path


def write_sensorlogger(folder: Path, duration_s: float, seed: int = 0) -> Path:
    t, acc, gyro = walk_signal(duration_s, seed=seed)
    folder.mkdir(parents=True, exist_ok=True)
    t_ns = (1_700_000_000_000_000_000 + np.round(t * 1e9)).astype(np.int64)
    for name, v in (("TotalAcceleration.csv", acc), ("Gyroscope.csv", gyro)):
        pd.DataFrame({"time": t_ns, "seconds_elapsed": t, "z": v[:, 2], "y": v[:, 1],
                      "x": v[:, 0]}).to_csv(folder / name, index=False, float_format="%.5f")
    return folder


# --------------------------------------------------------------------------- a stand-in job
def fake_job(path: str, options: dict) -> dict:
    """Stand-in for process_file: fails on names containing 'bad', else a fixed row."""
    row = B._empty_row(path)
    if "bad" in Path(path).name:
        row["error"] = "stand-in failure"
        return row
    row.update(status="ok", duration_s=60.0, n_steps=len(Path(path).name), compute_s=0.0)
    return row


# --------------------------------------------------------------------------- discovery
def test_discover_files_folders_globs_exports_and_exclusions(tmp_path):
    d = tmp_path / "data"
    write_generic(d / "a.csv", 3)
    write_generic(d / "sub" / "b.csv", 3)
    (d / "a.labels.json").write_text("{}")
    (d / "notes.md").write_text("x")
    write_sensorlogger(d / "phone" / "2026-01-01_10-00-00", 3)
    write_sensorlogger(d / "phone" / "2026-01-02_10-00-00", 3)
    out = d / "out"
    write_generic(out / "old.csv", 3)  # inside the output folder: never taken

    found = B.discover([d], exclude=[out])
    rel = [Path(f).relative_to(d).as_posix() for f in found]
    # Each Sensor Logger export folder is one recording; their parent is only a container.
    assert rel == ["a.csv", "phone/2026-01-01_10-00-00", "phone/2026-01-02_10-00-00", "sub/b.csv"]

    # Globs keep data files (and search matched folders); explicit files are always taken;
    # duplicates collapse.
    assert B.discover([str(d / "*"), d / "a.csv"], exclude=[out]) == found
    assert B.discover([d / "notes.md"]) == [str(d / "notes.md")]
    assert B.discover([str(d / "**" / "*.csv")], exclude=[out]) == sorted(
        str(p) for p in [d / "a.csv", d / "sub" / "b.csv",
                         d / "phone" / "2026-01-01_10-00-00" / "TotalAcceleration.csv",
                         d / "phone" / "2026-01-01_10-00-00" / "Gyroscope.csv",
                         d / "phone" / "2026-01-02_10-00-00" / "TotalAcceleration.csv",
                         d / "phone" / "2026-01-02_10-00-00" / "Gyroscope.csv"])

    with pytest.raises(InputError, match="no such file"):
        B.discover([tmp_path / "missing.csv"])
    with pytest.raises(InputError, match="no file matches"):
        B.discover([str(tmp_path / "nothing*" / "*.csv")])


def test_file_id_is_stable_and_distinct_for_same_names(tmp_path):
    a = B.file_id(tmp_path / "x" / "rec.csv")
    b = B.file_id(tmp_path / "y" / "rec.csv")
    assert a != b and a.startswith("rec-") and B.file_id(tmp_path / "x" / "rec.csv") == a


# --------------------------------------------------------------------------- orchestration (stand-in)
@pytest.mark.parametrize("jobs", [1, 2])
def test_failures_are_listed_and_do_not_stop_the_others(tmp_path, jobs):
    for name in ("one.csv", "bad.csv", "three.csv"):
        (tmp_path / "in").mkdir(exist_ok=True)
        (tmp_path / "in" / name).write_text("t_s,ax,ay,az\n0,0,0,9.8\n")
    rep = B.run_batch([tmp_path / "in"], B.BatchOptions(out_dir=str(tmp_path / "out")),
                      jobs=jobs, job=fake_job, progress=False)
    assert [Path(r["file"]).name for r in rep.rows] == ["bad.csv", "one.csv", "three.csv"]
    assert rep.n_ok == 2 and rep.n_failed == 1
    assert rep.failures == [(str(tmp_path / "in" / "bad.csv"), "stand-in failure")]
    table = pd.read_csv(tmp_path / "out" / "runs.csv", keep_default_na=False)
    assert list(table.columns) == list(B.RUN_COLUMNS)
    assert table.set_index("file")["error"].to_dict()[str(tmp_path / "in" / "bad.csv")] == "stand-in failure"
    assert json.loads((tmp_path / "out" / "batch.json").read_text())["n_failed"] == 1


def test_no_recordings_and_bad_jobs_are_user_errors(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="no recordings found"):
        B.run_batch([tmp_path / "empty"], B.BatchOptions(out_dir=str(tmp_path / "o")), progress=False)
    with pytest.raises(GaitError, match="--jobs"):
        B.run_batch([tmp_path], B.BatchOptions(out_dir=str(tmp_path / "o")), jobs=0, progress=False)


# --------------------------------------------------------------------------- the real path
@pytest.fixture(scope="module")
def recordings(tmp_path_factory):
    d = tmp_path_factory.mktemp("recs")
    write_generic(d / "walk_a.csv", 40, seed=1)
    write_generic(d / "walk_b.csv", 25, seed=2, step_hz=2.0)
    write_sensorlogger(d / "phone_export", 30, seed=3)
    (d / "broken.csv").write_text("t_s,ax,ay,az\n0,1,2\nnot,a,number,row\n")
    return d


def test_real_path_matches_the_library_and_writes_everything(recordings, tmp_path):
    out = tmp_path / "out"
    rep = B.run_batch([recordings], B.BatchOptions(out_dir=str(out)), jobs=1, progress=False)
    by_name = {Path(r["file"]).name: r for r in rep.rows}
    assert set(by_name) == {"walk_a.csv", "walk_b.csv", "phone_export", "broken.csv"}
    assert by_name["broken.csv"]["status"] == "error" and by_name["broken.csv"]["error"]
    for name in ("walk_a.csv", "walk_b.csv", "phone_export"):
        row = by_name[name]
        assert row["status"] == "ok", row
        expected = analyze(read_recording(recordings / name))
        assert row["n_steps"] == expected.summary["n_steps"] > 0
        assert row["duration_s"] == pytest.approx(expected.recording["duration_s"], abs=1e-3)
        fdir = out / row["result_dir"]
        doc = json.loads((fdir / "result.json").read_text())
        want = json.loads(json.dumps(expected.to_dict()))
        # the chunked reader notes how it decided the rate ("first chunk"): all else is equal
        for rec_doc in (doc["recording"], want["recording"]):
            rec_doc["units_source"].pop("fs", None)
        assert doc == want
        buf = io.StringIO()
        write_steps_csv(buf, expected)
        assert (fdir / "steps.csv").read_text() == buf.getvalue()
        assert [s["t_s"] for s in doc["steps"]] == [round(s.t_s, 4) for s in expected.steps]
        assert len(pd.read_csv(fdir / "steps.csv")) == row["n_steps"]
        man = json.loads((fdir / "manifest.json").read_text())
        assert man["key"] and man["row"]["n_steps"] == row["n_steps"]
    assert by_name["phone_export"]["format"] == "sensorlogger"
    assert by_name["phone_export"]["start_time"].startswith("2023-11-14")
    # nothing half-written is left behind
    assert not [p for p in out.rglob("*") if p.name.endswith((".tmp", ".part"))]
    if (out / "runs.parquet").exists():
        pq = pd.read_parquet(out / "runs.parquet")
        assert list(pq.columns) == list(B.RUN_COLUMNS) and len(pq) == 4


def test_rerun_skips_current_files_and_redoes_changed_ones(tmp_path):
    d = tmp_path / "in"
    write_generic(d / "a.csv", 20, seed=1)
    write_generic(d / "b.csv", 20, seed=2)
    opts = B.BatchOptions(out_dir=str(tmp_path / "out"))
    first = B.run_batch([d], opts, progress=False)
    assert [r["status"] for r in first.rows] == ["ok", "ok"]
    second = B.run_batch([d], opts, progress=False)
    assert [r["status"] for r in second.rows] == ["skipped", "skipped"]
    assert B.compare_rows(first.rows, second.rows) == []
    # Same size, new content: the hash (not the mtime) notices.
    write_generic(d / "b.csv", 20, seed=9)
    third = B.run_batch([d], opts, progress=False)
    assert [r["status"] for r in third.rows] == ["skipped", "ok"]
    # New parameters invalidate everything; --force too.
    p2 = B.BatchOptions(out_dir=str(tmp_path / "out"), params={"bout_min_steps": 6})
    assert [r["status"] for r in B.run_batch([d], p2, progress=False).rows] == ["ok", "ok"]
    f = B.BatchOptions(out_dir=str(tmp_path / "out"), params={"bout_min_steps": 6}, force=True)
    assert [r["status"] for r in B.run_batch([d], f, progress=False).rows] == ["ok", "ok"]
    # A result file deleted by hand is rebuilt.
    fdir = tmp_path / "out" / third.rows[0]["result_dir"]
    (fdir / "result.json").unlink()
    assert B.run_batch([d], f.__class__(out_dir=f.out_dir, params=f.params),
                       progress=False).rows[0]["status"] == "ok"


def test_interrupted_write_leaves_no_manifest_and_is_redone(tmp_path, monkeypatch):
    d = tmp_path / "in"
    write_generic(d / "a.csv", 20)
    opts = B.BatchOptions(out_dir=str(tmp_path / "out"))
    real_replace = os.replace
    calls = []

    def dying_replace(src, dst):
        calls.append(Path(dst).name)
        if Path(dst).name == "steps.csv":
            raise KeyboardInterrupt  # the batch is killed half-way through one file's outputs
        return real_replace(src, dst)

    monkeypatch.setattr(B.os, "replace", dying_replace)
    with pytest.raises(KeyboardInterrupt):
        B.process_file(str(d / "a.csv"), opts)
    monkeypatch.setattr(B.os, "replace", real_replace)
    fdir = tmp_path / "out" / "files" / B.file_id(d / "a.csv")
    assert calls == ["result.json", "steps.csv"]
    assert not (fdir / "manifest.json").exists()
    assert not [p for p in fdir.iterdir() if p.name.endswith((".tmp", ".part"))]
    assert B.process_file(str(d / "a.csv"), opts)["status"] == "ok"
    assert B.process_file(str(d / "a.csv"), opts)["status"] == "skipped"


def test_atomic_write_keeps_the_old_file_when_the_writer_fails(tmp_path):
    p = tmp_path / "t.txt"
    B.atomic_write_text(p, "old")

    def bad(tmp):
        Path(tmp).write_text("half")
        raise OSError("disk full")

    with pytest.raises(OSError):
        B._atomic_with(p, bad)
    assert p.read_text() == "old" and [x.name for x in tmp_path.iterdir()] == ["t.txt"]


def test_process_pool_gives_the_same_table(recordings, tmp_path):
    a = B.run_batch([recordings], B.BatchOptions(out_dir=str(tmp_path / "a")), jobs=1, progress=False)
    b = B.run_batch([recordings], B.BatchOptions(out_dir=str(tmp_path / "b")), jobs=2, progress=False)
    assert B.compare_rows(a.rows, b.rows) == []


# --------------------------------------------------------------------------- dask
def test_dask_local_cluster_gives_the_same_table(recordings, tmp_path):
    distributed = pytest.importorskip("dask.distributed")
    local = B.run_batch([recordings], B.BatchOptions(out_dir=str(tmp_path / "local")), progress=False)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None, silence_logs=50) as cluster:
        rep = B.run_batch([recordings], B.BatchOptions(out_dir=str(tmp_path / "dask")),
                          dask_address=cluster.scheduler_address, progress=False)
    assert len(rep.rows) == 4 and rep.n_ok == 3 and rep.n_failed == 1, rep.failures
    assert B.compare_rows(local.rows, rep.rows) == []
    # per-file outputs are byte-identical too (apart from the manifest's timestamp)
    for r in local.rows:
        if r["status"] == "ok":
            assert ((tmp_path / "local" / r["result_dir"] / "result.json").read_bytes()
                    == (tmp_path / "dask" / r["result_dir"] / "result.json").read_bytes())


def test_dask_missing_is_a_clear_error(monkeypatch, tmp_path):
    import sys

    monkeypatch.setitem(sys.modules, "dask.distributed", None)
    with pytest.raises(GaitError, match=r"gait-imu\[dask\]"):
        B.dask_client("tcp://127.0.0.1:8786")


# --------------------------------------------------------------------------- CLI
def test_cli_batch(recordings, tmp_path, capsys):
    rc = main(["batch", str(recordings), "-o", str(tmp_path / "o"), "--jobs", "1", "-q"])
    err = capsys.readouterr().err
    assert rc == 1  # broken.csv failed
    assert "4 recordings" in err and "3 analysed" in err and "1 failed" in err
    assert f"failed: {recordings / 'broken.csv'}:" in err
    rc = main(["batch", str(recordings / "walk_a.csv"), "-o", str(tmp_path / "o"), "-q"])
    assert rc == 0 and "1 current (skipped)" in capsys.readouterr().err
    assert main(["batch", str(tmp_path / "nope"), "-o", str(tmp_path / "o")]) == 2
    assert "no such file or folder" in capsys.readouterr().err


def test_progress_bar_reports_files_and_hours(tmp_path):
    import io

    from rich.console import Console

    for name in ("a.csv", "b.csv"):
        (tmp_path / "in").mkdir(exist_ok=True)
        (tmp_path / "in" / name).write_text("t_s,ax,ay,az\n0,0,0,9.8\n")
    buf = io.StringIO()
    con = Console(file=buf, force_terminal=False, width=200)
    B.run_batch([tmp_path / "in"], B.BatchOptions(out_dir=str(tmp_path / "out")), job=fake_job,
                progress=True, console=con)
    text = buf.getvalue()
    assert "2/2 files" in text and "0.03 h of data" in text  # 2 x 60 s


def test_streamed_writers_equal_the_plain_ones(tmp_path):
    from gait.io.results import BOUT_COLS, STEP_COLS, write_bouts_csv
    from gait.types import Bout, GaitResult, Step

    steps = [Step(t_s=0.5 * i + 1e-7, index=50 * i, direction=("forward", "backward")[i % 2],
                  cadence_spm=float("nan") if i == 0 else 120.0, bout=0) for i in range(7)]
    res = GaitResult(steps=steps, bouts=[Bout(0, 0.0, 3.0, "walk", "forward", 7, 120.0)],
                     summary={"n_steps": 7}, info={"version": "x"}, recording={"fs_hz": 100.0})
    B.write_result_json(tmp_path / "r.json", res)
    assert json.loads((tmp_path / "r.json").read_text()) == json.loads(json.dumps(res.to_dict()))
    # written in slices of 3 rows == in one go; the values are those of the JSON
    write_steps_csv(tmp_path / "s.csv", res, rows_per_write=3)
    one = io.StringIO()
    write_steps_csv(one, res)
    assert (tmp_path / "s.csv").read_text() == one.getvalue()
    df = pd.read_csv(tmp_path / "s.csv")
    assert tuple(df.columns) == STEP_COLS
    js = res.to_dict()["steps"]
    assert list(df["t_s"]) == [d["t_s"] for d in js] and list(df["index"]) == [d["index"] for d in js]
    assert np.isnan(df["cadence_spm"][0]) and list(df["cadence_spm"][1:]) == [120.0] * 6
    write_bouts_csv(tmp_path / "b.csv", res)
    b = pd.read_csv(tmp_path / "b.csv")
    assert tuple(b.columns) == BOUT_COLS and b["duration_s"][0] == 3.0 and b["n_steps"][0] == 7
    empty = GaitResult(steps=[], bouts=[], summary={}, info={})
    write_steps_csv(tmp_path / "e.csv", empty)
    assert (tmp_path / "e.csv").read_text() == ",".join(STEP_COLS) + "\n"
    B.write_result_json(tmp_path / "e.json", empty)
    assert json.loads((tmp_path / "e.json").read_text()) == empty.to_dict()


def test_batch_and_analyze_write_the_same_tables(tmp_path):
    """One layout for steps.csv / bouts.csv, whichever command writes them."""
    from gait.cli import main

    rec = write_generic(tmp_path / "in" / "walk.csv", 40.0)
    assert main(["analyze", str(rec), "--out", str(tmp_path / "a")]) == 0
    assert main(["batch", str(tmp_path / "in"), "--out", str(tmp_path / "b")]) == 0
    files = list((tmp_path / "b" / "files").iterdir())
    assert len(files) == 1
    for name in ("steps.csv", "bouts.csv"):
        assert (tmp_path / "a" / name).read_text() == (files[0] / name).read_text()
    assert len((tmp_path / "a" / "steps.csv").read_text().splitlines()) > 40


def test_resume_key_changes_with_the_analysis_code():
    key = B.BatchOptions(out_dir="x").key_dict()
    assert key["analyzer"] == B.analyzer_fingerprint() and len(key["analyzer"]) == 16
    assert key["tables"] == B.TABLES_LAYOUT


@pytest.mark.parametrize(
    "extra, fragment",
    [
        (["--fs", "1e9"], "2000 Hz"),
        (["--fs", "-5"], "positive rate"),
        (["--params", '{"nope": 1}'], "unknown analysis parameter"),
        (["--params", "{not json"], "not valid JSON"),
        (["--input-format", "nonsense"], "must be one of"),
        (["--mount", "sideways-ish"], "unknown mount"),
        (["--jobs", "0"], "--jobs must be 1 or more"),
    ],
)
def test_bad_options_fail_before_any_file_is_read(tmp_path, capsys, extra, fragment):
    out = tmp_path / "out"
    rc = main(["batch", str(SAMPLE), "-o", str(out), "-q", *extra])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2
    assert len(err) == 1 and fragment in err[0] and "Traceback" not in err[0]
    assert not out.exists()  # nothing was read or written
