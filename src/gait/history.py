"""Run history: one row per reported recording in an embedded SQLite database.

The database lives at (first that applies):

1. the path given explicitly (``gait report --db PATH``, ``gait history --db PATH``),
2. the environment variable :data:`ENV_VAR` (``GAIT_HISTORY_DB``),
3. ``history.sqlite`` in the user's data directory (``platformdirs.user_data_path("gait")``,
   e.g. ``~/.local/share/gait/history.sqlite`` on Linux).

A run's key is the SHA-256 of the recording file's content (so re-reporting the same file, even
moved or renamed, updates its row instead of adding one); a result with no readable file is
keyed by its path and start time.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .errors import GaitError
from .types import GaitResult

ENV_VAR = "GAIT_HISTORY_DB"
SCHEMA_VERSION = 1

#: Columns of the ``runs`` table besides ``key`` (name, SQL type).
COLUMNS: tuple[tuple[str, str], ...] = (
    ("path", "TEXT"),
    ("device", "TEXT"),
    ("start_time", "TEXT"),
    ("reported_at", "TEXT"),
    ("duration_s", "REAL"),
    ("n_steps", "INTEGER"),
    ("active_s", "REAL"),
    ("mean_cadence_spm", "REAL"),
    ("peak_cadence_spm", "REAL"),
    ("forward_steps", "INTEGER"),
    ("backward_steps", "INTEGER"),
    ("unknown_steps", "INTEGER"),
    ("forward_s", "REAL"),
    ("backward_s", "REAL"),
    ("backward_share", "REAL"),
    ("n_bouts", "INTEGER"),
    ("report_path", "TEXT"),
    ("version", "TEXT"),
)
_NAMES = tuple(c for c, _ in COLUMNS)


def default_db_path() -> Path:
    """Where the history lives unless told otherwise (env ``GAIT_HISTORY_DB``, else data dir)."""
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env).expanduser()
    import platformdirs

    return platformdirs.user_data_path("gait", appauthor=False) / "history.sqlite"


def file_sha256(path: str | Path) -> str:
    """SHA-256 (hex) of a file's bytes, read in 1 MiB chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def run_key(result: GaitResult, source_path: str | Path | None = None) -> str:
    """The history key of a run: content hash of its file, else path + start time."""
    path = source_path if source_path is not None else (result.recording or {}).get("path")
    if path is not None and Path(path).is_file():
        return "sha256:" + file_sha256(path)
    start = (result.recording or {}).get("start_time")
    ident = f"{Path(path).resolve() if path else '<memory>'}|{start}"
    return "id:" + hashlib.sha256(ident.encode("utf-8")).hexdigest()


class History:
    """The run history database.

    Use as a context manager or call :meth:`close`::

        with History(path) as h:
            key = h.upsert(result, source_path="run.csv")
            rows = h.runs()
    """

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path).expanduser() if path is not None else default_db_path()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._con = sqlite3.connect(str(self.path))
            self._con.row_factory = sqlite3.Row
            cols = ", ".join(f"{n} {t}" for n, t in COLUMNS)
            with self._con:
                self._con.execute(f"CREATE TABLE IF NOT EXISTS runs (key TEXT PRIMARY KEY, {cols})")
                self._con.execute("CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT)")
                self._con.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)",
                                  (str(SCHEMA_VERSION),))
                have = {r[1] for r in self._con.execute("PRAGMA table_info(runs)")}
                for n, t in COLUMNS:  # forward-compatible: add columns a newer gait introduced
                    if n not in have:
                        self._con.execute(f"ALTER TABLE runs ADD COLUMN {n} {t}")
        except (sqlite3.Error, OSError) as exc:
            raise GaitError(f"cannot open the run history database ({exc})", path=self.path) from None

    def __enter__(self) -> "History":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        self._con.close()

    def upsert(self, result: GaitResult, *, source_path: str | Path | None = None,
               report_path: str | Path | None = None, key: str | None = None,
               reported_at: datetime | None = None) -> str:
        """Store a run (insert, or update the row with the same key). Returns the key."""
        from ._version import __version__
        from .report.tables import run_record

        key = key or run_key(result, source_path)
        rec = run_record(result)
        if source_path is not None:
            rec["path"] = str(Path(source_path).resolve())
        rec["reported_at"] = (reported_at or datetime.now(timezone.utc)).isoformat(timespec="seconds")
        rec["report_path"] = None if report_path is None else str(Path(report_path).resolve())
        rec["version"] = __version__
        values = [rec.get(n) for n in _NAMES]
        sets = ", ".join(f"{n}=excluded.{n}" for n in _NAMES)
        try:
            with self._con:
                self._con.execute(
                    f"INSERT INTO runs (key, {', '.join(_NAMES)}) "
                    f"VALUES (?, {', '.join('?' for _ in _NAMES)}) "
                    f"ON CONFLICT(key) DO UPDATE SET {sets}",
                    [key, *values],
                )
        except sqlite3.Error as exc:
            raise GaitError(f"cannot write the run history ({exc})", path=self.path) from None
        return key

    def runs(self) -> list[dict[str, Any]]:
        """All runs, oldest first (by recording start time, else by when reported)."""
        rows = [dict(r) for r in self._con.execute("SELECT * FROM runs")]
        rows.sort(key=_sort_key)
        return rows

    def get(self, key: str) -> dict[str, Any] | None:
        r = self._con.execute("SELECT * FROM runs WHERE key = ?", (key,)).fetchone()
        return None if r is None else dict(r)

    def remove(self, key: str) -> bool:
        """Delete one run; True when it existed."""
        with self._con:
            cur = self._con.execute("DELETE FROM runs WHERE key = ?", (key,))
        return cur.rowcount > 0

    def __len__(self) -> int:
        return int(self._con.execute("SELECT COUNT(*) FROM runs").fetchone()[0])


def _sort_key(row: dict[str, Any]) -> tuple[float, str]:
    for k in ("start_time", "reported_at"):
        v = row.get(k)
        if v:
            try:
                t = datetime.fromisoformat(str(v))
                if t.tzinfo is None:
                    t = t.replace(tzinfo=timezone.utc)
                return (t.timestamp(), row["key"])
            except ValueError:
                pass
    return (float("inf"), row["key"])
