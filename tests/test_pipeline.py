"""The streaming core: chunk invariance, gaps, degenerate input, rates, orientation."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gait.errors import GaitError, SignalError
from gait.frames import random_rotation
from gait.pipeline import LiveStatus, StreamAnalyzer, analyze
from gait.signal.params import AnalysisParams
from gait.signal.stages import UnknownDirection
from gait.types import Bout, GaitResult, Recording, SampleBlock, Step

G = 9.80665


def walk_signal(duration_s: float, *, fs_hz: float, cadence_spm: float, seed: int = 0,
                stand_s: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Specific force of a simple periodic walk (vertical hump + AP + ML sway), and the IC times.

    Each step: a sharp rise of vertical acceleration at the IC (loading) and a hump after it.
    """
    rng = np.random.default_rng(seed)
    n = int(round(duration_s * fs_hz))
    t = np.arange(n) / fs_hz
    T = 60.0 / cadence_spm
    ics = np.arange(stand_s + 0.3, duration_s - stand_s - 0.3, T)
    v = np.zeros(n)
    ap = np.zeros(n)
    for k, ic in enumerate(ics):
        u = (t - ic) / T
        m = (u > -0.5) & (u < 1.0)
        # asymmetric hump: fast rise at the IC, slow decay
        hump = np.where(u[m] >= 0, np.exp(-u[m] / 0.18) * (1 - np.exp(-u[m] / 0.03)), 0.0)
        v[m] += 9.0 * hump
        ap[m] += -3.0 * np.sin(2 * np.pi * u[m]) * np.exp(-((u[m] - 0.2) ** 2) / 0.1)
    v -= v.mean() if n else 0.0
    ml = 1.0 * np.sin(np.pi * (t - ics[0]) / T) if ics.size else np.zeros(n)
    acc = np.stack([ap, ml, G + v], axis=1) + rng.normal(0, 0.05, (n, 3))
    return acc, ics


def rec_from(acc: np.ndarray, fs_hz: float) -> Recording:
    return Recording.from_arrays(acc, fs_hz=fs_hz)


def stream(rec: Recording, sizes: list[int], *, default_stage: bool = False,
           **kw) -> tuple[list[Step], list[Bout]]:
    """Push ``rec`` in blocks of ``sizes`` (cycled); the do-nothing direction stage unless
    ``default_stage``."""
    if not default_stage:
        kw["direction_stage"] = UnknownDirection()
    sa = StreamAnalyzer(rec.fs_hz, **kw)
    events = []
    i = 0
    k = 0
    while i < rec.n_samples:
        m = sizes[k % len(sizes)]
        events += sa.push(rec.block(i, i + m))
        i += m
        k += 1
    events += sa.finish()
    steps = [e for e in events if isinstance(e, Step)]
    bouts = [e for e in events if isinstance(e, Bout)]
    return steps, bouts


# ------------------------------------------------------------------ chunk invariance
_ACC, _ICS = walk_signal(14.0, fs_hz=50.0, cadence_spm=110.0, stand_s=2.0)
_ACC[300:340] = np.nan  # a gap in the middle of the walk
_VALID = np.isfinite(_ACC).all(axis=1)
_REC = Recording(t_s=np.arange(len(_ACC)) / 50.0, acc_m_s2=_ACC, gyro_rad_s=None, fs_hz=50.0,
                 valid=_VALID)
_REF_STEPS, _REF_BOUTS = stream(_REC, [len(_ACC)])


def _key(steps, bouts):
    return ([(s.t_s, s.index, s.bout, s.direction, None if math.isnan(s.cadence_spm) else s.cadence_spm)
             for s in steps],
            [(b.id, b.start_s, b.end_s, b.n_steps, b.activity) for b in bouts])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.integers(min_value=1, max_value=400), min_size=1, max_size=30))
def test_steps_identical_for_any_chunking(sizes):
    steps, bouts = stream(_REC, sizes)
    assert _key(steps, bouts) == _key(_REF_STEPS, _REF_BOUTS)


def test_one_sample_chunks_identical():
    steps, bouts = stream(_REC, [1])
    assert len(_REF_STEPS) > 10
    assert _key(steps, bouts) == _key(_REF_STEPS, _REF_BOUTS)


def test_default_stage_chunk_invariant_too():
    """The default direction stage (whatever is installed) must not depend on chunking."""
    def run(sizes):
        steps, _ = stream(_REC, sizes, default_stage=True)
        return [(s.t_s, s.direction, s.bout) for s in steps]

    assert run([7]) == run([len(_ACC)]) == run([1, 50, 333])


def test_no_step_inside_or_across_gap():
    gap0, gap1 = 300 / 50.0, 340 / 50.0
    t = np.array([s.t_s for s in _REF_STEPS])
    assert not np.any((t >= gap0) & (t < gap1))
    # bouts never span the gap
    for b in _REF_BOUTS:
        assert b.end_s < gap0 or b.start_s >= gap1


