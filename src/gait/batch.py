"""Batch analysis of many recordings: discovery, per-file jobs, a combined table, resumability.

``run_batch(inputs, options)`` finds every recording under ``inputs`` (files, folders, zips,
glob patterns; a folder or zip that holds one multi-file export, e.g. Sensor Logger or phyphox,
is one recording), analyses each one in a separate job (:func:`process_file`), and writes

``OUT/files/<id>/``
    ``result.json`` (``gait-result/1``), ``steps.csv``, ``bouts.csv`` and ``manifest.json``
    (content hash + parameters + version, and the file's row of the combined table).
``OUT/runs.csv``, ``OUT/runs.parquet``
    One row per recording (:data:`RUN_COLUMNS`): file, start time, duration, steps, cadence per
    direction, backward share, quality flags, status and error.
``OUT/batch.json``
    Counts, data hours, wall time, options.

**Resumable.** A file whose manifest key (SHA-256 of its content, the analysis and reading
options, the package version and :data:`BATCH_SCHEMA`) is unchanged and whose outputs exist is
skipped; its row is taken from the manifest. Failures are not cached: they are retried.

**Atomic.** Every output is written to a temporary file in the same folder and moved into place
with :func:`os.replace`; the manifest is written last, so an interrupted batch leaves no
half-written file and no manifest that claims an output it does not have.

**Fault-tolerant.** A file that cannot be read or analysed gets a row with ``status="error"``
and the reason; the other files go on.

**Where.** ``jobs=1`` runs in this process, ``jobs>1`` in a :class:`ProcessPoolExecutor`,
``dask_address="tcp://HOST:8786"`` as one task per file on a dask.distributed cluster (the
workers need ``gait`` installed and must see the input and output paths).

**Bounded memory.** When :func:`gait.io.iter_recording_chunks` is available, a file is read in
chunks and pushed through :class:`gait.pipeline.StreamAnalyzer`, so the memory of a job does
not grow with the length of the recording; otherwise the whole file is read first.
"""

from __future__ import annotations

import functools
import glob as _glob
import hashlib
import json
import math
import os
import re
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ._version import __version__
from .errors import GaitError, InputError
from .io.atomic import replace_atomically
from .io.results import write_bouts_csv, write_result_json, write_steps_csv

#: Version of the per-file manifest and of the table layout; bump to invalidate old results.
BATCH_SCHEMA = "gait-batch/1"
#: Layout of steps.csv / bouts.csv (gait.io.results); part of the resume key.
TABLES_LAYOUT = "gait-tables/2"


@functools.lru_cache(maxsize=1)
def analyzer_fingerprint() -> str:
    """A hash of the analysis code (the streaming core and ``gait.signal``): results made by
    other code are not current, even under the same version number."""
    root = Path(__file__).resolve().parent
    h = hashlib.sha256()
    for f in [root / "pipeline.py", *sorted((root / "signal").glob("*.py"))]:
        h.update(f.name.encode())
        h.update(f.read_bytes())
    return h.hexdigest()[:16]
#: File suffixes taken as recordings when a folder is searched (a folder or zip that holds one
#: known multi-file export is one recording and is not searched).
DATA_SUFFIXES = (".csv", ".txt", ".tsv", ".dat", ".zip", ".cwa")
#: Columns of ``runs.csv`` / ``runs.parquet``, in order.
RUN_COLUMNS: tuple[str, ...] = (
    "file", "file_id", "format", "device", "start_time", "duration_s", "fs_hz", "has_gyro",
    "n_steps", "n_bouts", "active_time_s", "walk_time_s", "run_time_s",
    "cadence_spm", "cadence_forward_spm", "cadence_backward_spm", "cadence_unknown_spm",
    "steps_forward", "steps_backward", "steps_unknown", "backward_share",
    "gap_total_s", "quality_flags", "status", "error", "compute_s", "result_dir",
)
#: Columns that legitimately differ between two runs of the same batch (timing, cache status).
VOLATILE_COLUMNS: tuple[str, ...] = ("status", "compute_s")

