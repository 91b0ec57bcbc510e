"""The report's tables, figures and HTML, checked against hand-computed answers."""

from __future__ import annotations

import json
import math
import re
from html.parser import HTMLParser

import matplotlib
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure

from gait.report import html as rhtml
from gait.report import plots, tables
from gait.report.style import ACTIVITY_COLORS, DIRECTION_COLORS
from gait.types import Bout, GaitResult, Step

from test_report_fixtures import BWD_DT, empty_result, known_result

matplotlib.use("Agg")

BWD_CAD = 60.0 / BWD_DT  # 133.33 steps/min


def _ax():
    return Figure(figsize=(8, 3)).add_subplot()


# ----------------------------------------------------------------------------- tables

def test_minute_splits_match_hand_computed_values():
    splits = tables.minute_splits(known_result())
    assert len(splits) == 2
    m1, m2 = splits
    # minute 1 holds all 100 forward steps and backward steps 55.0 + 0.45 k < 60 -> k = 0..11
    assert (m1.index, m1.start_s, m1.end_s) == (1, 0.0, 60.0)
    assert (m1.n_steps, m1.forward, m1.backward, m1.unknown) == (112, 100, 12, 0)
    # time-weighted, like the result's summary: 110 intervals (99 of 0.5 s, 11 of 0.45 s)
    assert m1.cadence_spm == pytest.approx(60.0 * 110 / (99 * 0.5 + 11 * 0.45))
    assert m1.backward_share == pytest.approx(12 / 112)
    assert (m2.n_steps, m2.forward, m2.backward) == (88, 0, 88)
    assert (m2.start_s, m2.end_s) == (60.0, 100.0)
    assert m2.cadence_spm == pytest.approx(BWD_CAD)
    assert m2.backward_share == 1.0


def test_minute_splits_degenerate():
    assert tables.minute_splits(GaitResult([], [], {}, {}, {})) == []
    s = tables.minute_splits(empty_result())
    assert len(s) == 1 and s[0].n_steps == 0 and math.isnan(s[0].cadence_spm)
    assert s[0].backward_share is None
    with pytest.raises(ValueError):
        tables.minute_splits(known_result(), split_s=0)


def test_overview_from_steps_and_bouts():
    o = tables.overview(known_result())
    assert o["n_steps"] == 200
    assert o["active_s"] == pytest.approx(49.5 + 44.55)
    assert o["mean_cadence_spm"] == pytest.approx(60.0 * 198 / (99 * 0.5 + 99 * 0.45))
    assert o["peak_cadence_spm"] == pytest.approx(BWD_CAD)
    assert o["steps"] == {"forward": 100, "backward": 100, "unknown": 0}
    assert o["time_s"]["forward"] == pytest.approx(49.5)
    assert o["time_s"]["backward"] == pytest.approx(44.55)
    assert o["cadence_spm"]["forward"] == pytest.approx(120.0)
    assert o["backward_share"] == pytest.approx(0.5)
    assert o["n_bouts"] == 2 and o["n_run_bouts"] == 2 and o["duration_s"] == 100.0


def test_overview_prefers_the_analyzers_summary():
    summary = {"active_time_s": 90.0, "cadence_spm": {"mean": 125.5, "peak_10_steps": 140.0},
               "by_direction": {"forward": {"time_s": 50.0, "steps": 100, "cadence_spm": 119.0}}}
    o = tables.overview(known_result(summary=summary))
    assert (o["active_s"], o["mean_cadence_spm"], o["peak_cadence_spm"]) == (90.0, 125.5, 140.0)
    assert (o["time_s"]["forward"], o["cadence_spm"]["forward"]) == (50.0, 119.0)
    assert o["time_s"]["backward"] == pytest.approx(44.55)  # not in summary -> from bouts


def test_peak_cadence_needs_a_sustained_window():
    r = known_result()
    # one spurious short interval (300 steps/min) inside the forward bout
    r.steps[50].cadence_spm = 300.0
    expected = 60.0 * 10 / (9 * 0.5 + 0.2)
    assert tables.peak_cadence(r) == pytest.approx(max(expected, BWD_CAD))
    assert math.isnan(tables.peak_cadence(empty_result()))  # no steps: no peak


def test_direction_segments_and_unknown():
    segs = tables.direction_segments(known_result())
    assert [(s.direction, s.start_s, s.end_s) for s in segs] == [
        ("forward", 1.0, 50.5), ("backward", 55.0, 99.55)]
    r = known_result()
    for s in r.steps[60:100]:  # the last 40 steps of bout 0 turn backward at t = 31.0 s
        s.direction = "backward"
    segs = tables.direction_segments(r)
    assert [(s.direction, s.start_s, s.end_s) for s in segs][:2] == [
        ("forward", 1.0, 31.0), ("backward", 31.0, 50.5)]
    o = tables.overview(known_result(known_direction=False))
    assert not o["direction_known"] and o["backward_share"] is None
    assert o["steps"]["unknown"] == 200