# ------------------------------------------------------------------ known answers
@pytest.mark.parametrize("fs_hz", [25.0, 100.0, 400.0])
@pytest.mark.parametrize("cadence", [60.0, 110.0, 170.0, 220.0])
def test_counts_cadence_and_timing_on_analytic_walk(fs_hz, cadence):
    acc, ics = walk_signal(30.0, fs_hz=fs_hz, cadence_spm=cadence, stand_s=3.0)
    res = analyze(rec_from(acc, fs_hz), direction_stage=UnknownDirection())
    t = res.step_times_s
    assert abs(len(t) - len(ics)) <= 1
    # every reference step found within 60 ms
    d = np.abs(t[:, None] - ics[None, :]).min(axis=0)
    assert np.mean(d <= 0.06) >= 0.97
    assert len(res.bouts) == 1
    assert res.bouts[0].cadence_spm == pytest.approx(cadence, abs=1.0)
    # per-step cadence: +-1 sample of jitter at 25 Hz moves single values by a few spm
    assert res.summary["cadence_spm"]["median"] == pytest.approx(cadence, abs=max(3.0, 0.02 * cadence))


def test_rotation_does_not_change_steps():
    acc, _ = walk_signal(20.0, fs_hz=100.0, cadence_spm=105.0)
    R = random_rotation(np.random.default_rng(3))
    a = analyze(rec_from(acc, 100.0), direction_stage=UnknownDirection()).step_times_s
    b = analyze(rec_from(acc @ R.T, 100.0), direction_stage=UnknownDirection()).step_times_s
    assert len(a) == len(b)
    np.testing.assert_allclose(a, b, atol=1e-6)


def test_standing_gives_no_steps():
    rng = np.random.default_rng(0)
    n = 3000
    acc = np.tile([0.3, -0.2, G], (n, 1)) + rng.normal(0, 0.05, (n, 3))
    res = analyze(rec_from(acc, 100.0))
    assert res.steps == [] and res.bouts == []
    assert res.summary["n_steps"] == 0


# ------------------------------------------------------------------ degenerate input
def test_empty_constant_and_nan_give_empty_typed_results():
    for acc in (np.zeros((0, 3)), np.zeros((500, 3)), np.full((500, 3), np.nan)):
        rec = Recording(t_s=np.arange(len(acc)) / 100.0, acc_m_s2=acc, gyro_rad_s=None, fs_hz=100.0,
                        valid=np.isfinite(acc).all(axis=1) if len(acc) else np.zeros(0, bool))
        res = analyze(rec)
        assert isinstance(res, GaitResult)
        assert res.steps == [] and res.bouts == []
        d = res.to_dict()
        assert d["schema"] == "gait-result/1" and d["steps"] == []


def test_bad_rate_and_misuse_raise_clear_errors():
    with pytest.raises(SignalError):
        StreamAnalyzer(5.0)
    with pytest.raises(SignalError):
        StreamAnalyzer(float("nan"))
    sa = StreamAnalyzer(100.0)
    with pytest.raises(GaitError):
        sa.result()
    sa.finish()
    with pytest.raises(GaitError):
        sa.push(SampleBlock(t_s=np.zeros(1), acc_m_s2=np.zeros((1, 3)), gyro_rad_s=None,
                            valid=np.ones(1, bool)))
    with pytest.raises(GaitError):
        analyze("not a recording")  # type: ignore[arg-type]


@pytest.mark.parametrize("cadence, fs_hz, block", [(105.0, 50.0, 1), (170.0, 100.0, 7), (60.0, 25.0, 3)])
def test_latency_bounded_and_status(cadence, fs_hz, block):
    """Push a walk block by block: the newest sample minus each emitted step's t_s stays within
    ``latency_bound_s`` (+ one block) for every step after the first three of the walk; those
    wait for the bout to be confirmed (three more step intervals at most)."""
    acc, ics = walk_signal(20.0, fs_hz=fs_hz, cadence_spm=cadence)
    rec = rec_from(acc, fs_hz)
    sa = StreamAnalyzer(fs_hz, direction_stage=UnknownDirection())
    bound = sa.latency_bound_s
    assert bound <= 1.75  # hop 1 s + look-ahead 0.5 s + own margin 0.15 s + one block + lag
    lat = []
    for i in range(0, rec.n_samples, block):
        newest = (min(i + block, rec.n_samples) - 1) / fs_hz
        lat += [(e.t_s, newest - e.t_s) for e in sa.push(rec.block(i, i + block)) if isinstance(e, Step)]
    st_ = sa.status()
    assert isinstance(st_, LiveStatus)
    assert st_.in_bout and st_.cadence_spm == pytest.approx(cadence, abs=3.0)
    sa.finish()
    assert len(lat) >= len(ics) - 2
    d = np.array([x for _, x in lat])
    assert (d[3:] <= bound + block / fs_hz).all(), d[3:].max()
    assert (d[:3] <= bound + block / fs_hz + 3 * 60.0 / cadence).all()
    assert sa.result().info["latency_s"]["max_step"] == pytest.approx(bound, abs=1e-3)


