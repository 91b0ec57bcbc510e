"""Writing a file so that readers see either the old file or the complete new one.

One mechanism for every writer of the project (recordings, simulator output, batch results):
the content goes to a uniquely named temporary file in the destination folder, is flushed to
disk, and is renamed over the destination (``os.replace`` is atomic on one file system). A
failed or interrupted write leaves the destination as it was and no temporary file behind.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Callable, TextIO


def replace_atomically(path: str | Path, writer: Callable[[str], None], *, sync: bool = True) -> Path:
    """Let ``writer(tmp_path)`` write the whole file (e.g. pandas ``to_parquet``), then move it
    to ``path``. Exceptions of ``writer`` or of the file system propagate unchanged."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    os.close(fd)
    try:
        writer(tmp)
        if sync:
            with open(tmp, "rb") as f:
                os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)  # (gone after a successful replace)
    return path


def write_text_atomically(path: str | Path, write: Callable[[TextIO], None], *, sync: bool = True) -> Path:
    """Call ``write(f)`` on a text file (UTF-8, ``\\n`` line ends) that replaces ``path``
    atomically once complete (see :func:`replace_atomically`)."""

    def _to(tmp: str) -> None:
        with open(tmp, "w", encoding="utf-8", newline="\n") as f:
            write(f)

    return replace_atomically(path, _to, sync=sync)