def test_cadence_by_activity_and_direction():
    g = tables.by_activity_direction(known_result())
    assert set(g) == {("run", "forward"), ("run", "backward")}
    assert g[("run", "forward")]["steps"] == 100
    assert g[("run", "forward")]["cadence_spm"] == pytest.approx(120.0)
    assert g[("run", "backward")]["cadence_spm"] == pytest.approx(BWD_CAD)
    assert g[("run", "backward")]["time_s"] == pytest.approx(44.55)
    r = known_result()
    r.bouts[1].activity = "walk"
    assert set(tables.by_activity_direction(r)) == {("run", "forward"), ("walk", "backward")}


def test_effort_estimate_states_factor_source_and_caveat():
    e = tables.effort_estimate(known_result())
    assert e["factor"] == 1.3
    assert e["run_s"]["backward"] == pytest.approx(44.55)
    assert e["run_backward_equivalent_s"] == pytest.approx(1.3 * 44.55)
    assert e["run_forward_equivalent_total_s"] == pytest.approx(49.5 + 1.3 * 44.55)
    assert e["walk_s"] == {"forward": 0.0, "backward": 0.0, "unknown": 0.0}
    assert "Wright & Weyand (2001)" in e["source"]
    assert "equal speed" in e["caveat"] and "walking" in e["caveat"]


def test_quality_rows_report_gaps_units_and_repairs():
    rows = {k: (v, lvl) for k, v, lvl in tables.quality_rows(known_result())}
    assert rows["Gaps"][1] == "warn" and "52.0-53.0 s" in rows["Gaps"][0]
    assert "acc: m/s^2 (header)" in rows["Units detected"][0]
    assert rows["Repaired samples"][0].startswith("3 (0.03 %")


def test_quality_rows_of_a_live_recording():
    r = known_result()
    r.recording["extra"] = {"events": [
        {"kind": "gap", "start_s": 52.0, "end_s": 53.0},
        {"kind": "disconnected", "t_s": 52.0}, {"kind": "reconnected", "t_s": 53.0},
        {"kind": "end", "t_s": 100.0, "stats": {"n_samples": 9800, "n_lost_samples": 200,
                                                 "loss_fraction": 0.02}}]}
    rows = {k: (v, lvl) for k, v, lvl in tables.quality_rows(r)}
    assert rows["Packet loss (live)"] == ("2.00 % of samples (200 samples lost)", "warn")
    assert rows["Recorder events"] == ("disconnected: 1, reconnected: 1", "warn")


# ----------------------------------------------------------------------------- figures

def test_plot_cadence_draws_the_results_steps_in_direction_colours():
    r = known_result()
    ax = plots.plot_cadence(r, ax=_ax())
    by_gid = {c.get_gid(): c for c in ax.collections if c.get_gid()}
    for d in ("forward", "backward"):
        c = by_gid[f"steps-{d}"]
        want = np.array([[s.t_s / 60.0, s.cadence_spm] for s in r.steps
                         if s.direction == d and math.isfinite(s.cadence_spm)])
        np.testing.assert_allclose(c.get_offsets(), want)
        np.testing.assert_allclose(c.get_facecolors()[:, :3], [to_rgba(DIRECTION_COLORS[d])[:3]])
    assert "steps-unknown" not in by_gid
    spans = [p for p in ax.patches if (p.get_gid() or "").startswith("bout-")]
    assert len(spans) == 2
    means = {c.get_gid(): c for c in ax.collections if (c.get_gid() or "").startswith("bout-mean")}
    np.testing.assert_allclose(means["bout-mean-1"].get_segments()[0][:, 1], [BWD_CAD, BWD_CAD])
    assert ax.get_ylabel() == "Cadence (steps/min)" and "min" in ax.get_xlabel()


def test_plot_cadence_unknown_direction_is_grey_and_returns_new_axes():
    r = known_result(known_direction=False)
    ax = plots.plot_cadence(r)
    gids = {c.get_gid() for c in ax.collections}
    assert "steps-unknown" in gids and "steps-forward" not in gids
    c = next(c for c in ax.collections if c.get_gid() == "steps-unknown")
    assert len(c.get_offsets()) == 198
    np.testing.assert_allclose(c.get_facecolors()[0, :3], to_rgba(DIRECTION_COLORS["unknown"])[:3])
    import matplotlib.pyplot as plt

    plt.close(ax.figure)


