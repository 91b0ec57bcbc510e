"""The ``gait`` command line: ``main(argv=None) -> int``.

Thin by design: parse, call the library, print, return an exit code. Each sub-command lives in
its own module ``gait.cli.<name>`` exposing ``register(subparsers)``; the module sets
``func=run`` on its parser, where ``run(args) -> int``.

User errors (:class:`gait.errors.GaitError`) become one line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
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


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "func", None) is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        return int(args.func(args) or 0)
    except GaitError as exc:
        print(f"gait: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("gait: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `gait analyze x --format json | head`
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
