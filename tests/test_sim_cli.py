"""`gait simulate`: files, what `gait info` says about them, errors, and sample_data regeneration."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from gait.cli import main
from gait.labels import read_labels
from gait.types import G0_M_S2

ROOT = Path(__file__).resolve().parents[1]


def _info(capsys, path) -> dict:
    capsys.readouterr()
    assert main(["info", str(path), "--format", "json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_info_reports_exactly_what_the_simulation_was_made_with(tmp_path, capsys):
    out = tmp_path / "s.csv"
    assert main(["simulate", str(out), "--programme", "stand:3,walk:20:forward:110,run:9.5:backward:180,stand:3",
                 "--fs", "50", "--seed", "5", "--start-time", "2026-03-02T07:08:09+00:00"]) == 0
    lab = read_labels(tmp_path / "s.labels.json")
    info = _info(capsys, out)
    assert info["format"] == "gait" and info["device"] == "gait.sim"
    assert info["fs_hz"] == 50.0 and info["fs_hz_nominal"] == 50.0
    assert info["duration_s"] == 35.5 == lab.duration_s
    assert info["n_samples"] == 1775 == lab.n_samples
    assert info["units"] == {"acc": "m/s^2", "gyro": "rad/s"} == lab.units
    assert info["start_time"] == "2026-03-02T07:08:09+00:00"
    assert info["has_gyro"] is True and info["gaps"] == [] and info["n_repaired"] == 0
    assert info["mount"] == "x=up,y=backward,z=right"  # gaitsense-right-hip, the default
    assert lab.sensor_frame == {"x": "up", "y": "backward", "z": "right"}
    assert lab.simulator["seed"] == 5 and lab.simulator["fs_hz"] == 50.0


def test_g_units_no_gyro_and_the_reader_agrees(tmp_path, capsys):
    from gait.io import read_recording

    out = tmp_path / "g.csv"
    assert main(["simulate", str(out), "--programme", "stand:4,walk:6", "--acc-unit", "g",
                 "--no-gyro", "--fs", "200", "--rotation", "random", "--seed", "1"]) == 0
    info = _info(capsys, out)
    assert info["units"] == {"acc": "g"} and info["has_gyro"] is False
    assert info["fs_hz"] == 200.0 and info["n_samples"] == 2000 and info["mount"] is None
    rec = read_recording(out)
    assert np.linalg.norm(rec.acc_m_s2[:600], axis=1).mean() == pytest.approx(G0_M_S2, abs=0.1)
    assert read_labels(tmp_path / "g.labels.json").sensor_frame == "unknown"


def test_same_seed_same_bytes(tmp_path):
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    for p in (a, b):
        assert main(["simulate", str(p), "--preset", "walk-back", "--seed", "9"]) == 0
    assert a.read_bytes() == b.read_bytes()
    assert (tmp_path / "a.labels.json").read_text().replace('"a"', '"b"') == \
        (tmp_path / "b.labels.json").read_text()


@pytest.mark.parametrize("args,message", [
    (["--programme", "walk:ten"], "duration must be a number"),
    (["--programme", "swim:10"], "unknown kind"),
    (["--preset", "marathon"], "unknown preset"),
    (["--fs", "5"], "25-400 Hz"),
    (["--rotation", "sideways"], "rotation"),
    (["--noise", "loud"], "noise"),
    (["--mount", "x=up,y=up"], "mount"),
    (["--start-time", "yesterday"], "ISO"),
])
def test_errors_are_one_line_and_exit_2(tmp_path, capsys, args, message):
    capsys.readouterr()
    assert main(["simulate", str(tmp_path / "x.csv"), *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("gait: error: ") and message in err and err.count("\n") == 1
    assert not (tmp_path / "x.csv").exists()


def test_output_path_errors(tmp_path, capsys):
    assert main(["simulate", str(tmp_path / "x.txt"), "--programme", "stand:3"]) == 2
    assert main(["simulate", str(tmp_path / "nodir" / "x.csv"), "--programme", "stand:3"]) == 2
    err = capsys.readouterr().err
    assert ".csv" in err and "does not exist" in err


def _script(name: str):
    """Import a script of scripts/ as a module (faster than a subprocess)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(f"_script_{name}", ROOT / "scripts" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _normalise(text: str) -> str:
    """Drop what changes with the package version (the writer line, package_version)."""
    import re

    text = re.sub(r'"writer": "gait [^"]*"', '"writer": ""', text)
    return re.sub(r'"package_version": "[^"]*"', '"package_version": ""', text)


def test_sample_data_regenerates_identically(tmp_path, sample_data):
    assert _script("make_sample_data").main([str(tmp_path)]) == 0
    made = sorted(p.name for p in tmp_path.iterdir())
    assert made == ["mixed_run.csv", "mixed_run.labels.json", "walk.csv", "walk.labels.json"]
    for name in made:
        committed = sample_data / name
        assert committed.exists(), f"sample_data/{name} is missing: run scripts/make_sample_data.py"
        new, old = _normalise((tmp_path / name).read_text()), _normalise(committed.read_text())
        if name.endswith(".json") or new == old:
            assert new == old, f"{name} differs: run scripts/make_sample_data.py and commit"
            continue
        # another numpy/scipy build may round a last digit differently: same header, same
        # numbers to the written precision
        new_lines, old_lines = new.splitlines(), old.splitlines()
        assert new_lines[:3] == old_lines[:3], f"{name}: header differs"
        a = np.loadtxt(new_lines[3:], delimiter=",")
        b = np.loadtxt(old_lines[3:], delimiter=",")
        assert a.shape == b.shape and np.allclose(a, b, rtol=0, atol=3e-6), name


def test_benchmark_dataset_layout(tmp_path):
    assert _script("make_sim_dataset").main([str(tmp_path), "--n", "3", "--seed", "4",
                                             "--variants", "rotated,fs50"]) == 0
    base = sorted((tmp_path / "dev" / "sim").glob("*.labels.json"))
    assert [p.name for p in base] == ["sim_000_walk.labels.json", "sim_001_walk-back.labels.json",
                                      "sim_002_run.labels.json"]
    for p in base:
        lab = read_labels(p)
        rot = read_labels(tmp_path / "dev_variants" / "rotated" / "sim" / p.name)
        f50 = read_labels(tmp_path / "dev_variants" / "fs50" / "sim" / p.name)
        assert lab.sensor_frame == {"x": "forward", "y": "left", "z": "up"}
        assert rot.sensor_frame == "unknown" and len(rot.variant["R"]) == 3
        assert f50.fs_hz == 50.0 and f50.n_samples * 2 == lab.n_samples
        assert rot.initial_contacts_s == lab.initial_contacts_s == f50.initial_contacts_s
        assert (p.parent / p.name.replace(".labels.json", ".csv")).exists()
    assert read_labels(base[1]).segments[1].direction == "backward"
