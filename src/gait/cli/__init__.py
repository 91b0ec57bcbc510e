"""The ``gait`` command line: ``main(argv=None) -> int``.

Thin by design: parse, call the library, print, return an exit code. Each sub-command lives in
its own module ``gait.cli.<name>`` exposing ``register(subparsers)``; the module sets
``func=run`` on its parser, where ``run(args) -> int``.

User errors (:class:`gait.errors.GaitError`) become one line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import errno
import importlib
import sys

from .._version import __version__
from ..errors import GaitError

#: Sub-command modules, in the order ``gait --help`` lists them.
COMMANDS: tuple[str, ...] = (
    "analyze",
    "batch",
    "info",
    "simulate",
    "report",
    "history",
    "scan",
    "live",
    "replay",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gait",
        description="Steps, cadence, bouts and forward/backward direction from a hip-worn IMU.",
    )
    parser.add_argument("--version", action="version", version=f"gait {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"{__name__}.{name}").register(sub)
    return parser


def _os_error_line(exc: OSError) -> str:
    """One line for an operating-system error on a named file (permission, no space, ...)."""
    what = exc.strerror or type(exc).__name__
    name = exc.filename if exc.filename is not None else None
    hint = ""
    if isinstance(exc, PermissionError):
        hint = "; check the permissions or choose another path"
    elif exc.errno == errno.ENOSPC:
        hint = "; free some space or choose another disk"
    return f"{name}: {what}{hint}" if name is not None else f"{what}{hint}"


def main(argv: list[str] | None = None) -> int:
    try:
        # building the parser imports the sub-commands (numpy, scipy...): Ctrl-C may come here
        parser = build_parser()
        args = parser.parse_args(argv)
        if getattr(args, "func", None) is None:
            parser.print_help(sys.stderr)
            return 2
        return int(args.func(args) or 0)
    except GaitError as exc:
        print(f"gait: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("gait: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `gait analyze x --format json | head`
        return 0
    except OSError as exc:
        if exc.filename is None:  # not about a file the user named: a bug, keep the traceback
            raise
        print(f"gait: error: {_os_error_line(exc)}", file=sys.stderr)
        return GaitError.exit_code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
