"""Compare the simulator's IC-locked waveforms with the labeled dev recordings.

    python scripts/sim_vs_dev.py [--data ../shared/data/dev] [--plot docs/img/sim_vs_dev.png]

For forward walking, backward walking and forward running (the dev data have no backward
running; the simulator's is shown beside them), both data sets are cut into steps at the
labelled initial contacts, each step is resampled to 50 points of step phase (0 = IC, 1 = next
IC) and averaged. The simulated signals are low-passed at 12 Hz (as the dev data are) and
simulated without impact transients for the "no impacts" columns. Printed per channel (body
frame, x forward, z up): correlation of the mean waveforms, RMS difference (m/s^2 or rad/s),
RMS of the dev waveform, and the phase of the az maximum in both.
"""

from __future__ import annotations

import argparse
import glob
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import signal

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from gait.sim import simulate  # noqa: E402

CH = ["ax", "ay", "az", "gx", "gy", "gz"]
GROUPS = {  # dev pattern, simulator programme
    "walk forward": ("mocap_bn*/bn?_walk_*", "stand:2,walk:120:forward:112:1.3,stand:2"),
    "walk backward": ("mocap_bn1/bn1_walk-back_*", "stand:2,walk:120:backward:95:0.8,stand:2"),
    "run forward": ("mocap_bn2/bn2_run_*", "stand:2,run:120:forward:153:2.9,stand:2"),
    "run backward": (None, "stand:2,run:120:backward:170:2.6,stand:2"),
}


def step_average(items, nb: int = 50):
    rows = []
    for ics, t, x in items:
        for a, b in zip(ics[:-1], ics[1:]):
            T = b - a
            if not 0.2 < T < 1.3 or a < 0.25 or b > t[-1] - 0.25:
                continue
            tt = a + np.arange(nb) / nb * T
            rows.append(np.stack([np.interp(tt, t, x[:, j]) for j in range(x.shape[1])], 1))
    return np.mean(rows, axis=0), len(rows)


def stride_average(items, feet_list, nb: int = 50):
    """Mean over strides from a right IC to the next right IC (L IC in between)."""
    rows = []
    for (ics, t, x), feet in zip(items, feet_list):
        for k in range(len(ics) - 2):
            if (feet[k], feet[k + 1], feet[k + 2]) != ("R", "L", "R"):
                continue
            a, b = ics[k], ics[k + 2]
            if not 0.4 < b - a < 2.6 or a < 0.25 or b > t[-1] - 0.25:
                continue
            tt = a + np.arange(nb) / nb * (b - a)
            rows.append(np.stack([np.interp(tt, t, x[:, j]) for j in range(x.shape[1])], 1))
    return np.mean(rows, axis=0)


def dev_feet(base: Path, pattern: str):
    return [json.load(open(p))["ic_feet"] for p in sorted(glob.glob(str(base / f"{pattern}.labels.json")))]


def dev_items(base: Path, pattern: str):
    out = []
    for p in sorted(glob.glob(str(base / f"{pattern}.labels.json"))):
        lab = json.load(open(p))
        d = pd.read_csv(p.replace(".labels.json", ".csv")).to_numpy()
        out.append((np.array(lab["initial_contacts_s"]), d[:, 0], d[:, 1:7]))
    return out


def sim_items(programme: str, impacts: float, seed: int = 0, feet: bool = False):
    sim = simulate(programme, fs_hz=100.0, seed=seed, noise="none", misalignment_deg=0.0,
                   impacts=impacts)
    r = sim.recording
    x = np.hstack([r.acc_m_s2, r.gyro_rad_s])
    sos = signal.butter(4, 12.0 / 50.0, output="sos")
    x = signal.sosfiltfilt(sos, x, axis=0)
    lab = sim.labels
    ics = np.array(lab.initial_contacts_s)
    # only steps well inside the locomotion segment (no start/stop ramps)
    seg = [s for s in lab.segments if s.activity in ("walk", "run")][0]
    keep = (ics > seg.start_s + 3) & (ics < seg.end_s - 3)
    if feet:
        return [(ics[keep], r.t_s, x)], [list(np.array(lab.ic_feet)[keep])]
    return [(ics[keep], r.t_s, x)]


def _skew(v: np.ndarray) -> float:
    v = v - v.mean()
    return float(np.mean(v ** 3) / np.mean(v ** 2) ** 1.5)


