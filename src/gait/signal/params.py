"""Analysis parameters: one dataclass that round-trips through JSON (``info["parameters"]``)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

from ..errors import GaitError


@dataclass(frozen=True)
class AnalysisParams:
    """Every tunable of the step / bout / cadence pipeline (units in the names).

    The defaults are the ones benchmarked in ``docs/benchmarks.md``.
    """

    #: The stream is block-averaged by floor(fs_hz / analysis_rate_hz) before step detection, Hz.
    analysis_rate_hz: float = 25.0
    #: Frame hop: steps are decided one frame at a time, s.
    hop_s: float = 1.0
    #: Context before / after each frame that its decisions may use, s. Latency <= hop + lookahead.
    lookback_s: float = 3.0
    lookahead_s: float = 0.5
    #: Where a run of valid samples starts inside a frame's context window (the start of the
    #: stream, or after a gap), 1 analyses the run in a row of the full context length
    #: (lookback_s + hop_s + lookahead_s) from its start, as a run that ends inside the window
    #: always is (from its end backwards). The steps of the run's first lookback_s + hop_s +
    #: lookahead_s then wait for those samples: up to 3 s more latency than latency_bound_s for
    #: a stream or gap that starts in motion. 0: the row ends where the frame's context does.
    run_start_full_row: int = 0
    #: A frame that found no step of its own after livelier gait (a run that has just turned
    #: into a walk) is analysed from its recent part alone: when the standard deviation of the
    #: vertical acceleration over the context's first lookback_s + hop_s + lookahead_s -
    #: recent_window_s exceeds recent_calm_ratio times that over its last recent_window_s, and
    #: the latter is still at least recent_min_sd_m_s2 (gait, not a stop), the frame's steps
    #: come from a row of its last recent_window_s (step period and peak threshold of the
    #: slower gait, not of the run before it). 0 turns this off.
    recent_calm_ratio: float = 3.0
    recent_window_s: float = 2.5
    recent_min_sd_m_s2: float = 0.2
    #: Cadence range searched, steps/min.
    min_cadence_spm: float = 50.0
    max_cadence_spm: float = 230.0
    #: The autocorrelation for the step period ignores power below this frequency (drift), Hz.
    acf_highpass_hz: float = 0.5
    #: A stride-length autocorrelation peak is read as two steps when the autocorrelation near
    #: half its lag reaches this fraction of it.
    half_lag_ratio: float = 0.35
    #: Step-frequency band kept for peak picking, as multiples of the estimated step frequency.
    lowpass_factor: float = 1.6
    highpass_factor: float = 0.45
    #: Smallest accepted peak of the band-limited vertical acceleration, m/s^2.
    min_peak_m_s2: float = 0.3
    #: A peak must reach this fraction of the frame's largest band-limited peak.
    rel_peak: float = 0.2
    #: Frames whose autocorrelation at the step period is below this give no steps.
    min_rhythm: float = 0.0
    #: Peaks closer than this fraction of the step period compete (the higher one wins).
    min_interval_frac: float = 0.6
    #: Steps between two humps that lie gapfill_min_ratio .. gapfill_max_ratio step periods
    #: apart are inferred (gapfill_max_ratio 0: never), in windows whose rhythm reaches
    #: gapfill_min_rhythm, at cadences up to gapfill_max_cadence_spm. A frame may report such
    #: a step up to gapfill_back_s before its own region (the frame that sees both humps is
    #: often a later one), if nothing was reported after it yet. Inferred steps never confirm
    #: a bout (the pace check needs humps).
    gapfill_min_ratio: float = 1.6
    gapfill_max_ratio: float = 3.4
    gapfill_min_rhythm: float = 0.25
    gapfill_max_cadence_spm: float = 130.0
    gapfill_back_s: float = 1.5
    gapfill_min_jerk_frac: float = 0.5
    #: Vertical jerk (for the initial-contact time) is band-limited at this frequency, Hz.
    jerk_lowpass_hz: float = 6.0
    #: The jerk has notches at the odd harmonics of the stride frequency (0.5, 1.5, 2.5 ...
    #: times the step frequency), Gaussian with this s.d. as a fraction of the step frequency
    #: (0: no notches). The left/right-alternating part of a hip signal (pelvic roll seen by an
    #: off-centre sensor) lies there and otherwise moves the jerk maximum of every other step.
    jerk_stride_notch: float = 0.05
    #: Weight of a falling vertical jerk in the jerk norm (1: the plain norm; 0: only rising).
    jerk_fall_weight: float = 0.65
    #: The initial contact is searched this many step periods before the hump's peak.
    ic_search_frac: float = 0.35
    #: ... and up to this many step periods after it.
    ic_search_after_frac: float = 0.1
    #: Initial contact = time of the jerk maximum - ic_lag_s (steps of unknown or forward
    #: direction) or - ic_lag_backward_s (steps the direction stage calls backward). Learnt as
    #: the median timing error on the dev data: forward on mocap_bn2, backward on mocap_bn1;
    #: checked on the other folders (docs/benchmarks.md).
    ic_lag_s: float = 0.016
    ic_lag_backward_s: float = 0.032
    #: Backward walking: the initial contact is where the forward acceleration has a sharp
    #: minimum (the dev data's backward walks, every style: see docs/algorithms.md), searched
    #: from back_ic_before_frac step periods before the jerk-based contact to back_ic_after_frac
    #: after it, on the forward axis smoothed over 50 ms; "sharp" = the minimum lies at least
    #: back_ic_min_sharpness x the search window's range below the mean of the values 80 ms
    #: either side. Contact = that minimum + back_ic_offset_s. Only for steps the direction
    #: stage calls backward, at cadences up to back_ic_max_cadence_spm (backward running lands
    #: on the forefoot: no such minimum), when the stage knows the forward axis; otherwise, or
    #: when back_ic_refine is 0, the constant ic_lag_backward_s applies.
    back_ic_refine: int = 1
    back_ic_before_frac: float = 0.4
    back_ic_after_frac: float = 0.15
    back_ic_min_sharpness: float = 0.15
    back_ic_offset_s: float = 0.03
    back_ic_max_cadence_spm: float = 130.0
    #: Step frequency used when the frame shows no clear rhythm, Hz.
    default_step_hz: float = 1.8
    #: Bouts: at least this many steps, consecutive steps closer than
    #: min(bout_max_gap_factor * median interval, bout_max_gap_s).
    bout_min_steps: int = 4
    bout_max_gap_factor: float = 2.5
    bout_max_gap_s: float = 2.0
    #: A run becomes a bout only once its last bout_min_steps steps are evenly paced (longest
    #: interval at most this many times the shortest) or at least half of them follow a flight
    #: phase (see run_min_vertical_g); 0: no check. Runs of bout_min_steps or more steps that
    #: never pass (hops, shuffles, gestures while standing) give no steps.
    bout_max_interval_ratio: float = 1.9
    #: ... and of similar strength: highest band-limited hump at most this many times the lowest.
    bout_max_amp_ratio: float = 4.0
    #: A bout ends where this many consecutive steps change activity (walk/run) or direction.
    bout_split_steps: int = 3
    #: Steps of runs shorter than this many steps are dropped as non-gait (1 keeps every step).
    min_run_steps: int = 4
    #: Running: cadence at least this and vertical acceleration down to -run_min_vertical_g * g.
    run_min_cadence_spm: float = 135.0
    run_min_vertical_g: float = 0.6
    #: Half-width of the signal window handed to the direction stage per step, s.
    direction_window_s: float = 1.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any] | None) -> "AnalysisParams":
        if not d:
            return cls()
        known = {f.name: f for f in fields(cls)}
        unknown = sorted(set(d) - set(known))
        if unknown:
            raise GaitError(f"unknown analysis parameter(s): {', '.join(unknown)}")
        kw = {}
        for k, v in d.items():
            typ = int if known[k].type in ("int", int) else float
            try:
                kw[k] = typ(v)
            except (TypeError, ValueError):
                raise GaitError(f"analysis parameter {k}: expected a number, got {v!r}") from None
        return cls(**kw)

    def validate(self) -> "AnalysisParams":
        if not (0 < self.min_cadence_spm < self.max_cadence_spm):
            raise GaitError("min_cadence_spm must be positive and below max_cadence_spm")
        if self.hop_s <= 0 or self.lookback_s < 0 or self.lookahead_s < 0:
            raise GaitError("hop_s must be positive; lookback_s and lookahead_s non-negative")
        if self.bout_min_steps < 2:
            raise GaitError("bout_min_steps must be at least 2")
        if self.bout_split_steps < 1:
            raise GaitError("bout_split_steps must be at least 1")
        return self
