"""The job-side levers of grid coordination: GPU power capping in time windows, and deferral of queued jobs.

Unlike the battery, these change what the jobs draw and when they run, so a scenario that uses them is
simulated twice: without levers (the ``none`` baseline) and with them (the policy), on the same workload.

Both levers are decided from signals known a day ahead (day-ahead prices, carbon-intensity forecasts,
announced demand-response events), taken here as the recorded series: the schedule of cap windows and each
job's release time are fixed before the jobs run.

- Capping: while a window is on, every GPU runs under ``gpu_power_limit_w`` (except jobs replaying a recorded
  power log, which draw what was recorded). A running job's wave switches to
  its capped wave (lower peak, longer peak, from the power-limit curves) at the window's start and back at its
  end, so a job crossing a window is metered as *segments*. Its work (epochs) is fixed: a capped stretch
  advances it more slowly, which moves its end. Each segment restarts the wave at a peak; the error is at most
  one epoch's phase per window edge.
- Deferral: a job submitted at ``s`` with expected run time ``r`` may start anywhere in ``[s, s + slack]`` (on a
  ``step`` grid); it is released at the start with the lowest mean signal (carbon intensity, price, or the
  facility load the site would draw without levers, taken as its day-ahead load forecast) over its run, if that
  beats starting at once by ``min_gain``. Released jobs then queue as usual, so a job may still wait past its release.
  Jobs submitted during the warm-up are not deferred.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from forecasters.power import PowerModel
from simulator.common.errors import UserError
from simulator.common.jobs import WAVE_COLUMNS
from simulator.config import Scenario
from simulator.engine.power_logs import replays_log
from simulator.grid.signals import scenario_signals


@dataclass(frozen=True)
class CapWindows:
    """Disjoint, sorted intervals ``[starts[i], ends[i])`` (s) when the facility-wide GPU cap is on."""

    starts: np.ndarray
    ends: np.ndarray

    @classmethod
    def from_mask(cls, on: np.ndarray, step_s: float) -> CapWindows:
        """Windows from a per-step on/off mask over steps of ``step_s`` from t = 0."""
        edges = np.diff(np.r_[0, np.asarray(on, dtype=np.int8), 0])
        return cls(np.flatnonzero(edges == 1) * step_s, np.flatnonzero(edges == -1) * step_s)

    def run_end(self, start: float, epochs: float, free_period: float, capped_period: float) -> float:
        """When a job of ``epochs`` epochs started at ``start`` ends, epochs advancing at 1/period."""
        t, left = start, epochs
        i = int(np.searchsorted(self.ends, start, side="right"))  # the first window not over by ``start``
        while i < len(self.starts):
            for until, period in ((self.starts[i], free_period), (self.ends[i], capped_period)):
                if until > t:
                    if (until - t) / period >= left:
                        return t + left * period
                    left -= (until - t) / period
                    t = until
            i += 1
        return t + left * free_period

    def segments(self, jobs: pd.DataFrame) -> pd.DataFrame:
        """The started jobs cut at window edges: ``job_id, start_s, end_s, num_gpus, capped`` per segment."""
        ran = jobs[jobs["start_s"].notna()]
        start, end = ran["start_s"].to_numpy(float), ran["end_s"].to_numpy(float)
        edges = np.sort(np.concatenate([self.starts, self.ends]))
        lo, hi = np.searchsorted(edges, start, side="right"), np.searchsorted(edges, end, side="left")
        cuts = hi - lo  # window edges strictly inside each run
        rows = np.repeat(np.arange(len(ran)), cuts + 1)
        first = np.r_[0, np.cumsum(cuts + 1)[:-1]]
        k = np.arange(len(rows)) - np.repeat(first, cuts + 1)  # segment number within its job
        padded = np.r_[np.nan, edges, np.nan]  # padded[j + 1] = edges[j]; the NaNs are never selected
        seg_start = np.where(k == 0, start[rows], padded[lo[rows] + k])
        seg_end = np.where(k == cuts[rows], end[rows], padded[lo[rows] + k + 1])
        capped = self.active((seg_start + seg_end) / 2)
        return pd.DataFrame({"job_id": ran["job_id"].to_numpy()[rows], "start_s": seg_start, "end_s": seg_end,
                             "num_gpus": ran["num_gpus"].to_numpy()[rows], "capped": capped})

    def active(self, t: np.ndarray) -> np.ndarray:
        """Whether the cap is on at each time ``t``."""
        i = np.searchsorted(self.starts, t, side="right") - 1
        return (i >= 0) & (t < self.ends[np.maximum(i, 0)]) if len(self.starts) else np.zeros(len(t), bool)


def segment_waves(segments: pd.DataFrame, jobs: pd.DataFrame, capped: pd.DataFrame) -> pd.DataFrame:
    """Each segment with its job's free wave, or its capped wave (``capped``, per job) inside a window."""
    by_id = jobs.set_index("job_id")
    free_w = by_id.loc[segments["job_id"], list(WAVE_COLUMNS)].to_numpy()
    capped_w = capped.set_index(jobs["job_id"]).loc[segments["job_id"], list(WAVE_COLUMNS)].to_numpy()
    waves = np.where(segments["capped"].to_numpy()[:, None], capped_w, free_w)
    return segments.assign(**dict(zip(WAVE_COLUMNS, waves.T, strict=True)))


