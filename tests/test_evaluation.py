"""Scoring per the labeled data's README convention (gait.evaluation)."""

from __future__ import annotations

import numpy as np
import pytest

from gait import evaluation as ev


def test_matching_is_one_to_one_smallest_dt_first():
    ref = [1.0, 1.3]
    det = [1.2]  # 0.2 from the first, 0.1 from the second: goes to the second
    assert ev.match_ics(ref, det, tol_s=0.25) == [(1, 0)]
    # two detections near one reference: only the closer one matches
    assert ev.match_ics([2.0], [1.9, 2.05], tol_s=0.25) == [(0, 1)]
    # tolerance is inclusive, and nothing beyond it
    assert ev.match_ics([0.0], [0.25], tol_s=0.25) == [(0, 0)]
    assert ev.match_ics([0.0], [0.2501], tol_s=0.25) == []
    assert ev.match_ics([], [1.0], tol_s=0.25) == []


def test_fp_only_inside_scored_intervals_and_figures():
    ref = [1.0, 2.0, 3.0, 4.0]
    det = [1.05, 2.0, 2.95, 5.5, 8.0]  # 5.5 inside the scored interval, 8.0 outside
    s = ev.score_ics(ref, det, [[0.0, 6.0]], tol_s=0.25)
    assert (s.tp, s.fp, s.fn, s.n_ref) == (3, 1, 1, 4)
    assert s.precision == pytest.approx(0.75)
    assert s.recall == pytest.approx(0.75)
    assert s.f1 == pytest.approx(0.75)
    assert s.mean_abs_err_ms == pytest.approx((50 + 0 + 50) / 3)
    assert s.bias_ms == pytest.approx(0.0)
    assert s.step_count_err_pct == pytest.approx(0.0)  # (3 + 1 - 4) / 4
    s2 = ev.score_ics(ref, det, [[0.0, 6.0]], tol_s=0.1)
    assert s2.tp == 3
    assert (s + s2).n_ref == 8


def test_cadence_per_segment_needs_four_reference_ics():
    labels = {
        "initial_contacts_s": [1.0, 1.5, 2.0, 2.5, 3.0, 10.0, 10.5, 11.0],
        "segments": [
            {"start_s": 0.0, "end_s": 5.0, "direction": "forward", "activity": "walk"},
            {"start_s": 5.0, "end_s": 9.0, "direction": "still", "activity": "stand"},
            {"start_s": 9.0, "end_s": 12.0, "direction": "forward", "activity": "run"},
        ],
        "scored_intervals": [[0.0, 12.0]],
    }
    rows = ev.score_cadence(labels, [1.0, 1.5, 2.0, 2.5, 3.0, 3.5])
    assert len(rows) == 1  # the run segment has only 3 reference ICs
    assert rows[0].ref_spm == pytest.approx(120.0)
    assert rows[0].det_spm == pytest.approx(120.0)  # 60 * 5 / 2.5
    assert ev.segment_cadence_spm(np.array([1.0]), 0, 5) != ev.segment_cadence_spm(np.array([1.0]), 0, 5)


def test_standing_false_steps_per_minute():
    labels = {
        "initial_contacts_s": [],
        "segments": [{"start_s": 0.0, "end_s": 60.0, "direction": "still", "activity": "stand"}],
        "scored_intervals": [[0.0, 30.0]],
    }
    s = ev.score_standing(labels, [5.0, 10.0, 45.0])
    assert s.seconds == pytest.approx(30.0)
    assert s.false_steps == 2
    assert s.per_min == pytest.approx(4.0)


def test_score_recording_groups_by_activity_direction():
    labels = {
        "name": "x",
        "initial_contacts_s": [1.0, 1.5, 2.0, 2.5, 6.0, 6.5, 7.0, 7.5],
        "segments": [
            {"start_s": 0.0, "end_s": 4.0, "direction": "forward", "activity": "walk"},
            {"start_s": 4.0, "end_s": 9.0, "direction": "backward", "activity": "walk"},
        ],
        "scored_intervals": [[0.0, 9.0]],
    }
    det = [1.02, 1.52, 2.02, 2.52, 6.0, 7.0, 8.5]
    r = ev.score_recording(labels, det)
    f = r.ic_by_group["walk/forward"][0.25]
    b = r.ic_by_group["walk/backward"][0.25]
    assert (f.tp, f.fp, f.fn) == (4, 0, 0)
    assert (b.tp, b.fp, b.fn) == (2, 1, 2)
    assert r.ic[0.25].tp == 6 and r.ic[0.25].fp == 1
    assert f.bias_ms == pytest.approx(20.0)
