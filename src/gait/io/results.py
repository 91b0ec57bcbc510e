"""Writing a result to files: ``result.json`` and the CSV tables ``steps.csv``, ``bouts.csv``.

One writer per file for every command that writes them (``gait analyze --out``, ``gait analyze
--format csv``, ``gait batch``). ``result.json`` is ``GaitResult.to_dict()`` written step by step.
The tables have the columns below, values as in the result's JSON (``Step.to_dict()``,
``Bout.to_dict()``: times to 0.1 ms, cadence to 0.01 steps/min), empty for a missing value
(a bout's first step has no cadence). Rows are written as they are formatted, so a 24-hour
recording's steps never exist as one string or data frame.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import IO, Any, Iterable

#: Columns of ``steps.csv`` (one row per step) and ``bouts.csv`` (one row per bout).
STEP_COLS = ("t_s", "index", "direction", "direction_confidence", "cadence_spm", "bout")
BOUT_COLS = ("id", "start_s", "end_s", "duration_s", "activity", "direction", "direction_confidence",
             "n_steps", "cadence_spm")


def _csv_value(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return "" if not math.isfinite(v) else f"{v:.6g}" if abs(v) < 1e6 else f"{v:.1f}"
    return str(v)


def _write_rows(fh: IO[str], items: Iterable[Any], cols: tuple[str, ...], rows_per_write: int) -> None:
    fh.write(",".join(cols) + "\n")
    buf: list[str] = []
    for it in items:
        d = it.to_dict()
        buf.append(",".join(_csv_value(d[c]) for c in cols))
        if len(buf) >= rows_per_write:
            fh.write("\n".join(buf) + "\n")
            buf = []
    if buf:
        fh.write("\n".join(buf) + "\n")


def write_table(dest: str | Path | IO[str], items: Iterable[Any], cols: tuple[str, ...],
                *, rows_per_write: int = 5000) -> None:
    """Write ``item.to_dict()`` of each item as CSV rows in the columns ``cols`` to a path or an
    open text file."""
    if hasattr(dest, "write"):
        _write_rows(dest, items, cols, rows_per_write)  # type: ignore[arg-type]
        return
    with open(dest, "w", encoding="utf-8", newline="") as fh:
        _write_rows(fh, items, cols, rows_per_write)


def write_steps_csv(dest: str | Path | IO[str], result: Any, *, rows_per_write: int = 5000) -> None:
    """``steps.csv`` of a :class:`~gait.types.GaitResult`."""
    write_table(dest, result.steps, STEP_COLS, rows_per_write=rows_per_write)


def write_bouts_csv(dest: str | Path | IO[str], result: Any, *, rows_per_write: int = 5000) -> None:
    """``bouts.csv`` of a :class:`~gait.types.GaitResult`."""
    write_table(dest, result.bouts, BOUT_COLS, rows_per_write=rows_per_write)


def write_result_json(dest: str | Path | IO[str], result: Any) -> None:
    """``result.to_dict()`` as JSON (``gait-result/1``), written step by step: the document
    parses to exactly ``result.to_dict()``, and a day of steps (~150 000) costs a few MB here
    instead of a whole-document string of a few hundred."""
    if not hasattr(dest, "write"):
        with open(dest, "w", encoding="utf-8") as fh:
            write_result_json(fh, result)
        return
    from ..types import RESULT_SCHEMA

    fh = dest
    head = {"schema": RESULT_SCHEMA, "recording": result.recording, "summary": result.summary}
    for i, (k, v) in enumerate(head.items()):
        fh.write(("{" if i == 0 else "") + f"{json.dumps(k)}: {json.dumps(v, default=str)},\n")
    for key, items in (("steps", result.steps), ("bouts", result.bouts)):
        fh.write(f"{json.dumps(key)}: [")
        for i, it in enumerate(items):
            fh.write((",\n" if i else "\n") + json.dumps(it.to_dict(), default=str))
        fh.write("\n],\n")
    fh.write(f'"info": {json.dumps(result.info, default=str)}\n}}\n')
