"""Where a recording comes from: one file, a folder, or a zip archive.

A :class:`Source` lists the files it holds and opens them, so that readers of multi-file exports
(Sensor Logger, phyphox, MetaWear, Polar) work the same on a folder, a zip, or one file of the
export (whose siblings are then looked up in the same folder).
"""

from __future__ import annotations

import io
import os
import zipfile
import zlib
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from ..errors import InputError

#: Bytes read to sniff a file's format.
HEAD_BYTES = 65536


class Source:
    """A file, folder or zip archive, addressed by member names (POSIX, relative)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.label = str(path)
        self._zip: zipfile.ZipFile | None = None
        if not self.path.exists():
            raise InputError("no such file or folder", path=path)
        if self.path.is_dir():
            self.kind = "dir"
            self.root = self.path
            self.main: str | None = None
        elif zipfile.is_zipfile(self.path) or self.path.suffix.lower() == ".zip":
            self.kind = "zip"
            self.root = self.path
            try:
                self._zip = zipfile.ZipFile(self.path)
                bad = self._zip.testzip()
            except (zipfile.BadZipFile, OSError, EOFError, ValueError, zlib.error) as exc:
                raise InputError(f"broken zip archive ({exc})", path=path) from None
            if bad is not None:
                raise InputError(f"broken zip archive (member {bad!r} is corrupt)", path=path)
            self.main = None
        else:
            self.kind = "file"
            self.root = self.path.parent
            self.main = self.path.name
            if self.path.stat().st_size == 0:
                raise InputError("the file is empty", path=path)
        self._names: list[str] | None = None
        if self.kind == "zip":
            files = self.data_files()
            if len(files) == 1:  # a zip around one recording file: read that file
                self.main = files[0]

    # ------------------------------------------------------------------ listing
    def names(self) -> list[str]:
        """Member files (relative POSIX paths), sorted; hidden files and macOS junk left out."""
        if self._names is None:
            if self._zip is not None:
                names = [n for n in self._zip.namelist() if not n.endswith("/")]
            else:
                names = []
                root_depth = len(self.root.parts)
                for dirpath, dirnames, filenames in os.walk(self.root):
                    depth = len(Path(dirpath).parts) - root_depth
                    if depth >= 2:  # export folders are shallow (phyphox: meta/)
                        dirnames[:] = []
                    dirnames[:] = [d for d in dirnames if not d.startswith(".")]
                    for fn in filenames:
                        names.append((Path(dirpath) / fn).relative_to(self.root).as_posix())
                    if len(names) > 10_000:
                        break
            self._names = sorted(
                n for n in names
                if not any(part.startswith((".", "__MACOSX")) for part in PurePosixPath(n).parts)
            )
        return self._names

    def find(self, basename: str) -> str | None:
        """The member whose file name is ``basename`` (case-insensitive), shallowest first."""
        want = basename.lower()
        hits = [n for n in self.names() if PurePosixPath(n).name.lower() == want]
        if self.main is not None and self.main.lower() == want:
            return self.main
        return min(hits, key=lambda n: (n.count("/"), n)) if hits else None

    def data_files(self) -> list[str]:
        """Members that look like data files (.csv / .txt / .tsv / no suffix)."""
        out = []
        for n in self.names():
            suf = PurePosixPath(n).suffix.lower()
            if suf in (".csv", ".txt", ".tsv", ".dat", ""):
                out.append(n)
        return out

    # ------------------------------------------------------------------ reading
    def member_label(self, name: str) -> str:
        if self.kind == "zip":
            return f"{self.label}!{name}"
        return str(self.root / name)

    def open(self, name: str) -> BinaryIO:
        if self._zip is not None:
            try:
                return self._zip.open(name)
            except (zipfile.BadZipFile, OSError, EOFError, KeyError) as exc:
                raise InputError(f"broken zip archive ({exc})", path=self.label) from None
        try:
            return open(self.root / name, "rb")
        except OSError as exc:
            raise InputError(f"cannot open ({exc.strerror})", path=self.root / name) from None

    def size(self, name: str) -> int:
        if self._zip is not None:
            return self._zip.getinfo(name).file_size
        return (self.root / name).stat().st_size

    def local_path(self, name: str) -> Path | None:
        """A filesystem path for the member (None inside a zip)."""
        return None if self._zip is not None else self.root / name

    def head_bytes(self, name: str, n: int = HEAD_BYTES) -> bytes:
        with self.open(name) as f:
            return f.read(n)

    def head_lines(self, name: str, n_lines: int = 40) -> list[str]:
        """The first lines of a member as text (BOM stripped, undecodable bytes replaced)."""
        raw = self.head_bytes(name)
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            # a character cut at the end of the sample is fine; anything else: Latin-1 (°/s)
            text = raw.decode("utf-8-sig", errors="replace") if exc.start >= len(raw) - 4 \
                else raw.decode("latin-1")
        lines = text.splitlines()
        if len(raw) == HEAD_BYTES and lines:  # last line may be cut
            lines = lines[:-1]
        return lines[:n_lines]

    def read_bytes(self, name: str) -> bytes:
        with self.open(name) as f:
            return f.read()

    def text_stream(self, name: str) -> io.BufferedReader | BinaryIO:
        return self.open(name)

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()

    def __enter__(self) -> "Source":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
