"""gait-labels/1: round trips, the dev labels, and one clear error per broken rule."""

from __future__ import annotations

import copy
import glob
import json

import pytest

from gait.errors import InputError
from gait.labels import LabelSegment, Labels, labels_path_for, read_labels, write_labels


def _doc() -> dict:
    return {
        "schema": "gait-labels/1",
        "name": "rec",
        "fs_hz": 100,
        "units": {"acc": "m/s^2", "gyro": "rad/s"},
        "sensor_frame": {"x": "forward", "y": "left", "z": "up"},
        "placement": "right hip",
        "n_samples": 1000,
        "duration_s": 10.0,
        "initial_contacts_s": [2.0, 2.5, 3.0],
        "ic_feet": ["R", "L", "R"],
        "scored_intervals": [[0.0, 10.0]],
        "segments": [
            {"start_s": 0.0, "end_s": 1.5, "direction": "still", "activity": "stand"},
            {"start_s": 1.5, "end_s": 10.0, "direction": "backward", "activity": "walk"},
        ],
        "group": "walk-back",
        "simulator": {"seed": 3},
        "something_new": {"kept": True},
    }


def test_round_trip_keeps_every_field(tmp_path):
    p = tmp_path / "rec.labels.json"
    p.write_text(json.dumps(_doc()))
    lab = read_labels(p)
    assert lab.initial_contacts_s == [2.0, 2.5, 3.0]
    assert lab.segments[1] == LabelSegment(1.5, 10.0, "backward", "walk")
    assert lab.simulator == {"seed": 3}
    assert lab.extra == {"something_new": {"kept": True}}
    assert lab.direction_at(2.0) == "backward" and lab.direction_at(11.0) is None
    assert lab.ics_in(2.0, 3.0) == [2.0, 2.5]
    out = tmp_path / "again.labels.json"
    write_labels(out, lab)
    assert json.loads(out.read_text()) == _doc()
    assert read_labels(out).to_dict() == lab.to_dict()


def test_labels_path_for():
    assert labels_path_for("a/run.csv").as_posix() == "a/run.labels.json"


def test_every_dev_label_file_reads_and_round_trips(shared_data):
    files = glob.glob(str(shared_data / "**" / "*.labels.json"), recursive=True)
    assert len(files) > 100
    for f in files:
        with open(f) as fh:
            assert read_labels(f).to_dict() == json.load(fh), f


def _mut(fn):
    d = _doc()
    fn(d)
    return d


BROKEN = [
    ("schema", lambda d: d.update(schema="gait-labels/2"), "schema is"),
    ("missing", lambda d: d.pop("segments"), "missing field(s): segments"),
    ("fs", lambda d: d.update(fs_hz=0), "fs_hz must be positive"),
    ("n_samples", lambda d: d.update(n_samples=1.5), "n_samples must be"),
    ("acc unit", lambda d: d["units"].update(acc="furlongs"), "units.acc"),
    ("frame", lambda d: d.update(sensor_frame="sideways"), "sensor_frame"),
    ("frame twice", lambda d: d.update(sensor_frame={"x": "forward", "y": "backward", "z": "up"}),
     "same body axis"),
    ("unsorted", lambda d: d.update(initial_contacts_s=[2.0, 3.0, 2.5]), "not sorted"),
    ("nan ic", lambda d: d.update(initial_contacts_s=[2.0, float("nan"), 3.0]), "must be finite"),
    ("feet length", lambda d: d.update(ic_feet=["R", "L"]), "as long as"),
    ("foot value", lambda d: d.update(ic_feet=["R", "X", "R"]), "'L' or 'R'"),
    ("ic outside", lambda d: d.update(scored_intervals=[[0.0, 2.7]]), "in no scored interval"),
    ("ic after end", lambda d: d.update(initial_contacts_s=[2.0, 2.5, 30.0]), "outside the recording"),
    ("interval", lambda d: d.update(scored_intervals=[[5.0, 1.0]]), "ends before it starts"),
    ("direction", lambda d: d["segments"][1].update(direction="upward"), "direction 'upward'"),
    ("activity", lambda d: d["segments"][1].update(activity="fly"), "activity 'fly'"),
    ("gap", lambda d: d["segments"][1].update(start_s=1.6), "not contiguous"),
    ("cover", lambda d: d["segments"][1].update(end_s=9.0), "must cover"),
    ("segment keys", lambda d: d["segments"][0].pop("activity"), "lacks activity"),
    ("not object", lambda d: d.update(simulator=[1]), "simulator must be an object"),
]


@pytest.mark.parametrize("label,mutate,message", BROKEN, ids=[b[0] for b in BROKEN])
def test_each_broken_rule_gives_one_clear_line(tmp_path, label, mutate, message):
    p = tmp_path / "bad.labels.json"
    p.write_text(json.dumps(_mut(mutate)))
    with pytest.raises(InputError) as ei:
        read_labels(p)
    text = str(ei.value)
    assert message in text and str(p) in text and "\n" not in text


@pytest.mark.parametrize("content,message", [
    ("", "empty"), ("{not json", "not valid JSON"), ("[1, 2]", "expected a JSON object"),
])
def test_unreadable_files(tmp_path, content, message):
    p = tmp_path / "x.labels.json"
    p.write_text(content)
    with pytest.raises(InputError, match=message):
        read_labels(p)


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="no such labels file"):
        read_labels(tmp_path / "nope.labels.json")


def test_write_refuses_invalid_labels_and_writes_nothing(tmp_path):
    lab = Labels.from_dict(_doc())
    bad = copy.deepcopy(lab)
    bad.ic_feet = ["R"]
    out = tmp_path / "bad.labels.json"
    with pytest.raises(InputError, match="ic_feet"):
        write_labels(out, bad)
    assert not out.exists()
