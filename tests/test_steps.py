"""Step detector on analytic rows (gait.signal.steps)."""

from __future__ import annotations

import numpy as np
import pytest

from gait.signal.params import AnalysisParams
from gait.signal.steps import detect_rows

G = 9.80665
P = AnalysisParams()


def rows_of(v: np.ndarray, h: np.ndarray | None = None) -> np.ndarray:
    """(1, L, 3) specific force: vertical v on z (+ gravity), horizontal h on x."""
    L = len(v)
    acc = np.zeros((1, L, 3))
    acc[0, :, 2] = G + v
    if h is not None:
        acc[0, :, 0] = h
    return acc


@pytest.mark.parametrize("fs", [25.0, 50.0])
@pytest.mark.parametrize("cadence", [55.0, 100.0, 160.0, 225.0])
def test_period_of_a_sinusoid(fs, cadence):
    t = np.arange(int(5 * fs)) / fs
    f = cadence / 60.0
    d = detect_rows(rows_of(2.0 * np.sin(2 * np.pi * f * t)), fs_hz=fs, params=P)
    assert 60.0 / d.period_s[0] == pytest.approx(cadence, rel=0.02)
    # one detection per step, never two within a step
    peaks = np.sort(d.peak_pos) / fs
    assert np.all(np.diff(peaks) > 0.6 / f)
    assert abs(len(peaks) - 5 * f) <= 1.5


def test_stride_dominated_vertical_still_gives_the_step_period():
    """Big hump every other step (left/right asymmetry) plus an AP oscillation per step."""
    fs, cad = 25.0, 100.0
    t = np.arange(int(5 * fs)) / fs
    f = cad / 60.0
    v = 1.0 * np.sin(np.pi * f * t) + 0.8 * np.sin(2 * np.pi * f * t)
    h = 1.5 * np.sin(2 * np.pi * f * t + 0.3)
    d = detect_rows(rows_of(v, h), fs_hz=fs, params=P)
    assert 60.0 / d.period_s[0] == pytest.approx(cad, rel=0.03)


def test_rows_are_independent_bit_for_bit():
    rng = np.random.default_rng(1)
    fs = 25.0
    t = np.arange(125) / fs
    rows = np.stack([rows_of(a * np.sin(2 * np.pi * f * t) + rng.normal(0, 0.2, t.size))[0]
                     for a, f in ((2, 1.7), (0.1, 1.0), (5, 2.9), (1, 0.9))])
    together = detect_rows(rows, fs_hz=fs, params=P)
    for r in range(len(rows)):
        alone = detect_rows(rows[r : r + 1], fs_hz=fs, params=P)
        sel = together.row == r
        np.testing.assert_array_equal(together.ic_pos[sel], alone.ic_pos)
        assert together.period_s[r] == alone.period_s[0]


def test_input_is_never_modified():
    """Rows laid out axis-major (their (R, 3, L) transpose contiguous, read-only): the
    detector works on its own copy."""
    fs = 25.0
    t = np.arange(125) / fs
    axes = np.ascontiguousarray(rows_of(2.0 * np.sin(2 * np.pi * 1.8 * t)).transpose(0, 2, 1))
    rows = axes.transpose(0, 2, 1)
    rows.flags.writeable = False
    before = rows.copy()
    d = detect_rows(rows, fs_hz=fs, params=P)
    assert d.row.size > 0
    np.testing.assert_array_equal(rows, before)


def test_flat_and_empty_rows_give_no_steps():
    d = detect_rows(rows_of(np.zeros(125)), fs_hz=25.0, params=P)
    assert d.row.size == 0 and d.ic_pos.size == 0
    d = detect_rows(np.zeros((0, 125, 3)), fs_hz=25.0, params=P)
    assert d.row.size == 0 and d.period_s.size == 0