_GLOB_CHARS = re.compile(r"[*?\[]")


# ----------------------------------------------------------------------------- options
@dataclass(frozen=True)
class BatchOptions:
    """What every per-file job needs (plain data: it travels to worker processes and dask).

    Attributes
    ----------
    out_dir : str
        Output folder.
    params : dict, optional
        Analysis parameters (:class:`gait.signal.params.AnalysisParams` fields).
    mount, format, acc_unit, gyro_unit, fs_hz
        Passed to the reader / analyzer (None = detect / from the file).
    chunk_s : float
        Block length pushed into the streaming core, s (results do not depend on it).
    force : bool
        Re-analyse even when the results are current.
    write_steps : bool
        Write ``steps.csv`` / ``bouts.csv`` beside ``result.json``.
    """

    out_dir: str
    params: dict[str, Any] | None = None
    mount: str | None = None
    format: str | None = None
    acc_unit: str | None = None
    gyro_unit: str | None = None
    fs_hz: float | None = None
    chunk_s: float = 600.0
    force: bool = False
    write_steps: bool = True

    def read_kwargs(self) -> dict[str, Any]:
        return {"format": self.format, "acc_unit": self.acc_unit, "gyro_unit": self.gyro_unit,
                "fs_hz": self.fs_hz, "mount": self.mount}

    def key_dict(self) -> dict[str, Any]:
        """Everything that changes a file's results (what the manifest key hashes)."""
        from .signal.params import AnalysisParams

        params = AnalysisParams.from_dict(self.params).to_dict()
        return {"params": params, "read": self.read_kwargs(), "version": __version__,
                "analyzer": analyzer_fingerprint(), "schema": BATCH_SCHEMA, "tables": TABLES_LAYOUT}

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class BatchReport:
    """What :func:`run_batch` did."""

    rows: list[dict[str, Any]]
    out_dir: Path
    wall_s: float
    n_found: int
    tables: list[Path] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def n_ok(self) -> int:
        return sum(r["status"] == "ok" for r in self.rows)

    @property
    def n_skipped(self) -> int:
        return sum(r["status"] == "skipped" for r in self.rows)

    @property
    def n_failed(self) -> int:
        return sum(r["status"] == "error" for r in self.rows)

    @property
    def failures(self) -> list[tuple[str, str]]:
        return [(r["file"], r["error"]) for r in self.rows if r["status"] == "error"]

    @property
    def data_hours(self) -> float:
        return sum(float(r["duration_s"] or 0.0) for r in self.rows) / 3600.0

    def to_dict(self) -> dict[str, Any]:
        return {"schema": BATCH_SCHEMA, "version": __version__, "n_found": self.n_found,
                "n_ok": self.n_ok, "n_skipped": self.n_skipped, "n_failed": self.n_failed,
                "data_hours": round(self.data_hours, 4), "wall_s": round(self.wall_s, 3),
                "tables": [p.name for p in self.tables], "warnings": self.warnings,
                "failures": [{"file": f, "error": e} for f, e in self.failures]}


# ----------------------------------------------------------------------------- discovery
def _is_export(path: Path) -> bool:
    """True when a folder / zip is one recording (a known multi-file export)."""
    from .io import detect_format

    try:
        detect_format(path)
    except GaitError:
        return False
    return True


