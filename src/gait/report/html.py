"""The self-contained HTML report (and an index page for many reports).

One HTML file per run: figures are embedded as base64 PNG, styles are inline, there is no
script, and a Content-Security-Policy forbids any network request, so the file opens the same in
any browser, offline. Every string that comes from a file or a device (file name, device name,
notes, parameters) is HTML-escaped.

:func:`write_report` writes ``report.html``, ``figures/<name>.png`` and ``.svg`` and
``result.json`` into a folder; :func:`render_html` returns the page as a string.
"""

from __future__ import annotations

import base64
import html
import io
import json
import math
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Sequence

from .._version import __version__
from ..types import GaitResult
from . import tables
from .style import DIRECTION_COLORS, DIRECTION_LABELS

#: Figures in the order the report shows them; name -> (caption, alt text).
FIGURES: dict[str, tuple[str, str]] = {
    "cadence": ("Cadence of every step, coloured by direction. Shaded bands are bouts (darker: "
                "running, lighter: walking); black lines are each bout's mean cadence.",
                "Cadence over time, one dot per step coloured by direction"),
    "direction_timeline": ("When each direction was used (top) and whether it was walking or "
                           "running (bottom).", "Direction and activity timeline"),
    "cadence_distribution": ("How often each cadence occurred, per direction (2 steps/min bins).",
                             "Histogram of step cadence per direction"),
    "minute_splits": ("Steps in each minute by direction (bars) and the minute's cadence (line).",
                      "Per-minute steps and cadence"),
    "history_trend": ("This run (circled) among the runs in the history, oldest first: mean "
                      "cadence (line) and share of backward steps (bars).",
                      "Cadence and backward share across runs"),
}

_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"

