#!/usr/bin/env python
"""Run mobgap (Mobilise-D) on dev-format CSV recordings and write detection JSONs.

Runs in mobgap's own virtualenv (see ``scripts/peers/setup_mobgap.sh``), never in the project's
environment: it imports nothing from ``gait``.

Usage::

    PY scripts/peers/run_mobgap.py --algo full|shin --out OUTDIR REC.csv...
    PY scripts/peers/run_mobgap.py --algo full --time REC.csv      # speed benchmark: prints JSON

Input: ``t_s,ax,ay,az[,gx,gy,gz]``; acc = specific force (+9.81 on the axis pointing up at
rest) in m/s^2 (or g with ``--acc-g``, or when ``REC.labels.json`` beside the CSV says
``units.acc == "g"``), gyro in rad/s, body frame x forward, y left, z up (the frame of
``../shared/data/dev``; ``--frame`` for another axis mapping). When the labels file of a
``rotated`` variant carries the random rotation (``variant.R``, v_new = R v_old), it is undone
so that mobgap gets the frame it needs (``--no-unrotate`` to switch that off).

Output per recording: ``OUTDIR/<stem>.detections.json`` =
``{"initial_contacts_s", "segments", "runtime_s", "peer", "cadence_spm_per_gs", ...}``
(the detection format of ``../shared/data/README.md``). Progress goes to stderr only.
A recording mobgap fails on gets a JSON with ``"error"`` (and empty detections).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
import traceback
import warnings
from pathlib import Path

# One core, like the speed benchmark of gait: set before numpy/numba load (caller may override).
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

G0_M_S2 = 9.80665
#: Body axis names -> unit vectors in the body frame (x forward, y left, z up).
_BODY = {
    "forward": (1, 0, 0), "backward": (-1, 0, 0), "left": (0, 1, 0), "right": (0, -1, 0),
    "up": (0, 0, 1), "down": (0, 0, -1),
}
#: mobgap / Mobilise-D lower-back sensor frame expressed in our body frame: sensor x points up
#: (inferior -> superior, +9.81 at rest), y points right (medio-lateral), z points forward
#: (posterior -> anterior). Right-handed (up x right = forward). Rows: mobgap axis in body
#: coordinates, so v_mobgap = M_BODY_TO_MOBGAP @ v_body.
M_BODY_TO_MOBGAP = np.array([[0.0, 0.0, 1.0], [0.0, -1.0, 0.0], [1.0, 0.0, 0.0]])


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def mapping_to_matrix(spec: str) -> np.ndarray:
    """``"x=forward,y=left,z=up"`` -> R with v_body = R @ v_sensor."""
    cols: dict[str, np.ndarray] = {}
    for part in spec.split(","):
        axis, direction = (s.strip().lower() for s in part.split("=", 1))
        cols[axis] = np.array(_BODY[direction], dtype=float)
    if len(cols) == 2:
        missing = ({"x", "y", "z"} - set(cols)).pop()
        order = "xyz"
        i = order.index(missing)
        a, b = order[(i + 1) % 3], order[(i + 2) % 3]
        cols[missing] = np.cross(cols[a], cols[b])
    R = np.column_stack([cols["x"], cols["y"], cols["z"]])
    if not np.isclose(np.linalg.det(R), 1.0):
        raise ValueError(f"frame {spec!r} is not a right-handed set of axes")
    return R


def load_dev_csv(path: Path, *, acc_g: bool | None, frame: str, unrotate: bool):
    """Read a dev-format CSV; return (t_s, acc_body_m_s2, gyro_body_rad_s or None, fs_hz, notes)."""
    notes: list[str] = []
    df = pd.read_csv(path, comment="#")
    cols = [c.strip().lower() for c in df.columns]
    df.columns = cols
    for c in ("t_s", "ax", "ay", "az"):
        if c not in cols:
            raise ValueError(f"column {c!r} missing (need t_s,ax,ay,az[,gx,gy,gz])")
    t = df["t_s"].to_numpy(float)
    acc = df[["ax", "ay", "az"]].to_numpy(float)
    gyro = df[["gx", "gy", "gz"]].to_numpy(float) if {"gx", "gy", "gz"} <= set(cols) else None
    labels_path = path.with_name(path.name[: -len(path.suffix)] + ".labels.json")
    labels = json.loads(labels_path.read_text()) if labels_path.is_file() else None
    if acc_g is None:
        acc_g = bool(labels and labels.get("units", {}).get("acc") == "g")
        if acc_g:
            notes.append("acc in g (labels units)")
    if acc_g:
        acc = acc * G0_M_S2
    R_frame = mapping_to_matrix(frame)
    if not np.allclose(R_frame, np.eye(3)):
        acc = acc @ R_frame.T
        gyro = None if gyro is None else gyro @ R_frame.T
        notes.append(f"frame {frame} rotated to body")
    variant = (labels or {}).get("variant") or {}
    if unrotate and isinstance(variant, dict) and variant.get("R") is not None:
        R = np.asarray(variant["R"], dtype=float)  # v_new = R v_old  ->  v_old = R^T v_new
        acc = acc @ R
        gyro = None if gyro is None else gyro @ R
        notes.append("variant rotation undone (labels variant.R)")
    # Uniform clock: mobgap needs equally spaced samples.
    dt = np.diff(t)
    fs_hz = float(labels["fs_hz"]) if labels and labels.get("fs_hz") else 1.0 / float(np.median(dt))
    if len(t) > 2 and (np.max(np.abs(dt - 1.0 / fs_hz)) > 0.1 / fs_hz):
        n = int(math.floor((t[-1] - t[0]) * fs_hz)) + 1
        tu = t[0] + np.arange(n) / fs_hz
        acc = np.column_stack([np.interp(tu, t, acc[:, i]) for i in range(3)])
        if gyro is not None:
            gyro = np.column_stack([np.interp(tu, t, gyro[:, i]) for i in range(3)])
        t = tu
        notes.append(f"resampled to a uniform {fs_hz:g} Hz clock (linear)")
    return t - t[0], acc, gyro, fs_hz, notes


def to_mobgap_frame(acc_body: np.ndarray, gyro_body: np.ndarray | None) -> pd.DataFrame:
    """Body frame (x fwd, y left, z up; m/s^2, rad/s) -> mobgap sensor frame (m/s^2, deg/s)."""
    acc = acc_body @ M_BODY_TO_MOBGAP.T
    if gyro_body is None:
        gyr = np.zeros_like(acc)
    else:
        gyr = np.rad2deg(gyro_body @ M_BODY_TO_MOBGAP.T)
    return pd.DataFrame(
        np.column_stack([acc, gyr]), columns=["acc_x", "acc_y", "acc_z", "gyr_x", "gyr_y", "gyr_z"]
    )


def mobgap_version() -> str:
    try:
        from importlib.metadata import version

        return version("mobgap")
    except Exception:  # pragma: no cover
        return "?"


def run_full(data: pd.DataFrame, fs_hz: float) -> dict:
    """mobgap's Mobilise-D pipeline for healthy adults (GsdIluz -> IcdIonescu -> ... -> WBA)."""
    from mobgap.data import GaitDatasetFromData
    from mobgap.pipeline import MobilisedPipelineHealthy

    ds = GaitDatasetFromData(
        {"rec": {"LowerBack": data}},
        fs_hz,
        {"rec": {"height_m": 1.75, "sensor_height_m": 0.95, "cohort": "HA"}},
        {"rec": {"measurement_condition": "free_living"}},
    )
    dp = ds[0]
    pipe = MobilisedPipelineHealthy().safe_run(dp)
    gs = pipe.gs_list_
    segments = [
        {"start_s": float(r.start) / fs_hz, "end_s": float(r.end) / fs_hz, "direction": "unknown"}
        for r in gs.itertuples()
    ]
    ics = pipe.raw_ic_list_
    ic_s = sorted(float(v) / fs_hz for v in ics["ic"].to_numpy()) if len(ics) else []
    cad: list[float] = []
    per_sec = getattr(pipe, "raw_per_sec_parameters_", None)
    if per_sec is not None and len(per_sec) and "cadence_spm" in per_sec:
        for gs_id in gs.index:
            try:
                v = per_sec.xs(gs_id, level="gs_id")["cadence_spm"]
                cad.append(float(np.nanmean(v.to_numpy())) if len(v) else float("nan"))
            except KeyError:
                cad.append(float("nan"))
    wbs = []
    pw = pipe.per_wb_parameters_
    if pw is not None and len(pw):
        for r in pw.reset_index().itertuples():
            wbs.append({
                "start_s": float(r.start) / fs_hz,
                "end_s": float(r.end) / fs_hz,
                "n_strides": int(getattr(r, "n_strides", 0) or 0),
                "cadence_spm": _num(getattr(r, "cadence_spm", float("nan"))),
            })
    wb_ics: list[float] = []
    ps = pipe.per_stride_parameters_
    if ps is not None and len(ps) and "start" in ps:
        wb_ics = sorted({float(v) / fs_hz for v in ps["start"].to_numpy()} |
                        {float(v) / fs_hz for v in ps["end"].to_numpy()})
    return {
        "initial_contacts_s": ic_s,
        "segments": segments,
        "cadence_spm_per_gs": [_num(c) for c in cad],
        "walking_bouts": wbs,
        "wb_initial_contacts_s": wb_ics,
        "method": "MobilisedPipelineHealthy: ICs = raw_ic_list_ (IcdIonescu inside GsdIluz gait "
                  "sequences); segments = gait sequences; walking_bouts = after stride selection "
                  "and WB assembly; wb_initial_contacts_s = stride starts/ends in those bouts",
    }