def test_plot_cadence_distribution_counts_every_step_with_a_cadence():
    r = known_result()
    ax = plots.plot_cadence_distribution(r, ax=_ax())
    for d, n in (("forward", 99), ("backward", 99)):
        patches = [p for p in ax.patches if p.get_gid() == f"hist-{d}"]
        assert sum(p.get_height() for p in patches) == n
        assert {p.get_facecolor()[:3] for p in patches} == {to_rgba(DIRECTION_COLORS[d])[:3]}
    tall = max((p for p in ax.patches if p.get_gid() == "hist-backward"), key=lambda p: p.get_height())
    assert tall.get_x() <= BWD_CAD < tall.get_x() + tall.get_width()


def test_plot_direction_timeline_lanes():
    r = known_result()
    ax = plots.plot_direction_timeline(r, ax=_ax())
    by_gid = {c.get_gid(): c for c in ax.collections}
    fwd = by_gid["direction-forward"].get_paths()[0].vertices
    assert fwd[:, 0].min() == pytest.approx(1.0 / 60) and fwd[:, 0].max() == pytest.approx(50.5 / 60)
    bwd = by_gid["direction-backward"].get_paths()[0].vertices
    assert bwd[:, 0].min() == pytest.approx(55.0 / 60)
    np.testing.assert_allclose(by_gid["direction-backward"].get_facecolor()[0, :3],
                               to_rgba(DIRECTION_COLORS["backward"])[:3])
    run = by_gid["activity-run"]
    assert len(run.get_paths()) == 2
    np.testing.assert_allclose(run.get_facecolor()[0, :3], to_rgba(ACTIVITY_COLORS["run"])[:3])


def test_plot_minute_splits_bars_match_table():
    splits = tables.minute_splits(known_result())
    ax = plots.plot_minute_splits(splits, ax=_ax())
    fwd = [p.get_height() for p in ax.patches if p.get_gid() == "split-forward"]
    bwd = [p for p in ax.patches if p.get_gid() == "split-backward"]
    assert fwd == [100, 0]
    assert [p.get_height() for p in bwd] == [12, 88]
    assert [p.get_y() for p in bwd] == [100, 0]  # stacked on the forward bars
    line = next(l for l in ax.right_axis.lines if l.get_gid() == "split-cadence")
    np.testing.assert_allclose(line.get_ydata(), [s.cadence_spm for s in splits])


def test_plot_history_trend():
    runs = [{"key": f"k{i}", "start_time": f"2026-11-{10 + i}T08:00:00+00:00",
             "mean_cadence_spm": 150.0 + i, "backward_share": None if i == 0 else 0.1 * i}
            for i in range(4)]
    ax = plots.plot_history_trend(runs, ax=_ax(), current_key="k3")
    line = next(l for l in ax.lines if l.get_gid() == "history-cadence")
    np.testing.assert_allclose(line.get_xdata(), [1, 2, 3, 4])
    np.testing.assert_allclose(line.get_ydata(), [150, 151, 152, 153])
    bars = [p.get_height() for p in ax.right_axis.patches if p.get_gid() == "history-backward"]
    np.testing.assert_allclose(bars, [0, 10, 20, 30])
    cur = next(l for l in ax.lines if l.get_gid() == "history-current")
    assert (cur.get_xdata()[0], cur.get_ydata()[0]) == (4, 153)


def test_plots_accept_empty_results():
    r = empty_result()
    for f in (plots.plot_cadence, plots.plot_cadence_distribution, plots.plot_direction_timeline):
        ax = f(r, ax=_ax())
        assert not [c for c in ax.collections if (c.get_gid() or "").startswith("steps-")]
        assert (len(ax.lines), len(ax.patches), len(ax.collections)) == (0, 0, 0)
        assert [t.get_text() for t in ax.texts] == [
            {"plot_cadence": "No steps detected", "plot_cadence_distribution": "No cadence to show",
             "plot_direction_timeline": "No bouts detected"}[f.__name__]]
    ax = plots.plot_minute_splits([], ax=_ax())
    assert (len(ax.lines), len(ax.patches)) == (0, 0)
    ax = plots.plot_history_trend([], ax=_ax())
    assert [len(l.get_xdata()) for l in ax.lines if l.get_gid() == "history-cadence"] == [0]
    assert not [b for b in ax.right_axis.patches if b.get_gid() == "history-backward"]


def test_mmss():
    assert [plots.mmss(x) for x in (0, 1.5, 59.99, 61.0)] == ["0:00", "1:30", "59:59", "1:01:00"]


