"""Regenerate the simulated files in ``sample_data/`` (byte for byte).

    python scripts/make_sample_data.py [OUT_DIR]     # default: sample_data/

Each file is exactly what the command printed beside it makes (``gait simulate ...``);
tests/test_sim_cli.py checks that regenerating gives identical bytes.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from gait.cli import main as gait_main  # noqa: E402

#: file name -> arguments of `gait simulate` (after the output path)
SAMPLES: dict[str, list[str]] = {
    # ~4.6 min: stand, warm-up walk, forward run, backward run, forward run, backward run,
    # backward walk, cool-down walk, stand; right hip, GaitSense mount, 100 Hz, with gyro
    "mixed_run.csv": ["--preset", "mixed-run", "--fs", "100", "--seed", "1",
                      "--mount", "gaitsense-right-hip"],
    # 2 min forward walk, acceleration written in g
    "walk.csv": ["--preset", "walk", "--fs", "100", "--seed", "2",
                 "--mount", "gaitsense-right-hip", "--acc-unit", "g"],
}


def main(argv: list[str] | None = None) -> int:
    import argparse

    ap = argparse.ArgumentParser(description="Regenerate the simulated files in sample_data/.")
    ap.add_argument("out_dir", nargs="?", type=Path, default=ROOT / "sample_data",
                    help="where to write them (default: sample_data/)")
    out = ap.parse_args(sys.argv[1:] if argv is None else argv).out_dir
    out.mkdir(parents=True, exist_ok=True)
    for name, opts in SAMPLES.items():
        rc = gait_main(["simulate", str(out / name), *opts])
        if rc:
            return rc
    return 0


if __name__ == "__main__":
    sys.exit(main())