def run_shin(data: pd.DataFrame, fs_hz: float) -> dict:
    """IcdShinImproved on the whole recording as one sequence (no gait-sequence detection)."""
    from mobgap.initial_contacts import IcdShinImproved
    from mobgap.utils.conversions import to_body_frame

    bf = to_body_frame(data)
    icd = IcdShinImproved().detect(bf, sampling_rate_hz=fs_hz)
    ics = icd.ic_list_
    ic_s = sorted(float(v) / fs_hz for v in ics["ic"].to_numpy()) if len(ics) else []
    dur_s = len(data) / fs_hz
    cad = []
    if len(ic_s) >= 2:
        cad = [60.0 * (len(ic_s) - 1) / (ic_s[-1] - ic_s[0])] if ic_s[-1] > ic_s[0] else []
    return {
        "initial_contacts_s": ic_s,
        "segments": [{"start_s": 0.0, "end_s": dur_s, "direction": "unknown"}],
        "cadence_spm_per_gs": cad,
        "method": "IcdShinImproved(axis='norm') on the whole recording as a single sequence "
                  "(no GSD); the one segment is the whole recording, its cadence from the ICs",
    }


def _num(x) -> float | None:
    try:
        x = float(x)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


ALGOS = {"full": run_full, "shin": run_shin}
_WARM: set[str] = set()


