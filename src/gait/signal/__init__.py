"""Pure signal processing: preprocessing, steps, bouts, cadence, summary (numpy/scipy only)."""

from .params import AnalysisParams

__all__ = ["AnalysisParams"]
