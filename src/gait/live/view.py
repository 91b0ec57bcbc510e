"""The live terminal view (rich): elapsed time, steps, cadence, direction, loss, connection."""

from __future__ import annotations

import math
from typing import Any

from rich.console import Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from .session import LiveState

_DIR_STYLE = {"forward": "bold green", "backward": "bold magenta", "unknown": "dim"}
_CONN_STYLE = {"streaming": "green", "replaying": "green", "reconnecting": "bold red", "scanning": "yellow",
               "connecting": "yellow", "finished": "cyan", "stopped": "cyan", "stopping": "cyan"}


def _elapsed(t_s: float) -> str:
    m, s = divmod(max(0.0, t_s), 60.0)
    h, m = divmod(int(m), 60)
    return f"{h:d}:{m:02d}:{s:04.1f}"


def render(state: LiveState, *, title: str = "gait live") -> Any:
    """A renderable of the current state (pure: reads ``state`` only)."""
    t = Table.grid(padding=(0, 2))
    t.add_column(justify="right", style="bold")
    t.add_column()
    cad = "-" if not math.isfinite(state.cadence_spm) else f"{state.cadence_spm:.0f} steps/min"
    t.add_row("elapsed", _elapsed(state.t_s))
    t.add_row("steps", Text(str(state.n_steps), style="bold"))
    t.add_row("cadence", cad)
    t.add_row("direction", Text(state.direction, style=_DIR_STYLE.get(state.direction, "")))
    t.add_row("activity", state.activity)
    loss = f"{100.0 * state.loss_fraction:.1f} %  ({state.n_lost_samples} samples lost"
    loss += f", {state.n_rejected} bad packets)" if state.n_rejected else ")"
    t.add_row("packet loss", loss)
    conn = Text(state.connection, style=_CONN_STYLE.get(state.connection, ""))
    if state.n_reconnects or state.n_restarts:
        conn.append(f"  ({state.n_reconnects} reconnects, {state.n_restarts} firmware restarts)", style="dim")
    t.add_row("connection", conn)
    t.add_row("device", state.device or "-")
    if state.recording:
        t.add_row("recording", state.recording)
    if state.analyzer_lag_s > 3.0:
        t.add_row("analyzer", Text(f"{state.analyzer_lag_s:.1f} s behind (recording is not affected)",
                                   style="yellow"))
    hint = "Ctrl-C stops and saves" if state.recording else "Ctrl-C stops"
    foot = Text(hint if not state.finished else "finished", style="dim")
    return Panel(Group(t, foot), title=title, expand=False)