def warm_up(algo: str) -> float:
    """Run ``algo`` once on 60 s of synthetic walking so that numba's one-time JIT compilation
    (about 20 s on first use) is not counted in ``runtime_s``; returns the seconds it took."""
    if algo in _WARM:
        return 0.0
    _WARM.add(algo)
    fs_hz = 100.0
    t = np.arange(int(60 * fs_hz)) / fs_hz
    acc = np.column_stack([0.8 * np.sin(2 * np.pi * 0.9 * t), 0.5 * np.sin(2 * np.pi * 0.9 * t),
                           G0_M_S2 + 2.5 * np.sin(2 * np.pi * 1.8 * t)])
    gyro = np.column_stack([0.1 * np.sin(2 * np.pi * 0.9 * t), 0.2 * np.sin(2 * np.pi * 1.8 * t),
                            0.3 * np.sin(2 * np.pi * 0.9 * t)])
    w0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            ALGOS[algo](to_mobgap_frame(acc, gyro), fs_hz)
        except Exception:
            pass
    return time.perf_counter() - w0


def process(path: Path, args) -> dict:
    version = mobgap_version()
    out: dict = {"peer": f"mobgap {version} {args.algo}", "recording": str(path)}
    try:
        t, acc, gyro, fs_hz, notes = load_dev_csv(
            path, acc_g=True if args.acc_g else None, frame=args.frame, unrotate=not args.no_unrotate
        )
        data = to_mobgap_frame(acc, gyro)
        out.update(fs_hz=fs_hz, duration_s=len(t) / fs_hz, notes=notes)
        if not args.no_warmup:
            warm = warm_up(args.algo)
            if warm:
                out["warmup_s"] = warm
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t0 = time.process_time()
            w0 = time.perf_counter()
            det = ALGOS[args.algo](data, fs_hz)
            out["runtime_s"] = time.process_time() - t0
            out["wall_s"] = time.perf_counter() - w0
        out.update(det)
    except Exception as exc:  # a recording mobgap fails on still gets a JSON
        out.setdefault("initial_contacts_s", [])
        out.setdefault("segments", [])
        out.setdefault("cadence_spm_per_gs", [])
        out.setdefault("runtime_s", None)
        out["error"] = f"{type(exc).__name__}: {exc}"
        if args.verbose:
            traceback.print_exc()
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--algo", choices=sorted(ALGOS), default="full")
    p.add_argument("--out", type=Path, help="output folder for <stem>.detections.json")
    p.add_argument("--time", action="store_true",
                   help="speed mode: run on the given CSV(s), print {file, runtime_s, ...} JSON lines")
    p.add_argument("--acc-g", action="store_true", help="acc columns are in g (default: m/s^2, "
                   "or the units of REC.labels.json when present)")
    p.add_argument("--frame", default="x=forward,y=left,z=up",
                   help="sensor axis mapping of the CSV (default: the dev body frame)")
    p.add_argument("--no-unrotate", action="store_true",
                   help="do not undo a 'rotated' variant's rotation from its labels file")
    p.add_argument("--no-warmup", action="store_true",
                   help="count numba's one-time JIT compilation in the first recording's runtime_s")
    p.add_argument("-v", "--verbose", action="store_true")
    p.add_argument("recordings", nargs="+", type=Path)
    args = p.parse_args(argv)
    if not args.time and args.out is None:
        p.error("--out is required (or use --time)")
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
    n_err = 0
    for i, path in enumerate(args.recordings, 1):
        res = process(path, args)
        n_err += "error" in res
        log(f"[{i}/{len(args.recordings)}] {path.name}: {len(res['initial_contacts_s'])} ICs, "
            f"{len(res['segments'])} segments"
            + (f", {res['runtime_s']:.3f} s" if res.get("runtime_s") is not None else "")
            + (f"  ERROR {res['error']}" if "error" in res else ""))
        if args.time:
            print(json.dumps({k: res.get(k) for k in
                              ("recording", "peer", "duration_s", "runtime_s", "wall_s", "error")
                              if k in res}), flush=True)
        if args.out:
            stem = path.name[: -len(path.suffix)] if path.suffix else path.name
            dst = args.out / f"{stem}.detections.json"
            tmp = dst.with_name(dst.name + f".{os.getpid()}.tmp")
            tmp.write_text(json.dumps(res, indent=1))
            os.replace(tmp, dst)
    return 1 if n_err == len(args.recordings) else 0


if __name__ == "__main__":
    sys.exit(main())
