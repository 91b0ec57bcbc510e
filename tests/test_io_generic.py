"""Generic CSV round trip over the variants the reader promises to understand."""

from __future__ import annotations

from datetime import datetime, timezone

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gait.io import read_recording
from gait.types import G0_M_S2

START = datetime(2026, 11, 24, 10, 0, tzinfo=timezone.utc)
ACC_SCALE = {"m/s^2": 1.0, "g": 1 / G0_M_S2, "mg": 1000 / G0_M_S2}
ACC_NAMES = {"ax": ("ax", "ay", "az"), "acc_x": ("acc_x", "acc_y", "acc_z"),
             "accX": ("accX", "accY", "accZ"), "x": ("x", "y", "z")}


@settings(max_examples=20, deadline=None)
@given(sep=st.sampled_from([",", ";", "\t"]),
       time_kind=st.sampled_from(["t_s", "time_ms", "timestamp_epoch_ms", "timestamp_epoch_ns",
                                  "time_epoch_s"]),
       acc_unit=st.sampled_from(["m/s^2", "g", "mg"]),
       unit_in_header=st.booleans(),
       names=st.sampled_from(list(ACC_NAMES)),
       gyro=st.booleans(),
       fs=st.sampled_from([25.0, 50.0, 100.0, 200.0]))
def test_property_generic_variants_read_back(tmp_path_factory, sep, time_kind, acc_unit,
                                             unit_in_header, names, gyro, fs):
    n = int(3 * fs)
    t = np.arange(n) / fs
    acc = np.column_stack([np.sin(2 * np.pi * 2 * t), 0.3 * np.ones(n), np.full(n, G0_M_S2)])
    w = np.column_stack([0.5 * np.sin(2 * np.pi * t), np.zeros(n), np.full(n, 0.2)])
    epoch = START.timestamp()
    if time_kind == "t_s":
        tcol, tname, fmt = t, "t_s", "%.6f"
    elif time_kind == "time_ms":
        tcol, tname, fmt = t * 1000, "time_ms", "%.3f"
    elif time_kind == "timestamp_epoch_ms":
        tcol, tname, fmt = np.round((epoch + t) * 1000), "timestamp", "%d"
    elif time_kind == "timestamp_epoch_ns":
        tcol = (np.int64(int(epoch)) * 10**9 + np.round(t * 1e9).astype(np.int64))
        tname, fmt = "timestamp", "%d"
    else:
        tcol, tname, fmt = epoch + t, "time", "%.4f"
    cols = list(ACC_NAMES[names])
    if unit_in_header:
        cols = [f"{c} [{acc_unit}]" for c in cols]
    header = [tname, *cols] + (["gx (deg/s)", "gy (deg/s)", "gz (deg/s)"] if gyro else [])
    lines = [sep.join(header)]
    a = acc * ACC_SCALE[acc_unit]
    for k in range(n):
        cells = [fmt % tcol[k]] + [f"{v:.6f}" for v in a[k]]
        if gyro:
            cells += [f"{v:.5f}" for v in np.rad2deg(w[k])]
        lines.append(sep.join(cells))
    p = tmp_path_factory.mktemp("g") / "rec.csv"
    p.write_text("\n".join(lines) + "\n")

    rec = read_recording(p)
    assert rec.info.format == "generic"
    assert rec.fs_hz == fs and rec.n_samples == n
    assert rec.info.units["acc"] == acc_unit
    assert rec.info.units_source["acc"].startswith("header" if unit_in_header else "detected")
    assert np.allclose(rec.acc_m_s2, acc, atol=2e-5 * max(1.0, 1 / ACC_SCALE[acc_unit]))
    if time_kind.startswith(("timestamp_epoch", "time_epoch")):
        assert abs((rec.start_time - START).total_seconds()) < 1e-3
    else:
        assert rec.start_time is None
    assert rec.has_gyro == gyro
    if gyro:
        assert rec.info.units["gyro"] == "deg/s"
        assert np.allclose(rec.gyro_rad_s, w, atol=1e-6)


@pytest.mark.parametrize("tz,expect_utc", [("+02:00", True), ("", False)])
def test_iso_time_with_and_without_zone(tmp_path, tz, expect_utc):
    lines = ["time,ax,ay,az"]
    for k in range(300):
        s = f"2026-11-24T12:00:{k // 100:02d}.{(k % 100) * 10:03d}{tz}"
        lines.append(f"{s},{np.sin(k / 10):.4f},0,9.81")
    p = tmp_path / "iso.csv"
    p.write_text("\n".join(lines) + "\n")
    rec = read_recording(p)
    assert rec.fs_hz == 100.0 and rec.n_samples == 300
    if expect_utc:
        assert rec.start_time == datetime(2026, 11, 24, 10, 0, tzinfo=timezone.utc)
    else:
        assert rec.start_time is None
        assert rec.info.extra["start_time_local"] == "2026-11-24T12:00:00"


def test_no_time_column_needs_fs(tmp_path):
    from gait.errors import InputError

    p = tmp_path / "notime.csv"
    p.write_text("ax,ay,az\n" + "\n".join(f"{np.sin(k / 9):.4f},0,9.81" for k in range(400)) + "\n")
    with pytest.raises(InputError, match="no time column"):
        read_recording(p)
    rec = read_recording(p, fs_hz=100)
    assert rec.n_samples == 400 and rec.fs_hz == 100.0


def test_latin1_header_with_degree_sign(tmp_path):
    p = tmp_path / "latin.csv"
    rows = [f"{k / 100:.2f},{np.sin(k / 10):.3f},0,9.81,0.5,0,0.2" for k in range(400)]
    p.write_bytes("time,ax,ay,az,gx (°/s),gy (°/s),gz (°/s)\n".encode("latin-1")
                  + ("\n".join(rows) + "\n").encode())
    rec = read_recording(p)
    assert rec.info.units["gyro"] == "deg/s"
    assert rec.info.units_source["gyro"].startswith("header")
    assert rec.gyro_rad_s[0, 0] == pytest.approx(np.deg2rad(0.5))
