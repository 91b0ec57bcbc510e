"""``gait info``: the table, the JSON, the shared read options, and the labeled dev data."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from gait.cli import main
from gait.io import read_recording

FIX = Path(__file__).parent / "fixtures" / "formats"


def test_info_json_keys(capsys):
    assert main(["info", str(FIX / "mbient"), "--format", "json"]) == 0
    d = json.loads(capsys.readouterr().out)
    for k in ("format", "duration_s", "fs_hz", "n_samples", "units", "gaps", "device",
              "repaired_fraction", "units_source", "start_time"):
        assert k in d
    assert d["format"] == "mbient"
    assert d["fs_hz"] == 100.0 and d["n_samples"] == 600 and d["duration_s"] == 6.0
    assert d["units"] == {"acc": "g", "gyro": "deg/s"}
    assert d["gaps"] == [] and d["start_time"] == "2026-11-24T10:00:00+00:00"


def test_info_table(capsys):
    assert main(["info", str(FIX / "sensorlogger" / "total")]) == 0
    out = capsys.readouterr().out
    for word in ("sensorlogger", "Pixel 8", "100 Hz", "m/s^2", "rad/s", "gaps", "repaired",
                 "5.99 s", "59 Hz"):
        assert word in out, word


def test_info_shows_header_extras_and_events(capsys):
    assert main(["info", str(FIX / "gait" / "recording.csv")]) == 0
    out = capsys.readouterr().out
    assert "GaitSense A1" in out and "x=forward,y=left,z=up" in out
    assert "1 marker" in out and "2026-11-24T10:00:00+00:00" in out


def test_info_read_options_pass_through(capsys):
    p = FIX / "generic" / "semicolon_ms_g.csv"
    assert main(["info", str(p), "--json", "--acc-unit", "g", "--fs", "50",
                 "--mount", "body", "--input-format", "generic"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["fs_hz"] == 50.0 and d["n_samples"] == 300
    assert d["units_source"]["acc"].startswith("override")
    assert d["mount"] == "body"


def test_info_reports_gaps_and_repairs(tmp_path, capsys):
    t = np.arange(2000) / 100.0
    keep = np.ones(2000, bool)
    keep[1000:1100] = False
    keep[500:505] = False
    acc = np.column_stack([np.sin(t), np.zeros_like(t), np.full_like(t, 9.81)])
    p = tmp_path / "g.csv"
    np.savetxt(p, np.column_stack([t, acc])[keep], fmt="%.5f", delimiter=",",
               header="t_s,ax,ay,az", comments="")
    assert main(["info", str(p), "--format", "json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["gaps"] == [{"start_s": 9.99, "end_s": 11.0}]
    assert d["n_repaired"] == 5
    assert main(["info", str(p)]) == 0
    out = capsys.readouterr().out
    assert "9.99-11.00 s" in out and "5 samples" in out


def test_info_as_a_subprocess_exit_code():
    bad = subprocess.run([sys.executable, "-m", "gait", "info", str(FIX / "phyphox" / "linear_only")],
                         capture_output=True, text=True)
    assert bad.returncode == 2
    assert bad.stderr.count("\n") == 1 and "Traceback" not in bad.stderr


# ------------------------------------------------------------------ labeled dev data


@pytest.mark.shared_data
def test_dev_acc_g_variant(shared_data):
    name = "sessions/session_01"
    ref = read_recording(shared_data / "dev" / f"{name}.csv")
    rec = read_recording(shared_data / "dev_variants" / "acc_g" / f"{name}.csv")
    labels = json.loads((shared_data / "dev_variants" / "acc_g" / f"{name}.labels.json").read_text())
    assert labels["units"]["acc"] == "g"
    assert rec.info.units["acc"] == "g"
    assert ref.info.units["acc"] == "m/s^2"
    assert rec.n_samples == labels["n_samples"] and rec.fs_hz == labels["fs_hz"]
    assert np.allclose(rec.acc_m_s2, ref.acc_m_s2, atol=1e-5 * 9.81 + 1e-4)
    assert np.median(np.linalg.norm(rec.acc_m_s2, axis=1)) == pytest.approx(9.81, abs=0.3)


@pytest.mark.shared_data
def test_dev_jitter_drop_variant(shared_data):
    name = "sessions/session_01"
    ref = read_recording(shared_data / "dev" / f"{name}.csv")
    rec = read_recording(shared_data / "dev_variants" / "jitter_drop" / f"{name}.csv")
    labels = json.loads((shared_data / "dev_variants" / "jitter_drop" / f"{name}.labels.json").read_text())
    assert rec.fs_hz == labels["fs_hz"] == 100
    assert rec.duration_s == pytest.approx(labels["duration_s"], abs=0.02)
    assert rec.gaps == ()  # 1 % of single rows dropped: short holes, interpolated
    n_dropped = labels["variant"]["n_dropped"]
    assert rec.info.n_raw_samples == labels["n_samples"]
    assert abs(rec.info.n_repaired - n_dropped) <= 3
    # +-2 ms jitter at 100 Hz: the resampled signal stays close to the clean original
    n = min(rec.n_samples, ref.n_samples)
    err = np.abs(rec.acc_m_s2[:n] - ref.acc_m_s2[:n])
    assert np.median(err) < 0.1
    assert np.percentile(err, 99) < 1.5