# ----------------------------------------------------------------------------- HTML

class _Collect(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[str] = []
        self.text: list[str] = []
        self.imgs: list[dict] = []
        self.tables: dict[str, list[list[str]]] = {}
        self._table = None
        self._row = None
        self._cell = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append(tag)
        if tag == "img":
            self.imgs.append(a)
        if tag == "table" and a.get("id"):
            self._table = self.tables.setdefault(a["id"], [])
        if tag == "tr" and self._table is not None:
            self._row = []
            self._table.append(self._row)
        if tag in ("td", "th") and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        if tag == "table":
            self._table = None

    def handle_data(self, data):
        self.text.append(data)
        if self._cell is not None:
            self._cell.append(data)


def _parse(page: str) -> _Collect:
    p = _Collect()
    p.feed(page)
    return p


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    out = tmp_path_factory.mktemp("rep")
    runs = [{"key": "old", "start_time": "2026-11-20T08:00:00+00:00", "mean_cadence_spm": 120.0,
             "backward_share": 0.1, "path": "/x/old.csv"},
            {"key": "cur", "start_time": "2026-11-24T10:00:00+00:00", "mean_cadence_spm": 126.7,
             "backward_share": 0.5, "path": "/data/mixed_run.csv"}]
    files = rhtml.write_report(known_result(), out, history_runs=runs, current_key="cur", dpi=60)
    return out, files


def test_write_report_files(written):
    out, files = written
    assert files.html == out / "report.html"
    names = {"cadence", "direction_timeline", "cadence_distribution", "minute_splits", "history_trend"}
    assert set(files.figures) == names
    for n in names:
        assert (out / "figures" / f"{n}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert "<svg" in (out / "figures" / f"{n}.svg").read_text()
    doc = json.loads((out / "result.json").read_text())
    back = GaitResult.from_dict(doc)
    assert [s.t_s for s in back.steps] == pytest.approx([s.t_s for s in known_result().steps])
    assert math.isnan(back.steps[0].cadence_spm)


def test_rewriting_removes_figures_this_run_has_not(tmp_path):
    rhtml.write_report(known_result(), tmp_path, history_runs=[{"key": "a"}, {"key": "b"}], dpi=30)
    assert (tmp_path / "figures" / "history_trend.png").is_file()
    files = rhtml.write_report(known_result(), tmp_path, dpi=30)
    assert "history_trend" not in files.figures
    assert sorted(p.stem for p in (tmp_path / "figures").glob("*.png")) == sorted(files.figures)


def test_html_is_self_contained_and_tables_match(written):
    out, _ = written
    page = (out / "report.html").read_text()
    p = _parse(page)
    assert "script" not in p.tags and "link" not in p.tags
    assert p.imgs and all(i["src"].startswith("data:image/png;base64,") for i in p.imgs)
    assert not re.search(r"""(src|href)\s*=\s*['"]?(https?:)?//""", page)
    assert "default-src 'none'" in page
    splits = p.tables["splits"]
    assert splits[0] == ["Minute", "Time", "Steps", "Forward", "Backward",
                         "Cadence (steps/min)", "Backward share"]  # no unknown step: no column
    assert splits[1] == ["1", "0:00\u20131:00", "112", "100", "12", "121", "11 %"]
    assert splits[2] == ["2", "1:00\u20131:40", "88", "0", "88", "133", "100 %"]
    bouts = p.tables["bouts"]
    assert bouts[1][0] == "0" and bouts[1][2] == "0:50" and bouts[1][5] == "100"
    assert bouts[2][3] == "Run" and bouts[2][4].startswith("Backward") and bouts[2][6] == "133"
    text = " ".join(p.text)
    assert "Wright & Weyand (2001)" in text and "No factor is claimed for walking" in text
    assert "1.3\u00d7" in text
    assert "mixed_run.csv" in text and "Test sensor" in text and "2026-11-24 10:00:00 UTC" in text
    assert "x=forward,y=left,z=up" in text  # mount from the recording
    assert p.tables["history"][2][2].endswith("(this run)")
    by = p.tables["cadence-by"]
    assert by[0] == ["", "Forward", "Backward"]
    assert by[1][0] == "Run" and by[1][1].startswith("120 steps/min") and "100 steps \u00b7 0:50" in by[1][1]
    assert by[1][2].startswith("133 steps/min")


def test_html_escapes_names_and_device():
    evil = "<script>alert(1)</script>"
    # a file name cannot hold "/", so the path carries an <img> payload; the shown name (as
    # the CLI passes it) and the device carry the <script> one
    r = known_result(path="/data/<img src=x onerror=alert(3)>.csv",
                     device=f'{evil}"><img src=x onerror=alert(2)>')
    r.recording["notes"] = [evil]
    r.info["parameters"] = {"x": evil}
    for name in (None, f"{evil}.csv"):
        page = rhtml.render_html(r, {}, source_name=name)
        p = _parse(page)
        assert "script" not in p.tags
        assert p.imgs == []  # neither payload became an element
        assert evil not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
        shown = "<img src=x onerror=alert(3)>.csv" if name is None else name
        assert shown in " ".join(p.text)  # shown, as text


def test_html_when_direction_unknown():
    page = rhtml.render_html(known_result(known_direction=False), {})
    p = _parse(page)
    assert "direction-unknown" in page
    assert p.tables["splits"][0] == ["Minute", "Time", "Steps", "Unknown", "Cadence (steps/min)"]
    assert p.tables["splits"][1] == ["1", "0:00\u20131:00", "112", "112", "121"]
    text = " ".join(p.text)
    assert "direction not determined" in text
    assert "no effort factor is applied" in text


def test_html_for_empty_result():
    page = rhtml.render_html(empty_result(), {}, history_runs=[])
    text = " ".join(_parse(page).text)
    assert "No walking or running bouts were found." in text
    assert "No steps were detected" in text and "direction not determined" not in text
    assert "first run in the history" in text


def test_index_page_links_and_escapes(tmp_path):
    entries = [dict(tables.run_record(known_result()), name="a.csv", href="a/report.html"),
               {"name": "<b>bad</b>.csv", "error": "not a recording <i>"}]
    p = rhtml.write_index(entries, tmp_path)
    page = p.read_text()
    assert "href='a/report.html'" in page and "&lt;b&gt;bad&lt;/b&gt;.csv" in page
    rows = _parse(page).tables["index"]
    assert rows[1][0] == "a.csv" and rows[1][3] == "200" and rows[1][6] == "50 %"


# ----------------------------------------------------------------------------- invariants

@st.composite
def _results(draw):
    """Random bouts of steps with random directions, intervals 0.25-1.5 s, gaps between bouts."""
    t = draw(st.floats(0.0, 30.0))
    steps, bouts = [], []
    for b in range(draw(st.integers(0, 4))):
        n = draw(st.integers(1, 40))
        dts = draw(st.lists(st.floats(0.25, 1.5), min_size=n - 1, max_size=n - 1))
        dirs = draw(st.lists(st.sampled_from(["forward", "backward", "unknown"]), min_size=n, max_size=n))
        ts = [t]
        for dt in dts:
            ts.append(ts[-1] + dt)
        for i, (ti, d) in enumerate(zip(ts, dirs)):
            steps.append(Step(t_s=ti, index=int(ti * 100), direction=d,
                              cadence_spm=float("nan") if i == 0 else 60.0 / dts[i - 1], bout=b))
        bouts.append(Bout(id=b, start_s=ts[0], end_s=ts[-1] + 0.5, activity="run", direction=dirs[0],
                          n_steps=n, cadence_spm=120.0))
        t = ts[-1] + 0.5 + draw(st.floats(1.0, 90.0))
    rec = {"duration_s": t + draw(st.floats(0.0, 100.0))}
    return GaitResult(steps=steps, bouts=bouts, summary={}, info={}, recording=rec)


@settings(max_examples=60, deadline=None)
@given(_results())
def test_splits_and_segments_account_for_every_step(r):
    splits = tables.minute_splits(r)
    assert sum(s.n_steps for s in splits) == len(r.steps)
    assert all(s.forward + s.backward + s.unknown == s.n_steps for s in splits)
    assert all(s.start_s < s.end_s or s.n_steps == 0 for s in splits)
    cads = [s.cadence_spm for s in r.steps if math.isfinite(s.cadence_spm)]
    for s in splits:
        if math.isfinite(s.cadence_spm):
            assert min(cads) - 1e-9 <= s.cadence_spm <= max(cads) + 1e-9
    segs = tables.direction_segments(r)
    for b in r.bouts:
        mine = sorted((g for g in segs if g.bout == b.id), key=lambda g: g.start_s)
        # segments tile the bout exactly, in order, without overlap
        assert mine[0].start_s == b.start_s and mine[-1].end_s == b.end_s
        assert all(a.end_s == c.start_s for a, c in zip(mine, mine[1:]))
        assert all(a.direction != c.direction for a, c in zip(mine, mine[1:]))
    o = tables.overview(r)
    assert sum(o["steps"].values()) == len(r.steps)
    if o["backward_share"] is not None:
        assert 0.0 <= o["backward_share"] <= 1.0
