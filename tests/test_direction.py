"""Direction (forward / backward) per step: known answers, invariances, streaming, scoring."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gait.evaluation_direction import score_direction, step_segments
from gait.frames import parse_mount, random_rotation
from gait.pipeline import analyze
from gait.signal.direction import (DirectionEstimator, DirectionParams, directions_for_steps,
                                   make_stage, step_window)
from gait.sim import simulate
from gait.types import Recording, Step

BODY = parse_mount("body")


def _sim(programme: str, seed: int = 1):
    sim = simulate(programme, seed=seed, fs_hz=100.0)
    lab = sim.labels.to_dict()
    return sim.recording, lab, np.asarray(lab["initial_contacts_s"], float)


@pytest.fixture(scope="module")
def fwd_walk():
    return _sim("stand:2,walk:25:forward:110,stand:2", seed=11)


def _reverse(acc, gyro, ics, duration_s):
    """Play a recording backwards: acc time-mirrored, gyro time-mirrored and sign-flipped."""
    return acc[::-1].copy(), -gyro[::-1].copy(), np.sort(duration_s - 0.01 - ics)


def _share(steps, d):
    return np.mean([s.direction == d for s in steps])


@pytest.mark.parametrize("mount", [BODY, None], ids=["known-mount", "orientation-free"])
def test_forward_walk_is_forward_and_reversed_is_backward(fwd_walk, mount):
    rec, lab, ics = fwd_walk
    steps, _ = directions_for_steps(rec.acc_m_s2, rec.gyro_rad_s, fs_hz=rec.fs_hz, steps_s=ics,
                                    mount=mount)
    assert _share(steps, "forward") >= 0.9
    acc_r, gyro_r, ics_r = _reverse(rec.acc_m_s2, rec.gyro_rad_s, ics, rec.duration_s)
    steps_r, _ = directions_for_steps(acc_r, gyro_r, fs_hz=rec.fs_hz, steps_s=ics_r, mount=mount)
    assert _share(steps_r, "backward") >= 0.9


def test_reversed_recording_through_the_pipeline_is_backward(fwd_walk):
    rec, _, ics = fwd_walk
    acc_r, gyro_r, _ = _reverse(rec.acc_m_s2, rec.gyro_rad_s, ics, rec.duration_s)
    for acc, gyro, want in ((rec.acc_m_s2, rec.gyro_rad_s, "forward"), (acc_r, gyro_r, "backward")):
        res = analyze(Recording.from_arrays(acc, fs_hz=rec.fs_hz, gyro_rad_s=gyro))
        assert res.info["direction_mode"] == "orientation-free"
        assert len(res.steps) > 30
        assert _share(res.steps, want) >= 0.85
        assert res.bouts and max(res.bouts, key=lambda b: b.n_steps).direction == want


def test_rotation_does_not_change_orientation_free_results():
    rec, lab, ics = _sim("stand:2,walk:12:forward:105,walk:12:backward:110,run:10:forward:170", seed=5)
    base, est0 = directions_for_steps(rec.acc_m_s2, rec.gyro_rad_s, fs_hz=rec.fs_hz, steps_s=ics)
    rng = np.random.default_rng(7)
    for _ in range(3):
        R = random_rotation(rng)
        rot, _ = directions_for_steps(rec.acc_m_s2 @ R.T, rec.gyro_rad_s @ R.T, fs_hz=rec.fs_hz,
                                      steps_s=ics)
        assert [s.direction for s in rot] == [s.direction for s in base]
        np.testing.assert_allclose([s.direction_confidence for s in rot],
                                   [s.direction_confidence for s in base], atol=1e-6)
    sc = score_direction(lab, ics, [s.direction for s in base])
    assert sc.accuracy > 0.95


def test_mount_turned_180_is_flagged_and_directions_still_right(fwd_walk):
    rec, _, ics = fwd_walk
    ok_steps, ok_est = directions_for_steps(rec.acc_m_s2, rec.gyro_rad_s, fs_hz=rec.fs_hz,
                                            steps_s=ics, mount=BODY)
    rev_steps, rev_est = directions_for_steps(rec.acc_m_s2, rec.gyro_rad_s, fs_hz=rec.fs_hz,
                                              steps_s=ics, mount=BODY.turned_180())
    assert ok_est.mount_check()["status"] == "ok"
    assert rev_est.mount_check()["status"] == "reversed"
    assert rev_est.info()["mount_check"]["status"] == "reversed"
    assert _share(rev_steps, "forward") >= 0.9
    assert ok_est.mode == "known-mount"


@pytest.mark.parametrize("gait_kind,cad", [("walk", (110, 112, 106, 116)), ("run", (170, 180, 172, 178))])
def test_transitions_found_within_two_steps(gait_kind, cad):
    prog = (f"stand:2,{gait_kind}:12:forward:{cad[0]},{gait_kind}:12:backward:{cad[1]},"
            f"{gait_kind}:12:forward:{cad[2]},{gait_kind}:12:backward:{cad[3]},stand:2")
    rec, lab, ics = _sim(prog, seed=3)
    for mount in (BODY, None):
        steps, _ = directions_for_steps(rec.acc_m_s2, rec.gyro_rad_s, fs_hz=rec.fs_hz, steps_s=ics,
                                        mount=mount)
        sc = score_direction(lab, ics, [s.direction for s in steps])
        ok, n = sc.transition_summary(2)
        assert n == 3 and ok == 3, sc.transitions
        assert sc.accuracy > 0.9


def test_orientation_free_fixes_the_forward_sign(fwd_walk):
    rec, _, ics = fwd_walk
    _, est = directions_for_steps(rec.acc_m_s2, rec.gyro_rad_s, fs_hz=rec.fs_hz, steps_s=ics)
    info = est.info()
    assert info["forward_sign_fixed"] is True
    # the sim's sensor x axis is forward: the fixed axis points along +x (tilt of a few deg)
    assert info["ap_axis_sensor"][0] > 0.95


def test_release_is_bounded_and_in_order(fwd_walk):
    """Drained after every step (a live stream), a step is held for at most two more steps
    (a few more at the start of a walk) and released in order."""
    rec, _, ics = fwd_walk
    est = DirectionEstimator(fs_hz=rec.fs_hz, mount=BODY)
    out: list[Step] = []
    held = []
    for k, t in enumerate(ics):
        assert est.push(Step(t_s=float(t), index=int(t * 100)),
                        step_window(rec.acc_m_s2, rec.gyro_rad_s, fs_hz=rec.fs_hz, t_ic_s=float(t))) == []
        out += est.drain()
        held.append(k + 1 - len(out))
    out += est.flush()
    assert [s.t_s for s in out] == list(ics)
    assert max(held) <= 2 + DirectionParams().max_start_hold
    assert max(held[10:]) <= 2


def test_results_do_not_depend_on_when_the_stage_is_drained(fwd_walk):
    rec, _, ics = fwd_walk
    runs = [directions_for_steps(rec.acc_m_s2, rec.gyro_rad_s, fs_hz=rec.fs_hz, steps_s=ics,
                                 mount=m, drain_every=d)[0]
            for m in (None, BODY) for d in (0, 1, 7)]
    key = [[(s.t_s, s.direction, s.direction_confidence) for s in r] for r in runs]
    assert key[0] == key[1] == key[2] and key[3] == key[4] == key[5]


def test_chunking_does_not_change_directions(fwd_walk):
    rec, _, _ = fwd_walk
    r1 = analyze(rec, chunk_s=60.0)
    r2 = analyze(rec, chunk_s=0.37)
    assert [(s.t_s, s.direction, s.direction_confidence) for s in r1.steps] == \
        [(s.t_s, s.direction, s.direction_confidence) for s in r2.steps]
    assert r1.info["direction_mode"] == "known-mount"  # the simulator's header names the mount


def test_degenerate_inputs_give_unknown():
    est = make_stage(fs_hz=100.0, mount=None)
    assert est.flush() == []
    n = 400
    still = np.tile([0.0, 0.0, 9.81], (n, 1))
    steps, e = directions_for_steps(still, np.zeros((n, 3)), fs_hz=100.0,
                                    steps_s=np.arange(0.5, 3.5, 0.5))
    assert all(s.direction == "unknown" and s.direction_confidence == 0.0 for s in steps)
    nan = np.full((n, 3), np.nan)
    steps, _ = directions_for_steps(nan, nan, fs_hz=100.0, steps_s=np.arange(0.5, 3.5, 0.5))
    assert all(s.direction == "unknown" for s in steps)
    with pytest.raises(ValueError):
        DirectionEstimator(fs_hz=0.0)


# ---------------------------------------------------------------------- scoring
def _labels(segments, duration_s=10.0):
    return {"name": "t", "duration_s": duration_s,
            "segments": [{"start_s": a, "end_s": b, "direction": d, "activity": "walk"}
                         for a, b, d in segments]}


def test_score_known_answers():
    lab = _labels([(0, 4, "still"), (4, 7, "forward"), (7, 10, "backward")])
    t = np.arange(4.25, 10.0, 0.5)
    right = ["forward" if x < 7 else "backward" for x in t]
    sc = score_direction(lab, t, right)
    assert sc.accuracy == pytest.approx(1.0)
    assert sc.segment_accuracy(2.0) == (2, 2)
    assert sc.transitions == [("t", 7.0, "backward", 1)]
    wrong = ["backward" if x < 7 else "forward" for x in t]
    sc = score_direction(lab, t, wrong)
    assert sc.accuracy == pytest.approx(0.0)
    assert sc.confusion_s["forward"]["backward"] == pytest.approx(3.0, abs=0.02)
    # nothing detected: all labelled time is uncovered, hence wrong
    sc = score_direction(lab, [], [])
    assert sc.accuracy == 0.0 and sc.confusion_s["backward"]["uncovered"] == pytest.approx(3.0)
    # a late change: the first two steps after 7 s are still forward -> delay 3 steps
    late = ["forward" if x < 8.1 else "backward" for x in t]
    assert score_direction(lab, t, late).transitions[0][3] == 3


def test_step_segments_cover_midpoints_and_edges():
    segs = step_segments([1.0, 2.0, 3.0, 10.0, 10.5], ["forward"] * 3 + ["backward"] * 2, duration_s=10.6)
    assert segs[0]["start_s"] == pytest.approx(0.0) and segs[0]["end_s"] == pytest.approx(1.5)
    assert segs[2]["end_s"] == pytest.approx(4.0)
    assert segs[3]["start_s"] == pytest.approx(9.5) and segs[-1]["end_s"] == pytest.approx(10.6)


# ---------------------------------------------------------------------- real dev data
def _load_dev(shared_data, name):
    import pandas as pd

    csv = next(shared_data.glob(f"dev*/**/{name}.csv"))
    lab = json.loads(csv.with_name(name + ".labels.json").read_text())
    df = pd.read_csv(csv)
    acc = df[["ax", "ay", "az"]].to_numpy(float) * (9.80665 if lab["units"]["acc"] == "g" else 1.0)
    return lab, acc, df[["gx", "gy", "gz"]].to_numpy(float)


@pytest.mark.shared_data
def test_dev_session_with_transitions(shared_data):
    lab, acc, gyro = _load_dev(shared_data, "session_02")
    ics = np.asarray(lab["initial_contacts_s"])
    for mount in (BODY, None):
        steps, _ = directions_for_steps(acc, gyro, fs_hz=100.0, steps_s=ics, mount=mount)
        sc = score_direction(lab, ics, [s.direction for s in steps])
        assert sc.accuracy > 0.95
        assert sc.transition_summary(2)[0] == sc.transition_summary(2)[1] > 0
    # played backwards, the backward pieces become forward and vice versa
    acc_r, gyro_r, ics_r = _reverse(acc, gyro, ics, lab["duration_s"])
    steps_r, _ = directions_for_steps(acc_r, gyro_r, fs_hz=100.0, steps_s=ics_r, mount=BODY)
    rev = {"forward": "backward", "backward": "forward"}
    lab_r = dict(lab, segments=[dict(s, start_s=lab["duration_s"] - s["end_s"],
                                     end_s=lab["duration_s"] - s["start_s"],
                                     direction=rev.get(s["direction"], s["direction"]))
                                for s in reversed(lab["segments"])])
    assert score_direction(lab_r, ics_r, [s.direction for s in steps_r]).accuracy > 0.9


@pytest.mark.shared_data
def test_dev_rotated_variant_orientation_free(shared_data):
    lab, acc, gyro = _load_dev(shared_data, "bn1_walk-back_old_001")
    rot = next(shared_data.glob("dev_variants/rotated/**/bn1_walk-back_old_001.csv"))
    lab_r = json.loads(rot.with_name("bn1_walk-back_old_001.labels.json").read_text())
    import pandas as pd

    df = pd.read_csv(rot)
    ics = np.asarray(lab["initial_contacts_s"])
    a, _ = directions_for_steps(acc, gyro, fs_hz=100.0, steps_s=ics)
    b, _ = directions_for_steps(df[["ax", "ay", "az"]].to_numpy(float), df[["gx", "gy", "gz"]].to_numpy(float),
                                fs_hz=100.0, steps_s=ics)
    assert [s.direction for s in a] == [s.direction for s in b]
    assert _share(b, "backward") > 0.8
    assert score_direction(lab_r, ics, [s.direction for s in b]).accuracy > 0.9


def test_pipeline_reports_a_reversed_mount_and_per_direction_summary(fwd_walk):
    rec, _, _ = fwd_walk
    res = analyze(rec, mount=BODY.turned_180())
    assert res.info["direction_mode"] == "known-mount"
    assert res.info["mount_check"]["status"] == "reversed"
    assert res.summary["by_direction"]["forward"]["steps"] > 30
    ok = analyze(rec, mount=BODY)
    assert "mount_check" not in ok.info and ok.info["direction"]["mount_check"]["status"] == "ok"
    assert res.to_dict()["steps"][5]["direction"] == "forward"


def test_detected_bouts_scored_against_label_majority():
    from types import SimpleNamespace as B

    from gait.evaluation_direction import score_bouts

    lab = _labels([(0, 4, "still"), (4, 7, "forward"), (7, 10, "backward")])
    rows = score_bouts(lab, [B(start_s=4.2, end_s=6.9, direction="forward"),
                             B(start_s=6.0, end_s=9.9, direction="forward"),
                             B(start_s=0.5, end_s=3.5, direction="forward")])
    assert [(r[3], r[4]) for r in rows] == [("forward", "forward"), ("backward", "forward")]


def test_nan_only_poisons_the_strides_that_contain_it(fwd_walk):
    """A NaN sample removes the evidence of the steps whose stride covers it, not of others
    (the stage reads each stride out of a longer window)."""
    rec, _, ics = fwd_walk
    k = len(ics) // 2
    acc = rec.acc_m_s2.copy()
    acc[int(round((ics[k] + ics[k + 1]) / 2 * rec.fs_hz))] = np.nan  # between steps k and k + 1
    est = DirectionEstimator(fs_hz=rec.fs_hz, mount=BODY, keep_trace=True)
    for t in ics:
        est.push(Step(t_s=float(t), index=int(t * 100)),
                 step_window(acc, rec.gyro_rad_s, fs_hz=rec.fs_hz, t_ic_s=float(t)))
        est.drain()
    est.flush()
    ok = [e.ok for e in est.trace]
    assert not ok[k] and not ok[k + 1]  # the strides [t(k-1), t(k+1)) and [t(k), t(k+2)) hold it
    assert ok[k - 1] and ok[k + 2]  # their +-1 s windows hold it too, but not their strides
    assert sum(ok) >= len(ics) - 6


@pytest.mark.shared_data
def test_one_second_chunks_give_the_same_windows_and_directions(shared_data):
    """A step that a frame reports in its own margin (just before the frame) still gets its
    whole window with small chunks: the analyzer's buffer used to be trimmed too early for it
    (this take, pushed in 1-s blocks, gave other confidences than in one block)."""
    lab, acc, gyro = _load_dev(shared_data, "bn1_walk-right_proud_001")
    rec = Recording.from_arrays(acc, fs_hz=100.0, gyro_rad_s=gyro)
    for mount in (BODY, None):
        runs = [[(s.t_s, s.direction, s.direction_confidence) for s in analyze(rec, mount=mount, chunk_s=c).steps]
                for c in (1.0, 300.0)]
        assert len(runs[0]) >= 8 and runs[0] == runs[1]


def test_push_steps_equals_push_of_windows(fwd_walk):
    """The analyzer's batch entry point (windows as index ranges of one buffer) gives the same
    steps as one StepWindow per step, whatever the drain timing."""
    from gait.signal.stages import StepWindow

    rec, _, ics = fwd_walk
    acc, gyro, fs = rec.acc_m_s2, rec.gyro_rad_s, rec.fs_hz
    idx = [int(round(t * fs)) for t in ics]
    up = acc.mean(axis=0) / np.linalg.norm(acc.mean(axis=0))
    wins = [(max(0, i - 100), min(len(acc), i + 101)) for i in idx]
    runs = []
    for how in ("push", "push_steps", "push_steps_drained"):
        est = DirectionEstimator(fs_hz=fs, mount=None)
        out: list[Step] = []
        steps = [Step(t_s=i / fs, index=i) for i in idx]
        if how == "push":
            for stp, (a, b) in zip(steps, wins):
                out += est.push(stp, StepWindow(fs, a / fs, stp.index - a, g_hat=up, gyro_rad_s=gyro[a:b],
                                               step_period_s=0.55, acc_m_s2=acc[a:b], g_m_s2=9.81))
                out += est.drain()
        else:
            for k in range(0, len(steps), 5 if how == "push_steps_drained" else len(steps)):
                part = slice(k, k + 5) if how == "push_steps_drained" else slice(None)
                out += est.push_steps(steps[part], [w[0] for w in wins[part]], [w[1] for w in wins[part]],
                                      [up] * len(steps[part]), [0.55] * len(steps[part]),
                                      acc_m_s2=acc.copy(), gyro_rad_s=gyro.copy(), offset=0, t0_s=0.0)
                out += est.drain()
        out += est.flush()
        runs.append([(s.t_s, s.direction, s.direction_confidence) for s in out])
    assert len(runs[0]) == len(ics) and _share_of(runs[0], "forward") > 0.9
    assert runs[0] == runs[1] == runs[2]


def _share_of(rows, d):
    return np.mean([r[1] == d for r in rows])


def test_confident_steps_are_released_one_step_earlier(fwd_walk):
    """Once a chain is decided, a step whose filtered confidence reaches early_release_conf is
    released without waiting for the next step's evidence: streamed in 0.1 s blocks, a steady
    walk's steps come out about 2 s after their contact at most (one step sooner than with the
    rule off), with the same directions."""
    from gait.pipeline import StreamAnalyzer

    rec, _lab, _ics = fwd_walk

    def stream(dp):
        stage = DirectionEstimator(fs_hz=rec.fs_hz, mount=BODY, params=dp)
        sa = StreamAnalyzer(rec.fs_hz, mount=BODY, direction_stage=stage)
        lat, steps = [], []
        for i in range(0, rec.n_samples, 10):
            newest = float(rec.t_s[min(i + 10, rec.n_samples) - 1])
            for e in sa.push(rec.block(i, i + 10)):
                if isinstance(e, Step):
                    lat.append(newest - e.t_s)
                    steps.append(e)
        steps += [e for e in sa.finish() if isinstance(e, Step)]
        return np.asarray(lat[4:]), steps

    lat_on, on = stream(DirectionParams())
    lat_off, off = stream(DirectionParams(early_release_conf=2.0))
    assert [s.direction for s in on] == [s.direction for s in off]
    assert _share(on, "forward") > 0.9
    assert np.median(lat_on) <= 1.8 and np.percentile(lat_on, 90) <= 2.1
    assert np.median(lat_off) - np.median(lat_on) >= 0.4  # one step (0.55 s at 110 spm)


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 700), st.lists(st.integers(1, 699), max_size=12), st.integers(0, 2**31))
def test_axis_recursion_is_the_decayed_sum_whatever_the_batches(n, cuts, seed):
    # the orientation-free AP-axis covariance Y_j = Z_j + d Y_(j-1): any split of the steps into
    # batches gives identical values (results independent of chunking), equal to the plain
    # recursion to rounding, across blocks (_AX_BLOCK = 256) too
    rng = np.random.default_rng(seed)
    Z = rng.standard_normal((n, 10)) * (rng.random((n, 1)) < 0.7)
    whole = DirectionEstimator(fs_hz=100.0)._decayed_sums(Z)
    est = DirectionEstimator(fs_hz=100.0)
    parts = np.split(Z, sorted({c for c in cuts if c < n}))
    assert np.array_equal(np.concatenate([est._decayed_sums(p) for p in parts]), whole)
    d = DirectionParams().ap_decay
    y, ref = np.zeros(10), np.empty((n, 10))
    for j in range(n):
        y = Z[j] + d * y
        ref[j] = y
    np.testing.assert_allclose(whole, ref, rtol=0, atol=1e-12 * max(1.0, np.abs(ref).max()))


def test_direction_does_not_import_scipy_signal():
    # scipy.signal takes about a second to import (scipy 1.17): the analysis with direction
    # must not pay that on every run
    import subprocess
    import sys

    code = ("import sys, numpy as np\n"
            "from gait.pipeline import analyze\n"
            "from gait.types import Recording\n"
            "t = np.arange(0, 20, 0.01)\n"
            "acc = np.c_[np.sin(2*np.pi*1.8*t), 0*t, 9.81 + 2*np.sin(2*np.pi*1.8*t + 1)]\n"
            "r = analyze(Recording.from_arrays(acc, fs_hz=100.0, gyro_rad_s=0.1*acc))\n"
            "assert r.info['direction']['stage'] == 'DirectionEstimator'\n"
            "print(sorted(m for m in sys.modules if m.startswith('scipy.signal')))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


class _GivenEvidence(DirectionEstimator):
    """The stage with each step's evidence (llr) given by its index instead of computed, to
    test the HMM release on its own."""

    def __init__(self, llr, params=None):
        super().__init__(fs_hz=100.0, mount=BODY, params=params)
        self._given = llr

    def _evaluate_batch(self, rows, tnext):
        steps = [r[0] for r in rows]
        self._filter(steps, [float(self._given[s.index]) for s in steps])


def _release_given(llr, params=None, drain_every=1):
    est = _GivenEvidence(llr, params)
    out, held = [], []
    for k in range(len(llr)):
        out += est.push(Step(t_s=0.5 * k, index=k), None)
        if drain_every and (k + 1) % drain_every == 0:
            out += est.drain()
        held.append(k + 1 - len(out))
    out += est.flush()
    assert [s.index for s in out] == list(range(len(llr)))
    return [(s.direction, s.direction_confidence) for s in out], held


def test_an_ambiguous_step_in_a_decided_chain_waits_for_more_evidence():
    """One step with weak contrary evidence in a forward walk (llr -1.2, the next -1.5, then
    forward again): with the one-step lag alone it is "unknown"; held up to
    max_ambiguous_hold more steps it is forward. A real reversal is still backward at its first
    step, and the results do not depend on when the stage is drained."""
    walk = [4.0] * 12 + [-1.2, -1.5, 2.7] + [5.0] * 12
    turn = [4.0] * 12 + [-4.0] * 12
    slow_turn = [4.0] * 12 + [-1.2, -1.5, -2.0] + [-4.0] * 12
    off = DirectionParams(max_ambiguous_hold=0)
    d_on, held_on = _release_given(walk)
    d_off, held_off = _release_given(walk, off)
    assert d_off[12][0] == "unknown"
    assert d_on[12][0] == "forward" and d_on[12][1] >= 0.3
    assert [d for d, _ in d_on] == ["forward"] * len(walk)
    # the ambiguous step waited for the evidence of the step two after it (held 3, not 2)
    assert held_on[14] == 3 and held_off[14] == 2 and max(held_on) == 3
    assert d_on[:12] == d_off[:12] and d_on[13:] == d_off[13:]
    d_t, _ = _release_given(turn)
    assert [d for d, _ in d_t] == ["forward"] * 12 + ["backward"] * 12
    d_s, _ = _release_given(slow_turn)
    assert [d for d, _ in d_s] == ["forward"] * 12 + ["backward"] * 15
    assert _release_given(slow_turn, off)[0][12][0] == "unknown"
    for seq in (walk, turn, slow_turn):
        ref = _release_given(seq)[0]
        assert _release_given(seq, drain_every=3)[0] == ref
        assert _release_given(seq, drain_every=0)[0] == ref  # one flush: the vectorised release


def _trace(rec, ics, mount, params=None):
    est = DirectionEstimator(fs_hz=rec.fs_hz, mount=mount, params=params, keep_trace=True)
    out = []
    for t in ics:
        out += est.push(Step(t_s=float(t), index=int(round(t * rec.fs_hz))),
                        step_window(rec.acc_m_s2, rec.gyro_rad_s, fs_hz=rec.fs_hz, t_ic_s=float(t)))
    out += est.flush()
    return out, est


def test_running_steps_count_the_signed_phase_with_a_known_mount(fwd_walk):
    """Clearly running steps (vertical oscillation at step frequency |V2| >= 0.7 g: a
    bounce no walk reaches) count -gain_av_run * av instead of the roll evidence with a known
    mount (a spring: fore-aft acceleration leads vertical, av < 0, forward). That phase alone
    (pitch and roll evidence off) tells a forward run from the same run played backwards;
    walking steps never count it; with the mount turned 180 deg the running steps' votes
    flag it, and the directions stay right."""
    rec, lab, ics = _sim("stand:2,run:15:forward:170,stand:2", seed=4)
    p = DirectionParams()
    steps, est = _trace(rec, ics, BODY)
    ev = [e for e in est.trace if e.ok]
    assert sum(e.bounce for e in ev) >= 0.6 * len(ev)
    for e in ev:
        if e.bounce:  # the signed phase replaces the roll evidence
            assert e.av < 0
            want = p.gain_pa * e.pa - p.gain_av_run * e.av
        else:
            want = p.gain_pa * e.pa + p.gain_rm * (e.rm if np.isfinite(e.rm) else 0.0)
        assert e.llr == pytest.approx(want, abs=1e-9)
    assert est.mount_check()["status"] == "ok"  # running steps vote on the forward sign
    only_av = DirectionParams(gain_pa=0.0, gain_rm=0.0)
    assert _share(_trace(rec, ics, BODY, only_av)[0], "forward") >= 0.9
    acc_r, gyro_r, ics_r = _reverse(rec.acc_m_s2, rec.gyro_rad_s, ics, rec.duration_s)
    rec_r = Recording.from_arrays(acc_r, fs_hz=rec.fs_hz, gyro_rad_s=gyro_r)
    assert _share(_trace(rec_r, ics_r, BODY, only_av)[0], "backward") >= 0.9
    # off: no running evidence, no running votes
    off = _trace(rec, ics, BODY, DirectionParams(gain_av_run=0.0))[1]
    assert off.mount_check()["status"] == "undecided"
    # mount turned 180 deg: flagged by the running votes, directions still forward
    rev_steps, rev_est = _trace(rec, ics, BODY.turned_180())
    assert rev_est.mount_check()["status"] == "reversed"
    assert _share(rev_steps, "forward") >= 0.9
    # a walk has no running steps
    wrec, _, wics = fwd_walk
    assert not any(e.bounce for e in _trace(wrec, wics, BODY)[1].trace)
