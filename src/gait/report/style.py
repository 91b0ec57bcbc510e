"""Colours and labels shared by every figure and the HTML report.

Direction colours come from the Okabe-Ito palette (safe for the common colour-vision
deficiencies): forward is blue, backward is vermillion, unknown is grey. Every figure and the
HTML use these same values, so a colour means the same thing everywhere.
"""

from __future__ import annotations

#: Colour of each step direction (Okabe-Ito blue / vermillion, neutral grey).
DIRECTION_COLORS: dict[str, str] = {
    "forward": "#0072B2",
    "backward": "#D55E00",
    "unknown": "#7F7F7F",
}
#: Order in which directions are drawn and listed.
DIRECTION_ORDER: tuple[str, ...] = ("forward", "backward", "unknown")
DIRECTION_LABELS: dict[str, str] = {"forward": "Forward", "backward": "Backward", "unknown": "Unknown"}

#: Shading of bouts by activity (greys, so they never compete with the direction colours).
ACTIVITY_COLORS: dict[str, str] = {"run": "#4D4D4D", "walk": "#A6A6A6", "other": "#D9D9D9"}
ACTIVITY_ORDER: tuple[str, ...] = ("run", "walk", "other")
ACTIVITY_LABELS: dict[str, str] = {"run": "Run", "walk": "Walk", "other": "Other"}

#: Colour of neutral series (history cadence line, text).
INK = "#222222"
MUTED = "#6B6B6B"
GRID = "#E3E3E3"


def direction_color(direction: str) -> str:
    """Colour of ``direction`` (unknown values get the 'unknown' grey)."""
    return DIRECTION_COLORS.get(direction, DIRECTION_COLORS["unknown"])


def activity_color(activity: str) -> str:
    """Shade of ``activity`` (unknown values get the 'other' shade)."""
    return ACTIVITY_COLORS.get(activity, ACTIVITY_COLORS["other"])