def test_ic_is_at_the_sharp_rise_not_the_peak():
    """A hump that rises sharply at t_ic and peaks ~100 ms later: the IC is the rise."""
    fs = 100.0
    t = np.arange(500) / fs
    T = 0.55
    ics = np.arange(0.3, 4.8, T)
    v = np.zeros_like(t)
    for ic in ics:
        u = t - ic
        v += np.where(u >= 0, 8 * (1 - np.exp(-u / 0.02)) * np.exp(-u / 0.1), 0.0)
    d = detect_rows(rows_of(v - v.mean()), fs_hz=fs, params=AnalysisParams(ic_lag_s=0.0))
    got = np.sort(d.ic_pos) / fs
    peaks = np.sort(d.peak_pos) / fs
    inner = [ic for ic in ics if 0.8 < ic < 4.2]
    for ic in inner:
        assert np.min(np.abs(got - ic)) < 0.03
        assert np.min(np.abs(peaks - ic)) > 0.03  # the hump's peak is later


@pytest.mark.parametrize("notch", [0.05, 0.0])
def test_stride_periodic_component_does_not_shift_every_other_ic(notch):
    """Evenly spaced soft landings plus a left/right-alternating term at 1.5 x the step
    frequency (pelvic roll seen by an off-centre hip sensor): the ICs stay evenly spaced
    with the stride notches; without them every other IC moves (what the notches are for)."""
    fs = 25.0
    t = np.arange(int(5 * fs)) / fs
    T = 0.33
    ics = np.arange(0.1, 5.0, T)
    v = np.zeros_like(t)
    for ic in ics:
        u = t - ic
        v += np.where(u >= 0, 25 * (u / 0.1) ** 2 * np.exp(2 - 2 * u / 0.1), 0.0)
    v += 3.0 * np.sin(2 * np.pi * 1.5 / T * t + 0.8)
    d = detect_rows(rows_of(v - v.mean()), fs_hz=fs,
                    params=AnalysisParams(ic_lag_s=0.0, jerk_stride_notch=notch))
    got = np.sort(d.ic_pos[(d.ic_pos > 1.0 * fs) & (d.ic_pos < 4.0 * fs)]) / fs
    dt = np.diff(got)
    alternation_ms = 1000 * np.abs(dt[1:] - dt[:-1]).mean()
    if notch:
        assert alternation_ms < 8
    else:
        assert alternation_ms > 15


@pytest.mark.parametrize("fill", [True, False])
def test_steps_the_vertical_skips_are_inferred_from_the_rhythm(fill):
    """Slow upright walk (75 steps/min): a sharp contact transient on the AP axis at every
    step, but a vertical hump only after every other one (the dev data's acted "proud"
    style). The period comes from both axes, so the missing steps are filled in at their
    contacts; with gap filling off, every other step is lost (what the filling is for)."""
    fs = 25.0
    t = np.arange(int(6 * fs)) / fs
    T = 0.8
    ics = np.arange(0.2, 6.0, T)
    v = np.zeros_like(t)
    h = np.zeros_like(t)
    for i, ic in enumerate(ics):
        u = t - ic
        h += np.where(u >= 0, -3.0 * np.exp(-u / 0.06), 0.0)  # braking transient per step
        if i % 2 == 0:
            v += 2.0 * np.exp(-0.5 * ((u - 0.12) / 0.12) ** 2)  # hump after every other step
    h += 0.8 * np.sin(2 * np.pi / T * t)
    params = AnalysisParams(ic_lag_s=0.0, gapfill_max_ratio=3.4 if fill else 0.0)
    d = detect_rows(rows_of(v - v.mean(), h - h.mean()), fs_hz=fs, params=params)
    assert 60.0 / d.period_s[0] == pytest.approx(75.0, rel=0.05)
    inner = ics[(ics > 1.0) & (ics < 5.0)]
    got = np.sort(d.ic_pos) / fs
    found = [ic for ic in inner if np.min(np.abs(got - ic)) < 0.1]
    if fill:
        assert len(found) == len(inner)
        assert np.all(np.diff(got) > 0.5 * T)  # never two steps for one
    else:
        assert len(found) <= len(inner) // 2 + 1


