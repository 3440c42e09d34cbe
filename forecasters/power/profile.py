"""Measure a job's square wave from a real GPU power log, the extraction behind ``dcsim profile LOG.csv``.

The power models predict a square wave per job; a measured log is how a user checks or calibrates them. A real
log is not a clean wave: samples go missing, readings are noisy, the job ramps up, and the GPU idles before and
after it. So the extraction resamples onto a uniform grid (gaps stay unknown), splits power into two levels
(k-means, then again over the active stretch alone so idle cannot pull the threshold), labels samples with
hysteresis, keeps only peaks and valleys whose both ends were observed, and averages them over epochs with
outliers dropped. Real valleys are irregular (short synchronisation dips, now and then a long checkpoint), so
every one of the four numbers is also reported as median, spread and count over all epochs, and valleys that
clearly come in two kinds are reported per kind. It refuses (:class:`NoPeriodicPattern`) only a log with no
two-level structure: levels not clearly apart, power lingering between them, or fewer than two periods.
"""


from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import NoReturn

import numpy as np

from forecasters.power.power_log import read_power_log, sorted_unique
from simulator.common.errors import UserError

GAP_SAMPLES = 5
"""Up to this many missing samples in a row are interpolated; a longer stretch is unknown (half an interval
of slack absorbs jitter and timestamps rounded to the millisecond)."""
HYSTERESIS = 0.25
"""Power must pass the mid threshold by this fraction of the level step to switch level: noise cannot chatter."""
MIN_SEGMENT_SAMPLES = 3
"""A level held for fewer samples is a spike, not a peak or valley; 3 still keeps a 6-s valley sampled at 2 s."""
EDGE_INTERVALS = 1.5
EDGE_FRACTION = 0.1
"""A level is read away from its segment's edges (this many intervals, or this fraction of it, whichever is
longer), where power is still moving between levels."""
MIN_PERIODS = 2
"""One period could be a coincidence; two are a pattern (irregular ones too: their spread is reported)."""
KIND_RATIO = 2.0
KIND_GAP_SPREADS = 4.0
KIND_MIN_COUNT = 2
"""Valleys are of two kinds when, sorted by duration, the shortest of the long ones lasts at least KIND_RATIO
times the longest of the short ones, that gap (in log duration) is KIND_GAP_SPREADS times the spread within
either kind, and each kind has KIND_MIN_COUNT valleys: a checkpoint every few epochs, not the jitter of one
valley length, and not one stall (an outlier, which the wave's means leave out)."""
MAX_TIME_BETWEEN_LEVELS = 0.15
"""Share of its time a square wave may spend in the middle half between its levels (on its edges); a sine
spends over 20% there."""
MIN_STEP_TO_NOISE = 4.0
MIN_RELATIVE_STEP = 0.1
"""Peak minus valley must exceed this many noise standard deviations and this fraction of the peak: k-means
splits even pure noise into two 'levels', about 1.5 noise deviations apart."""
OUTLIER_MADS = 3.0
"""An epoch further than this many scaled median absolute deviations from the median is left out of averages."""


class NoPeriodicPattern(UserError):
    """The log has no repeating peak/valley pattern, so there is no square wave to report."""


@dataclass(frozen=True)
class Spread:
    """One of the four numbers over every epoch it was measured in, outliers included."""

    median: float
    spread: float  # 1.4826 x the median absolute deviation: a standard deviation that outliers do not inflate
    count: int

    @classmethod
    def of(cls, values: np.ndarray) -> Spread:
        median = float(np.median(values))
        return cls(median, 1.4826 * float(np.median(np.abs(values - median))), int(values.size))


@dataclass(frozen=True)
class ValleyKind:
    """Valleys of one kind (``short``: synchronisation dips; ``long``: checkpoints, evaluation)."""

    name: str
    duration_s: Spread
    power_w: Spread
    share: float  # of all complete valleys