def test_params_round_trip_through_json():
    import json

    p = AnalysisParams(min_peak_m_s2=0.7, bout_min_steps=5)
    q = AnalysisParams.from_dict(json.loads(json.dumps(p.to_dict())))
    assert q == p
    with pytest.raises(GaitError):
        AnalysisParams.from_dict({"nope": 1})
    res = analyze(rec_from(walk_signal(10.0, fs_hz=100.0, cadence_spm=100.0)[0], 100.0), params=p)
    assert AnalysisParams.from_dict(res.info["parameters"]) == p
    assert res.info["preprocessing"]["fs_hz"] == 100.0
    assert "direction_mode" in res.info


def test_result_json_round_trip():
    acc, _ = walk_signal(15.0, fs_hz=100.0, cadence_spm=100.0)
    res = analyze(rec_from(acc, 100.0))
    d = res.to_dict()
    back = GaitResult.from_dict(d)
    assert [s.t_s for s in back.steps] == [round(s.t_s, 4) for s in res.steps]
    assert set(d["steps"][0]) >= {"t_s", "direction", "cadence_spm", "bout"}
    assert set(d["bouts"][0]) >= {"start_s", "end_s", "activity", "direction", "n_steps", "cadence_spm"}
    assert set(d["info"]) >= {"version", "parameters", "preprocessing"}


# ------------------------------------------------------------------ labeled dev data (regression)
def _dev(shared_data, name: str):
    """A labelled dev recording (``name`` relative to dev/, without .csv) and its labels;
    skips when the file is missing."""
    import json

    from gait.io import read_recording

    p = shared_data / "dev" / f"{name}.csv"
    if not p.exists():
        pytest.skip(f"{p} missing")
    return read_recording(p), json.loads(p.with_name(p.stem + ".labels.json").read_text())


@pytest.mark.shared_data
def test_dev_walks_and_runs_regression(shared_data):
    """A few labeled dev recordings: F1 at +-0.25 s and timing stay where the benchmark put them."""
    from gait import evaluation as ev

    names = ["sessions/session_01", "mocap_bn2/bn2_walk_normal_001", "mocap_bn2/bn2_run_normal_021",
             "mocap_bn1/bn1_walk-back_active_001"]
    total = ev.ICScore(tol_s=0.25)
    for name in names:
        rec, labels = _dev(shared_data, name)
        res = analyze(rec, direction_stage=UnknownDirection())
        total = total + ev.score_recording(labels, res.step_times_s).ic[0.25]
    assert total.f1 >= 0.95
    assert total.mean_abs_err_ms <= 50


def test_walk_then_run_gives_two_bouts_with_activities():
    sim = pytest.importorskip("gait.sim")
    s = sim.simulate("stand:3,walk:20:forward:110,run:20:forward:170,stand:3", fs_hz=50.0, seed=2)
    res = analyze(s.recording, direction_stage=UnknownDirection())
    acts = [b.activity for b in res.bouts]
    assert acts == ["walk", "run"]
    walk, run = res.bouts
    ref = np.asarray(s.labels.initial_contacts_s)
    for b in (walk, run):  # the labelled cadence over the bout's span (the gaits blend)
        r = ref[(ref >= b.start_s - 0.1) & (ref <= b.end_s + 0.1)]
        # walk: 3 spm, as one contact in the blend (22.1 s, simulator of 2026-11-24) is missed
        assert b.cadence_spm == pytest.approx(60.0 * (r.size - 1) / (r[-1] - r[0]), abs=3.0)
        assert abs(b.n_steps - r.size) <= 1
    assert run.cadence_spm == pytest.approx(170.0, abs=4.0)
    # the simulator blends the two gaits over about a second
    assert abs(walk.end_s - 23.0) < 1.5 and abs(run.start_s - 23.0) < 1.5
    assert res.summary["by_activity"]["run"]["bouts"] == 1