_CSS = """
:root{--ink:#1f2328;--muted:#656d76;--line:#d8dee4;--bg:#f6f8fa;--card:#fff;
--fwd:%(fwd)s;--bwd:%(bwd)s;--unk:%(unk)s;}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--ink);
font:15px/1.5 -apple-system,BlinkMacSystemFont,"Segoe UI","Noto Sans","DejaVu Sans",Helvetica,Arial,sans-serif}
main{max-width:1180px;margin:0 auto;padding:28px 24px 40px}
header.top{display:flex;flex-wrap:wrap;align-items:baseline;gap:4px 16px;margin-bottom:6px}
h1{font-size:26px;margin:0;font-weight:650;letter-spacing:-.01em}
h1 .file{color:var(--muted);font-weight:500;word-break:break-all}
h2{font-size:18px;margin:0 0 10px;font-weight:620}
h3{font-size:15px;margin:0 0 6px}
.meta{display:grid;grid-template-columns:repeat(auto-fit,minmax(260px,1fr));gap:2px 18px;
margin:10px 0 20px;padding:12px 16px;background:var(--card);border:1px solid var(--line);border-radius:10px;font-size:13.5px}
.meta div{display:flex;gap:8px;min-width:0}
.meta dt{color:var(--muted);flex:none}
.meta dd{margin:0;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(145px,1fr));gap:12px;margin-bottom:14px}
.card{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:12px 14px}
.card .label{font-size:12.5px;color:var(--muted);text-transform:uppercase;letter-spacing:.04em}
.card .value{font-size:24px;font-weight:650;line-height:1.25;font-variant-numeric:tabular-nums;white-space:nowrap}
.card .value small{font-size:12.5px;font-weight:500;color:var(--muted)}
.card .sub{font-size:12.5px;color:var(--muted)}
.card.fwd{border-top:4px solid var(--fwd)} .card.bwd{border-top:4px solid var(--bwd)}
.split{display:flex;height:14px;border-radius:7px;overflow:hidden;background:#eee;margin:4px 0 6px}
.split span{display:block;height:100%%}
.legend{display:flex;flex-wrap:wrap;gap:4px 16px;font-size:13px;color:var(--muted)}
.sw{display:inline-block;width:11px;height:11px;border-radius:3px;vertical-align:-1px;margin-right:5px}
section.panel{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:16px 18px;margin:14px 0}
figure{margin:0}
figure img{display:block;width:100%%;height:auto}
figcaption{font-size:13px;color:var(--muted);margin-top:4px}
.cols{display:grid;grid-template-columns:minmax(0,1fr) minmax(0,1fr);gap:14px}
.cols>section.panel{margin:0}
@media (max-width:820px){.cols{grid-template-columns:1fr}}
table{border-collapse:collapse;width:100%%;font-size:13.5px;font-variant-numeric:tabular-nums}
th,td{padding:5px 8px;border-bottom:1px solid #eaeef2;text-align:right;white-space:nowrap}
th{color:var(--muted);font-weight:600;font-size:12.5px;border-bottom:1px solid var(--line)}
td.l,th.l{text-align:left}
#cadence-by td{white-space:normal;vertical-align:top;line-height:1.35}
#effort td.l{white-space:normal}
.scroll{overflow-x:auto;max-height:560px;overflow-y:auto}
.scroll thead th{position:sticky;top:0;background:var(--card)}
.tag{display:inline-block;padding:0 7px;border-radius:9px;font-size:12px;color:#fff;line-height:18px}
.tag.forward{background:var(--fwd)} .tag.backward{background:var(--bwd)} .tag.unknown{background:var(--unk)}
.tag.mixed{background:#fff;color:var(--ink);border:1px solid var(--line)}
.tag.err{background:#fff;color:var(--ink);border:1px solid var(--ink)}
.note{font-size:13.5px;color:var(--muted)}
.callout{border-left:4px solid var(--line);padding:6px 12px;background:var(--bg);font-size:13.5px;margin:10px 0 0}
.q td.v{text-align:left;white-space:normal}
.q .lvl{width:14px;padding-right:0}
.dot{display:inline-block;width:8px;height:8px;border-radius:50%%}
.dot.ok{background:#2da44e}.dot.warn{background:#bf8700}.dot.info{background:#afb8c1}
details{margin-top:8px;font-size:13px}
pre{white-space:pre-wrap;word-break:break-word;background:var(--bg);padding:10px;border-radius:6px;font-size:12px}
footer{color:var(--muted);font-size:12.5px;margin-top:18px}
a{color:var(--fwd)}
@media print{body{background:#fff}main{max-width:none;padding:0}.scroll{max-height:none;overflow:visible}
section.panel,.card,.meta{break-inside:avoid;border-color:#ccc}}
""" % {"fwd": DIRECTION_COLORS["forward"], "bwd": DIRECTION_COLORS["backward"],
       "unk": DIRECTION_COLORS["unknown"]}


def esc(x: Any) -> str:
    """HTML-escape anything (quotes too), after ``str``."""
    return html.escape("" if x is None else str(x), quote=True)