@dataclass(frozen=True)
class WaveProfile:
    """A measured square wave per GPU, with the spread (standard deviation) across the epochs it came from.

    ``epochs`` counts the complete periods (valley start to next valley start) found. The four numbers of the
    wave and their ``_std`` are means and standard deviations that leave out each quantity's outlying epochs,
    so one long checkpoint does not widen every spread; where the valleys come in two kinds the wave's valley
    is instead the mean over both, so that one wave per job keeps the log's epoch rate and energy, and
    ``valley_kinds`` says how they split. ``peak_power`` ... ``valley_duration`` describe every epoch.
    """

    peak_power_w: float
    peak_duration_s: float
    valley_power_w: float
    valley_duration_s: float
    peak_power_std_w: float
    peak_duration_std_s: float
    valley_power_std_w: float
    valley_duration_std_s: float
    period_s: float
    epochs: int
    peak_power: Spread
    peak_duration: Spread
    valley_power: Spread
    valley_duration: Spread
    valley_kinds: tuple[ValleyKind, ...] = ()  # empty unless the valleys clearly come in two kinds

    def to_dict(self) -> dict:
        """Plain numbers by field name (each :class:`Spread` as a dict), for JSON output and tables."""
        return asdict(self)


def profile_log(path: Path, time_col: str | None = None, power_col: Sequence[str] | str | None = None,
                ) -> dict[str, WaveProfile]:
    """The square wave of every GPU of a log; a GPU without one stops the whole profile, named in the error.
    ``time_col`` and ``power_col`` pick the columns where the header is ambiguous (:func:`read_power_log`)."""
    return {key: extract_square_wave(t, p, source=f"{path}: GPU {key}")
            for key, (t, p) in read_power_log(path, time_col, power_col).items()}


def extract_square_wave(t: np.ndarray, p: np.ndarray, source: str = "log") -> WaveProfile:
    """The square wave in samples ``p`` (W) at times ``t`` (s), or :class:`NoPeriodicPattern`.

    Only peaks and valleys with both ends observed count; the first and last peak of the log never do, since a
    job starts with a ramp and a log may stop mid-epoch, and low power outside them is idle, not valley.
    """
    t, p = np.asarray(t, dtype=float), np.asarray(p, dtype=float)
    finite = np.isfinite(t) & np.isfinite(p)
    t, p = sorted_unique(t[finite], p[finite])
    if t.size < 4 * MIN_SEGMENT_SAMPLES:  # not even two peaks and two valleys of the shortest length
        _refuse(source, f"only {t.size} samples")
    dt = float(np.median(np.diff(t)))
    grid_t, g = _resample(t, p, dt)
    runs, low, high, active = _segment(grid_t, g, source)
    peaks, valleys = runs.complete(1), runs.complete(0)
    edges = _edge_times(grid_t, g, (low + high) / 2, runs, dt)
    peak_w, peak_res = _levels(t, p, edges[peaks], edges[peaks + 1], dt)
    valley_w, valley_res = _levels(t, p, edges[valleys], edges[valleys + 1], dt)
    _check_separation(source, float(np.median(peak_w)), float(np.median(valley_w)),
                      np.concatenate([peak_res, valley_res]), grid_t[[active.start, active.stop - 1]])
    _check_two_levels(source, g[runs.starts[valleys[0]]:runs.stops[valleys[-1]]], low, high)
    periods = _periods(edges, valleys)
    if periods.size < MIN_PERIODS:
        _refuse(source, f"found {periods.size} complete peak+valley period(s); need at least {MIN_PERIODS}")
    return _profile(peak_w, edges[peaks + 1] - edges[peaks], valley_w, edges[valleys + 1] - edges[valleys],
                    periods, dt)


def _refuse(source: str, found: str) -> NoReturn:
    raise NoPeriodicPattern(f"{source}: no periodic peak/valley pattern: {found}")


def _resample(t: np.ndarray, p: np.ndarray, dt: float) -> tuple[np.ndarray, np.ndarray]:
    """Power on a uniform grid at the median interval, so a run's length in samples is its duration; NaN
    inside gaps, so no level is invented across a stretch nobody measured."""
    grid_t = t[0] + dt * np.arange(int(math.floor((t[-1] - t[0]) / dt)) + 1)
    g = np.interp(grid_t, t, p)
    after = np.clip(np.searchsorted(t, grid_t, side="right"), 1, t.size - 1)
    in_gap = (t[after] - t[after - 1] > (GAP_SAMPLES + 1.5) * dt) & (grid_t > t[after - 1])
    g[in_gap] = np.nan
    return grid_t, g