def test_backward_running_steps_evenly_placed_per_foot():
    """Simulated backward running (soft forefoot landings; the hip sensor sees pelvic roll):
    the timing error of left and right contacts is the same, so per-step cadence is not
    bimodal (it alternated 160/215 steps/min when every other IC was 35 ms off)."""
    sim = pytest.importorskip("gait.sim")
    s = sim.simulate("stand:2,run:15:backward:182,stand:2", fs_hz=100.0, seed=1,
                     mount="gaitsense-right-hip")
    res = analyze(s.recording, direction_stage=UnknownDirection())
    ref = np.asarray(s.labels.initial_contacts_s)
    feet = np.asarray(s.labels.ic_feet)
    t = np.asarray(res.step_times_s)
    err = t[np.abs(t[None, :] - ref[:, None]).argmin(axis=1)] - ref
    m = (ref > 4) & (ref < 15)
    left_right_ms = 1000 * (np.median(err[m & (feet == "L")]) - np.median(err[m & (feet == "R")]))
    assert abs(left_right_ms) < 12
    r = ref[m]
    c_ref = 60.0 / np.diff(r)
    c = 60.0 / np.diff(t[(t > r[0] - 0.1) & (t < r[-1] + 0.1)])
    assert np.ptp(np.percentile(c, [10, 90])) < np.ptp(np.percentile(c_ref, [10, 90])) + 8


def _bouts_of(interval_lists, dirs):
    """Steps and bouts as the analyzer makes them, from per-bout step intervals (s)."""
    from gait.signal.cadence import bout_cadence_spm

    steps, bouts, t = [], [], 1.0
    for b, (ivs, dd) in enumerate(zip(interval_lists, dirs)):
        ts = [t]
        for dt in ivs:
            ts.append(ts[-1] + dt)
        for i, ti in enumerate(ts):
            cad = 60.0 / (ti - ts[i - 1]) if i else float("nan")
            steps.append(Step(ti, int(ti * 100), direction=dd[i % len(dd)], cadence_spm=cad, bout=b))
        bouts.append(Bout(id=b, start_s=ts[0], end_s=ts[-1], activity="walk", direction="forward",
                          n_steps=len(ts), cadence_spm=bout_cadence_spm(np.array(ts))))
        t = ts[-1] + 5.0
    return steps, bouts


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.floats(0.26, 1.2), min_size=3, max_size=40), min_size=1, max_size=4),
       st.lists(st.sampled_from(["forward", "backward", "unknown"]), min_size=1, max_size=5))
def test_summary_cadences_are_consistent(interval_lists, dirs):
    from gait.signal.summary import summarize

    steps, bouts = _bouts_of(interval_lists, [dirs] * len(interval_lists))
    sm = summarize(steps, bouts, duration_s=1000.0)
    c = sm["cadence_spm"]
    n_iv = sum(len(x) for x in interval_lists)
    total = sum(sum(x) for x in interval_lists)
    assert c["mean"] == pytest.approx(60.0 * n_iv / total, abs=0.01)
    assert c["peak_10_steps"] >= c["mean"] - 0.01
    assert c["peak_10_steps"] >= max(b.cadence_spm for b in bouts) - 0.01
    # the overall mean is the time-weighted mean of the per-direction (and per-activity) ones
    parts = [v for v in sm["by_direction"].values() if v["time_s"] > 0]
    assert sum(v["time_s"] for v in parts) == pytest.approx(total, abs=0.01)
    tw = sum(v["time_s"] * v["cadence_spm"] for v in parts) / sum(v["time_s"] for v in parts)
    # the parts' times are rounded to 1 ms and every cadence to 0.01: bound what that moves
    rounding = 0.0005 * sum(abs(v["cadence_spm"] - c["mean"]) for v in parts) / total + 0.011
    assert tw == pytest.approx(c["mean"], abs=rounding)
    assert sm["by_activity"]["walk"]["cadence_spm"] == pytest.approx(c["mean"], abs=0.01)


def test_peak_not_below_mean_when_a_bout_is_fast_at_its_ends():
    """11 intervals, short at both ends: every 10-interval window holds one short interval
    while the whole bout holds two; the peak (stretches of >= 10 intervals) is the bout."""
    from gait.signal.summary import summarize

    steps, bouts = _bouts_of([[0.3] + [0.6] * 9 + [0.3]], [["forward"]])
    c = summarize(steps, bouts)["cadence_spm"]
    assert c["mean"] == pytest.approx(60.0 * 11 / 6.0, abs=0.01)
    assert c["peak_10_steps"] == pytest.approx(c["mean"], abs=0.01)
    assert c["median"] == pytest.approx(100.0)


def _assemble(times_s, amps_m_s2, vmin_m_s2=0.0, **params):
    from gait.signal.bouts import BoutAssembler, StepFeatures

    ba = BoutAssembler(AnalysisParams(**params))
    out = []
    for i, (t, a) in enumerate(zip(times_s, amps_m_s2)):
        out += ba.push(Step(t, i), StepFeatures(0.5, a, vmin_m_s2))
    out += ba.close()
    return [e for e in out if isinstance(e, Step)], [e for e in out if isinstance(e, Bout)]


