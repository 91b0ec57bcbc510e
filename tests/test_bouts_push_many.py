"""BoutAssembler.push_many gives exactly the events and state of push, step by step."""

import math

import hypothesis.strategies as st
from hypothesis import given, settings

from gait.signal.bouts import BoutAssembler, StepFeatures
from gait.signal.params import AnalysisParams
from gait.types import Step


def _run(times, vmins, dirs, split, many):
    ba = BoutAssembler(AnalysisParams())
    steps = [Step(t, i, direction=d) for i, (t, d) in enumerate(zip(times, dirs))]
    feats = [StepFeatures(0.5, 2.0, v) for v in vmins]
    out = []
    if many:
        items = list(zip(steps, feats))
        for a, b in zip([0] + split, split + [len(items)]):
            out += ba.push_many(items[a:b])
    else:
        for s, f in zip(steps, feats):
            out += ba.push(s, f)
    iv = list(ba._intervals)  # (before close() clears them)
    out += ba.close()
    return [(type(e).__name__, _fields(e)) for e in out], iv


def _fields(e):
    if isinstance(e, Step):
        return {"t_s": e.t_s, "index": e.index, "direction": e.direction, "cadence_spm": e.cadence_spm,
                "bout": e.bout}
    return e.to_dict() | {"start_s": e.start_s, "end_s": e.end_s, "cadence_spm": e.cadence_spm,
                          "direction_s": e.direction_s}


def _same(a, b):
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return a == b


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_push_many_equals_push(data):
    # stretches of walking (0.45-0.65 s, no flight) and running (0.3-0.4 s, flight), with
    # pauses, bursts and equal times between them, in various directions
    times, vmins, dirs = [], [], []
    t = 10.0
    for _ in range(data.draw(st.integers(0, 6))):
        running = data.draw(st.booleans())
        d = data.draw(st.sampled_from(["unknown", "forward", "backward"]))
        for _ in range(data.draw(st.integers(1, 20))):
            t += data.draw(st.floats(0.3, 0.4) if running else st.floats(0.45, 0.65))
            times.append(t)
            vmins.append(-7.0 if running else 0.0)
            dirs.append(d if data.draw(st.integers(0, 9)) else "unknown")
        t += data.draw(st.sampled_from([0.0, 0.05, 0.5, 1.0, 1.9, 2.5, 4.0]))
    n = len(times)
    split = sorted(set(data.draw(st.lists(st.integers(1, max(1, n - 1)), max_size=4)))) if n > 1 else []
    ev1, iv1 = _run(times, vmins, dirs, split, many=False)
    ev2, iv2 = _run(times, vmins, dirs, split, many=True)
    assert len(ev1) == len(ev2)
    for (k1, d1), (k2, d2) in zip(ev1, ev2):
        assert k1 == k2
        assert d1.keys() == d2.keys() and all(_same(d1[k], d2[k]) for k in d1)
    assert iv1 == iv2


def test_push_many_long_bout_intervals_trimmed_like_push():
    times = [0.5 * i for i in range(200)]
    ev1, iv1 = _run(times, [0.0] * 200, ["unknown"] * 200, [], many=False)
    ev2, iv2 = _run(times, [0.0] * 200, ["unknown"] * 200, [], many=True)
    assert ev1 == ev2 and iv1 == iv2
    assert sum(1 for k, _ in ev2 if k == "Bout") == 1
    assert 9 <= len(iv2) <= 32


def test_push_many_pause_beyond_the_pace_closes_the_bout():
    # walking at 0.5 s, a 1.4 s interval (> 2.5 x 0.5, < bout_max_gap_s), walking again
    times = [0.5 * i for i in range(12)] + [5.5 + 1.4 + 0.5 * i for i in range(12)]
    n = len(times)
    ev1, iv1 = _run(times, [0.0] * n, ["unknown"] * n, [], many=False)
    ev2, iv2 = _run(times, [0.0] * n, ["unknown"] * n, [], many=True)
    assert ev1 == ev2 and iv1 == iv2
    assert sum(1 for k, _ in ev2 if k == "Bout") == 2