def _segment(grid_t: np.ndarray, g: np.ndarray, source: str) -> tuple[_Runs, float, float, slice]:
    """Peak and valley runs, their levels, and the active stretch (first peak to last, not counting spikes at
    the log's edges, where they are not dropped) the levels come from.

    Two passes: levels over the whole log find the active stretch, then levels over that stretch alone, so
    hours of idle power before or after the job cannot pull the threshold into the valleys.
    """
    runs = _runs(_label(g, *_split_levels(g, source, "")))
    highs = runs.highs[runs.stops[runs.highs] - runs.starts[runs.highs] >= MIN_SEGMENT_SAMPLES]
    if not highs.size:
        _refuse(source, f"power stays near {float(np.nanmedian(g)):.1f} W apart from spikes shorter than "
                        f"{MIN_SEGMENT_SAMPLES} samples")
    active = slice(runs.starts[highs[0]], runs.stops[highs[-1]])
    low, high = _split_levels(g[active], source, f" from t={grid_t[active.start]:.0f} s to "
                                                 f"{grid_t[active.stop - 1]:.0f} s")
    runs = _runs(_label(g, low, high))
    if not (runs.complete(1).size and runs.complete(0).size):
        _refuse(source, f"found {runs.highs.size} stretch(es) near {high:.1f} W but no complete valley near "
                        f"{low:.1f} W between two of them; need {MIN_PERIODS} complete peak+valley periods")
    return runs, low, high, active


def _split_levels(g: np.ndarray, source: str, span: str) -> tuple[float, float]:
    """Low and high power level by two-cluster k-means on the values, started from robust extremes.

    k-means rather than Otsu because its threshold, the midpoint of the two means, does not drift towards the
    rare class when valleys are only a few percent of the samples.
    """
    values = g[np.isfinite(g)]
    low, high = np.percentile(values, [0.5, 99.5])
    if not high > low:
        _refuse(source, f"power stays at {float(np.median(values)):.1f} W{span}")
    for _ in range(100):
        split = values >= (low + high) / 2
        new_low, new_high = float(values[~split].mean()), float(values[split].mean())
        if (new_low, new_high) == (low, high):
            break
        low, high = new_low, new_high
    return float(low), float(high)


def _label(g: np.ndarray, low: float, high: float) -> np.ndarray:
    """1 for peak, 0 for valley, -1 for unknown, with hysteresis: power in the band around the midpoint keeps
    the level it had, so noise near the threshold cannot split a peak."""
    mid, band = (low + high) / 2, HYSTERESIS * (high - low)
    state = np.full(g.size, np.nan)
    state[g > mid + band] = 1
    state[g < mid - band] = 0
    state[np.isnan(g)] = -1
    decided = np.where(np.isnan(state), 0, np.arange(g.size))
    filled = state[np.maximum.accumulate(decided)]
    filled[np.isnan(filled)] = -1
    return _drop_spikes(filled.astype(np.int8))


def _drop_spikes(labels: np.ndarray) -> np.ndarray:
    """Runs shorter than MIN_SEGMENT_SAMPLES between two known runs take their neighbours' level."""
    runs = _runs(labels)
    length = runs.stops - runs.starts
    inner = np.zeros(runs.values.size, dtype=bool)
    inner[1:-1] = (runs.values[:-2] >= 0) & (runs.values[2:] >= 0)
    short = inner & (runs.values >= 0) & (length < MIN_SEGMENT_SAMPLES)
    values = np.where(short, 1 - runs.values, runs.values).astype(labels.dtype)
    return np.repeat(values, length)


@dataclass(frozen=True)
class _Runs:
    """Maximal runs of one label on the grid."""

    starts: np.ndarray
    stops: np.ndarray
    values: np.ndarray

    @property
    def highs(self) -> np.ndarray:
        return np.flatnonzero(self.values == 1)

    def complete(self, value: int) -> np.ndarray:
        """Runs of ``value`` whose both neighbours are known, minus the first and last peak of the log."""
        known = self.values >= 0
        bounded = np.zeros(known.size, dtype=bool)
        bounded[1:-1] = known[:-2] & known[1:-1] & known[2:]
        if self.highs.size:
            bounded[[self.highs[0], self.highs[-1]]] = False
        return np.flatnonzero(bounded & (self.values == value))