def test_uneven_weak_runs_are_not_gait_but_even_or_flight_runs_are():
    """The pace check of bouts: hops / shuffles while standing (intervals 0.87, 0.36, 0.33,
    0.67 s and humps 0.3-2.3 m/s^2, as in dev bn1_byebye_active_001) give no steps; the same
    timing with even humps, even timing with uneven humps, or a flight phase do; with the check
    off every run of 4 steps is kept."""
    hop_t = [0.27, 1.14, 1.50, 1.83, 2.50]
    hop_a = [0.34, 1.11, 0.93, 0.39, 2.25]
    steps, bouts = _assemble(hop_t, hop_a)
    assert steps == [] and bouts == []
    steps, bouts = _assemble(hop_t, hop_a, bout_max_interval_ratio=0.0)
    assert len(steps) == 5 and len(bouts) == 1
    even_t = [0.0, 0.55, 1.1, 1.62, 2.2]
    steps, bouts = _assemble(even_t, [1.0, 1.2, 0.9, 1.1, 1.0])
    assert len(steps) == 5 and [b.n_steps for b in bouts] == [5]
    steps, bouts = _assemble(even_t, [0.3, 1.6, 0.35, 1.5, 0.3])  # humps 5x apart
    assert steps == []
    steps, bouts = _assemble(hop_t, hop_a, vmin_m_s2=-0.7 * G)  # flight before every step
    assert len(steps) == 5 and len(bouts) == 1
    # A run shorter than a bout is judged by min_run_steps alone, as before.
    steps, _ = _assemble(hop_t[:3], hop_a[:3], min_run_steps=2)
    assert len(steps) == 3


def test_dev_standing_hops_give_no_steps(shared_data):
    """dev bn1_byebye_active_001 (stand / shuffle / hop between waves, no reference ICs) gave 4
    false steps before the pace check; a walk of the same actor keeps every step."""
    from gait.io import read_recording

    p = shared_data / "dev" / "mocap_bn1" / "bn1_byebye_active_001.csv"
    w = shared_data / "dev" / "mocap_bn1" / "bn1_walk_active_001.csv"
    if not (p.exists() and w.exists()):
        pytest.skip("dev recordings missing")
    assert analyze(read_recording(p), direction_stage=UnknownDirection()).steps == []
    on = analyze(read_recording(w), direction_stage=UnknownDirection())
    off = analyze(read_recording(w), direction_stage=UnknownDirection(),
                  params={"bout_max_interval_ratio": 0.0})
    assert len(on.steps) >= 6 and np.array_equal(on.step_times_s, off.step_times_s)


@pytest.mark.shared_data
def test_dev_backward_walks_timed_by_the_forward_minimum(shared_data):
    """Backward walking on the dev data (the acted "proud" take puts the jerk maximum up to
    0.3 s late): with a known mount the backward contacts come from the forward acceleration's
    minimum: 13 of 16 within 0.1 s of the reference (5 with the constant lag alone)."""
    from gait import evaluation as ev

    rec, labels = _dev(shared_data, "mocap_bn1/bn1_walk-back_proud_001")
    scores = {}
    for refine in (1, 0):
        res = analyze(rec, mount="x=forward,y=left,z=up", params={"back_ic_refine": refine})
        assert {s.direction for s in res.steps} == {"backward"}
        scores[refine] = ev.score_recording(labels, res.step_times_s).ic
    assert scores[1][0.25].f1 >= 0.9
    assert scores[1][0.1].f1 >= 0.75 > 0.5 > scores[0][0.1].f1
    assert scores[1][0.25].mean_abs_err_ms <= 40 < 60 < scores[0][0.25].mean_abs_err_ms


@pytest.mark.shared_data
@pytest.mark.parametrize("mount", [None, "x=forward,y=left,z=up"])
def test_backward_contacts_do_not_depend_on_chunking(shared_data, mount):
    """The backward-contact timing uses each step's forward axis as known when the step was
    evaluated, so live-sized chunks give the same steps as whole-file ones."""
    from gait.io import read_recording

    p = shared_data / "dev" / "sessions" / "session_03.csv"
    if not p.exists():
        pytest.skip(f"{p} missing")
    rec = read_recording(p)
    runs = [analyze(rec, mount=mount, chunk_s=c) for c in (300.0, 0.37, 1.3)]
    # (the stage's confidences may differ in the last bits between batchings)
    keys = [[(s.t_s, s.direction, round(s.direction_confidence, 9)) for s in r.steps] for r in runs]
    assert keys[0] == keys[1] == keys[2]
    back = [s for s in runs[0].steps if s.direction == "backward"]
    assert len(back) >= 8
    moved = analyze(rec, mount=mount, params={"back_ic_refine": 0})
    assert [s.t_s for s in moved.steps] != [s.t_s for s in runs[0].steps]  # the marker was used