def _dir_features(x: np.ndarray, fs_hz: float) -> tuple[float, float, float]:
    jz = np.diff(x[:, 2]) * fs_hz
    jx = np.diff(x[:, 0]) * fs_hz
    return _skew(jz), _skew(jx), _skew(x[:, 0])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    ap.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "dev"))
    ap.add_argument("--plot", default=None, help="save a figure here (PNG)")
    ap.add_argument("--plot-raw", default=None,
                    help="save a figure of the simulator's own step waveforms at 200 Hz (with impacts)")
    args = ap.parse_args(argv)
    base = Path(args.data)
    results = {}
    print(f"{'group':14s} {'ch':3s} {'r(imp)':>7s} {'r(no imp)':>9s} {'rmsd':>6s} {'rms dev':>7s} {'rms sim':>7s}")
    for name, (pat, prog) in GROUPS.items():
        sim_imp, n_s = step_average(sim_items(prog, 1.0))
        sim_no, _ = step_average(sim_items(prog, 0.0))
        dev, n_d = step_average(dev_items(base, pat)) if pat else (None, 0)
        results[name] = (dev, sim_imp, sim_no)
        if dev is None:
            print(f"{name:14s} (no dev data; simulated steps: {n_s})")
            continue
        for j, ch in enumerate(CH):
            d = dev[:, j] - dev[:, j].mean()
            s1 = sim_imp[:, j] - sim_imp[:, j].mean()
            s0 = sim_no[:, j] - sim_no[:, j].mean()
            r1 = np.corrcoef(d, s1)[0, 1]
            r0 = np.corrcoef(d, s0)[0, 1]
            print(f"{name:14s} {ch:3s} {r1:7.2f} {r0:9.2f} {np.sqrt(np.mean((d - s0) ** 2)):6.2f} "
                  f"{np.sqrt(np.mean(d ** 2)):7.2f} {np.sqrt(np.mean(s0 ** 2)):7.2f}")
        print(f"{name:14s} az peak phase: dev {np.argmax(dev[:, 2]) / 50:.2f}, sim "
              f"{np.argmax(sim_imp[:, 2]) / 50:.2f}; steps dev {n_d}, sim {n_s}")
        s_items, s_feet = sim_items(prog, 0.0, feet=True)
        sd_str = stride_average(s_items, s_feet)
        dv_str = stride_average(dev_items(base, pat), dev_feet(base, pat))
        cells = []
        for j in (1, 3, 5):
            d = dv_str[:, j] - dv_str[:, j].mean()
            s_ = sd_str[:, j] - sd_str[:, j].mean()
            cells.append(f"{CH[j]} r={np.corrcoef(d, s_)[0, 1]:.2f} rms dev {np.sqrt(np.mean(d ** 2)):.2f}"
                         f" sim {np.sqrt(np.mean(s_ ** 2)):.2f}")
        print(f"{name:14s} stride-locked (R IC to R IC): " + "; ".join(cells))
        sd_dev = np.mean([np.std(x[(t > 0.2) & (t < t[-1] - 0.2), 2]) for _, t, x in dev_items(base, pat)])
        sd_sim = [np.std(x[(t > i[0]) & (t < i[-1]), 2]) for i, t, x in sim_items(prog, 0.0)]
        sd_imp = [np.std(x[(t > i[0]) & (t < i[-1]), 2]) for i, t, x in sim_items(prog, 1.0)]
        print(f"{name:14s} s.d. of az: dev {sd_dev:.2f}, sim {sd_sim[0]:.2f} (no impacts), "
              f"{sd_imp[0]:.2f} (impacts; both 12 Hz low-passed) m/s^2")
    # time-asymmetry features a direction detector may use, per recording: skewness of the
    # vertical and of the anterior-posterior jerk (12 Hz low-passed), forward vs backward
    print()
    print("direction features (median over recordings; share > 0 in brackets):")
    for name, pat, progs in (
            ("walk forward", "mocap_bn*/bn?_walk_*", [f"stand:2,walk:40:forward:{c},stand:2" for c in (90, 105, 120)]),
            ("walk backward", "mocap_bn1/bn1_walk-back_*", [f"stand:2,walk:40:backward:{c},stand:2" for c in (90, 105, 120)]),
            ("run forward", "mocap_bn*/bn?_run_*", [f"stand:2,run:40:forward:{c},stand:2" for c in (150, 165, 180)]),
            ("run backward", None, [f"stand:2,run:40:backward:{c},stand:2" for c in (165, 180, 195)])):
        rows = {"dev": [], "sim": []}
        if pat:
            for ics, t, x in dev_items(base, pat):
                m = (t > 0.3) & (t < t[-1] - 0.3)
                rows["dev"].append(_dir_features(x[m], 100.0))
        for k, prog in enumerate(progs):
            for seed in range(3):
                (ics, t, x), = sim_items(prog, 1.0, seed=seed)
                m = (t > ics[0]) & (t < ics[-1])
                rows["sim"].append(_dir_features(x[m], 100.0))
        for src, r in rows.items():
            if not r:
                continue
            a = np.array(r)
            cells = [f"{nm} {np.median(a[:, j]):+.2f} ({np.mean(a[:, j] > 0):.0%})"
                     for j, nm in enumerate(("skew jerk z", "skew jerk x", "skew ax"))]
            print(f"  {name:14s} {src}: n={len(a):3d}  " + "  ".join(cells))
    import time

    t0 = time.perf_counter()
    simulate("stand:60,walk:1200,run:1200,walk:1080:backward,stand:60", fs_hz=100.0, seed=0)
    print(f"speed: 1 h at 100 Hz with gyro simulated in {time.perf_counter() - t0:.2f} s")
    if args.plot:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(2, 4, figsize=(14, 6), sharex=True)
        ph = np.arange(50) / 50
        for c, (name, (dev, s1, s0)) in enumerate(results.items()):
            for r, j in enumerate((2, 0)):
                ax = axes[r, c]
                if dev is not None:
                    ax.plot(ph, dev[:, j], "k", lw=2, label="dev (mocap)")
                ax.plot(ph, s0[:, j], "C0", label="sim, no impacts")
                ax.plot(ph, s1[:, j], "C1", alpha=0.8, label="sim, impacts")
                ax.set_title(f"{name}: {CH[j]}")
                if c == 0:
                    ax.set_ylabel("m/s^2")
                if r == 1:
                    ax.set_xlabel("step phase (0 = IC)")
        axes[0, 0].legend(fontsize=8)
        fig.suptitle("IC-locked mean waveforms (12 Hz low-pass), body frame x forward, z up")
        fig.tight_layout()
        fig.savefig(args.plot, dpi=80)
        print(f"figure: {args.plot}")
    if args.plot_raw:
        plot_raw(args.plot_raw)
    return 0


