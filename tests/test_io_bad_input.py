"""Bad input: one clear line naming the file, exit code 2, no traceback (issue 2, item 6)."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pytest

from gait.cli import main
from gait.errors import GaitError, InputError, SignalError
from gait.io import read_recording

FIX = Path(__file__).parent / "fixtures" / "formats"


def write_csv(path: Path, t: np.ndarray, acc: np.ndarray, header: str = "t_s,ax,ay,az") -> Path:
    body = "\n".join(f"{ti:.4f}," + ",".join(f"{v:.5f}" for v in a) for ti, a in zip(t, acc))
    path.write_text(header + "\n" + body + "\n")
    return path


def signal(n: int, fs: float = 100.0) -> tuple[np.ndarray, np.ndarray]:
    t = np.arange(n) / fs
    acc = np.zeros((n, 3))
    acc[:, 2] = 9.81
    acc[:, 0] = np.sin(2 * np.pi * 2 * t)
    return t, acc


def run_info(path: Path, capsys, *extra: str) -> tuple[int, str]:
    code = main(["info", str(path), *extra])
    err = capsys.readouterr().err
    return code, err


def check_one_line(code: int, err: str, path: Path, words: str) -> None:
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    assert lines[0].startswith(f"gait: error: {path}")
    assert words.lower() in lines[0].lower(), lines[0]


def test_empty_file(tmp_path, capsys):
    p = tmp_path / "empty.csv"
    p.write_text("")
    with pytest.raises(InputError):
        read_recording(p)
    check_one_line(*run_info(p, capsys), p, "empty")


def test_unknown_format(tmp_path, capsys):
    p = tmp_path / "notes.txt"
    p.write_text("dear diary\ntoday I walked backwards\n")
    check_one_line(*run_info(p, capsys), p, "unknown format")


def test_missing_columns(tmp_path, capsys):
    t, acc = signal(500)
    p = write_csv(tmp_path / "two_axes.csv", t, acc[:, :2], header="t_s,ax,ay")
    check_one_line(*run_info(p, capsys), p, "missing acceleration columns")
    # also when the format is forced
    check_one_line(*run_info(p, capsys, "--input-format", "generic"), p, "missing")


def test_non_numeric_cells(tmp_path, capsys):
    t, acc = signal(500)
    p = write_csv(tmp_path / "text_cell.csv", t, acc)
    lines = p.read_text().splitlines()
    lines[100] = "0.9900,0.1,abc,9.81"
    p.write_text("\n".join(lines) + "\n")
    code, err = run_info(p, capsys)
    check_one_line(code, err, p, "non-numeric value 'abc'")
    assert "line 101" in err


def test_runs_of_nan(tmp_path, capsys):
    t, acc = signal(1000)
    acc[200:600] = np.nan  # 40 % of the rows
    p = write_csv(tmp_path / "nan_run.csv", t, acc)
    with pytest.raises(SignalError, match="longest run 4.01 s"):
        read_recording(p)
    check_one_line(*run_info(p, capsys), p, "missing (NaN or empty) in 40% of rows")


def test_short_nan_run_becomes_a_gap(tmp_path):
    t, acc = signal(1000)
    acc[300:350] = np.nan  # 0.5 s: a gap, not an error
    rec = read_recording(write_csv(tmp_path / "nan_gap.csv", t, acc))
    assert len(rec.gaps) == 1
    assert rec.gaps[0].start_s == pytest.approx(2.99) and rec.gaps[0].end_s == pytest.approx(3.5)
    assert (~rec.valid).sum() == 50
    assert np.isnan(rec.acc_m_s2[~rec.valid]).all()


def test_all_zero_signal(tmp_path, capsys):
    t, acc = signal(500)
    p = write_csv(tmp_path / "zeros.csv", t, np.zeros_like(acc))
    check_one_line(*run_info(p, capsys), p, "all zero")


def test_absurd_units(tmp_path, capsys):
    t, acc = signal(500)
    p = write_csv(tmp_path / "weird_units.csv", t, acc / 9.81 * 500)  # median |a| ~ 500
    code, err = run_info(p, capsys)
    check_one_line(code, err, p, "cannot tell the acceleration unit (median |a| = 50")
    assert "--acc-unit" in err
    p2 = write_csv(tmp_path / "tiny.csv", t, acc / 9.81 * 0.01)
    check_one_line(*run_info(p2, capsys), p2, "cannot tell the acceleration unit (median |a| = 0.01")


def test_header_unit_contradicted_by_data(tmp_path, capsys):
    t, acc = signal(500)
    p = write_csv(tmp_path / "says_g.csv", t, acc, header="t_s,ax_g,ay_g,az_g")
    check_one_line(*run_info(p, capsys), p, "header says acceleration is in g")


def test_less_than_two_seconds(tmp_path, capsys):
    t, acc = signal(150)  # 1.5 s
    p = write_csv(tmp_path / "short.csv", t, acc)
    check_one_line(*run_info(p, capsys), p, "only 1.50 s of data")


def test_rate_below_15_hz(tmp_path, capsys):
    t, acc = signal(100, fs=10.0)
    p = write_csv(tmp_path / "slow.csv", t, acc)
    check_one_line(*run_info(p, capsys), p, "sampling rate 10 Hz is below the 15 Hz minimum")


def test_broken_zip(tmp_path, capsys):
    good = FIX / "sensorlogger" / "split.zip"
    p = tmp_path / "broken.zip"
    data = good.read_bytes()
    p.write_bytes(data[: len(data) // 2])  # cut in half
    check_one_line(*run_info(p, capsys), p, "broken zip")
    p2 = tmp_path / "corrupt.zip"
    b = bytearray(data)
    b[60:80] = b"\x00" * 20  # damage the first member's compressed data
    p2.write_bytes(bytes(b))
    code, err = run_info(p2, capsys)
    check_one_line(code, err, p2, "zip")


def test_missing_file(tmp_path, capsys):
    p = tmp_path / "nope.csv"
    check_one_line(*run_info(p, capsys), p, "no such file")


def test_every_error_is_a_gait_error(tmp_path):
    """The library raises GaitError subclasses (the CLI relies on it)."""
    t, acc = signal(100, fs=10.0)
    with pytest.raises(GaitError):
        read_recording(write_csv(tmp_path / "slow.csv", t, acc))


def test_bad_override_values(tmp_path, capsys):
    t, acc = signal(500)
    p = write_csv(tmp_path / "ok.csv", t, acc)
    assert main(["info", str(p), "--acc-unit", "furlongs"]) == 2
    assert "unknown acceleration unit" in capsys.readouterr().err
    assert main(["info", str(p), "--mount", "sideways"]) == 2
    assert "unknown mount" in capsys.readouterr().err
    assert main(["info", str(p), "--fs", "-5"]) == 2
    assert "--fs" in capsys.readouterr().err


def test_truncated_zip_member_in_sensorlogger_folder_style(tmp_path, capsys):
    # a zip whose member is not a CSV at all: recognised as nothing
    p = tmp_path / "junk.zip"
    with zipfile.ZipFile(p, "w") as zf:
        zf.writestr("readme.md", "nothing here")
    check_one_line(*run_info(p, capsys), p, "unknown format")