@pytest.mark.shared_data
def test_contact_between_two_frames_is_not_lost(shared_data):
    """dev bn2_walk-turn-right_feminine_016: frame 3 s places the contact of 4.07 s at 4.04 s
    (after its own region), frame 4 s at 3.92 s (before its own region); with margins on
    both sides and the later frame settling the report, the step is kept exactly once."""
    from gait.io import read_recording

    p = shared_data / "dev" / "mocap_bn2" / "bn2_walk-turn-right_feminine_016.csv"
    if not p.exists():
        pytest.skip(f"{p} missing")
    rec = read_recording(p)
    for chunk_s in (300.0, 0.5):
        t = analyze(rec, direction_stage=UnknownDirection(), chunk_s=chunk_s).step_times_s
        near = t[(t > 3.7) & (t < 4.4)]
        assert near.size == 1 and abs(near[0] - 4.07) < 0.2


def test_a_short_pause_between_walks_gets_no_inferred_steps():
    """Two walks at 110 steps/min with a 1.5 s pause between the last contact of one and the
    first of the other (2.75 step periods, standing still): the humps on either side are in
    the gap-filling range, but the pause holds no contact (no jerk peak), so no step is
    inferred there; every real step is kept."""
    fs = 50.0
    T = 60.0 / 110.0
    ics = np.concatenate([np.arange(0.3, 8.0, T), np.arange(0.3, 8.0, T)[-1] + 1.5 + np.arange(0, 7.7, T)])
    n = int((ics[-1] + 1.0) * fs)
    t = np.arange(n) / fs
    v = np.zeros(n)
    ap = np.zeros(n)
    for ic in ics:  # the hump and AP swing of walk_signal, per contact
        u = (t - ic) / T
        m = (u > -0.5) & (u < 1.0)
        v[m] += 9.0 * np.where(u[m] >= 0, np.exp(-u[m] / 0.18) * (1 - np.exp(-u[m] / 0.03)), 0.0)
        ap[m] += -3.0 * np.sin(2 * np.pi * u[m]) * np.exp(-((u[m] - 0.2) ** 2) / 0.1)
    acc = np.stack([ap, np.zeros(n), G + v - 1.5], axis=1)
    acc += np.random.default_rng(3).normal(0, 0.05, acc.shape)
    gap = (ics[np.argmax(np.diff(ics))], ics[np.argmax(np.diff(ics)) + 1])
    assert 2.5 < (gap[1] - gap[0]) / T < 3.0
    res = analyze(rec_from(acc, fs), direction_stage=UnknownDirection())
    got = res.step_times_s
    assert got[(got > gap[0] + 0.15) & (got < gap[1] - 0.15)].size == 0
    inner = ics[(ics > 1.0) & (ics < ics[-1] - 1.0)]
    assert all(np.min(np.abs(got - r)) < 0.06 for r in inner)
    # what the gate prevents: without it, steps are inferred in the pause
    loose = analyze(rec_from(acc, fs), direction_stage=UnknownDirection(),
                    params={"gapfill_min_jerk_frac": 0.0}).step_times_s
    assert loose[(loose > gap[0] + 0.15) & (loose < gap[1] - 0.15)].size >= 1


def test_inferred_steps_do_not_confirm_a_bout():
    """The hops of the standing take with a step inferred in their longest gap: the inferred
    step evens the intervals, but a run becomes a bout only on steps with humps."""
    from gait.signal.bouts import BoutAssembler, StepFeatures

    times = [4.45, 4.83, 5.24, 5.82, 6.40, 6.76]
    amps = [3.0, 2.9, 2.7, 2.7, 2.8, 2.9]
    for virtual_at, expect in ((3, 0), (None, 6)):
        ba = BoutAssembler(AnalysisParams())
        out = []
        for i, (t, a) in enumerate(zip(times, amps)):
            out += ba.push(Step(t, i), StepFeatures(0.4, a, 0.0, 0.5, i == virtual_at))
        out += ba.close()
        assert len([e for e in out if isinstance(e, Step)]) == expect


@pytest.mark.shared_data
def test_dev_proud_backward_walk_steps_found(shared_data):
    """session_06's acted "proud" backward piece (19.9-25.6 s): the vertical marks two steps
    too weakly and the window that sees the humps on both sides comes after them; the
    inferred steps are reported late, in order, and every contact is found."""
    from gait.evaluation import match_ics

    rec, labels = _dev(shared_data, "sessions/session_06")
    ref = np.asarray(labels["initial_contacts_s"])
    ref = ref[(ref > 19.9) & (ref < 25.6)]
    t = analyze(rec).step_times_s
    assert np.all(np.diff(t) > 0)
    assert len(match_ics(ref, t, tol_s=0.25)) == ref.size
    off = analyze(rec, params={"gapfill_back_s": 0.0}).step_times_s
    assert len(match_ics(ref, off, tol_s=0.25)) < ref.size


