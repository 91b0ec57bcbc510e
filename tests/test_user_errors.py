"""Every user error is one line on stderr naming the file and the problem, exit code 2.

Ctrl-C is one line and exit code 130. No traceback, and nothing already recorded is deleted or
truncated. Each test runs ``gait.cli.main([...])`` in-process (a few run ``gait`` in a
subprocess where the operating system must enforce a permission).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from gait.cli import main

ROOT = Path(__file__).resolve().parents[1]
WALK = ROOT / "sample_data" / "walk.csv"

#: Commands that read one recording, with the options that keep them quick and quiet.
READERS = {
    "info": [],
    "analyze": [],
    "report": ["--no-history", "-o", "{tmp}/rep"],
    "replay": ["--speed", "max", "--no-view"],
}


def _one_error_line(capsys, code: int, expect_code: int = 2) -> str:
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert code == expect_code, err
    assert "Traceback" not in err
    assert len(lines) == 1, err
    return lines[0]


def _run(capsys, argv: list[str], expect_code: int = 2) -> str:
    return _one_error_line(capsys, main([str(a) for a in argv]), expect_code)


def _bad_files(tmp: Path) -> dict[str, tuple[Path, str]]:
    """Bad inputs -> (path, words the message must contain)."""
    (tmp / "emptydir").mkdir()
    (tmp / "empty.csv").write_bytes(b"")
    rng = __import__("numpy").random.default_rng(7)
    (tmp / "garbage.csv").write_bytes(rng.integers(0, 256, 4000, dtype="uint8").tobytes())
    (tmp / "text.csv").write_text("t_s,ax,ay,az\n0,a,b,c\n0.01,d,e,f\n")
    (tmp / "utf16.csv").write_bytes("t_s,ax,ay,az\n0,0,0,9.81\n".encode("utf-16"))
    return {
        "missing": (tmp / "missing.csv", "no such file"),
        "empty-folder": (tmp / "emptydir", "no data files"),
        "empty-file": (tmp / "empty.csv", "empty"),
        "binary": (tmp / "garbage.csv", "not a text file"),
        "utf16": (tmp / "utf16.csv", "UTF-16"),
        "text-cells": (tmp / "text.csv", "non-numeric value 'a'"),
    }


@pytest.mark.parametrize("command", sorted(READERS))
@pytest.mark.parametrize("case", ["missing", "empty-folder", "empty-file", "binary", "utf16",
                                  "text-cells"])
def test_bad_input_file(tmp_path, capsys, command, case):
    path, words = _bad_files(tmp_path)[case]
    extra = [a.format(tmp=tmp_path) for a in READERS[command]]
    line = _run(capsys, [command, path, *extra])
    assert line.startswith(f"gait: error: {path}"), line
    assert words.lower() in line.lower(), line
    assert "\x00" not in line and all(c.isprintable() for c in line), repr(line)


def test_a_recording_that_is_mostly_a_long_gap_is_refused_not_filled(tmp_path, capsys):
    # two 6 s pieces a year apart: filling the year on the uniform clock took 23 GB of memory
    rows = ["t_s,ax,ay,az"]
    for start in (0.0, 365 * 86400.0):
        rows += [f"{start + i / 100:.2f},0.1,{0.2 * (i % 7)},9.8" for i in range(600)]
    path = tmp_path / "year_gap.csv"
    path.write_text("\n".join(rows) + "\n")
    line = _run(capsys, ["info", path])
    assert line.startswith(f"gait: error: {path}: the sensor was off for 365.0 days"), line
    assert "split the file" in line
    from gait.errors import InputError
    from gait.io.chunks import iter_recording_chunks

    with pytest.raises(InputError, match="the stamps jump by 365.0 days"):  # the batch reader
        for _ in iter_recording_chunks(path):
            pass


def test_unknown_format_names_the_flag_of_the_command(tmp_path, capsys):
    (tmp_path / "notes.csv").write_text("hello\nworld\n")
    assert "--input-format" in _run(capsys, ["info", tmp_path / "notes.csv"])
    assert "--input-format" in _run(capsys, ["analyze", tmp_path / "notes.csv"])
    line = _run(capsys, ["report", tmp_path / "notes.csv", "--no-history", "-o", tmp_path / "r"])
    assert "pass --format" in line


@pytest.mark.parametrize("fmt, words", [
    ("polar", "missing columns"), ("mbient", "not a MetaWear CSV"),
    ("sensorlogger", "missing sensor files"), ("phyphox", "no acceleration"),
    ("actigraph", "missing columns"), ("axivity", "not an Axivity CSV"),
    ("generic", "missing acceleration columns"), ("nope", "unknown format 'nope'"),
])
def test_a_forced_format_that_does_not_fit(capsys, fmt, words):
    line = _run(capsys, ["info", WALK, "--input-format", fmt])
    assert line.startswith(f"gait: error: {WALK}: ") and words in line, line


@pytest.mark.parametrize("command", sorted(READERS))
def test_input_format_is_the_same_flag_for_every_reader(tmp_path, capsys, command):
    extra = [a.format(tmp=tmp_path) for a in READERS[command]]
    line = _run(capsys, [command, WALK, *extra, "--input-format", "axivity"])
    assert "not an Axivity CSV" in line, line


@pytest.mark.parametrize("command", sorted(READERS))
@pytest.mark.parametrize("option, words", [
    (["--fs", "-5"], "--fs must be a positive rate"),
    (["--fs", "nan"], "--fs must be a positive rate"),
    (["--fs", "1e9"], "leave --fs out"),
    (["--mount", "nonsense"], "unknown mount 'nonsense'"),
    (["--mount", "x=forward,y=forward,z=up"], "same body axis"),
    (["--acc-unit", "furlongs"], "unknown acceleration unit 'furlongs'"),
    (["--gyro-unit", "furlongs"], "unknown gyro unit 'furlongs'"),
])
def test_bad_read_option(tmp_path, capsys, command, option, words):
    extra = [a.format(tmp=tmp_path) for a in READERS[command]]
    line = _run(capsys, [command, WALK, *extra, *option])
    assert line.startswith("gait: error:") and words in line, line


@pytest.mark.parametrize("argv, words", [
    (["replay", WALK, "--no-view", "--speed", "0"], "--speed must be positive"),
    (["replay", WALK, "--no-view", "--speed", "fast"], "--speed must be a number or 'max'"),
    (["live", "--virtual", "--no-view", "--speed", "0"], "--speed must be positive"),
    (["live", "--virtual", "--no-view", "--duration", "-1"], "--duration must be a positive"),
    (["live", "--virtual", "--no-view", "--fs", "-5"], "--fs must be positive"),
    (["live", "--virtual", "--no-view", "--fs", "123"], "the virtual sensor samples at"),
    (["live", "--virtual", "--sensor", "polar", "--no-view", "--fs", "150"], "the virtual sensor samples at"),
    (["live", "--no-view", "--fs", "123"], "a GaitSense sensor samples at"),  # checked before any scan
    (["live", "--virtual", "--no-view", "--programme", "nonsense"], "unknown kind 'nonsense'"),
    (["scan", "--timeout", "-1"], "--timeout must be positive"),
    (["report", WALK, "--no-history", "--dpi", "5"], "--dpi must be between 30 and 600"),
    (["simulate", "{tmp}/s.csv", "--fs", "-5"], "sampling rate must be 25-400 Hz"),
    (["simulate", "{tmp}/s.csv", "--mount", "nonsense"], "unknown mount"),
    (["simulate", "{tmp}/s.csv", "--noise", "loud"], "noise 'loud'"),
    (["simulate", "{tmp}/s.csv", "--programme", "walk:abc"], "duration must be a number"),
    (["simulate", "{tmp}/s.csv", "--start-time", "yesterday"], "not an ISO date-time"),
])
def test_bad_command_option(tmp_path, capsys, monkeypatch, argv, words):
    monkeypatch.chdir(tmp_path)  # `gait live` would write its default recording here
    line = _run(capsys, [str(a).format(tmp=tmp_path) for a in argv])
    assert words in line, line
    assert not list(tmp_path.glob("gait-live-*.csv")), "a failed live run left a recording"


def test_bad_history_database(tmp_path, capsys):
    db = tmp_path / "h.sqlite"
    db.write_bytes(b"this is not sqlite" * 100)
    line = _run(capsys, ["history", "--db", db])
    assert line.startswith(f"gait: error: {db}") and "database" in line, line
    line = _run(capsys, ["history", "--db", db, "--remove", "abc"])
    assert line.startswith(f"gait: error: {db}"), line
    assert db.read_bytes() == b"this is not sqlite" * 100  # left alone


def test_history_of_a_mistyped_database_creates_nothing(tmp_path, capsys):
    db = tmp_path / "typo" / "hsitory.sqlite"
    assert main(["history", "--db", str(db)]) == 0
    assert "no runs yet" in capsys.readouterr().out
    line = _run(capsys, ["history", "--db", db, "--remove", "abc"])
    assert line.startswith(f"gait: error: {db}: no run has a key starting with 'abc'")
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------ output paths
def _out_args(tmp: Path, bad: Path) -> dict[str, list]:
    return {
        "simulate": ["simulate", bad / "x.csv", "--programme", "walk:5"],
        "analyze": ["analyze", WALK, "--out", bad / "out"],
        "report": ["report", WALK, "--no-history", "-o", bad / "rep"],
        "replay": ["replay", WALK, "--speed", "max", "--no-view", "-o", bad / "copy.csv"],
        "live": ["live", "--virtual", "--no-view", "--no-report", "--duration", "5",
                 "-o", bad / "live.csv"],
    }


@pytest.mark.parametrize("command, where", [
    *((c, "missing-folder") for c in ("simulate", "replay", "live")),  # analyze/report create it
    *((c, "under-a-file") for c in ("simulate", "analyze", "report", "replay", "live")),
])
def test_output_in_a_folder_that_cannot_exist(tmp_path, capsys, command, where):
    (tmp_path / "a_file").write_text("x")
    bad = tmp_path / ("nope/deeper" if where == "missing-folder" else "a_file/sub")
    line = _run(capsys, _out_args(tmp_path, bad)[command])
    assert line.startswith("gait: error:") and str(tmp_path) in line, line
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["a_file"]  # nothing half-written
    assert (tmp_path / "a_file").read_text() == "x"


def test_report_output_path_is_a_file(tmp_path, capsys):
    out = tmp_path / "taken.csv"
    out.write_text("keep me")
    line = _run(capsys, ["report", WALK, "--db", tmp_path / "h.sqlite", "-o", out])
    assert f"{out}: the output path exists and is not a folder" in line
    assert out.read_text() == "keep me"
    assert "no runs yet" in (main(["history", "--db", str(tmp_path / "h.sqlite")]) == 0
                             and capsys.readouterr().out)  # no history row for a failed report


def test_a_report_that_fails_leaves_no_folder_behind(tmp_path, capsys):
    (tmp_path / "text.csv").write_text("t_s,ax,ay,az\n0,a,b,c\n")
    line = _run(capsys, ["report", tmp_path / "text.csv", "--no-history", "-o", tmp_path / "r"])
    assert "non-numeric value" in line
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize("command", ["replay", "live"])
def test_an_existing_recording_is_never_overwritten(tmp_path, capsys, command):
    rec = tmp_path / "run.csv"
    shutil.copyfile(WALK, rec)
    before = rec.read_bytes()
    argv = (["replay", WALK, "--speed", "max", "--no-view", "-o", rec] if command == "replay"
            else ["live", "--virtual", "--no-view", "--no-report", "--duration", "5", "-o", rec])
    line = _run(capsys, argv)
    assert line == f"gait: error: {rec}: the file exists already (refusing to overwrite a " \
                   "recording); choose another name with -o"
    assert rec.read_bytes() == before


@pytest.mark.parametrize("taken", ["recording", "labels"])
def test_simulate_never_overwrites_a_real_recording_or_labels(tmp_path, capsys, taken):
    rec, labels = tmp_path / "run.csv", tmp_path / "run.labels.json"
    real = rec if taken == "recording" else labels
    real.write_text("# gait-recording/1\n# {\"device\": \"GaitSense A1\"}\nt_s,ax,ay,az\n"
                    if taken == "recording" else '{"schema": "gait-labels/1", "name": "run"}')
    before = real.read_bytes()
    line = _run(capsys, ["simulate", rec, "--programme", "walk:5"])
    assert line.startswith(f"gait: error: {real}: the file exists and was not written by")
    assert real.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [real.name]


def test_simulate_may_overwrite_its_own_output(tmp_path, capsys):
    out = tmp_path / "sim.csv"
    assert main(["simulate", str(out), "--programme", "walk:5"]) == 0
    assert main(["simulate", str(out), "--programme", "walk:6", "--acc-unit", "g"]) == 0
    assert "6.0 s at 100 Hz" in capsys.readouterr().out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sim.csv", "sim.labels.json"]


def test_writer_never_truncates_a_file_that_appears_after_the_check(tmp_path, monkeypatch):
    from gait.errors import GaitError
    from gait.io.gaitcsv import RecordingWriter

    rec = tmp_path / "run.csv"
    real_exists = Path.exists
    # the file appears between the exists() check and the open(): "x" mode must refuse it
    monkeypatch.setattr(Path, "exists", lambda self: False if self == rec else real_exists(self))
    rec.write_text("recorded data\n")
    with pytest.raises(GaitError, match="exists already"):
        RecordingWriter.open(rec, fs_hz=100.0)
    assert rec.read_text() == "recorded data\n"


def _unprivileged() -> list[str] | None:
    """A command prefix that drops root (root ignores file permissions), or [] when not root."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        return None
    prefix = [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups"]
    probe = subprocess.run([*prefix, sys.executable, "-c", "import numpy"], capture_output=True,
                           env=dict(os.environ, PYTHONPATH=str(ROOT / "src")), timeout=60)
    return prefix if probe.returncode == 0 else None  # e.g. the venv is not world-readable


def _gait_subprocess(prefix: list[str], argv: list, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([*prefix, sys.executable, "-m", "gait", *map(str, argv)], cwd=cwd,
                          capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, PYTHONPATH=str(ROOT / "src")))


def test_permissions_unreadable_input_and_read_only_output(tmp_path):
    prefix = _unprivileged()
    if prefix is None:
        pytest.skip("running as root, and no unprivileged user can run this Python (no setpriv, "
                    "or the venv is not world-readable): permissions cannot be enforced")
    tmp_path.chmod(0o755)
    for p in tmp_path.parents:  # let the unprivileged user reach tmp_path
        if str(p).startswith("/tmp/") and p.stat().st_uid == os.geteuid():
            p.chmod(p.stat().st_mode | 0o005)
    secret = tmp_path / "secret.csv"
    shutil.copyfile(WALK, secret)
    secret.chmod(0o000)
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    cases = [
        (["info", secret], f"{secret}: cannot open (Permission denied)"),
        (["simulate", ro / "x.csv", "--programme", "walk:5"], f"{ro / 'x.csv'}: cannot write"),
        (["report", WALK, "--no-history", "-o", ro / "rep"], f"{ro / 'rep'}: cannot write there"),
        (["replay", WALK, "--speed", "max", "--no-view", "-o", ro / "c.csv"],
         f"{ro / 'c.csv'}: cannot create the recording (Permission denied)"),
    ]
    for argv, words in cases:
        got = _gait_subprocess(prefix, argv, tmp_path)
        lines = got.stderr.strip().splitlines()
        assert got.returncode == 2, (argv, got.stderr)
        assert "Traceback" not in got.stderr and len(lines) == 1, (argv, got.stderr)
        assert words in lines[0], (argv, lines[0])
    assert list(ro.iterdir()) == []


# ------------------------------------------------------------------ Ctrl-C
@pytest.mark.parametrize("command", ["analyze", "report"])
def test_ctrl_c_during_analysis(tmp_path, capsys, monkeypatch, command):
    import gait.pipeline

    def interrupted(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(gait.pipeline, "analyze", interrupted)
    db = tmp_path / "h.sqlite"
    argv = ["analyze", WALK, "--out", tmp_path / "out"] if command == "analyze" else \
        ["report", WALK, "--db", db, "-o", tmp_path / "rep"]
    assert _run(capsys, argv, expect_code=130) == "gait: interrupted"
    assert not (tmp_path / "out" / "result.json").exists()
    assert not (tmp_path / "rep" / "report.html").exists()
    if command == "report":  # no history row for an interrupted report
        assert main(["history", "--db", str(db), "--json"]) == 0
        assert '"runs": []' in capsys.readouterr().out


def test_ctrl_c_while_the_report_is_written_stores_no_history_row(tmp_path, capsys, monkeypatch):
    import gait.report

    def interrupted(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(gait.report, "write_report", interrupted)
    db = tmp_path / "h.sqlite"
    argv = ["report", WALK, "--db", db, "-o", tmp_path / "rep"]
    assert _run(capsys, argv, expect_code=130) == "gait: interrupted"
    assert main(["history", "--db", str(db), "--json"]) == 0
    assert '"runs": []' in capsys.readouterr().out


def test_ctrl_c_while_the_commands_load(capsys, monkeypatch):
    import gait.cli

    def interrupted():
        raise KeyboardInterrupt

    monkeypatch.setattr(gait.cli, "build_parser", interrupted)
    assert _run(capsys, ["info", WALK], expect_code=130) == "gait: interrupted"


def test_ctrl_c_while_writing_leaves_no_partial_file(tmp_path, capsys, monkeypatch):
    import gait.io.gaitcsv as gaitcsv

    def interrupted(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(gaitcsv, "_format_rows", interrupted)
    assert _run(capsys, ["simulate", tmp_path / "s.csv", "--programme", "walk:5"],
                expect_code=130) == "gait: interrupted"
    assert not list(tmp_path.glob("s.csv*"))