def _runs(labels: np.ndarray) -> _Runs:
    change = np.flatnonzero(np.diff(labels)) + 1
    starts = np.concatenate([[0], change])
    return _Runs(starts, np.concatenate([change, [labels.size]]), labels[starts])


def _edge_times(grid_t: np.ndarray, g: np.ndarray, mid: float, runs: _Runs, dt: float) -> np.ndarray:
    """Time each run starts, at the last crossing of the midpoint before hysteresis switched level.

    Interpolating the crossing rather than taking the switching sample removes the lag the hysteresis band
    adds, which would otherwise differ between slow and fast edges.
    """
    times = grid_t[runs.starts]
    with np.errstate(invalid="ignore"):
        above = g >= mid
        below = g < mid
    for level, before, after in ((1, below, above), (0, above, below)):
        crossing = np.flatnonzero(before[:-1] & after[1:]) + 1
        switches = np.flatnonzero(runs.values[1:] == level) + 1
        if not (crossing.size and switches.size):
            continue
        last = np.searchsorted(crossing, runs.starts[switches], side="right") - 1
        ok = last >= 0
        ok[ok] = crossing[last[ok]] > runs.starts[switches[ok] - 1]
        at = crossing[last[ok]]
        times[switches[ok]] = grid_t[at - 1] + (mid - g[at - 1]) / (g[at] - g[at - 1]) * dt
    return np.concatenate([times, [grid_t[-1]]])


def _levels(t: np.ndarray, p: np.ndarray, begin: np.ndarray, end: np.ndarray,
            dt: float) -> tuple[np.ndarray, np.ndarray]:
    """Median power of each segment's interior from the raw samples, and the residuals there (the noise)."""
    edge = np.maximum(EDGE_INTERVALS * dt, EDGE_FRACTION * (end - begin))
    first = np.searchsorted(t, begin + edge, side="left")
    last = np.searchsorted(t, end - edge, side="right")
    middle = np.clip(np.searchsorted(t, (begin + end) / 2), 0, t.size - 1)
    levels = np.empty(begin.size)
    residuals = []
    for k in range(begin.size):
        inside = p[first[k]:last[k]] if last[k] > first[k] else p[middle[k]:middle[k] + 1]
        levels[k] = np.median(inside)
        residuals.append(inside - levels[k])
    return levels, np.concatenate(residuals)


def _check_separation(source: str, peak_w: float, valley_w: float, residuals: np.ndarray,
                      span: np.ndarray) -> None:
    """Two levels that noise alone could produce (k-means splits any noise in two) are not a wave; the span
    says where it looked, since after a single step up that is only the flat top."""
    noise = 1.4826 * float(np.median(np.abs(residuals)))
    step = peak_w - valley_w
    if step < MIN_STEP_TO_NOISE * noise or step < MIN_RELATIVE_STEP * peak_w:
        _refuse(source, f"from t={span[0]:.0f} s to {span[1]:.0f} s the two power levels {valley_w:.1f} W and "
                        f"{peak_w:.1f} W are not clearly apart "
                        f"(noise {noise:.1f} W); need a step of {MIN_STEP_TO_NOISE:g}x the noise and "
                        f"{MIN_RELATIVE_STEP:.0%} of the peak")


def _periods(edges: np.ndarray, valleys: np.ndarray) -> np.ndarray:
    """Valley start to next valley start, for valleys two runs apart (one complete peak between them)."""
    consecutive = np.isin(valleys + 2, valleys)
    return edges[valleys[consecutive] + 2] - edges[valleys[consecutive]]


