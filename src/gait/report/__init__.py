"""The per-run cadence report: figures (:mod:`.plots`), tables (:mod:`.tables`), HTML (:mod:`.html`).

Typical use::

    from gait.report import write_report
    files = write_report(result, "out/")      # out/report.html, out/figures/*, out/result.json
"""

from .html import render_html, render_index, write_index, write_report
from .plots import (
    plot_cadence,
    plot_cadence_distribution,
    plot_direction_timeline,
    plot_history_trend,
    plot_minute_splits,
)

__all__ = [
    "plot_cadence",
    "plot_cadence_distribution",
    "plot_direction_timeline",
    "plot_history_trend",
    "plot_minute_splits",
    "render_html",
    "render_index",
    "write_index",
    "write_report",
]