def release_times(submit_s: np.ndarray, runtime_s: np.ndarray, signal: np.ndarray, signal_step_s: float,
                  slack_s: float, step_s: float, min_gain: float) -> np.ndarray:
    """Per job, when it joins the queue: the start in ``[submit, submit + slack]`` with the lowest mean
    ``signal`` over its run, if that is ``min_gain`` (relative) below starting at once; else its submit time.

    ``signal`` is sampled every ``signal_step_s`` from t = 0 and held beyond its end; jobs submitted before
    t = 0 are released at once.
    """
    submit_s, runtime_s = np.asarray(submit_s, float), np.asarray(runtime_s, float)
    released = submit_s.copy()
    late = submit_s >= 0
    if not late.any() or slack_s < step_s:
        return released
    signal = np.asarray(signal, float)
    cum = np.r_[0.0, np.cumsum(signal) * signal_step_s]
    span = len(signal) * signal_step_s

    def integral(t: np.ndarray) -> np.ndarray:  # of the step signal from 0 to t, held past its end
        return np.interp(np.minimum(t, span), np.arange(len(cum)) * signal_step_s, cum) + \
            np.maximum(t - span, 0.0) * signal[-1]

    offsets = np.arange(0.0, slack_s + 1e-9, step_s)
    s, r = submit_s[late, None] + offsets, np.maximum(runtime_s[late, None], 1e-9)
    mean = (integral(s + r) - integral(s)) / r
    best = np.argmin(mean, axis=1)
    gain = mean[np.arange(len(best)), best] < mean[:, 0] * (1 - min_gain)
    released[late] = np.where(gain, s[np.arange(len(best)), best], submit_s[late])
    return released


@dataclass(frozen=True)
class Levers:
    """What the policy changes about the jobs: cap windows with each job's capped wave, and release times."""

    windows: CapWindows | None = None
    capped: pd.DataFrame | None = None  # per job (same index as the job table): its wave under the cap
    release_s: np.ndarray | None = None

    def run_end(self, jobs: pd.DataFrame):
        """``run_end(job, start)`` for the engine, or None when no cap windows apply."""
        if self.windows is None or self.capped is None:
            return None
        epochs = jobs["epochs"].to_numpy(float).tolist()
        free = (jobs["peak_duration_s"] + jobs["valley_duration_s"]).to_numpy(float).tolist()
        slow = (self.capped["peak_duration_s"] + self.capped["valley_duration_s"]).to_numpy(float).tolist()
        windows = self.windows
        return lambda job, start: windows.run_end(start, epochs[job], free[job], slow[job])


def plan(scenario: Scenario, jobs: pd.DataFrame, model: PowerModel, load_kw: np.ndarray | None = None) -> Levers:
    """The scenario's cap windows (with every job's capped wave) and release times, from day-ahead signals.

    ``load_kw`` (facility load at the metering resolution from t = 0, as the site would draw without levers)
    is the day-ahead load forecast that ``deferral.signal: load`` steers by."""
    policy, sim = scenario.policy, scenario.simulation
    windows = capped = release = None
    if policy.capping is not None:
        cfg, step = policy.capping, policy.step
        sig = scenario_signals(scenario, int(np.ceil(sim.duration / step)), step)
        on = np.zeros(len(sig.times), bool)
        if cfg.demand_response:
            local = sig.times.tz_localize(None)
            for event in scenario.grid.demand_response:
                on |= (local >= pd.Timestamp(event.start)) & (local < pd.Timestamp(event.end))
        if cfg.price_above_usd_per_mwh is not None:
            on |= sig.price_usd_per_kwh * 1000 > cfg.price_above_usd_per_mwh
        if cfg.carbon_above_g_per_kwh is not None:
            _need_carbon(scenario, "policy.capping.carbon_above_g_per_kwh")
            on |= sig.carbon_g_per_kwh > cfg.carbon_above_g_per_kwh
        windows = CapWindows.from_mask(on, step)
        limit = np.minimum(jobs["power_limit"].to_numpy(float), cfg.gpu_power_limit_w) \
            if "power_limit" in jobs.columns else cfg.gpu_power_limit_w
        capped = model.predict(jobs.assign(power_limit=limit))[list(WAVE_COLUMNS)]
        logged = replays_log(jobs)  # a recorded log is what the job drew: no cap re-predicts it
        capped.loc[logged, :] = jobs.loc[logged, list(WAVE_COLUMNS)].to_numpy()
    if policy.deferral is not None:
        cfg = policy.deferral
        if cfg.signal == "carbon":
            _need_carbon(scenario, "policy.deferral.signal")
        runtime = jobs["duration_s"].to_numpy(float)
        longest = float(np.max(runtime, initial=0.0))
        span = sim.duration + policy.slack + min(longest, 30 * 86400.0)
        if cfg.signal == "load":
            if load_kw is None:
                raise ValueError("deferral by load needs the load without levers")
            per = max(round(cfg.step / sim.resolution), 1)
            whole = len(load_kw) // per
            signal = np.asarray(load_kw[: whole * per], float).reshape(whole, per).mean(axis=1)
        else:
            sig = scenario_signals(scenario, int(np.ceil(span / cfg.step)), cfg.step)
            signal = sig.carbon_g_per_kwh if cfg.signal == "carbon" else sig.price_usd_per_kwh
        release = release_times(jobs["submit_s"].to_numpy(float), runtime, signal, cfg.step, policy.slack,
                                cfg.step, cfg.min_gain)
    return Levers(windows, capped, release)


def _need_carbon(scenario: Scenario, field: str) -> None:
    if scenario.grid.carbon is None:
        raise UserError(f"{field}: needs a carbon series (grid.carbon.file)")
