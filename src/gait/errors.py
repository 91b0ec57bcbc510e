"""The project's own exceptions.

Every error a *user* can cause (a bad file, a bad option, a device that is not there) is a
:class:`GaitError`. The CLI turns it into one line on stderr and exit code 2, with no traceback.
Anything else that escapes is a bug in ``gait``.
"""

from __future__ import annotations

from pathlib import Path


class GaitError(Exception):
    """A user-facing error: one line, naming the file (when there is one) and the problem."""

    exit_code = 2

    def __init__(self, message: str, *, path: str | Path | None = None) -> None:
        self.path = None if path is None else str(path)
        self.message = message
        super().__init__(self.__str__())

    def __str__(self) -> str:  # one line, always
        text = " ".join(str(self.message).split())
        return f"{self.path}: {text}" if self.path else text


class InputError(GaitError):
    """A recording or labels file that cannot be read as asked."""


class FormatNotRecognised(InputError):
    """No reader recognises the file."""


class SignalError(GaitError):
    """Data that were read but cannot be analysed (too short, too slow, all zero, ...)."""


class DeviceError(GaitError):
    """A Bluetooth device that cannot be found, connected or understood."""