def discover(inputs: Sequence[str | Path], *, exclude: Sequence[str | Path] = ()) -> list[str]:
    """The recordings named by files, folders, zips and glob patterns, sorted, without duplicates.

    A file named explicitly is always taken (if it is not a recording, its job fails with the
    reason). A folder is one recording when :func:`gait.io.detect_format` recognises it as an
    export; otherwise it is searched recursively for files with a suffix in
    :data:`DATA_SUFFIXES` and for export folders. Zips are recordings. Paths under ``exclude``
    (e.g. the output folder) are left out.

    Raises
    ------
    InputError
        For a path that does not exist or a pattern that matches nothing.
    """
    ex = [Path(e).resolve() for e in exclude]
    found: dict[str, None] = {}

    def excluded(p: Path) -> bool:
        rp = p.resolve()
        return any(rp == e or e in rp.parents for e in ex)

    def add(p: Path) -> None:
        if not excluded(p):
            found.setdefault(str(p), None)

    def walk(d: Path) -> bool:
        """Add what ``d`` holds; True when anything below ``d`` was an export folder."""
        if excluded(d):
            return False
        children = [c for c in sorted(d.iterdir()) if not c.name.startswith((".", "__MACOSX"))]
        sub = [c for c in children if c.is_dir()]
        n_before = len(found)
        nested = False
        for c in sub:
            nested |= walk(c)
        # A folder that holds export folders is a container, even when the export reader
        # (which searches members recursively) would recognise it; else it may be one export.
        if not nested and _is_export(d):
            for k in list(found)[n_before:]:  # its own sub-folders (e.g. phyphox meta/) are part of it
                del found[k]
            add(d)
            return True
        for c in children:
            if not c.is_dir() and c.suffix.lower() in DATA_SUFFIXES:
                add(c)
        return nested

    for item in inputs:
        text = str(item)
        if _GLOB_CHARS.search(text) and not Path(text).exists():
            matches = sorted(_glob.glob(text, recursive=True))
            if not matches:
                raise InputError("no file matches this pattern", path=text)
            paths = [Path(m) for m in matches]
        else:
            paths = [Path(text)]
            if not paths[0].exists():
                raise InputError("no such file or folder", path=text)
        for p in paths:
            if p.is_dir():
                walk(p)
            elif _GLOB_CHARS.search(text) and p.suffix.lower() not in DATA_SUFFIXES:
                continue  # a pattern like dir/* also matches labels / notes: keep data files
            else:
                add(p)
    return sorted(found)


def input_size(path: str | Path) -> int:
    """Bytes of a file, or of every file below a folder (progress weights)."""
    p = Path(path)
    try:
        if p.is_dir():
            return sum(f.stat().st_size for f in p.rglob("*") if f.is_file())
        return p.stat().st_size
    except OSError:
        return 0


def file_id(path: str | Path) -> str:
    """A stable, collision-free folder name for a recording's outputs."""
    p = Path(path)
    stem = p.name[: -len(p.suffix)] if p.suffix.lower() in DATA_SUFFIXES else p.name
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", stem).strip("._") or "recording"
    h = hashlib.sha1(str(p.resolve()).encode()).hexdigest()[:10]
    return f"{stem[:60]}-{h}"