@pytest.mark.shared_data
def test_two_frames_reports_of_one_running_step_count_once(shared_data):
    """dev bn2_run_masculine_035 (142 steps/min): two frames reported the contact of 0.77 s
    at 0.81 and 0.94 s (0.31 step periods apart); reports closer than 0.4 periods are one
    step."""
    from gait.io import read_recording

    p = shared_data / "dev" / "mocap_bn2" / "bn2_run_masculine_035.csv"
    if not p.exists():
        pytest.skip(f"{p} missing")
    t = analyze(read_recording(p), direction_stage=UnknownDirection()).step_times_s
    assert t[(t > 0.6) & (t < 1.05)].size == 1
    assert np.diff(t).min() > 0.4 * 60.0 / 142.0


@pytest.mark.shared_data
@pytest.mark.parametrize("stage", ["none", "default"])
def test_inferred_and_settled_steps_do_not_depend_on_chunking(shared_data, stage):
    """session_06 has steps inferred from the rhythm (some reported late), reports settled by
    the next frame and backward contacts: whole-file and live-sized chunks give the same."""
    from gait.io import read_recording

    p = shared_data / "dev" / "sessions" / "session_06.csv"
    if not p.exists():
        pytest.skip(f"{p} missing")
    rec = read_recording(p)
    keys = []
    for c in (300.0, 0.23, 2.9):
        kw = {"direction_stage": UnknownDirection()} if stage == "none" else {}
        res = analyze(rec, chunk_s=c, **kw)
        keys.append([(s.t_s, s.bout, s.direction) for s in res.steps])
    assert keys[0] == keys[1] == keys[2] and len(keys[0]) > 40


def test_bout_label_ties_do_not_depend_on_the_hash_seed():
    """A run confirmed with one forward, one backward and one unknown step after its first:
    the tie goes to the direction the run is in now (backward), whatever PYTHONHASHSEED is
    (the label was the max over a set: 3 of 6 seeds said forward)."""
    import os
    import subprocess
    import sys

    code = (
        "from gait.signal.bouts import BoutAssembler, StepFeatures\n"
        "from gait.signal.params import AnalysisParams\n"
        "from gait.types import Step\n"
        "ba = BoutAssembler(AnalysisParams())\n"
        "for i, d in enumerate(['forward', 'forward', 'backward', 'unknown']):\n"
        "    ba.push(Step(0.5 * i, 50 * i, direction=d), StepFeatures(0.5, 2.0, 0.0, 0.8))\n"
        "print(ba._bout_label[1])\n"
    )
    got = {subprocess.run([sys.executable, "-c", code], env={**os.environ, "PYTHONHASHSEED": seed},
                          capture_output=True, text=True, check=True).stdout.strip()
           for seed in ("0", "1", "2", "3", "4", "5")}
    assert got == {"backward"}


# ------------------------------------------------------------------ edges of runs
def _rows_seen(monkeypatch) -> list[int]:
    """Lengths of the single rows the analyzer hands to detect_rows (partial frames)."""
    import gait.pipeline as pl

    seen: list[int] = []
    real = pl.detect_rows

    def spy(rows, **kw):
        if rows.shape[0] == 1:
            seen.append(rows.shape[1])
        return real(rows, **kw)

    monkeypatch.setattr(pl, "detect_rows", spy)
    return seen


def test_row_cut_by_the_end_of_the_data_has_full_length(monkeypatch):
    """The last frame of a 13.2 s walk (25 Hz analysis rate, context 3 + 1 + 0.5 s = 112 blocks)
    owns 13.0-13.2 s; its context window [10.0, 14.48) s is cut by the end of the data, so its
    row reaches back to 8.72 s to keep the full 112 blocks (it had 3.2 s = 80 blocks before)."""
    acc, ics = walk_signal(13.2, fs_hz=50.0, cadence_spm=100.0)
    seen = _rows_seen(monkeypatch)
    sa = StreamAnalyzer(50.0, direction_stage=UnknownDirection())
    L = sa._B + sa._H + sa._A
    assert L == 112
    steps = analyze(rec_from(acc, 50.0), direction_stage=UnknownDirection()).step_times_s
    assert seen[-1] == L
    assert np.min(np.abs(steps - ics[-1])) < 0.05  # the last contact, 0.3-0.9 s before the end


@pytest.mark.parametrize("sizes", [[1], [7], [1, 50, 333], [100000]])
def test_run_start_full_row_is_chunk_invariant(sizes):
    """With run_start_full_row=1 a frame whose context a run starts in waits for a full row
    from the run start: the steps stay identical for any chunking, across a gap too."""
    p = {"run_start_full_row": 1}
    ref = stream(_REC, [len(_ACC)], params=p)
    assert _key(*stream(_REC, sizes, params=p)) == _key(*ref)
    acc, _ = walk_signal(9.0, fs_hz=50.0, cadence_spm=120.0)  # in motion from the first sample
    rec = rec_from(acc, 50.0)
    assert _key(*stream(rec, sizes, params=p)) == _key(*stream(rec, [len(acc)], params=p))