def plot_raw(path: str) -> None:
    """Mean step waveforms of the four gaits at 200 Hz, with impacts, body frame."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(11, 6), sharex=True)
    ph = np.arange(100) / 100
    for c, gait in enumerate(("walk", "run")):
        for d, col in (("forward", "C0"), ("backward", "C3")):
            cad = {"walk": 110, "run": 175}[gait]
            sim = simulate(f"stand:2,{gait}:60:{d}:{cad},stand:2", fs_hz=200.0, seed=0,
                           noise="none", misalignment_deg=0.0)
            r, lab = sim.recording, sim.labels
            ics = np.array(lab.initial_contacts_s)
            ics = ics[(ics > 5) & (ics < 59)]
            x = r.acc_m_s2
            rows = [np.stack([np.interp(a + ph * (b - a), r.t_s, x[:, j]) for j in (0, 2)], 1)
                    for a, b in zip(ics[:-1], ics[1:])]
            m = np.mean(rows, axis=0)
            axes[0, c].plot(ph, m[:, 1], col, label=f"{d} {cad} steps/min")
            axes[1, c].plot(ph, m[:, 0], col, label=d)
        axes[0, c].set_title(f"{gait}: vertical (az)")
        axes[1, c].set_title(f"{gait}: anterior-posterior (ax, + = forward)")
        axes[1, c].set_xlabel("step phase (0 = initial contact)")
        axes[0, c].legend(fontsize=8)
    axes[0, 0].set_ylabel("m/s^2")
    axes[1, 0].set_ylabel("m/s^2")
    fig.suptitle("gait.sim step waveforms at 200 Hz with landing transients (body frame, mean of ~100 steps)")
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    print(f"figure: {path}")


if __name__ == "__main__":
    sys.exit(main())