def _check_two_levels(source: str, g: np.ndarray, low: float, high: float) -> None:
    """A square wave only passes between its levels on its edges; a sine or a ramp lingers there. Judged from
    the first valley to the last, the stretch the profile comes from, so the ramp-up does not count."""
    mid, band = (low + high) / 2, HYSTERESIS * (high - low)
    known = g[np.isfinite(g)]
    between = float(np.mean(np.abs(known - mid) < band))
    if between > MAX_TIME_BETWEEN_LEVELS:
        _refuse(source, f"power spends {between:.0%} of the time between its levels {low:.1f} W and {high:.1f} W "
                        f"(a square wave spends at most {MAX_TIME_BETWEEN_LEVELS:.0%} there, on its edges)")


def _robust(values: np.ndarray, floor: float) -> tuple[float, float]:
    """Mean and standard deviation of the values within OUTLIER_MADS scaled MADs (or ``floor``) of the median.

    A mean, not a median: durations are counted in samples, so each epoch's is off by up to one interval and
    only their mean averages that out. Outliers (one long checkpoint, a stall read as a valley) are dropped.
    """
    centre = float(np.median(values))
    spread = OUTLIER_MADS * 1.4826 * float(np.median(np.abs(values - centre)))
    kept = values[np.abs(values - centre) <= max(floor, spread)]
    return float(kept.mean()), float(kept.std(ddof=1)) if kept.size > 1 else 0.0


def _valley_kinds(valley_w: np.ndarray, valley_s: np.ndarray, dt: float) -> tuple[ValleyKind, ...]:
    """Short and long valleys where their durations split clearly in two (:data:`KIND_RATIO`), else none."""
    if valley_s.size < 3:
        return ()
    order = np.argsort(valley_s, kind="stable")
    logs = np.log(np.maximum(valley_s[order], dt))
    cut = int(np.argmax(np.diff(logs))) + 1
    short, long = logs[:cut], logs[cut:]
    gap = logs[cut] - logs[cut - 1]
    if min(short.size, long.size) < KIND_MIN_COUNT:
        return ()
    within = max(1.4826 * float(np.median(np.abs(part - np.median(part)))) for part in (short, long))
    if gap < math.log(KIND_RATIO) or gap < KIND_GAP_SPREADS * within:
        return ()
    kinds = []
    for name, rows in (("short", order[:cut]), ("long", order[cut:])):
        kinds.append(ValleyKind(name, Spread.of(valley_s[rows]), Spread.of(valley_w[rows]),
                                rows.size / valley_s.size))
    return tuple(kinds)


def _profile(peak_w: np.ndarray, peak_s: np.ndarray, valley_w: np.ndarray, valley_s: np.ndarray,
             periods: np.ndarray, dt: float) -> WaveProfile:
    """Power floors at 1% of the level and duration floors at 1.5 intervals keep noise-free epochs together."""
    peak_power, peak_power_std = _robust(peak_w, 0.01 * float(np.median(peak_w)))
    peak_duration, peak_duration_std = _robust(peak_s, 1.5 * dt)
    kinds = _valley_kinds(valley_w, valley_s, dt)
    if kinds:  # both kinds are the job's: the wave keeps their mean, so its epoch rate and energy are the log's
        valley_duration, valley_duration_std = float(valley_s.mean()), float(valley_s.std(ddof=1))
        valley_power = float(np.average(valley_w, weights=valley_s))
        valley_power_std = float(valley_w.std(ddof=1))
        period = float(periods.mean())
    else:
        valley_duration, valley_duration_std = _robust(valley_s, 1.5 * dt)
        valley_power, valley_power_std = _robust(valley_w, 0.01 * float(np.median(valley_w)))
        period = _robust(periods, 1.5 * dt)[0]
    return WaveProfile(
        peak_power_w=peak_power,
        peak_duration_s=peak_duration,
        valley_power_w=valley_power,
        valley_duration_s=valley_duration,
        peak_power_std_w=peak_power_std,
        peak_duration_std_s=peak_duration_std,
        valley_power_std_w=valley_power_std,
        valley_duration_std_s=valley_duration_std,
        period_s=period,
        epochs=int(periods.size),
        peak_power=Spread.of(peak_w),
        peak_duration=Spread.of(peak_s),
        valley_power=Spread.of(valley_w),
        valley_duration=Spread.of(valley_s),
        valley_kinds=kinds,
    )