def test_gap_filling_needs_a_rhythm():
    """Two isolated jolts 1.6 s apart in a quiet row: no step is invented between them."""
    fs = 25.0
    t = np.arange(int(4.5 * fs)) / fs
    v = np.zeros_like(t)
    for ic in (1.0, 2.6):
        v += 3.0 * np.exp(-0.5 * ((t - ic) / 0.08) ** 2)
    d = detect_rows(rows_of(v - v.mean()), fs_hz=fs, params=P)
    got = np.sort(d.peak_pos) / fs
    assert got.size <= 2
    assert not np.any(np.abs(got - 1.8) < 0.3)


def _ap_with_minimum(fs: float, t_min: float, width_s: float) -> np.ndarray:
    """(N, 3) specific force: the forward acceleration on x (a dip at t_min), gravity on z."""
    t = np.arange(int(2.0 * fs)) / fs
    acc = np.zeros((t.size, 3))
    acc[:, 0] = 1.5 * np.sin(2 * np.pi * 0.6 * t) - 4.0 * np.exp(-0.5 * ((t - t_min) / width_s) ** 2)
    acc[:, 2] = G
    return acc


FWD = np.array([1.0, 0.0, 0.0])


@pytest.mark.parametrize("fs", [50.0, 100.0, 200.0])
def test_backward_contact_is_the_sharp_forward_minimum(fs):
    """A sharp dip of the forward acceleration at 1.02 s, the jerk-based contact 0.2 s late:
    the contact is the dip plus back_ic_offset_s, to within a sample."""
    from gait.signal.steps import backward_contact_pos

    ap = _ap_with_minimum(fs, 1.02, 0.03)
    pos = backward_contact_pos(ap, FWD, 1.22 * fs, fs_hz=fs, period_s=0.85, params=P)
    assert pos is not None
    assert pos / fs == pytest.approx(1.02 + P.back_ic_offset_s, abs=1.0 / fs)


def test_backward_contact_needs_a_sharp_minimum_inside_the_data():
    from gait.signal.steps import backward_contact_pos

    fs = 100.0
    broad = _ap_with_minimum(fs, 1.02, 0.3)  # a wide trough: no contact event
    assert backward_contact_pos(broad, FWD, 1.1 * fs, fs_hz=fs, period_s=0.85, params=P) is None
    sharp = _ap_with_minimum(fs, 0.1, 0.03)  # search window cut by the start of the data
    assert backward_contact_pos(sharp, FWD, 0.2 * fs, fs_hz=fs, period_s=0.85, params=P) is None
    flat = np.zeros((200, 3))
    assert backward_contact_pos(flat, FWD, 100.0, fs_hz=fs, period_s=0.85, params=P) is None
    assert backward_contact_pos(sharp, FWD, float("nan"), fs_hz=fs, period_s=0.85, params=P) is None


def test_contact_before_the_data_gives_no_step():
    """A row that starts 40 ms after a contact: the hump is in the data, but its jerk-search
    window is cut by the start of the row, so no contact is reported there (it would be a
    guess at the window's edge); with the contact inside the data it is found."""
    fs = 25.0
    T = 0.55

    def row(t0):
        t = t0 + np.arange(int(4.5 * fs)) / fs
        v = np.zeros_like(t)
        for ic in np.arange(-0.04, 4.5, T):
            u = t - ic
            v += np.where(u >= 0, 8 * (1 - np.exp(-u / 0.02)) * np.exp(-u / 0.1), 0.0)
        return rows_of(v - v.mean())

    params = AnalysisParams(ic_lag_s=0.0)
    cut = np.sort(detect_rows(row(0.0), fs_hz=fs, params=params).ic_pos) / fs
    assert cut.size and cut[0] > T - 0.1  # nothing reported for the contact at -0.04 s
    whole = np.sort(detect_rows(row(-0.5), fs_hz=fs, params=params).ic_pos) / fs - 0.5
    assert np.min(np.abs(whole + 0.04)) < 0.05
