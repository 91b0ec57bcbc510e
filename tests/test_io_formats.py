"""Every format's fixture (tests/fixtures/formats, made by make_fixtures.py) reads with the
right units (gravity 9.81 m/s^2), times (rate, duration, start) and axes."""

from __future__ import annotations

import importlib.util
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest

from gait.errors import FormatNotRecognised, InputError
from gait.io import detect_format, read_recording

FIX = Path(__file__).parent / "fixtures" / "formats"
_spec = importlib.util.spec_from_file_location("make_fixtures", FIX / "make_fixtures.py")
mf = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(mf)  # type: ignore[union-attr]

LOCAL_START = datetime(2026, 11, 24, 10, 0, 0)

# path, format, gravity axis, has gyro, start: "utc" | "local" | None, acc unit, gyro unit
CASES = [
    ("gait/recording.csv", "gait", "z", True, "utc", "m/s^2", "rad/s"),
    ("generic/seconds_ms2.csv", "generic", "z", True, None, "m/s^2", "deg/s"),
    ("generic/semicolon_ms_g.csv", "generic", "z", False, None, "g", None),
    ("generic/tab_epoch_ns.tsv", "generic", "z", False, "utc", "g", None),
    ("generic/iso_datetime.csv", "generic", "z", True, "utc", "m/s^2", "rad/s"),
    ("sensorlogger/total", "sensorlogger", "y", True, "utc", "m/s^2", "rad/s"),
    ("sensorlogger/total/TotalAcceleration.csv", "sensorlogger", "y", True, "utc", "m/s^2", "rad/s"),
    ("sensorlogger/total/Gyroscope.csv", "sensorlogger", "y", True, "utc", "m/s^2", "rad/s"),
    ("sensorlogger/split.zip", "sensorlogger", "y", True, "utc", "m/s^2", "rad/s"),
    ("sensorlogger/ios", "sensorlogger", "y", True, "utc", "g", "rad/s"),
    ("phyphox/acceleration_with_g", "phyphox", "z", False, "utc", "m/s^2", None),
    ("phyphox/acceleration_with_g/Raw Data.csv", "phyphox", "z", False, "utc", "m/s^2", None),
    ("phyphox/multi_semicolon.zip", "phyphox", "z", True, "utc", "m/s^2", "rad/s"),
    ("polar", "polar", "z", True, "local", "mg", "deg/s"),
    ("polar/Polar_Sense_B36A1F2C_20261124_100000_GYRO.txt", "polar", "z", True, "local", "mg", "deg/s"),
    ("actigraph/MOS2E12345678 (2026-11-24)RAW.csv", "actigraph", "z", False, "local", "g", None),
    ("actigraph/no_timestamp_RAW.csv", "actigraph", "z", False, "local", "g", None),
    ("axivity/ax6_unix.csv", "axivity", "z", True, "utc", "g", "deg/s"),
    ("axivity/ax3_datetime.csv", "axivity", "z", False, "local", "g", None),
    ("mbient", "mbient", "z", True, "utc", "g", "deg/s"),
    ("mbient/MetaWear_2026-11-24T10.00.00.000_C8D8A8F1B2C3_Gyroscope.csv", "mbient", "z", True,
     "utc", "g", "deg/s"),
]


@pytest.mark.parametrize("rel,fmt,up,gyro,start,acc_unit,gyro_unit", CASES,
                         ids=[c[0] for c in CASES])
def test_fixture_units_times_axes(rel, fmt, up, gyro, start, acc_unit, gyro_unit):
    path = FIX / rel
    assert detect_format(path) == fmt
    rec = read_recording(path)
    info = rec.info
    assert info.format == fmt
    # units: as found, and converted so gravity is 9.81 m/s^2 on the known axis
    assert info.units["acc"] == acc_unit
    i_up = "xyz".index(up)
    i_other = ({1, 2} - {i_up}).pop()
    mean = rec.acc_m_s2.mean(axis=0)
    assert mean[i_up] == pytest.approx(mf.G0, abs=0.01)
    assert mean[i_other] == pytest.approx(mf.OFFSET_M_S2, abs=0.01)
    assert np.median(np.linalg.norm(rec.acc_m_s2, axis=1)) == pytest.approx(9.81, abs=0.06)
    # axes: x carries the 2 Hz sine of the known amplitude (so z,y,x columns were mapped right)
    x = rec.acc_m_s2[:, 0]
    assert mean[0] == pytest.approx(0.0, abs=0.02)
    assert x.std() * np.sqrt(2) == pytest.approx(mf.SINE_AMP_M_S2, rel=0.03)
    ref = mf.SINE_AMP_M_S2 * np.sin(2 * np.pi * mf.SINE_HZ * rec.t_s)
    assert np.max(np.abs(x - ref)) < 0.02
    # times: rate, duration, start
    assert rec.fs_hz == pytest.approx(mf.FS_HZ)
    assert rec.duration_s == pytest.approx(mf.DURATION_S, abs=0.025)
    assert rec.t_s[0] == 0.0 and np.allclose(np.diff(rec.t_s), 1 / rec.fs_hz)
    assert rec.valid.all() and rec.gaps == ()
    if start == "utc":
        assert rec.start_time == mf.START
        assert rec.start_time.utcoffset().total_seconds() == 0
    elif start == "local":
        assert rec.start_time is None
        assert datetime.fromisoformat(info.extra["start_time_local"]) == LOCAL_START
    # gyro in rad/s on the same grid
    assert rec.has_gyro == gyro
    if gyro:
        assert info.units["gyro"] == gyro_unit
        gm = rec.gyro_rad_s.mean(axis=0)
        assert gm[2] == pytest.approx(mf.GYRO_Z_RAD_S, abs=0.005)
        assert gm[1] == pytest.approx(0.0, abs=0.005)
        refw = mf.GYRO_AMP_RAD_S * np.sin(2 * np.pi * rec.t_s)
        assert np.max(np.abs(rec.gyro_rad_s[:, 0] - refw)) < 0.01
    assert info.units_source["acc"]
    assert info.n_raw_samples > 0


