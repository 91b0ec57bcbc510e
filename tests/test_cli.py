import subprocess
import sys

from gait.cli import COMMANDS, build_parser, main


def test_version_and_help(capsys):
    assert main([]) == 2  # no command: help on stderr, usage error code
    parser = build_parser()
    help_text = parser.format_help()
    for name in COMMANDS:
        assert name in help_text


def test_module_entry_point_runs():
    out = subprocess.run([sys.executable, "-m", "gait", "--version"], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.startswith("gait ")