def _finite(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def fmt_duration(seconds: float | None) -> str:
    """``h:mm:ss`` or ``m:ss`` (``None``/NaN -> an em dash)."""
    if not _finite(seconds):
        return "\u2014"
    total = int(round(float(seconds)))
    h, rem = divmod(total, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def fmt_num(x: Any, nd: int = 0, unit: str = "") -> str:
    if not _finite(x):
        return "\u2014"
    return f"{x:,.{nd}f}{unit}"


def fmt_pct(x: float | None, nd: int = 0) -> str:
    return "\u2014" if x is None or not _finite(x) else f"{100 * x:.{nd}f} %"


def fmt_time(iso: str | None) -> str:
    if not iso:
        return "not recorded"
    try:
        t = datetime.fromisoformat(str(iso))
    except ValueError:
        return str(iso)
    tz = t.strftime("%Z") or ""
    if tz in ("UTC+00:00", "UTC"):
        tz = "UTC"
    return (t.strftime("%Y-%m-%d %H:%M:%S") + (f" {tz}" if tz else "")).strip()


def _lookup(d: dict[str, Any], *paths: str) -> Any:
    """First non-empty value among dotted ``paths`` in nested dict ``d``."""
    for p in paths:
        cur: Any = d
        for part in p.split("."):
            cur = cur.get(part) if isinstance(cur, dict) else None
            if cur is None:
                break
        if cur not in (None, "", {}):
            return cur
    return None


def direction_mode(result: GaitResult) -> str:
    v = _lookup(result.info or {}, "direction_mode", "direction.mode", "direction.method",
                "params.direction_mode", "parameters.direction_mode")
    if v is None:
        known = any(s.direction in ("forward", "backward") for s in result.steps)
        return "not reported" if known else "not determined"
    return str(v) if not isinstance(v, dict) else json.dumps(v)


def mount_text(result: GaitResult) -> str:
    v = _lookup(result.info or {}, "mount", "mount.name", "params.mount")
    if v is None:
        v = (result.recording or {}).get("mount")
    if isinstance(v, dict):
        v = v.get("name") or v.get("mapping") or json.dumps(v)
    return "not given" if v is None else str(v)


# --------------------------------------------------------------------------- figures

@dataclass
class RenderedFigure:
    name: str
    png: bytes
    svg: str
    width_px: int
    height_px: int


def build_figures(result: GaitResult, *, history_runs: Sequence[dict[str, Any]] | None = None,
                  current_key: str | None = None):
    """The report's matplotlib figures, ``{name: Figure}`` (see :data:`FIGURES`)."""
    import matplotlib
    from matplotlib.figure import Figure

    from . import plots

    figs = {}
    with matplotlib.rc_context(plots._RC):
        def new(w, h):
            fig = Figure(figsize=(w, h), layout="constrained", dpi=100)
            return fig, fig.add_subplot()

        fig, ax = new(10, 3.6)
        plots.plot_cadence(result, ax=ax)
        figs["cadence"] = fig
        fig, ax = new(10, 1.9)
        plots.plot_direction_timeline(result, ax=ax)
        figs["direction_timeline"] = fig
        fig, ax = new(5.2, 3.4)
        plots.plot_cadence_distribution(result, ax=ax)
        figs["cadence_distribution"] = fig
        splits = tables.minute_splits(result)
        if len(splits) >= 2:  # for one minute the table says it all
            fig, ax = new(10, 2.8)
            plots.plot_minute_splits(splits, ax=ax)
            figs["minute_splits"] = fig
        if history_runs and len(history_runs) >= 2:
            fig, ax = new(10, 2.8)
            plots.plot_history_trend(history_runs, ax=ax, current_key=current_key)
            figs["history_trend"] = fig
    return figs


def render_figure(name: str, fig, *, dpi: int = 144) -> RenderedFigure:
    """PNG bytes and SVG text of a figure."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, facecolor="white", metadata={"Software": None})
    png = buf.getvalue()
    fig.set_layout_engine("none")  # keep the layout just computed; the SVG needs no second pass
    sbuf = io.StringIO()
    fig.savefig(sbuf, format="svg", facecolor="white", metadata={"Date": None})
    w, h = fig.get_size_inches()
    return RenderedFigure(name, png, sbuf.getvalue(), int(round(w * dpi)), int(round(h * dpi)))


def _img(fig: RenderedFigure) -> str:
    cap, alt = FIGURES.get(fig.name, ("", fig.name))
    data = base64.b64encode(fig.png).decode("ascii")
    return (f'<figure id="fig-{esc(fig.name)}"><img src="data:image/png;base64,{data}" '
            f'width="{fig.width_px}" height="{fig.height_px}" alt="{esc(alt)}">'
            f"<figcaption>{esc(cap)}</figcaption></figure>")


# --------------------------------------------------------------------------- sections

def _meta(result: GaitResult, source_name: str) -> str:
    rec = result.recording or {}
    items = [
        ("File", source_name),
        ("Device", rec.get("device") or "not recorded"),
        ("Start", fmt_time(rec.get("start_time"))),
        ("Duration", fmt_duration(rec.get("duration_s"))),
        ("Mount", mount_text(result)),
        ("Direction mode", direction_mode(result)),
        ("Sampling", f"{rec['fs_hz']:g} Hz" if _finite(rec.get("fs_hz")) else "\u2014"),
        ("gait version", (result.info or {}).get("version") or __version__),
    ]
    body = "".join(f'<div><dt>{esc(k)}</dt><dd title="{esc(v)}">{esc(v)}</dd></div>' for k, v in items)
    return f'<dl class="meta" id="meta">{body}</dl>'


def _split_bar(parts: dict[str, float]) -> str:
    total = sum(parts.values())
    if total <= 0:
        return '<div class="split"></div>'
    var = {"forward": "fwd", "backward": "bwd"}
    spans = "".join(
        f'<span style="width:{100 * v / total:.3f}%;background:var(--{var.get(d, "unk")})" '
        f'title="{esc(DIRECTION_LABELS[d])}: {100 * v / total:.1f} %"></span>'
        for d, v in parts.items() if v > 0)
    return f'<div class="split">{spans}</div>'


def _cards(result: GaitResult, o: dict[str, Any]) -> str:
    def card(label, value, sub="", cls="", unit=""):
        u = f" <small>{esc(unit)}</small>" if unit and value != "\u2014" else ""
        return (f'<div class="card {cls}"><div class="label">{esc(label)}</div>'
                f'<div class="value">{esc(value)}{u}</div><div class="sub">{sub}</div></div>')

    steps, t, cad = o["steps"], o["time_s"], o["cadence_spm"]
    dur = o["duration_s"]
    active_sub = f"of {esc(fmt_duration(dur))} recorded" if _finite(dur) else ""
    out = [
        card("Steps", fmt_num(o["n_steps"]),
             _split_bar({d: steps[d] for d in ("forward", "backward", "unknown")})),
        card("Active time", fmt_duration(o["active_s"]), active_sub),
        card("Mean cadence", fmt_num(o["mean_cadence_spm"]), "while in bouts", unit="steps/min"),
        card("Peak cadence", fmt_num(o["peak_cadence_spm"]),
             f"best {tables.PEAK_WINDOW_STEPS} consecutive steps", unit="steps/min"),
    ]
    for d, cls in (("forward", "fwd"), ("backward", "bwd")):
        if o["direction_known"]:
            sub = (f"{esc(fmt_num(steps[d]))} steps"
                   + (f" \u00b7 {esc(fmt_num(cad[d]))} steps/min" if _finite(cad[d]) else ""))
            out.append(card(DIRECTION_LABELS[d], fmt_duration(t[d]), sub, cls))
        else:
            why = "no steps" if not o["n_steps"] else "direction not determined"
            out.append(card(DIRECTION_LABELS[d], "\u2014", why, cls))
    share = o["backward_share"]
    bouts_sub = f"{o['n_run_bouts']} run \u00b7 {o['n_walk_bouts']} walk"
    if share is not None:
        bouts_sub += f" \u00b7 {esc(fmt_pct(share))} of steps backward"
    out.append(card("Bouts", fmt_num(o["n_bouts"]), bouts_sub))
    legend = "".join(
        f'<span><span class="sw" style="background:var(--{v})"></span>{esc(DIRECTION_LABELS[k])}</span>'
        for k, v in (("forward", "fwd"), ("backward", "bwd"), ("unknown", "unk")))
    note = ""
    if not o["n_steps"]:
        note = ('<p class="callout" id="no-steps">No steps were detected in this recording. If '
                "someone walked or ran while it was recorded, check how the sensor was worn "
                "(mount) and the units and gaps under <em>Data quality</em>.</p>")
    elif not o["direction_known"]:
        note = ('<p class="callout" id="direction-unknown">Walking direction was not determined '
                f"for this recording (direction mode: {esc(direction_mode(result))}), so every step "
                "is shown as <em>unknown</em> (grey). Cadence, steps and bouts are unaffected.</p>")
    return (f'<section class="cards" id="cards">{"".join(out)}</section>'
            f'<div class="legend">{legend}</div>{note}')


def _tag(direction: str) -> str:
    d = direction if direction in DIRECTION_LABELS else "mixed"
    label = DIRECTION_LABELS.get(direction, str(direction).capitalize())
    return f'<span class="tag {d}">{esc(label)}</span>'


def _splits_table(splits: list[tables.Split]) -> str:
    """Per-minute table; the unknown column only when a step is unknown, the direction
    columns only when a step has a known direction."""
    any_unknown = any(s.unknown for s in splits)
    any_known = any(s.forward or s.backward for s in splits)
    head = ["<th>Minute</th>", "<th class='l'>Time</th>", "<th>Steps</th>"]
    if any_known:
        head += ["<th>Forward</th>", "<th>Backward</th>"]
    if any_unknown:
        head.append("<th>Unknown</th>")
    head.append("<th>Cadence (steps/min)</th>")
    if any_known:
        head.append("<th>Backward share</th>")
    rows = []
    for s in splits:
        cells = [f"<td>{s.index}</td>",
                 f"<td class='l'>{esc(fmt_duration(s.start_s))}\u2013{esc(fmt_duration(s.end_s))}</td>",
                 f"<td>{s.n_steps}</td>"]
        if any_known:
            cells += [f"<td>{s.forward}</td>", f"<td>{s.backward}</td>"]
        if any_unknown:
            cells.append(f"<td>{s.unknown}</td>")
        cells.append(f"<td>{esc(fmt_num(s.cadence_spm))}</td>")
        if any_known:
            cells.append(f"<td>{esc(fmt_pct(s.backward_share))}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return ('<div class="scroll"><table id="splits"><thead><tr>' + "".join(head)
            + "</tr></thead><tbody>" + "".join(rows) + "</tbody></table></div>")


def _bouts_table(result: GaitResult) -> str:
    rows = []
    for r in tables.bout_rows(result):
        conf = r["direction_confidence"]
        rows.append(
            f"<tr><td>{r['id']}</td><td>{esc(fmt_duration(r['start_s']))}</td>"
            f"<td>{esc(fmt_duration(r['duration_s']))}</td>"
            f"<td class='l'>{esc(str(r['activity']).capitalize())}</td>"
            f"<td class='l'>{_tag(r['direction'])}"
            + (f" <span class='note'>{esc(fmt_pct(conf))}</span>" if _finite(conf) and conf > 0 else "")
            + f"</td><td>{r['n_steps']}</td><td>{esc(fmt_num(r['cadence_spm']))}</td>"
            f"<td>{esc(fmt_pct(r['backward_time_share']))}</td></tr>")
    if not rows:
        return '<p class="note" id="bouts">No walking or running bouts were found.</p>'
    return ('<div class="scroll"><table id="bouts"><thead><tr><th>Bout</th><th>Start</th>'
            "<th>Duration</th><th class='l'>Activity</th><th class='l'>Direction (confidence)</th>"
            "<th>Steps</th><th>Cadence (steps/min)</th><th>Time backward</th></tr></thead><tbody>"
            + "".join(rows) + "</tbody></table></div>")


def _effort(result: GaitResult, o: dict[str, Any]) -> str:
    e = tables.effort_estimate(result)
    run, walk = e["run_s"], e["walk_s"]
    f = e["factor"]
    run_eq = (f"{esc(fmt_duration(e['run_forward_equivalent_total_s']))}"
              " <span class='note'>forward-running equivalent</span>") if o["direction_known"] else \
        "<span class='note'>\u2014 (direction unknown)</span>"
    rows = [
        ("Running", run, run_eq),
        ("Walking", walk, "<span class='note'>no factor claimed</span>"),
    ]
    body = "".join(
        f"<tr><td class='l'>{esc(name)}</td><td>{esc(fmt_duration(v['forward']))}</td>"
        f"<td>{esc(fmt_duration(v['backward']))}</td><td>{esc(fmt_duration(v['unknown']))}</td>"
        f"<td class='l'>{extra}</td></tr>" for name, v, extra in rows)
    headline = ""
    if run["backward"] > 0:
        headline = (f"<p>Backward running: <b>{esc(fmt_duration(run['backward']))}</b>. At equal speed "
                    f"that costs about {f:g}\u00d7 the energy of forward running, roughly "
                    f"<b>{esc(fmt_duration(e['run_backward_equivalent_s']))}</b> of forward running "
                    f"(+{esc(fmt_duration(e['run_extra_s']))}).</p>")
    elif not o["n_steps"]:
        headline = "<p class='note'>No steps, so no effort to estimate.</p>"
    elif not o["direction_known"]:
        headline = "<p class='note'>Direction was not determined, so no effort factor is applied.</p>"
    else:
        headline = "<p class='note'>No backward running in this recording.</p>"
    return (f"{headline}<table id='effort'><thead><tr><th class='l'></th><th>Forward</th>"
            "<th>Backward</th><th>Unknown</th><th class='l'>Relative effort</th></tr></thead>"
            f"<tbody>{body}</tbody></table>"
            f"<p class='callout'><b>Source.</b> {esc(e['source'])}<br><b>Caveat.</b> "
            f"{esc(e['caveat'])}</p>")


def _cadence_by(result: GaitResult) -> str:
    """Cadence, steps and time per activity (rows) and direction (columns)."""
    g = tables.by_activity_direction(result)
    if not g:
        return ""
    dirs = [d for d in ("forward", "backward", "unknown") if any(k[1] == d for k in g)]
    acts = [a for a in ("run", "walk", "other") if any(k[0] == a for k in g)]
    head = "".join(f"<th>{_tag(d)}</th>" for d in dirs)
    rows = []
    for a in acts:
        cells = []
        for d in dirs:
            v = g.get((a, d))
            if v is None:
                cells.append("<td>\u2014</td>")
                continue
            n = v["steps"]
            cells.append(f"<td><b>{esc(fmt_num(v['cadence_spm']))}</b> "
                         f"<span class='note'>steps/min</span><br><span class='note'>"
                         f"{n} step{'' if n == 1 else 's'} \u00b7 "
                         f"{esc(fmt_duration(v['time_s']))}</span></td>")
        rows.append(f"<tr><td class='l'>{esc(str(a).capitalize())}</td>{''.join(cells)}</tr>")
    return ("<h3 style='margin-top:12px'>Mean cadence by activity and direction</h3>"
            f"<table id='cadence-by'><thead><tr><th class='l'></th>{head}</tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table>")


def _quality(result: GaitResult) -> str:
    rows = "".join(
        f"<tr><td class='lvl'><span class='dot {esc(level)}'></span></td><td class='l'>{esc(k)}</td>"
        f"<td class='v'>{esc(v)}</td></tr>" for k, v, level in tables.quality_rows(result))
    if not rows:
        return "<p class='note'>The reader reported nothing about this recording.</p>"
    return f"<table class='q' id='quality'><tbody>{rows}</tbody></table>"


def _history(runs: Sequence[dict[str, Any]] | None, current_key: str | None,
             fig: RenderedFigure | None) -> str:
    if runs is None:
        return ""
    n = len(runs)
    if n < 2:
        body = ("<p class='note'>This is the first run in the history; the trend of cadence "
                "and backward share appears from the second run on.</p>")
    else:
        rows = []
        for i, r in enumerate(runs[-10:], start=max(1, n - 9)):
            this = r.get("key") == current_key
            name = Path(str(r.get("path") or "")).name or "\u2014"
            rows.append(
                f"<tr{' class=this' if this else ''}><td>{i}</td>"
                f"<td class='l'>{esc(fmt_time(r.get('start_time') or r.get('reported_at')))}</td>"
                f"<td class='l'>{esc(name)}{' <b>(this run)</b>' if this else ''}</td>"
                f"<td>{esc(fmt_duration(r.get('active_s')))}</td><td>{esc(fmt_num(r.get('n_steps')))}</td>"
                f"<td>{esc(fmt_num(r.get('mean_cadence_spm')))}</td>"
                f"<td>{esc(fmt_pct(r.get('backward_share')))}</td></tr>")
        body = ((_img(fig) if fig else "")
                + "<div class='scroll'><table id='history'><thead><tr><th>#</th><th class='l'>Start</th>"
                "<th class='l'>File</th><th>Active</th><th>Steps</th><th>Cadence (steps/min)</th>"
                "<th>Backward share</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table></div>"
                + (f"<p class='note'>Showing the last 10 of {n} runs.</p>" if n > 10 else ""))
    return f"<section class='panel' id='history-section'><h2>Compared with other runs</h2>{body}</section>"


def render_html(result: GaitResult, figures: dict[str, RenderedFigure], *,
                source_name: str | None = None,
                history_runs: Sequence[dict[str, Any]] | None = None,
                current_key: str | None = None, links: dict[str, str] | None = None) -> str:
    """The report page as one self-contained HTML string.

    Parameters
    ----------
    result : GaitResult
    figures : dict
        Rendered figures by name (:func:`render_figure`); missing ones are left out.
    source_name : str, optional
        Name shown as the file (defaults to the base name of ``result.recording['path']``).
    history_runs : sequence of dict, optional
        History rows, oldest first; None leaves the history section out.
    current_key : str, optional
        History key of this run.
    links : dict, optional
        Extra links for the footer, ``{label: relative href}`` (e.g. result.json).
    """
    rec = result.recording or {}
    if source_name is None:
        source_name = Path(str(rec.get("path"))).name if rec.get("path") else "(in-memory recording)"
    o = tables.overview(result)
    splits = tables.minute_splits(result)
    fig = figures.get
    parts = [
        "<!doctype html>\n<html lang='en'><head><meta charset='utf-8'>",
        f"<meta http-equiv='Content-Security-Policy' content=\"{_CSP}\">",
        "<meta name='viewport' content='width=device-width,initial-scale=1'>",
        f"<meta name='generator' content='gait {esc(__version__)}'>",
        f"<title>Cadence report \u2013 {esc(source_name)}</title><style>{_CSS}</style></head><body><main>",
        f"<header class='top'><h1>Cadence report <span class='file'>{esc(source_name)}</span></h1></header>",
        _meta(result, source_name),
        _cards(result, o),
    ]
    if fig("cadence"):
        parts.append(f"<section class='panel' id='cadence-section'><h2>Cadence over time</h2>{_img(fig('cadence'))}</section>")
    if fig("direction_timeline"):
        parts.append(f"<section class='panel' id='timeline-section'><h2>Direction timeline</h2>{_img(fig('direction_timeline'))}</section>")
    left = (f"<section class='panel' id='distribution-section'><h2>Cadence distribution</h2>"
            f"{_img(fig('cadence_distribution')) if fig('cadence_distribution') else ''}"
            f"{_cadence_by(result)}</section>")
    right = f"<section class='panel' id='effort-section'><h2>Effort by direction</h2>{_effort(result, o)}</section>"
    parts.append(f"<div class='cols'>{left}{right}</div>")
    parts.append("<section class='panel' id='splits-section'><h2>Per-minute splits</h2>"
                 + (_img(fig("minute_splits")) if fig("minute_splits") else "")
                 + (_splits_table(splits) if splits else "<p class='note'>No data.</p>") + "</section>")
    parts.append(f"<section class='panel' id='bouts-section'><h2>Bouts</h2>{_bouts_table(result)}</section>")
    parts.append(_history(history_runs, current_key, fig("history_trend")))
    parts.append(f"<section class='panel' id='quality-section'><h2>Data quality</h2>{_quality(result)}</section>")
    info_json = json.dumps(_jsonable(result.info or {}), indent=2, sort_keys=True)
    link_html = " \u00b7 ".join(f"<a href='{esc(h)}'>{esc(k)}</a>" for k, h in (links or {}).items())
    parts.append(
        f"<footer>Made by gait {esc(__version__)} from {esc(source_name)}."
        + (f" Files: {link_html}." if link_html else "")
        + f"<details><summary>How this result was made (analysis info)</summary><pre>{esc(info_json)}</pre></details>"
        "</footer></main></body></html>\n")
    return "".join(parts)


def _jsonable(x: Any) -> Any:
    """NaN/inf -> None, tuples -> lists, unknown objects -> str (for strict JSON)."""
    if isinstance(x, float):
        return x if math.isfinite(x) else None
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if x is None or isinstance(x, (str, int, bool)):
        return x
    try:
        import numpy as np

        if isinstance(x, np.generic):
            return _jsonable(x.item())
        if isinstance(x, np.ndarray):
            return _jsonable(x.tolist())
    except ImportError:  # pragma: no cover
        pass
    return str(x)


def result_json(result: GaitResult) -> str:
    """``result.to_dict()`` as strict JSON (NaN becomes null)."""
    return json.dumps(_jsonable(result.to_dict()), indent=1, allow_nan=False) + "\n"


@dataclass
class ReportFiles:
    """What :func:`write_report` wrote."""

    html: Path
    result_json: Path
    figures: dict[str, list[Path]] = field(default_factory=dict)


def write_report(result: GaitResult, out_dir: str | Path, *, source_name: str | None = None,
                 history_runs: Sequence[dict[str, Any]] | None = None,
                 current_key: str | None = None, dpi: int = 144,
                 extra_links: dict[str, str] | None = None) -> ReportFiles:
    """Write ``report.html``, ``figures/*.png`` + ``*.svg`` and ``result.json`` to ``out_dir``.

    ``extra_links`` (``{label: relative href}``) are added to the footer, e.g. the index page.
    """
    out = Path(out_dir)
    (out / "figures").mkdir(parents=True, exist_ok=True)
    rendered: dict[str, RenderedFigure] = {}
    files: dict[str, list[Path]] = {}
    for name, f in build_figures(result, history_runs=history_runs, current_key=current_key).items():
        r = render_figure(name, f, dpi=dpi)
        rendered[name] = r
        png, svg = out / "figures" / f"{name}.png", out / "figures" / f"{name}.svg"
        png.write_bytes(r.png)
        svg.write_text(r.svg, encoding="utf-8")
        files[name] = [png, svg]
    for name in FIGURES:  # a figure this run has not got must not linger from an earlier one
        if name not in rendered:
            for ext in ("png", "svg"):
                (out / "figures" / f"{name}.{ext}").unlink(missing_ok=True)
    rj = out / "result.json"
    rj.write_text(result_json(result), encoding="utf-8")
    page = render_html(result, rendered, source_name=source_name, history_runs=history_runs,
                       current_key=current_key,
                       links={"result.json": "result.json", "figures/": "figures/",
                              **(extra_links or {})})
    hp = out / "report.html"
    hp.write_text(page, encoding="utf-8")
    return ReportFiles(html=hp, result_json=rj, figures=files)


def render_index(entries: Sequence[dict[str, Any]], *, title: str = "Cadence reports") -> str:
    """An index page linking many reports.

    ``entries``: dicts with ``name`` (shown), ``href`` (relative link to the report) and the
    :func:`gait.report.tables.run_record` fields, or ``error`` for a file that failed.
    """
    rows = []
    for e in entries:
        if e.get("error"):
            rows.append(f"<tr><td class='l'>{esc(e['name'])}</td><td class='l' colspan='6'>"
                        f"<span class='tag err'>failed</span> {esc(e['error'])}</td></tr>")
            continue
        rows.append(
            f"<tr><td class='l'><a href='{esc(e['href'])}'>{esc(e['name'])}</a></td>"
            f"<td class='l'>{esc(fmt_time(e.get('start_time')))}</td>"
            f"<td>{esc(fmt_duration(e.get('duration_s')))}</td><td>{esc(fmt_num(e.get('n_steps')))}</td>"
            f"<td>{esc(fmt_num(e.get('mean_cadence_spm')))}</td>"
            f"<td>{esc(fmt_duration(e.get('backward_s')))}</td>"
            f"<td>{esc(fmt_pct(e.get('backward_share')))}</td></tr>")
    return (
        "<!doctype html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<meta http-equiv='Content-Security-Policy' content=\"{_CSP}\">"
        "<meta name='viewport' content='width=device-width,initial-scale=1'>"
        f"<title>{esc(title)}</title><style>{_CSS}</style></head><body><main>"
        f"<header class='top'><h1>{esc(title)}</h1></header>"
        f"<section class='panel'><table id='index'><thead><tr><th class='l'>Recording</th>"
        "<th class='l'>Start</th><th>Duration</th><th>Steps</th><th>Cadence (steps/min)</th>"
        "<th>Backward time</th><th>Backward share</th></tr></thead><tbody>"
        + "".join(rows) + "</tbody></table></section>"
        f"<footer>Made by gait {esc(__version__)}.</footer></main></body></html>\n")


def write_index(entries: Sequence[dict[str, Any]], out_dir: str | Path) -> Path:
    """Write ``index.html`` linking the reports in ``entries`` (see :func:`render_index`)."""
    p = Path(out_dir) / "index.html"
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(render_index(entries), encoding="utf-8")
    return p
