"""The SQLite run history: one row per recording, updated in place on re-reporting."""

from __future__ import annotations

import sqlite3

import pytest

from gait.errors import GaitError
from gait.history import ENV_VAR, History, default_db_path, run_key
from test_report_fixtures import known_result


def _file(tmp_path, name, content):
    p = tmp_path / name
    p.write_text(content)
    return p


def test_rereporting_the_same_file_updates_its_row(tmp_path):
    rec = _file(tmp_path, "run.csv", "t_s,ax\n0,1\n")
    db = tmp_path / "h.sqlite"
    r = known_result(path=str(rec))
    with History(db) as h:
        k1 = h.upsert(r, source_path=rec)
        r.steps = r.steps[:150]  # a re-analysis found fewer steps
        k2 = h.upsert(r, source_path=rec, report_path=tmp_path / "out" / "report.html")
        assert k1 == k2 and len(h) == 1
        row = h.get(k1)
        assert row["n_steps"] == 150 and row["report_path"].endswith("report.html")
    # a copy under another name is the same recording (content hash)
    copy = _file(tmp_path, "renamed.csv", rec.read_text())
    with History(db) as h:
        assert h.upsert(known_result(path=str(copy)), source_path=copy) == k1
        assert len(h) == 1 and h.get(k1)["path"] == str(copy.resolve())
        other = _file(tmp_path, "other.csv", "t_s,ax\n0,2\n")
        h.upsert(known_result(path=str(other)), source_path=other)
        assert len(h) == 2
    assert sqlite3.connect(db).execute("SELECT COUNT(*) FROM runs").fetchone()[0] == 2


def test_row_holds_the_run_figures(tmp_path):
    with History(tmp_path / "h.sqlite") as h:
        key = h.upsert(known_result(path=str(tmp_path / "gone.csv")))
        row = h.get(key)
    assert key.startswith("id:")  # no file to hash -> path + start time
    assert row["n_steps"] == 200 and row["forward_steps"] == 100 and row["backward_steps"] == 100
    assert row["backward_share"] == pytest.approx(0.5)
    # time-weighted: 198 intervals, 99 of 0.5 s and 99 of 0.45 s
    assert row["mean_cadence_spm"] == pytest.approx(60.0 * 198 / (99 * 0.5 + 99 * 0.45))
    assert row["start_time"] == "2026-11-24T10:00:00+00:00" and row["device"] == "Test sensor"


def test_runs_are_ordered_oldest_first(tmp_path):
    with History(tmp_path / "h.sqlite") as h:
        for day in (24, 3, 15):
            r = known_result(path=f"/nowhere/{day}.csv")
            r.recording["start_time"] = f"2026-11-{day:02d}T09:00:00+00:00"
            h.upsert(r)
        days = [row["start_time"][8:10] for row in h.runs()]
        assert days == ["03", "15", "24"]
        assert h.remove(h.runs()[0]["key"]) and len(h) == 2
        assert not h.remove("nope")


def test_key_without_file_depends_on_path_and_start_time():
    a, b = known_result(path="/nowhere/a.csv"), known_result(path="/nowhere/a.csv")
    assert run_key(a) == run_key(b)
    b.recording["start_time"] = "2026-11-25T10:00:00+00:00"
    assert run_key(a) != run_key(b)


def test_default_path_env_and_data_dir(monkeypatch, tmp_path):
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "x" / "runs.db"))
    assert default_db_path() == tmp_path / "x" / "runs.db"
    with History() as h:
        assert h.path == tmp_path / "x" / "runs.db"
    assert (tmp_path / "x" / "runs.db").is_file()
    monkeypatch.delenv(ENV_VAR)
    assert default_db_path().name == "history.sqlite" and "gait" in default_db_path().parts


def test_unusable_database_is_a_user_error(tmp_path):
    bad = tmp_path / "notadb.sqlite"
    bad.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(GaitError, match="notadb.sqlite"):
        History(bad)
    with pytest.raises(GaitError):
        History(tmp_path)  # a directory