def test_sensorlogger_recombines_linear_and_gravity():
    rec = read_recording(FIX / "sensorlogger" / "split.zip")
    assert "re-combined" in rec.info.acc_kind
    total = read_recording(FIX / "sensorlogger" / "total")
    assert total.info.acc_kind == "with gravity"
    assert np.allclose(rec.acc_m_s2, total.acc_m_s2, atol=1e-6)


def test_sensorlogger_gyro_rate_differs_and_goes_on_acc_grid():
    rec = read_recording(FIX / "sensorlogger" / "total")
    assert rec.fs_hz == 100.0
    assert any("59 Hz" in n for n in rec.info.notes)
    assert rec.gyro_rad_s.shape == rec.acc_m_s2.shape


def test_sensorlogger_ios_sign_is_flipped_to_gravity_up():
    rec = read_recording(FIX / "sensorlogger" / "ios")
    assert rec.acc_m_s2[:, 1].mean() == pytest.approx(mf.G0, abs=0.01)  # +9.81 on y (up)
    assert any("iOS export" in n for n in rec.info.notes)
    assert rec.info.extra["platform"] == "ios"


def test_sensorlogger_device_from_metadata():
    assert read_recording(FIX / "sensorlogger" / "total").info.device.startswith("Pixel 8")


def test_phyphox_linear_only_is_rejected():
    with pytest.raises(InputError, match="linear acceleration"):
        read_recording(FIX / "phyphox" / "linear_only")


def test_actigraph_epoch_export_is_rejected():
    with pytest.raises(InputError, match="epoch/count export"):
        read_recording(FIX / "actigraph" / "epoch60sec.csv")


def test_actigraph_nominal_rate_and_device():
    rec = read_recording(FIX / "actigraph" / "MOS2E12345678 (2026-11-24)RAW.csv")
    assert rec.info.fs_hz_nominal == 100.0
    assert "MOS2E12345678" in rec.info.device


def test_gait_events_collected():
    rec = read_recording(FIX / "gait" / "recording.csv")
    ev = rec.info.extra["events"]
    assert ev == [{"kind": "marker", "t_s": 3.0, "text": "half way"}]
    assert rec.info.device == "GaitSense A1"
    assert rec.info.extra["mount_mapping"] == "x=forward,y=left,z=up"


def test_format_override_and_unknown_format(tmp_path):
    rec = read_recording(FIX / "generic" / "seconds_ms2.csv", format="generic")
    assert rec.info.format == "generic"
    with pytest.raises(InputError, match="unknown format"):
        read_recording(FIX / "generic" / "seconds_ms2.csv", format="nope")
    p = tmp_path / "notes.txt"
    p.write_text("hello world\nthis is not a recording\n")
    with pytest.raises(FormatNotRecognised, match="unknown format"):
        read_recording(p)


def test_mount_recorded_not_applied():
    a = read_recording(FIX / "generic" / "seconds_ms2.csv")
    b = read_recording(FIX / "generic" / "seconds_ms2.csv", mount="gaitsense-right-hip")
    assert b.info.mount == "gaitsense-right-hip"
    assert b.info.extra["mount_mapping"] == "x=up,y=backward,z=right"
    assert np.array_equal(a.acc_m_s2, b.acc_m_s2)


def test_unit_overrides_win_over_header():
    rec = read_recording(FIX / "generic" / "seconds_ms2.csv", gyro_unit="rad/s")
    assert rec.info.units["gyro"] == "rad/s"
    assert rec.info.units_source["gyro"].startswith("override")
    rec = read_recording(FIX / "generic" / "semicolon_ms_g.csv", acc_unit="g")
    assert rec.info.units_source["acc"].startswith("override")


def test_zip_around_one_recording(tmp_path):
    import zipfile

    src = FIX / "generic" / "iso_datetime.csv"
    z = tmp_path / "one.zip"
    with zipfile.ZipFile(z, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.write(src, "inner/iso_datetime.csv")
    a, b = read_recording(src), read_recording(z)
    assert b.info.format == "generic" and b.start_time == a.start_time
    assert np.array_equal(a.acc_m_s2, b.acc_m_s2)
