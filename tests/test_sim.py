"""The simulator: known answers (ICs, cadence, gravity, turns), invariances, rates, direction."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gait.errors import GaitError
from gait.labels import Labels
from gait.sim import PRESETS, Segment, parse_programme, programme_spec, simulate
from gait.types import G0_M_S2

QUIET = dict(noise="none", misalignment_deg=0.0)


def _ics_in(lab: Labels, kind: str, direction: str, margin_s: float = 3.0) -> np.ndarray:
    seg = next(s for s in lab.segments if s.activity == kind and s.direction == direction)
    ics = np.array(lab.initial_contacts_s)
    return ics[(ics > seg.start_s + margin_s) & (ics < seg.end_s - margin_s)]


def _step_mean(x: np.ndarray, fs_hz: float, ics: np.ndarray, nb: int = 50) -> np.ndarray:
    t = np.arange(len(x)) / fs_hz
    rows = [np.interp(a + np.arange(nb) / nb * (b - a), t, x) for a, b in zip(ics[:-1], ics[1:])]
    return np.mean(rows, axis=0)


@pytest.mark.parametrize("gait,cadence", [("walk", 50), ("walk", 110), ("run", 175), ("run", 230)])
def test_cadence_from_labeled_ics_and_from_the_signal(gait, cadence):
    sim = simulate(f"stand:3,{gait}:40:forward:{cadence},stand:3", fs_hz=100.0, seed=4, **QUIET)
    ics = _ics_in(sim.labels, gait, "forward")
    assert 60.0 / np.mean(np.diff(ics)) == pytest.approx(cadence, rel=0.015)
    # the signal's dominant vertical frequency is the step frequency
    seg = sim.labels.segments[1]
    i0, i1 = int((seg.start_s + 3) * 100), int((seg.end_s - 3) * 100)
    az = sim.recording.acc_m_s2[i0:i1, 2] - sim.recording.acc_m_s2[i0:i1, 2].mean()
    spec = np.abs(np.fft.rfft(az * np.hanning(len(az))))
    f = np.fft.rfftfreq(len(az), 0.01)
    band = (f > 0.5) & (f < 5)
    assert f[band][np.argmax(spec[band])] == pytest.approx(cadence / 60.0, rel=0.05)


@pytest.mark.parametrize("gait", ["walk", "run"])
def test_labeled_ics_sit_on_the_landing_transient(gait):
    sim = simulate(f"stand:2,{gait}:30:forward,stand:2", fs_hz=200.0, seed=5, **QUIET)
    az = sim.recording.acc_m_s2[:, 2]
    jerk = np.diff(az)
    ics = _ics_in(sim.labels, gait, "forward", 1.0)
    lags = []
    for t in ics:
        i = int(round(t * 200))
        w = jerk[i - 10:i + 10]  # +-50 ms
        lags.append((np.argmax(w) - 10) / 200.0)
    lags = np.array(lags)
    assert np.mean((lags >= -0.01) & (lags <= 0.02)) >= 0.95, lags


def test_ic_feet_alternate_and_labels_validate(tmp_path):
    sim = simulate("mixed-run", fs_hz=100.0, seed=1)
    lab = sim.labels
    lab.validate()
    assert len(lab.initial_contacts_s) > 400
    # feet alternate within each bout (a bout = ICs less than 1.5 s apart)
    ics = np.array(lab.initial_contacts_s)
    same_bout = np.diff(ics) < 1.5
    feet = np.array(lab.ic_feet)
    assert np.all(feet[1:][same_bout] != feet[:-1][same_bout])
    assert [s.direction for s in lab.segments] == [
        "still", "forward", "forward", "backward", "forward", "backward", "backward", "forward", "still"]
    assert lab.n_samples == sim.recording.n_samples == 27600
    assert lab.simulator["seed"] == 1 and lab.simulator["programme"] == PRESETS["mixed-run"]


def test_gravity_at_rest():
    quiet = simulate("stand:20", fs_hz=100.0, seed=0, **QUIET).recording.acc_m_s2
    assert np.linalg.norm(quiet, axis=1).mean() == pytest.approx(G0_M_S2, abs=0.005)
    assert quiet[:, 2].mean() == pytest.approx(G0_M_S2, abs=0.005)  # body mount: z up
    noisy = simulate("stand:20", fs_hz=100.0, seed=0).recording.acc_m_s2
    assert np.linalg.norm(noisy, axis=1).mean() == pytest.approx(G0_M_S2, abs=0.12)


def test_mount_puts_gravity_on_the_declared_axis():
    sim = simulate("stand:5", fs_hz=50.0, seed=0, mount="gaitsense-right-hip", **QUIET)
    assert sim.labels.sensor_frame == {"x": "up", "y": "backward", "z": "right"}
    np.testing.assert_allclose(sim.recording.acc_m_s2.mean(axis=0), [G0_M_S2, 0, 0], atol=0.15)
    assert sim.recording.info.mount == "x=up,y=backward,z=right"


@settings(max_examples=8, deadline=None)
@given(st.floats(-180, 180), st.floats(-90, 90), st.floats(-180, 180))
def test_rotation_leaves_magnitudes_and_steps_unchanged(rx, ry, rz):
    prog = "stand:2,walk:6:forward:110,run:6:backward:180,stand:2"
    b = simulate(prog, fs_hz=50.0, seed=7, rotation=f"x={rx},y={ry},z={rz}", noise="none")
    a = simulate(prog, fs_hz=50.0, seed=7, noise="none")
    for x, y in ((a.recording.acc_m_s2, b.recording.acc_m_s2),
                 (a.recording.gyro_rad_s, b.recording.gyro_rad_s)):
        np.testing.assert_allclose(np.linalg.norm(x, axis=1), np.linalg.norm(y, axis=1), atol=1e-9)
    assert a.labels.initial_contacts_s == b.labels.initial_contacts_s
    assert b.labels.sensor_frame == "unknown" and b.recording.info.mount is None


def test_random_rotation_is_recorded_and_applied():
    a = simulate("stand:3", fs_hz=50.0, seed=2, **QUIET)
    b = simulate("stand:3", fs_hz=50.0, seed=2, rotation="random", **QUIET)
    R = np.array(b.params["rotation"]["R"])
    np.testing.assert_allclose(b.recording.acc_m_s2, a.recording.acc_m_s2 @ R.T, atol=1e-4)


@pytest.mark.parametrize("fs", [25.0, 50.0, 200.0, 400.0])
def test_any_rate_gives_the_same_steps_and_signal(fs):
    prog = "stand:2,walk:20:forward:105,stand:2"
    ref = simulate(prog, fs_hz=100.0, seed=3, impacts=0.0, **QUIET)
    sim = simulate(prog, fs_hz=fs, seed=3, impacts=0.0, **QUIET)
    assert sim.recording.n_samples == round(24 * fs) and sim.labels.fs_hz == fs
    assert sim.labels.initial_contacts_s == ref.labels.initial_contacts_s
    # the same waveform: the 100 Hz signal sampled at the other rate's times
    t_ref = np.arange(ref.recording.n_samples) / 100.0
    t = np.arange(sim.recording.n_samples) / fs
    az_ref = np.interp(t, t_ref, ref.recording.acc_m_s2[:, 2])
    keep = (t > 1) & (t < 23)
    r = np.corrcoef(az_ref[keep], sim.recording.acc_m_s2[keep, 2])[0, 1]
    assert r > 0.97


def test_turn_integrates_to_the_requested_angle():
    sim = simulate("stand:2,walk:5,turn:3:left:180,walk:5,stand:2", fs_hz=100.0, seed=1, **QUIET)
    gz = sim.recording.gyro_rad_s[:, 2]  # body mount: z up
    assert gz.sum() / 100.0 == pytest.approx(math.pi, rel=0.05)
    assert [s.direction for s in sim.labels.segments] == ["still", "forward", "turning", "forward", "still"]
    gentle = simulate("walk:5,turn:10:right:90,walk:5", fs_hz=50.0, seed=1, **QUIET)
    assert [s.direction for s in gentle.labels.segments] == ["forward"] * 3  # 9 deg/s is not turning
    assert gentle.recording.gyro_rad_s[:, 2].sum() / 50.0 == pytest.approx(-math.pi / 2, rel=0.05)


def test_backward_is_not_forward_with_a_sign_flipped():
    kw = dict(fs_hz=100.0, seed=8, impacts=0.0, **QUIET)
    fw = simulate("stand:2,walk:40:forward:110:1.0,stand:2", **kw)
    bw = simulate("stand:2,walk:40:backward:110:1.0,stand:2", **kw)
    ax_f = _step_mean(fw.recording.acc_m_s2[:, 0], 100.0, _ics_in(fw.labels, "walk", "forward"))
    ax_b = _step_mean(bw.recording.acc_m_s2[:, 0], 100.0, _ics_in(bw.labels, "walk", "backward"))
    az_f = _step_mean(fw.recording.acc_m_s2[:, 2], 100.0, _ics_in(fw.labels, "walk", "forward"))
    az_b = _step_mean(bw.recording.acc_m_s2[:, 2], 100.0, _ics_in(bw.labels, "walk", "backward"))
    ax_f, ax_b = ax_f - ax_f.mean(), ax_b - ax_b.mean()
    # flipping the sign of x would leave az unchanged and make ax_b == -ax_f
    assert np.sqrt(np.mean((ax_b + ax_f) ** 2)) > 0.3 * np.sqrt(np.mean(ax_f ** 2))
    assert abs(np.argmax(az_b) - np.argmax(az_f)) >= 5  # >= 0.1 step apart
    # braking right after IC in both directions: -x forward, +x backward
    assert ax_f[:10].min() < -1.0 and ax_b[:15].max() > 1.0


def test_running_brake_and_push_timing_reverse_with_direction():
    kw = dict(fs_hz=200.0, seed=9, impacts=0.0, **QUIET)
    out = {}
    for d in ("forward", "backward"):
        sim = simulate(f"stand:2,run:30:{d}:175:3.0,stand:2", **kw)
        ics = _ics_in(sim.labels, "run", d)
        ax = _step_mean(sim.recording.acc_m_s2[:, 0], 200.0, ics, nb=100)
        az = _step_mean(sim.recording.acc_m_s2[:, 2], 200.0, ics, nb=100)
        stance = az > 2.0  # specific force well above zero: foot on the ground
        brake = (ax < 0) if d == "forward" else (ax > 0)
        out[d] = np.mean(brake[stance])
        # flight: little specific force
        assert np.min(az) < 1.5
    assert out["forward"] < 0.5 < out["backward"]  # forward: brake short; backward: brake long


def test_backward_landing_is_softer():
    peaks = {}
    for d in ("forward", "backward"):
        sim = simulate(f"stand:2,run:20:{d}:175,stand:2", fs_hz=200.0, seed=2, **QUIET)
        jerk = np.abs(np.diff(sim.recording.acc_m_s2[:, 2])) * 200.0
        ics = _ics_in(sim.labels, "run", d, 1.0)
        peaks[d] = np.median([jerk[int(t * 200) - 4:int(t * 200) + 10].max() for t in ics])
    assert peaks["backward"] < 0.5 * peaks["forward"]


def test_reversal_with_or_without_a_stop():
    prog = "stand:2,walk:20:forward:110,walk:20:backward:110,stand:2"
    gaps = {}
    for p in (0.0, 1.0):
        ics = np.array(simulate(prog, fs_hz=50.0, seed=1, stop_at_reversal=p).labels.initial_contacts_s)
        around = ics[(ics > 19) & (ics < 25)]
        gaps[p] = np.diff(around).max()
    assert gaps[0.0] < 0.7 < 1.0 < gaps[1.0]  # on the move: no gap; full stop: a pause


def test_backward_cadence_default_is_higher_at_equal_speed():
    f = Segment("walk", 10, "forward", speed_m_s=1.0).resolved()[0]
    b = Segment("walk", 10, "backward", speed_m_s=1.0).resolved()[0]
    assert b / f == pytest.approx(1.11, rel=1e-6)


def test_deterministic_per_seed():
    a = simulate("stand:2,walk:5,stand:2", fs_hz=100.0, seed=11)
    b = simulate("stand:2,walk:5,stand:2", fs_hz=100.0, seed=11)
    c = simulate("stand:2,walk:5,stand:2", fs_hz=100.0, seed=12)
    assert np.array_equal(a.recording.acc_m_s2, b.recording.acc_m_s2)
    assert np.array_equal(a.recording.gyro_rad_s, b.recording.gyro_rad_s)
    assert not np.array_equal(a.recording.acc_m_s2, c.recording.acc_m_s2)
    assert a.labels.to_dict() == b.labels.to_dict()


def test_no_gyro_and_unit_g():
    sim = simulate("stand:3", fs_hz=50.0, seed=0, gyro=False, acc_unit="g")
    assert sim.recording.gyro_rad_s is None and sim.labels.units == {"acc": "g"}
    # the recording itself stays in m/s^2; g is how it is written
    assert np.linalg.norm(sim.recording.acc_m_s2, axis=1).mean() == pytest.approx(G0_M_S2, abs=0.15)


def test_standing_with_gestures_moves_more_than_quiet_standing():
    quiet = simulate("stand:40", fs_hz=50.0, seed=3, **QUIET).recording.acc_m_s2
    ges = simulate("stand:40:gestures", fs_hz=50.0, seed=3, **QUIET)
    assert ges.params["gestures"]
    assert ges.recording.acc_m_s2.std(axis=0).max() > 3 * quiet.std(axis=0).max()
    assert ges.labels.initial_contacts_s == []
    # small repositioning steps are listed as ambiguous and left out of the scored time
    lab = simulate("stand:120:gestures", fs_hz=50.0, seed=5).labels
    assert lab.ambiguous_ics_s
    for tc in lab.ambiguous_ics_s:
        assert not any(a < tc + 0.29 and b > tc - 0.29 for a, b in lab.scored_intervals)
    lab.validate()


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_programme_spec_round_trips(name):
    segs = parse_programme(PRESETS[name])
    assert parse_programme(programme_spec(segs)) == segs


@pytest.mark.parametrize("text,message", [
    ("", "empty"),
    ("walk", "give a duration"),
    ("walk:-3", "positive number"),
    ("walk:10:sideways", "forward or backward"),
    ("walk:10:forward:fast", "cadence must be a number"),
    ("run:10:forward:400", "cadence must be"),
    ("walk:10,,stand:3", "empty"),
    ("stand:5:dancing", "gestures"),
    ("hop:5", "unknown kind"),
    ("turn:3:up", "left or right"),
])
def test_bad_programmes(text, message):
    with pytest.raises(GaitError, match=message):
        parse_programme(text)


@pytest.mark.parametrize("kw,message", [
    (dict(fs_hz=10.0), "25-400 Hz"), (dict(side="middle"), "side"), (dict(noise="loud"), "noise"),
    (dict(rotation="q=3"), "axis must be"), (dict(mount="nowhere"), "unknown mount"),
    (dict(acc_unit="furlong"), "acc unit"), (dict(seed=-1), "seed"),
])
def test_bad_parameters(kw, message):
    with pytest.raises(GaitError, match=message):
        simulate("stand:3", **{"fs_hz": 100.0, **kw})


def test_too_long_a_programme_is_refused_before_any_work():
    with pytest.raises(GaitError, match="at most 6 h per call"):
        simulate("walk:40000", fs_hz=100.0)


_seg = st.one_of(
    st.builds(lambda d, g: Segment("stand", d, gestures=g), st.floats(0.5, 8), st.booleans()),
    st.builds(lambda k, d, b, c: Segment(k, d, "backward" if b else "forward", cadence_spm=c),
              st.sampled_from(["walk", "run"]), st.floats(0.3, 12), st.booleans(), st.floats(50, 230)),
    st.builds(lambda d, l, deg: Segment("turn", d, "left" if l else "right", turn_deg=deg),
              st.floats(1, 4), st.booleans(), st.floats(10, 360)),
)


@settings(max_examples=10, deadline=None)
@given(st.lists(_seg, min_size=1, max_size=5), st.sampled_from([25.0, 60.0, 100.0, 333.0]),
       st.integers(0, 2**32))
def test_any_programme_gives_valid_labels_and_finite_signals(segs, fs, seed):
    total = sum(s.duration_s for s in segs)
    if total * fs < 2:
        return
    sim = simulate(segs, fs_hz=fs, seed=seed)
    lab, rec = sim.labels, sim.recording
    # the step clock is in time order (phases and envelopes rely on it)
    from gait.sim.core import _schedule

    bounds = np.concatenate([[0.0], np.cumsum([s.duration_s for s in segs])])
    sch = _schedule(segs, bounds, np.random.default_rng(seed), 0.02, 0.03,
                    np.random.default_rng(seed + 1), 0.5)
    assert np.all(np.diff(sch.t) > 0) and np.all(np.diff(sch.t + sch.T / 2) > 0)
    lab.validate()
    assert rec.n_samples == lab.n_samples == round(total * fs)
    assert np.isfinite(rec.acc_m_s2).all() and np.isfinite(rec.gyro_rad_s).all()
    assert len(lab.segments) == len(segs)
    ics = np.array(lab.initial_contacts_s)
    for s, ls in zip(segs, lab.segments):
        inside = ics[(ics >= ls.start_s) & (ics < ls.end_s)]
        if s.kind == "stand":
            assert len(inside) == 0
        elif len(inside) > 3:
            # the step clock moves 40 % of the way to a new cadence per step, so only check range
            cad = 60.0 / np.diff(inside)
            assert (cad > 35).all() and (cad < 270).all()
    # plausible magnitudes: never more than 8 g of specific force, gyro below 15 rad/s
    assert np.linalg.norm(rec.acc_m_s2, axis=1).max() < 8 * G0_M_S2
    assert np.abs(rec.gyro_rad_s).max() < 15


@pytest.mark.parametrize("direction", ["forward", "backward"])
def test_extreme_walking_cadence_stays_physical(direction):
    # 230 steps/min walking once gave 8.6 g (hypothesis found it); the pelvis bob is capped
    sim = simulate([Segment("walk", 6, direction, cadence_spm=230)], fs_hz=100.0, seed=1)
    peak = np.linalg.norm(sim.recording.acc_m_s2, axis=1).max()
    assert 2 * G0_M_S2 < peak < 6 * G0_M_S2