def content_hash(path: str | Path) -> str:
    """SHA-256 of a file's bytes, or of every file (relative name + bytes) below a folder."""
    p = Path(path)
    h = hashlib.sha256()
    files = sorted(f for f in p.rglob("*") if f.is_file()) if p.is_dir() else [p]
    for f in files:
        if p.is_dir():
            h.update(f.relative_to(p).as_posix().encode() + b"\0")
        with open(f, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
    return h.hexdigest()


# ----------------------------------------------------------------------------- atomic writes
def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temporary file in the same folder and :func:`os.replace`."""

    def write(tmp: str) -> None:
        with open(tmp, "wb") as fh:
            fh.write(data)

    _atomic_with(path, write)


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def _atomic_with(path: Path, writer: Callable[[str], None]) -> None:
    """Let ``writer(tmp_path)`` write a file (e.g. pandas to_parquet), then move it into place
    (:func:`gait.io.atomic.replace_atomically`; the folder is created first)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    replace_atomically(path, writer)


# ----------------------------------------------------------------------------- the per-file job
def _empty_row(path: str) -> dict[str, Any]:
    row: dict[str, Any] = {c: None for c in RUN_COLUMNS}
    row.update(file=str(path), file_id=file_id(path), quality_flags="", error="", status="error")
    return row


def _round(x: Any, nd: int = 3) -> float | None:
    if x is None:
        return None
    x = float(x)
    return round(x, nd) if math.isfinite(x) else None


def quality_flags(result: Any) -> list[str]:
    """Short, stable words for what a reader of the table should look at."""
    rec = result.recording or {}
    s = result.summary or {}
    flags: list[str] = []
    dur = float(rec.get("duration_s") or s.get("duration_s") or 0.0)
    gap = float(rec.get("gap_total_s") or 0.0)
    if not rec.get("has_gyro", True):
        flags.append("no_gyro")
    if gap > 0:
        flags.append("gaps>10%" if dur > 0 and gap / dur > 0.10 else "gaps")
    if float(rec.get("repaired_fraction") or 0.0) > 0.01:
        flags.append("repaired>1%")
    src = rec.get("units_source") or {}
    if any("detect" in str(v) for v in src.values()):
        flags.append("units_detected")
    if int(s.get("n_steps") or 0) == 0:
        flags.append("no_steps")
    by_dir = s.get("by_direction") or {}
    n_unknown = int((by_dir.get("unknown") or {}).get("steps") or 0)
    n_in = int(s.get("n_steps_in_bouts") or 0)
    if n_in and n_unknown / n_in > 0.5:
        flags.append("direction_unknown")
    return flags


def result_row(path: str, result: Any, *, compute_s: float) -> dict[str, Any]:
    """The combined-table row of one analysed recording."""
    row = _empty_row(path)
    rec = result.recording or {}
    s = result.summary or {}
    by_dir = s.get("by_direction") or {}
    by_act = s.get("by_activity") or {}

    def d(name: str, key: str) -> Any:
        return (by_dir.get(name) or {}).get(key)

    fwd = int(d("forward", "steps") or 0)
    bwd = int(d("backward", "steps") or 0)
    row.update(
        format=rec.get("format"),
        device=rec.get("device"),
        start_time=rec.get("start_time"),
        duration_s=_round(rec.get("duration_s", s.get("duration_s"))),
        fs_hz=_round(rec.get("fs_hz")),
        has_gyro=bool(rec.get("has_gyro")) if rec else None,
        n_steps=int(s.get("n_steps") or 0),
        n_bouts=int(s.get("n_bouts") or 0),
        active_time_s=_round(s.get("active_time_s")),
        walk_time_s=_round((by_act.get("walk") or {}).get("time_s") or 0.0),
        run_time_s=_round((by_act.get("run") or {}).get("time_s") or 0.0),
        cadence_spm=_round((s.get("cadence_spm") or {}).get("mean"), 2),
        cadence_forward_spm=_round(d("forward", "cadence_spm"), 2),
        cadence_backward_spm=_round(d("backward", "cadence_spm"), 2),
        cadence_unknown_spm=_round(d("unknown", "cadence_spm"), 2),
        steps_forward=fwd,
        steps_backward=bwd,
        steps_unknown=int(d("unknown", "steps") or 0),
        backward_share=_round(bwd / (fwd + bwd), 4) if fwd + bwd else None,
        gap_total_s=_round(rec.get("gap_total_s") or 0.0),
        quality_flags=";".join(quality_flags(result)),
        status="ok",
        error="",
        compute_s=_round(compute_s, 4),
        result_dir=f"files/{file_id(path)}",
    )
    return row


def _chunk_reader() -> Callable[..., Any] | None:
    try:
        from . import io as gio

        return getattr(gio, "iter_recording_chunks")
    except (ImportError, AttributeError):
        return None


def analyze_path(path: str | Path, options: BatchOptions) -> Any:
    """Read and analyse one recording; in bounded memory when a chunked reader exists.

    Returns
    -------
    GaitResult
    """
    from .pipeline import analyze

    chunks = _chunk_reader()
    if chunks is not None:
        return _analyze_chunked(path, options, chunks)
    from .io import read_recording

    rec = read_recording(path, **options.read_kwargs())
    return analyze(rec, mount=options.mount, params=options.params, chunk_s=options.chunk_s)


def _analyze_chunked(path: str | Path, options: BatchOptions, chunks: Callable[..., Any]) -> Any:
    """Stream the file through :class:`StreamAnalyzer` block by block (bounded memory).

    ``chunks`` is :func:`gait.io.iter_recording_chunks`: it yields ``(SampleBlock, ctx)`` with
    ``ctx.fs_hz`` / ``ctx.info`` known from the first block and ``ctx.summary(n_samples)``
    complete once the file is exhausted.
    """
    from .pipeline import StreamAnalyzer

    sa = None
    ctx = None
    n = 0
    for block, ctx in chunks(path, chunk_s=options.chunk_s, **options.read_kwargs()):
        if sa is None:
            mount = options.mount or ctx.info.mount
            sa = StreamAnalyzer(ctx.fs_hz, mount=mount, params=options.params)
        sa.push(block)
        n += len(block)
    if sa is None or ctx is None:  # pragma: no cover - the reader raises for empty files
        raise InputError("no data", path=path)
    sa.finish()
    return sa.result(ctx.summary(n))


def process_file(path: str, options: dict[str, Any] | BatchOptions) -> dict[str, Any]:
    """Analyse one recording into ``OUT/files/<id>/`` and return its combined-table row.

    Never raises for a bad recording: the row then has ``status="error"`` and the reason.
    Skips the work (``status="skipped"``) when the manifest says the results are current.
    """
    t0 = time.perf_counter()
    opts = options if isinstance(options, BatchOptions) else BatchOptions(**options)
    path = str(path)
    fid = file_id(path)
    fdir = Path(opts.out_dir) / "files" / fid
    man_path = fdir / "manifest.json"
    outputs = ["result.json"] + (["steps.csv", "bouts.csv"] if opts.write_steps else [])
    try:
        try:
            digest = content_hash(path)
        except OSError as exc:
            raise InputError(f"cannot read ({exc.strerror or exc})", path=path) from None
        key = hashlib.sha256(
            json.dumps({"content": digest, **opts.key_dict()}, sort_keys=True).encode()
        ).hexdigest()
        if not opts.force and man_path.is_file():
            try:
                man = json.loads(man_path.read_text())
            except (OSError, ValueError):
                man = None
            if (man and man.get("key") == key and man.get("row", {}).get("status") == "ok"
                    and all((fdir / o).is_file() for o in outputs)):
                row = dict(man["row"])
                row["status"] = "skipped"
                row["file"] = path
                return row
        result = analyze_path(path, opts)
        compute_s = time.perf_counter() - t0
        row = result_row(path, result, compute_s=compute_s)
        _atomic_with(fdir / "result.json", lambda tmp: write_result_json(tmp, result))
        if opts.write_steps:
            _atomic_with(fdir / "steps.csv", lambda tmp: write_steps_csv(tmp, result))
            _atomic_with(fdir / "bouts.csv", lambda tmp: write_bouts_csv(tmp, result))
        manifest = {"schema": BATCH_SCHEMA, "file": path, "key": key, "content_sha256": digest,
                    **opts.key_dict(), "outputs": outputs, "row": row,
                    "written_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
        atomic_write_text(man_path, json.dumps(manifest, indent=1))  # last: marks completion
        return row
    except GaitError as exc:
        row = _empty_row(path)
        # The table names the file already: keep the path only when it is another one (a member).
        text = exc.message if exc.path in (None, path) else str(exc)
        row["error"] = " ".join(str(text).split())
    except MemoryError:
        row = _empty_row(path)
        row["error"] = "out of memory"
    except Exception as exc:  # a bug in gait: report it, keep the batch going
        row = _empty_row(path)
        row["error"] = f"internal error: {type(exc).__name__}: {' '.join(str(exc).split())}"
    row["compute_s"] = _round(time.perf_counter() - t0, 4)
    return row


# ----------------------------------------------------------------------------- orchestration
JobFn = Callable[[str, dict[str, Any]], dict[str, Any]]


def _iter_local(files: list[str], opts: dict[str, Any], job: JobFn, jobs: int
                ) -> Iterable[tuple[str, dict[str, Any]]]:
    if jobs <= 1:
        for f in files:
            yield f, job(f, opts)
        return
    from concurrent.futures import ProcessPoolExecutor, as_completed

    with ProcessPoolExecutor(max_workers=jobs) as pool:
        futs = {pool.submit(job, f, opts): f for f in files}
        try:
            for fut in as_completed(futs):
                f = futs[fut]
                try:
                    yield f, fut.result()
                except Exception as exc:  # worker died (e.g. killed for memory)
                    row = _empty_row(f)
                    row["error"] = f"worker failed: {type(exc).__name__}: {exc}"
                    yield f, row
        except BaseException:
            for fut in futs:
                fut.cancel()
            raise


def dask_client(address: str) -> Any:
    """A dask.distributed client for ``address`` (``tcp://HOST:8786``), or a clear error."""
    try:
        from dask.distributed import Client
    except ImportError:
        raise GaitError("--dask needs dask.distributed: pip install 'gait-imu[dask]'") from None
    try:
        return Client(address, timeout="15s")
    except (OSError, TimeoutError) as exc:
        raise GaitError(f"cannot reach the dask scheduler at {address} ({exc})") from None


def _iter_dask(files: list[str], opts: dict[str, Any], job: JobFn, address: str | Any
               ) -> Iterable[tuple[str, dict[str, Any]]]:
    try:
        from dask.distributed import as_completed
    except ImportError:
        raise GaitError("--dask needs dask.distributed: pip install 'gait-imu[dask]'") from None
    own = isinstance(address, str)
    client = dask_client(address) if own else address
    try:
        futs = client.map(job, files, [opts] * len(files), pure=False,
                          key=[f"gait-{file_id(f)}-{os.urandom(4).hex()}" for f in files])
        by_key = {fut.key: f for fut, f in zip(futs, files)}
        for fut in as_completed(futs):
            f = by_key[fut.key]
            try:
                yield f, fut.result()
            except Exception as exc:
                row = _empty_row(f)
                row["error"] = f"dask task failed: {type(exc).__name__}: {exc}"
                yield f, row
    finally:
        if own:
            client.close()



def write_tables(rows: list[dict[str, Any]], out_dir: Path) -> tuple[list[Path], list[str]]:
    """``runs.csv`` and ``runs.parquet`` (atomically); returns the paths and any warnings."""
    import pandas as pd

    df = pd.DataFrame([{c: r.get(c) for c in RUN_COLUMNS} for r in rows], columns=list(RUN_COLUMNS))
    written: list[Path] = []
    warns: list[str] = []
    csv_path = out_dir / "runs.csv"
    atomic_write_text(csv_path, df.to_csv(index=False))
    written.append(csv_path)
    pq_path = out_dir / "runs.parquet"
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        warns.append("runs.parquet not written: pyarrow is not installed (pip install 'gait-imu[parquet]')")
    else:
        _atomic_with(pq_path, lambda tmp: df.to_parquet(tmp, index=False))
        written.append(pq_path)
    return written, warns


def run_batch(
    inputs: Sequence[str | Path],
    options: BatchOptions,
    *,
    jobs: int = 1,
    dask_address: str | Any | None = None,
    job: JobFn | None = None,
    progress: bool = True,
    console: Any = None,
) -> BatchReport:
    """Analyse every recording under ``inputs``; write per-file results and the combined table.

    Parameters
    ----------
    inputs : sequence of str or Path
        Files, folders, zips, glob patterns (see :func:`discover`).
    options : BatchOptions
    jobs : int
        Local worker processes (1 = in this process).
    dask_address : str or dask.distributed.Client, optional
        Submit one task per file to this cluster instead.
    job : callable, optional
        ``job(path, options_dict) -> row``; default :func:`process_file` (tests inject stand-ins).
    progress : bool
        Show a rich progress bar on stderr (files, hours of data, time left).

    Returns
    -------
    BatchReport

    Raises
    ------
    GaitError
        When ``inputs`` name nothing that exists or no recording is found.
    """
    t0 = time.perf_counter()
    if jobs < 1:
        raise GaitError(f"--jobs must be at least 1, got {jobs}")
    out_dir = Path(options.out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise GaitError("the output path exists and is not a folder", path=out_dir)
    files = discover(inputs, exclude=[out_dir])
    if not files:
        raise InputError("no recordings found", path=", ".join(str(i) for i in inputs))
    out_dir.mkdir(parents=True, exist_ok=True)
    job = job or process_file
    opts = options.to_dict()
    sizes = {f: input_size(f) for f in files}
    rows: dict[str, dict[str, Any]] = {}
    it = (_iter_dask(files, opts, job, dask_address) if dask_address is not None
          else _iter_local(files, opts, job, jobs))
    prog = _Progress(len(files), sum(sizes.values()), console) if progress else None
    try:
        if prog:
            prog.start()
        for f, row in it:
            rows[f] = row
            if prog:
                prog.advance(sizes[f], float(row.get("duration_s") or 0.0), row.get("status") == "error")
    finally:
        if prog:
            prog.stop()
    ordered = [rows[f] for f in files]
    tables, warns = write_tables(ordered, out_dir)
    report = BatchReport(rows=ordered, out_dir=out_dir, wall_s=time.perf_counter() - t0,
                         n_found=len(files), tables=tables, warnings=warns)
    summary = report.to_dict()
    summary["options"] = {k: v for k, v in opts.items() if k != "out_dir"}
    summary["executor"] = ("dask" if dask_address is not None else
                           ("processes" if jobs > 1 else "in-process"))
    summary["jobs"] = jobs
    atomic_write_text(out_dir / "batch.json", json.dumps(summary, indent=1))
    return report


class _Progress:
    """rich progress on stderr: files done, hours of data done, time left (by bytes)."""

    def __init__(self, n_files: int, total_bytes: int, console: Any = None) -> None:
        from rich.console import Console
        from rich.progress import (BarColumn, Progress, TextColumn, TimeElapsedColumn,
                                   TimeRemainingColumn)

        self.n_files = n_files
        self.done = 0
        self.failed = 0
        self.hours = 0.0
        self.bytes_done = 0
        self.total_bytes = max(total_bytes, 1)
        self._p = Progress(
            TextColumn("[bold]gait batch"),
            BarColumn(),
            TextColumn("{task.fields[files]}"),
            TextColumn("{task.fields[hours]}"),
            TextColumn("left"), TimeRemainingColumn(),
            TimeElapsedColumn(),
            console=console or Console(stderr=True),
            transient=False,
        )
        self._task = self._p.add_task("batch", total=self.total_bytes,
                                      files=self._files_text(), hours="0 h of data")

    def _files_text(self) -> str:
        fail = f", {self.failed} failed" if self.failed else ""
        return f"{self.done}/{self.n_files} files{fail}"

    def start(self) -> None:
        self._p.start()

    def stop(self) -> None:
        self._p.stop()

    def advance(self, nbytes: int, duration_s: float, failed: bool) -> None:
        self.done += 1
        self.failed += int(failed)
        self.hours += duration_s / 3600.0
        self.bytes_done += nbytes
        est = ""
        if self.bytes_done > 0 and self.done < self.n_files and self.hours > 0:
            est = f" (~{_hours(self.hours * self.total_bytes / self.bytes_done)} h in all)"
        self._p.update(self._task, advance=nbytes, files=self._files_text(),
                       hours=f"{_hours(self.hours)} h of data{est}")


def _hours(h: float) -> str:
    return f"{h:.2f}" if h < 10 else f"{h:.1f}"


def compare_rows(a: Sequence[dict[str, Any]], b: Sequence[dict[str, Any]],
                 ignore: Sequence[str] = VOLATILE_COLUMNS) -> list[str]:
    """Differences between two tables' rows (ignoring timing / cache columns); empty = same."""
    diffs = []
    ka = {r["file"]: r for r in a}
    kb = {r["file"]: r for r in b}
    for f in sorted(set(ka) | set(kb)):
        if f not in ka or f not in kb:
            diffs.append(f"{f}: only in one table")
            continue
        for c in RUN_COLUMNS:
            if c in ignore:
                continue
            if ka[f].get(c) != kb[f].get(c):
                diffs.append(f"{f}: {c}: {ka[f].get(c)!r} != {kb[f].get(c)!r}")
    return diffs
