"""Figures of a finished :class:`~gait.types.GaitResult`.

Every function takes a finished result (or history rows), draws on ``ax`` (a new figure when
``ax`` is None) and returns the Axes. They compute no statistics: what is drawn is what the
result holds (step times, per-step cadence, bouts), or a table from :mod:`gait.report.tables`.

Time axes are in minutes (ticks labelled ``m:ss``). Colours come from :mod:`gait.report.style`,
the same in every figure and in the HTML: forward blue, backward vermillion, unknown grey.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import numpy as np

from ..types import GaitResult
from . import tables
from .style import (
    ACTIVITY_LABELS,
    ACTIVITY_ORDER,
    DIRECTION_COLORS,
    DIRECTION_LABELS,
    DIRECTION_ORDER,
    GRID,
    INK,
    MUTED,
    activity_color,
    direction_color,
)

__all__ = [
    "plot_cadence",
    "plot_cadence_distribution",
    "plot_direction_timeline",
    "plot_minute_splits",
    "plot_history_trend",
    "mmss",
]

_RC = {
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "axes.edgecolor": "#888888",
    "axes.labelcolor": INK,
    "xtick.color": "#444444",
    "ytick.color": "#444444",
    "axes.spines.top": False,
    "axes.spines.right": False,
}


def _new_axes(ax, figsize):
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    with plt.rc_context(_RC):
        fig, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


def _style(ax) -> None:
    ax.spines["top"].set_visible(False)
    ax.spines["right"].set_visible(False)
    ax.spines["left"].set_color("#888888")
    ax.spines["bottom"].set_color("#888888")
    ax.tick_params(colors="#444444", labelsize=9)
    ax.set_axisbelow(True)


def mmss(minutes: float, _pos: Any = None) -> str:
    """Tick label ``m:ss`` for a time in minutes (``1.5`` -> ``"1:30"``)."""
    if not math.isfinite(minutes):
        return ""
    total = int(round(minutes * 60.0))
    sign = "-" if total < 0 else ""
    total = abs(total)
    if total >= 3600:
        return f"{sign}{total // 3600}:{(total % 3600) // 60:02d}:{total % 60:02d}"
    return f"{sign}{total // 60}:{total % 60:02d}"


def _time_axis(ax, t_end_s: float | None) -> None:
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(nbins=10, steps=[1, 2, 2.5, 5, 10]))
    ax.xaxis.set_major_formatter(FuncFormatter(mmss))
    ax.set_xlabel("Time (min:s)")
    if t_end_s and t_end_s > 0:
        ax.set_xlim(0.0, t_end_s / 60.0)


def _end_s(result: GaitResult) -> float | None:
    d = (result.recording or {}).get("duration_s")
    ends = [b.end_s for b in result.bouts] + [s.t_s for s in result.steps]
    cand = [float(d)] if isinstance(d, (int, float)) and math.isfinite(d) else []
    cand += [max(ends)] if ends else []
    return max(cand) if cand else None


def _shade_bouts(ax, result: GaitResult, *, label: bool = True) -> None:
    seen = set()
    for b in result.bouts:
        lab = None
        if label and b.activity not in seen:
            lab = f"{ACTIVITY_LABELS.get(b.activity, b.activity)} bout"
            seen.add(b.activity)
        ax.axvspan(b.start_s / 60.0, b.end_s / 60.0, color=activity_color(b.activity),
                   alpha=0.2, lw=0, zorder=0, label=lab,
                   gid=f"bout-{b.id}")


def plot_cadence(result: GaitResult, *, ax=None, show_bouts: bool = True,
                 show_bout_means: bool = True):
    """Cadence over time: one dot per step at its ``cadence_spm``, coloured by direction.

    Parameters
    ----------
    result : GaitResult
        A finished result.
    ax : matplotlib Axes, optional
        Where to draw; a new figure when None.
    show_bouts : bool
        Shade each bout (darker for running than walking).
    show_bout_means : bool
        Draw each bout's ``cadence_spm`` as a horizontal line across the bout.

    Returns
    -------
    Axes
        One scatter collection per direction present (``gid='steps-<direction>'``, x = step
        time in minutes, y = ``cadence_spm``); steps without a cadence (the first step of each
        bout) are not drawn.
    """
    ax = _new_axes(ax, (10, 3.6))
    _style(ax)
    if show_bouts:
        _shade_bouts(ax, result)
    for d in DIRECTION_ORDER:
        pts = [(s.t_s, s.cadence_spm) for s in result.steps
               if (s.direction if s.direction in DIRECTION_COLORS else "unknown") == d
               and math.isfinite(s.cadence_spm)]
        if not pts:
            continue
        x = np.array([p[0] for p in pts]) / 60.0
        y = np.array([p[1] for p in pts])
        ax.scatter(x, y, s=9, color=direction_color(d), alpha=0.85, linewidths=0, zorder=3,
                   label=f"{DIRECTION_LABELS[d]} step", gid=f"steps-{d}")
    if show_bout_means:
        for b in result.bouts:
            if math.isfinite(b.cadence_spm):
                ax.hlines(b.cadence_spm, b.start_s / 60.0, b.end_s / 60.0, colors=INK,
                          linewidths=1.2, alpha=0.7, zorder=4, gid=f"bout-mean-{b.id}")
    _time_axis(ax, _end_s(result))
    ax.set_ylabel("Cadence (steps/min)")
    ax.grid(axis="y", color=GRID, lw=0.8)
    ys = [s.cadence_spm for s in result.steps if math.isfinite(s.cadence_spm)]
    if ys:
        # robust view limits; steps outside them are marked at the edge (gid 'clipped-<dir>')
        lo, hi = float(np.percentile(ys, 1.0)), float(np.percentile(ys, 99.0))
        pad = max(8.0, 0.12 * (hi - lo))
        y0, y1 = max(0.0, lo - pad), hi + pad
        ax.set_ylim(y0, y1)
        for d in DIRECTION_ORDER:
            out = [(s.t_s / 60.0, y1 if s.cadence_spm > y1 else y0) for s in result.steps
                   if (s.direction if s.direction in DIRECTION_COLORS else "unknown") == d
                   and math.isfinite(s.cadence_spm) and not (y0 <= s.cadence_spm <= y1)]
            if out:
                xo, yo = np.array(out).T
                ax.scatter(xo, yo, s=16, marker="^" if yo[0] >= y1 else "v",
                           color=direction_color(d), alpha=0.9, linewidths=0, zorder=3,
                           clip_on=False, gid=f"clipped-{d}")
    else:
        ax.text(0.5, 0.5, "No steps detected", transform=ax.transAxes, ha="center",
                va="center", color=MUTED)
        ax.set_yticks([])
    handles, labels = ax.get_legend_handles_labels()
    if show_bout_means and any(math.isfinite(b.cadence_spm) for b in result.bouts):
        from matplotlib.lines import Line2D

        handles.append(Line2D([], [], color=INK, lw=1.2, alpha=0.7))
        labels.append("Bout mean")
    if handles:
        ax.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, -0.2),
                  ncol=len(handles), frameon=False, fontsize=9, markerscale=1.8)
    return ax


def plot_cadence_distribution(result: GaitResult, *, ax=None, bin_spm: float = 2.0):
    """Histogram of per-step cadence, one outline-and-fill histogram per direction.

    Bins are ``bin_spm`` wide on a grid aligned to multiples of ``bin_spm``. Each direction's
    patches have ``gid='hist-<direction>'``.
    """
    ax = _new_axes(ax, (5, 3.4))
    _style(ax)
    vals = {d: np.array([s.cadence_spm for s in result.steps
                         if (s.direction if s.direction in DIRECTION_COLORS else "unknown") == d
                         and math.isfinite(s.cadence_spm)]) for d in DIRECTION_ORDER}
    allv = np.concatenate([v for v in vals.values()]) if result.steps else np.array([])
    if allv.size == 0:
        ax.text(0.5, 0.5, "No cadence to show", transform=ax.transAxes, ha="center",
                va="center", color=MUTED)
        ax.set_yticks([])
        ax.set_xlabel("Cadence (steps/min)")
        ax.set_ylabel("Steps")
        return ax
    lo = math.floor(np.percentile(allv, 1.0) / bin_spm) * bin_spm
    hi = math.ceil(np.percentile(allv, 99.0) / bin_spm) * bin_spm + bin_spm
    bins = np.arange(lo, hi + bin_spm / 2, bin_spm)
    for d in DIRECTION_ORDER:
        v = vals[d]
        if v.size == 0:
            continue
        c = direction_color(d)
        _, _, patches = ax.hist(np.clip(v, bins[0], bins[-1] - 1e-9), bins=bins, color=c,
                                alpha=0.35, label=f"{DIRECTION_LABELS[d]} ({v.size} steps)")
        for p in patches:
            p.set_gid(f"hist-{d}")
        ax.hist(np.clip(v, bins[0], bins[-1] - 1e-9), bins=bins, histtype="step", color=c, lw=1.4)
    ax.set_xlabel("Cadence (steps/min)")
    ax.set_ylabel("Steps")
    ax.grid(axis="y", color=GRID, lw=0.8)
    ax.legend(frameon=False, fontsize=9)
    return ax


def plot_direction_timeline(result: GaitResult, *, ax=None):
    """Direction and activity over time as two lanes of bars.

    Top lane: stretches of constant step direction inside bouts
    (:func:`gait.report.tables.direction_segments`), coloured by direction
    (``gid='direction-<direction>'``). Bottom lane: bouts coloured by activity
    (``gid='activity-<activity>'``).
    """
    ax = _new_axes(ax, (10, 1.9))
    _style(ax)
    ax.spines["left"].set_visible(False)
    segs = tables.direction_segments(result)
    for d in DIRECTION_ORDER:
        xr = [(s.start_s / 60.0, (s.end_s - s.start_s) / 60.0) for s in segs if s.direction == d]
        if xr:
            ax.broken_barh(xr, (1.1, 0.8), facecolors=direction_color(d), edgecolor="none",
                           label=DIRECTION_LABELS[d], gid=f"direction-{d}")
    for a in ACTIVITY_ORDER:
        xr = [(b.start_s / 60.0, b.duration_s / 60.0) for b in result.bouts if b.activity == a]
        if xr:
            ax.broken_barh(xr, (0.1, 0.8), facecolors=activity_color(a), edgecolor="none",
                           label=ACTIVITY_LABELS[a], gid=f"activity-{a}")
    ax.set_ylim(0, 2)
    ax.set_yticks([0.5, 1.5], ["Activity", "Direction"])
    ax.tick_params(axis="y", length=0)
    _time_axis(ax, _end_s(result))
    if not result.bouts:
        ax.text(0.5, 0.5, "No bouts detected", transform=ax.transAxes, ha="center",
                va="center", color=MUTED)
    handles, labels = ax.get_legend_handles_labels()
    if handles:
        ax.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, -0.42),
                  ncol=len(handles), frameon=False, fontsize=9)
    return ax


def plot_minute_splits(splits: Sequence[tables.Split], *, ax=None):
    """Steps per minute split, stacked by direction, with the split cadence on a second axis.

    Takes the rows of :func:`gait.report.tables.minute_splits`. Bars have
    ``gid='split-<direction>'``; the cadence line has ``gid='split-cadence'`` and lives on
    ``ax.right_axis``.
    """
    ax = _new_axes(ax, (10, 2.8))
    _style(ax)
    x = np.array([s.index for s in splits], dtype=float)
    bottom = np.zeros(len(splits))
    for d in DIRECTION_ORDER:
        h = np.array([getattr(s, d) for s in splits], dtype=float)
        if h.sum() == 0:
            continue
        bars = ax.bar(x, h, bottom=bottom, width=0.72, color=direction_color(d),
                      label=f"{DIRECTION_LABELS[d]} steps")
        for p in bars:
            p.set_gid(f"split-{d}")
        bottom += h
    ax.set_xlabel("Minute")
    ax.set_ylabel("Steps")
    ax.grid(axis="y", color=GRID, lw=0.8)
    cad = np.array([s.cadence_spm for s in splits], dtype=float)
    if np.isfinite(cad).any():
        ax2 = ax.twinx()
        ax2.plot(x, cad, color=INK, marker="o", ms=4, lw=1.2, label="Cadence", gid="split-cadence")
        ax2.set_ylabel("Cadence (steps/min)")
        ax2.spines["top"].set_visible(False)
        ax2.tick_params(colors="#444444", labelsize=9)
        lo, hi = np.nanmin(cad), np.nanmax(cad)
        pad = max(5.0, 0.1 * (hi - lo))
        ax2.set_ylim(max(0.0, lo - pad), hi + pad)
        ax.right_axis = ax2
        h1, l1 = ax.get_legend_handles_labels()
        h2, l2 = ax2.get_legend_handles_labels()
        ax.legend(h1 + h2, l1 + l2, loc="upper center", bbox_to_anchor=(0.5, -0.25),
                  ncol=len(h1 + h2), frameon=False, fontsize=9)
    if len(splits):  # after twinx, which shares (and would reset) the x axis
        from matplotlib.ticker import MaxNLocator

        ax.set_xlim(0.4, len(splits) + 0.6)
        if len(splits) <= 30:
            ax.set_xticks(x)
        else:
            ax.xaxis.set_major_locator(MaxNLocator(integer=True, nbins=20))
    return ax


def _run_time(row: dict[str, Any]) -> datetime | None:
    for key in ("start_time", "reported_at"):
        v = row.get(key)
        if v:
            try:
                return datetime.fromisoformat(str(v))
            except ValueError:
                continue
    return None


def plot_history_trend(runs: Sequence[dict[str, Any]], *, ax=None, current_key: str | None = None):
    """This run against earlier runs: mean cadence (line) and backward share (bars).

    Parameters
    ----------
    runs : sequence of dict
        History rows (:meth:`gait.history.History.runs`), oldest first; each has
        ``mean_cadence_spm``, ``backward_share`` (0..1 or None) and ``key``.
    ax : Axes, optional
    current_key : str, optional
        Key of the run this report is about; drawn larger and labelled "this run".

    Returns
    -------
    Axes
        x = run number (1 = oldest). The cadence line has ``gid='history-cadence'``; the
        backward-share bars (``gid='history-backward'``) are on ``ax.right_axis`` in percent.
    """
    ax = _new_axes(ax, (10, 2.8))
    _style(ax)
    n = len(runs)
    x = np.arange(1, n + 1, dtype=float)
    share = np.array([np.nan if r.get("backward_share") is None else 100.0 * r["backward_share"]
                      for r in runs], dtype=float)
    cad = np.array([np.nan if r.get("mean_cadence_spm") is None else r["mean_cadence_spm"]
                    for r in runs], dtype=float)
    ax2 = ax.twinx()
    ax2.spines["top"].set_visible(False)
    ax2.tick_params(colors=DIRECTION_COLORS["backward"], labelsize=9)
    bars = ax2.bar(x, np.nan_to_num(share), width=0.6, color=DIRECTION_COLORS["backward"],
                   alpha=0.35, label="Backward share of steps (%)")
    for p in bars:
        p.set_gid("history-backward")
    ax2.set_ylabel("Backward steps (%)", color=DIRECTION_COLORS["backward"])
    top = np.nanmax(share) if np.isfinite(share).any() else 0.0
    ax2.set_ylim(0, max(10.0, 1.15 * top))
    ax.set_zorder(ax2.get_zorder() + 1)
    ax.patch.set_visible(False)
    ax.plot(x, cad, color=INK, marker="o", ms=5, lw=1.4, label="Mean cadence", gid="history-cadence")
    if current_key is not None:
        idx = [i for i, r in enumerate(runs) if r.get("key") == current_key]
        if idx and math.isfinite(cad[idx[0]]):
            i = idx[0]
            ax.plot([x[i]], [cad[i]], marker="o", ms=11, mfc="none", mec=INK, mew=1.6,
                    ls="none", gid="history-current")
            ax.annotate("this run", (x[i], cad[i]), xytext=(0, 10), textcoords="offset points",
                        ha="center", fontsize=9, color=INK)
    ax.set_xlabel("Run (oldest first)")
    ax.set_ylabel("Mean cadence (steps/min)")
    ax.grid(axis="y", color=GRID, lw=0.8)
    if n:
        from matplotlib.ticker import MaxNLocator

        ax.set_xlim(0.4, n + 0.6)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True, nbins=15))
        if np.isfinite(cad).any():
            lo, hi = np.nanmin(cad), np.nanmax(cad)
            pad = max(5.0, 0.15 * (hi - lo))
            ax.set_ylim(max(0.0, lo - pad), hi + 1.5 * pad)
        labels = []
        for r in runs:
            t = _run_time(r)
            labels.append("" if t is None else t.strftime("%d %b"))
        if n <= 12 and any(labels):
            ax.set_xticks(x, [f"{i}\n{lab}" for i, lab in zip(range(1, n + 1), labels)])
    ax.right_axis = ax2
    h1, l1 = ax.get_legend_handles_labels()
    h2, l2 = ax2.get_legend_handles_labels()
    ax.legend(h1 + h2, l1 + l2, loc="lower left", bbox_to_anchor=(0.0, 1.0), frameon=False,
              fontsize=9, ncol=2)
    return ax