def test_run_start_full_row_gives_the_first_frames_a_full_row(monkeypatch):
    """A walk from the first sample: by default frame 0 sees [0, 1.5) s (37 blocks), with
    run_start_full_row=1 the full context length from the start of the data (112 blocks), and
    it is decided only once those samples have arrived."""
    acc, ics = walk_signal(9.0, fs_hz=50.0, cadence_spm=110.0)
    rec = rec_from(acc, 50.0)
    seen = _rows_seen(monkeypatch)
    analyze(rec, direction_stage=UnknownDirection())
    assert seen[0] == 37
    seen.clear()
    steps = analyze(rec, direction_stage=UnknownDirection(), params={"run_start_full_row": 1}).step_times_s
    assert seen[0] == 112
    assert np.min(np.abs(steps - ics[0])) < 0.05
    sa = StreamAnalyzer(50.0, direction_stage=UnknownDirection(), params={"run_start_full_row": 1})
    sa.push(rec.block(0, 222))  # 4.44 s: one block short of 112 analysis blocks
    assert sa._k == 0
    sa.push(rec.block(222, 224))
    assert sa._k == 4  # frames 0-3 (their rows are all [0, 4.48) s)


@pytest.mark.shared_data
def test_dev_contacts_at_the_edges_of_takes(shared_data):
    """dev bn1_walk_normal_001 (6.47 s): the last contact, 6.30 s, is found now that the last
    frame's row has the full context length (a 3.5 s row took the stride, 1.08 s, for the
    step period). bn1_walk_proud_002: its first contact, 0.46 s, is found with
    run_start_full_row=1 (the 1.5 s row of frame 0 cannot see its 0.8 s step period)."""
    from gait.io import read_recording

    p = shared_data / "dev" / "mocap_bn1" / "bn1_walk_normal_001.csv"
    q = shared_data / "dev" / "mocap_bn1" / "bn1_walk_proud_002.csv"
    if not (p.exists() and q.exists()):
        pytest.skip("dev recordings missing")
    t = analyze(read_recording(p), direction_stage=UnknownDirection()).step_times_s
    assert np.min(np.abs(t - 6.30)) < 0.1
    rec = read_recording(q)
    t = analyze(rec, direction_stage=UnknownDirection()).step_times_s
    assert np.min(np.abs(t - 0.46)) > 0.25  # by default: missed
    t = analyze(rec, direction_stage=UnknownDirection(), params={"run_start_full_row": 1}).step_times_s
    assert np.min(np.abs(t - 0.46)) < 0.1


def test_a_walk_right_after_a_run_is_detected_from_its_recent_samples():
    """Simulated run (165 steps/min) then slow walk (80): the first frames of the walk see the
    run in their 3-s lookback, whose step period and humps (5-10x larger) hide the walk's
    steps; analysed from their last 2.5 s they are found. Known answer: the labels."""
    from gait.evaluation import match_ics
    from gait.sim import simulate

    sim = simulate("stand:2,run:10:forward:165,walk:12:forward:80,stand:2", seed=1, fs_hz=100.0)
    lab = sim.labels.to_dict()
    ref = np.asarray(lab["initial_contacts_s"])
    w0 = next(s["start_s"] for s in lab["segments"] if s["activity"] == "walk")
    first = ref[(ref > w0) & (ref < w0 + 4.0)]  # the walk's first 7 contacts
    on = analyze(sim.recording, direction_stage=UnknownDirection())
    off = analyze(sim.recording, params={"recent_calm_ratio": 0.0}, direction_stage=UnknownDirection())
    assert len(match_ics(first, on.step_times_s, tol_s=0.1)) >= 5
    assert len(match_ics(first, off.step_times_s, tol_s=0.1)) <= 3
    # no step added: every detected step is a labelled contact
    assert len(match_ics(ref, on.step_times_s, tol_s=0.1)) == len(on.steps)
    # the frames' choice depends only on their own samples: any chunking gives the same steps
    for chunk_s in (1.0, 7.3):
        assert analyze(sim.recording, chunk_s=chunk_s).step_times_s.tolist() == \
            analyze(sim.recording).step_times_s.tolist()


@pytest.mark.shared_data
def test_dev_slow_walk_after_a_run_found(shared_data):
    """session_06: the slow walk from 9.3 s follows a run; its contacts at 10.07, 10.74 and
    11.54 s were missed (2.1 s of labelled walking without a step); now found within 0.11 s."""
    from gait.evaluation import match_ics

    rec, labels = _dev(shared_data, "sessions/session_06")
    ref = np.asarray(labels["initial_contacts_s"])
    ref = ref[(ref > 9.5) & (ref < 12.0)]
    assert len(match_ics(ref, analyze(rec).step_times_s, tol_s=0.15)) == ref.size == 3
    off = analyze(rec, params={"recent_calm_ratio": 0.0}).step_times_s
    assert len(match_ics(ref, off, tol_s=0.25)) == 0
