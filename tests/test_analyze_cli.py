"""``gait analyze``: outputs, formats and user errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

from gait.cli import main


@pytest.fixture(scope="module")
def walk_csv(tmp_path_factory):
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parent))
    from test_pipeline import walk_signal

    acc, _ = walk_signal(20.0, fs_hz=100.0, cadence_spm=110.0, stand_s=2.0)
    p = tmp_path_factory.mktemp("rec") / "walk.csv"
    t = np.arange(len(acc)) / 100.0
    rows = ["t_s,ax,ay,az"] + [f"{a:.4f},{x:.5f},{y:.5f},{z:.5f}" for a, (x, y, z) in zip(t, acc)]
    p.write_text("\n".join(rows) + "\n")
    return p


def test_json_to_stdout_is_gait_result(walk_csv, capsys):
    assert main(["analyze", str(walk_csv), "--format", "json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["schema"] == "gait-result/1"
    assert 28 <= len(d["steps"]) <= 32
    assert {"t_s", "direction", "cadence_spm", "bout"} <= set(d["steps"][0])
    assert d["bouts"][0]["cadence_spm"] == pytest.approx(110.0, abs=1.5)
    assert {"version", "parameters", "preprocessing"} <= set(d["info"])


def test_out_dir_and_table(walk_csv, tmp_path, capsys):
    out = tmp_path / "res"
    assert main(["analyze", str(walk_csv), "--out", str(out)]) == 0
    text = capsys.readouterr().out
    d = json.loads((out / "result.json").read_text())
    sm = d["summary"]  # the table states the same figures as result.json
    assert f"steps           {sm['n_steps']} ({sm['n_steps_in_bouts']} in {sm['n_bouts']} bouts)" in text
    assert f"cadence (spm)   mean {sm['cadence_spm']['mean']:.1f}," in text
    assert sm["n_steps"] >= 25 and sm["n_bouts"] >= 1
    steps = (out / "steps.csv").read_text().splitlines()
    bouts = (out / "bouts.csv").read_text().splitlines()
    assert steps[0].startswith("t_s,") and len(steps) == len(d["steps"]) + 1
    assert bouts[0].startswith("id,") and len(bouts) == len(d["bouts"]) + 1


def test_csv_format(walk_csv, capsys):
    assert main(["analyze", str(walk_csv), "--format", "csv"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "t_s,index,direction,direction_confidence,cadence_spm,bout"
    assert main(["analyze", str(walk_csv), "--format", "json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert len(lines) == len(d["steps"]) + 1 > 20  # one row per step of the JSON
    first = lines[1].split(",")
    assert float(first[0]) == pytest.approx(d["steps"][0]["t_s"]) and int(first[1]) == d["steps"][0]["index"]


def test_user_errors_are_one_line_exit_2(walk_csv, tmp_path, capsys):
    assert main(["analyze", str(tmp_path / "missing.csv")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("gait: error:") and len(err.strip().splitlines()) == 1
    assert main(["analyze", str(walk_csv), "--params", "{bad json"]) == 2
    assert main(["analyze", str(walk_csv), "--params", '{"no_such": 1}']) == 2
    assert "no_such" in capsys.readouterr().err
