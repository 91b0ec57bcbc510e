"""``gait report`` and ``gait history`` end to end, on simulated recordings."""

from __future__ import annotations

import json
import shutil
from datetime import datetime, timezone
from html.parser import HTMLParser

import pytest

from gait.cli import main
from gait.history import History

PROGRAMME = "stand:2,run:16:forward:166,run:14:backward:182,walk:10:forward:110,stand:2"


@pytest.fixture(scope="module")
def rec_file(tmp_path_factory):
    from gait.sim import simulate, write_simulation

    d = tmp_path_factory.mktemp("rec")
    sim = simulate(PROGRAMME, fs_hz=50.0, seed=7,
                   start_time=datetime(2026, 11, 20, 7, 30, tzinfo=timezone.utc))
    p, _ = write_simulation(d / "mixed.csv", sim)
    return p


class _Text(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.text = [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def _parse(path):
    p = _Text()
    p.feed(path.read_text(encoding="utf-8"))
    return p


def test_report_writes_all_outputs_and_history_keeps_one_row(rec_file, tmp_path, capsys):
    db, out = tmp_path / "h.sqlite", tmp_path / "out"
    assert main(["report", str(rec_file), "-o", str(out), "--db", str(db), "--dpi", "50"]) == 0
    assert str(out / "report.html") in capsys.readouterr().out
    for name in ("cadence", "direction_timeline", "cadence_distribution"):
        assert (out / "figures" / f"{name}.png").stat().st_size > 1000
        assert (out / "figures" / f"{name}.svg").stat().st_size > 1000
    doc = json.loads((out / "result.json").read_text())
    assert doc["schema"] == "gait-result/1" and len(doc["steps"]) > 50
    p = _parse(out / "report.html")
    text = " ".join(p.text)
    assert "mixed.csv" in text and "2026-11-20 07:30:00 UTC" in text
    assert f"{len(doc['steps']):,}" in text  # the steps card shows the result's count
    assert not [t for t, _ in p.tags if t == "script"]
    # again: the same file updates its row; the report now shows the history section
    assert main(["report", str(rec_file), "-o", str(out), "--db", str(db), "--dpi", "50"]) == 0
    with History(db) as h:
        assert len(h) == 1
        row = h.runs()[0]
    assert row["n_steps"] == len(doc["steps"]) and row["report_path"] == str((out / "report.html").resolve())
    capsys.readouterr()
    assert main(["history", "--db", str(db), "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [r["key"] for r in listed["runs"]] == [row["key"]]
    assert main(["history", "--db", str(db)]) == 0
    assert "mixed.csv" in capsys.readouterr().out


def test_many_files_give_one_report_each_and_an_index(rec_file, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("GAIT_HISTORY_DB", str(tmp_path / "env.sqlite"))
    evil = tmp_path / "<img src=x onerror=alert(1)>.csv"
    shutil.copy(rec_file, evil)
    other = tmp_path / "mixed.csv"
    other.write_bytes(rec_file.read_bytes() + b"# event {\"kind\": \"note\"}\n")
    missing = tmp_path / "missing.csv"
    out = tmp_path / "many"
    rc = main(["report", str(evil), str(other), str(missing), "-o", str(out), "--dpi", "40"])
    assert rc == 2  # one file failed
    err = capsys.readouterr().err
    assert "gait: error:" in err and "missing.csv" in err
    idx = _parse(out / "index.html")
    hrefs = [a["href"] for t, a in idx.tags if t == "a"]
    assert len(hrefs) == 2 and all((out / h).is_file() for h in hrefs)
    text = " ".join(idx.text)
    assert "<img src=x onerror=alert(1)>.csv" in text and "failed" in text
    assert not [t for t, a in idx.tags if t == "img"]
    rep = _parse(out / hrefs[0])
    assert ("a", {"href": "../index.html"}) in rep.tags  # back to the index
    assert "<img src=x onerror=alert(1)>.csv" in " ".join(rep.text)
    assert all(a["src"].startswith("data:image/png") for t, a in rep.tags if t == "img")
    with History(tmp_path / "env.sqlite") as h:
        assert len(h) == 2  # the content differs, so two runs


def test_no_history_and_user_errors(rec_file, tmp_path, capsys):
    out = tmp_path / "o"
    assert main(["report", str(rec_file), "-o", str(out), "--no-history", "--dpi", "40"]) == 0
    assert "history-section" not in (out / "report.html").read_text()
    assert main(["report", str(tmp_path / "nope.csv"), "-o", str(out), "--no-history"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("gait: error:") and "nope.csv" in err[0]
    assert main(["report", str(rec_file), "--db", str(tmp_path), "-o", str(out)]) == 2
    assert "history database" in capsys.readouterr().err


def test_history_remove_by_shown_key(tmp_path, capsys):
    from test_report_fixtures import known_result

    db = tmp_path / "h.sqlite"
    with History(db) as h:
        k1 = h.upsert(known_result(path="/nowhere/a.csv"))
        h.upsert(known_result(path="/nowhere/b.csv"))
    assert main(["history", "--db", str(db)]) == 0
    shown = k1.split(":")[-1][:10]
    assert shown in capsys.readouterr().out
    assert main(["history", "--db", str(db), "--remove", shown]) == 0
    with History(db) as h:
        assert [r["key"] for r in h.runs()] != [] and h.get(k1) is None and len(h) == 1
    assert main(["history", "--db", str(db), "--remove", "zzzz"]) == 2


def test_output_folder_names_are_safe_and_unique():
    from gait.cli.report import _safe_dirname

    used: set[str] = {"index.html"}
    names = [_safe_dirname(s, used) for s in ("run", "Run", "<img src=x>", "../..", "run")]
    assert names == ["run", "Run-2", "img_src_x", "recording", "run-3"]
