"""Load series the forecasters learn from: facility IT load per unit of rated capacity, at 1-minute steps.

Why per unit: a model trained on a 64-server cluster must serve a 1,000-server one; dividing by the rated IT
power makes the load a fraction (idle ~0.2, full ~1) whatever the size. A series may carry the *known load*
(:func:`known_load`): what the jobs already running imply for each of the next H minutes (a scheduler knows
their square waves and end times; new arrivals are what a forecaster must guess).

Where series come from: a user's CSV (:func:`read_load_csv`, ``time,load_kw[,capacity_kw]``); dcsim's own runs
and the shipped Philly occupancy (:mod:`simulator.training_data.load_series`, which runs the simulator and so
lives above it); a running scenario's meters (:func:`simulator.grid.forecast.run_series`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from simulator.common.errors import UserError

STEP_S = 60
HORIZON = 15


@dataclass(frozen=True)
class LoadSeries:
    """One contiguous series. ``known[i, k-1]`` is the load implied at step ``i + k`` by what runs at step ``i``."""

    name: str
    start: pd.Timestamp
    values: np.ndarray
    known: np.ndarray | None = None
    step_s: int = STEP_S

    def __len__(self) -> int:
        return len(self.values)

    def slice(self, a: int, b: int, suffix: str = "") -> LoadSeries:
        return replace(self, name=self.name + suffix, start=self.start + pd.Timedelta(seconds=a * self.step_s),
                       values=self.values[a:b], known=None if self.known is None else self.known[a:b])

    def hour_of_day(self) -> np.ndarray:
        t = self.start + pd.to_timedelta(np.arange(len(self)) * self.step_s, unit="s")
        return (t.hour + t.minute / 60).to_numpy(float)


def split(series: LoadSeries, fractions: tuple[float, float] = (0.7, 0.15)) -> tuple[LoadSeries, ...]:
    """Chronological train / validation / test: later data is never seen while fitting earlier parts."""
    n = len(series)
    a, b = int(n * fractions[0]), int(n * (fractions[0] + fractions[1]))
    return series.slice(0, a, "/train"), series.slice(a, b, "/val"), series.slice(b, n, "/test")


def known_load(jobs: pd.DataFrame, idle_w: float, n: int, horizon: int, dt: float = STEP_S) -> np.ndarray:
    """Extra GPU power above idle (W) that jobs running at the end of bin ``i`` imply for bin ``i + k``.

    Each job counts with its mean wave power (the epochs are shorter than a bin or close to it) until its end
    time; the start edge never falls inside a future bin because the job has already started. Built with one
    difference array per step ahead, so it costs O(jobs x H).
    """
    ran = jobs["start_s"].notna().to_numpy()
    start = jobs["start_s"].to_numpy(float)[ran]
    end = jobs["end_s"].to_numpy(float)[ran]
    peak_s, valley_s = jobs["peak_duration_s"].to_numpy(float)[ran], jobs["valley_duration_s"].to_numpy(float)[ran]
    mean_w = (jobs["peak_power_w"].to_numpy(float)[ran] * peak_s
              + jobs["valley_power_w"].to_numpy(float)[ran] * valley_s) / (peak_s + valley_s)
    extra = jobs["num_gpus"].to_numpy(float)[ran] * np.maximum(mean_w - idle_w, 0.0)
    # origins i whose bin end (i + 1) dt lies in [start, end)
    first = np.clip(np.ceil(start / dt - 1), 0, n).astype(int)
    last = np.clip(np.ceil(end / dt - 1), 0, n).astype(int)
    out = np.zeros((n, horizon))
    for k in range(1, horizon + 1):
        # bin i + k is covered fully while (i + k + 1) dt <= end, partly at one origin, then not at all
        full_end = np.clip(np.floor(end / dt) - k, first, last).astype(int)
        diff = np.zeros(n + 1)
        np.add.at(diff, first, extra)
        np.add.at(diff, full_end, -extra)
        out[:, k - 1] = np.cumsum(diff)[:n]
        partial = full_end < last
        frac = end[partial] / dt - (full_end[partial] + k)
        np.add.at(out[:, k - 1], full_end[partial], extra[partial] * np.clip(frac, 0.0, 1.0))
    return out


# ---------------------------------------------------------------------------------------------------------------
# A user's CSV


def read_load_csv(path: Path) -> LoadSeries:
    """``time,load_kw[,capacity_kw]`` at a fixed step; load per unit of ``capacity_kw`` (default: its maximum)."""
    try:
        frame = pd.read_csv(path)
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        raise UserError(f"{path}: cannot read load CSV ({err})") from None
    for column in ("time", "load_kw"):
        if column not in frame.columns:
            raise UserError(f"{path}:1: missing column {column!r} (expected time,load_kw[,capacity_kw])")
    if len(frame) < 3:
        raise UserError(f"{path}: expected at least 3 rows, got {len(frame)}")
    time = pd.to_datetime(frame["time"], errors="coerce")
    load = pd.to_numeric(frame["load_kw"], errors="coerce")
    for column, parsed, what in (("time", time, "a timestamp"), ("load_kw", load, "a number >= 0")):
        bad = parsed.isna() | ((parsed < 0) if column == "load_kw" else False)
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise UserError(f"{path}:{row + 2}: {column}: expected {what} (got {frame[column].iloc[row]!r})")
    steps = np.diff(time.to_numpy()).astype("timedelta64[s]").astype(int)
    if (steps != steps[0]).any() or steps[0] <= 0:
        row = int(np.flatnonzero(steps != steps[0])[0]) if (steps != steps[0]).any() else 0
        raise UserError(f"{path}:{row + 3}: time: expected a fixed, increasing step of {steps[0]} s")
    capacity = (pd.to_numeric(frame["capacity_kw"], errors="coerce").to_numpy(float)
                if "capacity_kw" in frame.columns else np.full(len(frame), load.max()))
    if not (np.isfinite(capacity) & (capacity > 0)).all():
        raise UserError(f"{path}: capacity_kw: expected numbers > 0")
    return LoadSeries(Path(path).stem, time.iloc[0], load.to_numpy(float) / capacity, step_s=int(steps[0]))
