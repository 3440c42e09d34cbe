"""Metrics of one run: energy, peaks, ramps, utilisation and waits, as plain JSON-ready numbers.

Definitions (also in the README):
- peak_kw: highest facility power at the metering resolution; peak_15min_kw: highest 15-minute average.
- peak_to_average: peak_kw / average; load_factor: average / peak_15min_kw (the billing convention).
- ramp_1s_kw / ramp_1min_kw: largest change between consecutive 1-s / 1-min averages (null when the
  metering is coarser than that interval, since it cannot be known).
- gpu_utilisation: busy GPU-seconds / GPU-seconds of the metered window.
- waits: over jobs submitted in the window that started; jobs still queued at the end are counted separately.
- trace_*: for a replayed trace or occupancy series, what the file held (see :func:`trace_metrics`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from simulator.common.catalog import gpu_spec
from simulator.common.jobs import submitted_in_window
from simulator.config import Scenario
from simulator.grid.signals import BLOCK_S
from simulator.workload.traces import TraceSummary


def block_average(power: np.ndarray, dt: float, block: float) -> np.ndarray | None:
    """Averages over consecutive blocks of ``block`` seconds; None if the metering is coarser than a block.

    Partial blocks at the end are dropped: a demand charge is billed on whole intervals.
    """
    if block < dt - 1e-9:
        return None
    per = block / dt
    if abs(per - round(per)) < 1e-9:
        per = round(per)
        whole = len(power) // per
        return power[: whole * per].reshape(whole, per).mean(axis=1)
    # block is not a whole number of bins: integrate the piecewise-constant series at the block edges
    energy = np.concatenate([[0.0], np.cumsum(power) * dt])
    edges = np.arange(0.0, len(power) * dt + 1e-9, block)
    at_edges = np.interp(edges, np.arange(len(power) + 1) * dt, energy)
    return np.diff(at_edges) / block


def largest_ramp(power: np.ndarray, dt: float, block: float) -> float | None:
    averages = block_average(power, dt, block)
    if averages is None or len(averages) < 2:
        return None
    return float(np.max(np.abs(np.diff(averages))))


def compute_metrics(scenario: Scenario, jobs: pd.DataFrame, ts: pd.DataFrame, trace: TraceSummary | None = None,
                    ) -> dict:
    """The run's metrics; ``trace`` is what a replayed trace file held, for its counts."""
    sim, cluster = scenario.simulation, scenario.cluster
    dt, hours = sim.resolution, sim.duration / 3600
    spec = gpu_spec(cluster.gpu)
    facility = ts["facility_power_kw"].to_numpy()
    it = ts["it_power_kw"].to_numpy()
    gpu = ts["gpu_power_kw"].to_numpy()
    busy = ts["busy_gpus"].to_numpy()

    kwh = dt / 3600
    busy_gpu_h = float(busy.sum() * kwh)
    idle_gpu_h = cluster.total_gpus * hours - busy_gpu_h
    avg_kw = float(facility.mean())
    peak_kw = float(facility.max())
    quarter = block_average(facility, dt, BLOCK_S)
    peak_15 = float(quarter.max()) if quarter is not None and len(quarter) else peak_kw

    in_window = submitted_in_window(jobs, sim.duration)
    waited = jobs.loc[in_window & jobs["start_s"].notna(), "wait_s"]
    metrics = {
        "scenario": scenario.name,
        "seed": sim.seed,
        "hours": hours,
        "energy_mwh": float(facility.sum() * kwh / 1e3),
        "it_energy_mwh": float(it.sum() * kwh / 1e3),
        "gpu_energy_mwh": float(gpu.sum() * kwh / 1e3),
        "job_energy_mwh": float(jobs["energy_kwh"].sum() / 1e3),
        "idle_gpu_energy_mwh": spec.idle_w * idle_gpu_h / 1e6,
        "server_base_energy_mwh": cluster.server_base_power_w * cluster.servers * hours / 1e6,
        "pue": float(facility.sum() / it.sum()),
        "avg_kw": avg_kw,
        "peak_kw": peak_kw,
        "peak_15min_kw": peak_15,
        "peak_to_average": peak_kw / avg_kw if avg_kw else None,
        "load_factor": avg_kw / peak_15 if peak_15 else None,
        "ramp_1s_kw": largest_ramp(facility, dt, 1.0),
        "ramp_1min_kw": largest_ramp(facility, dt, 60.0),
        "gpu_utilisation": busy_gpu_h / (cluster.total_gpus * hours),
        "wait_mean_s": float(waited.mean()) if len(waited) else None,
        "wait_p95_s": float(np.percentile(waited, 95)) if len(waited) else None,
        "jobs_submitted": int(in_window.sum()),
        "jobs_started": int(len(waited)),
        "jobs_finished": int(((jobs["state"] == "finished") & (jobs["end_s"] >= 0)).sum()),
        "jobs_running_at_end": int((jobs["state"] == "running").sum()),
        "jobs_queued_at_end": int((jobs["state"] == "queued").sum()),
    }
    limit = scenario.grid.import_limit_kw
    if limit is not None:
        metrics["import_limit_kw"] = limit
        metrics["minutes_over_import_limit"] = float((facility > limit).sum() * dt / 60)
    if trace is not None:
        metrics.update(trace_metrics(trace, len(jobs)))
    return metrics


def trace_metrics(summary: TraceSummary, jobs_in_run: int) -> dict:
    """What a replayed trace held: rows read and skipped (by reason), and its censored, failed, killed and
    fractional-GPU jobs (counts over the whole file, so a planner sees what the replay left out or assumed)."""
    return {
        "trace_rows": summary.rows,
        "trace_rows_skipped": summary.skipped_rows,
        "trace_skipped": {reason: s.count for reason, s in summary.skipped.items()},
        "trace_jobs": summary.jobs,
        "trace_jobs_outside_window": summary.jobs - jobs_in_run,
        "trace_jobs_censored": summary.censored,
        "trace_jobs_failed": summary.failed,
        "trace_jobs_killed": summary.killed,
        "trace_jobs_fractional_gpu": summary.fractional,
    }


def gpu_power_distribution(jobs: pd.DataFrame, total_gpus: int, idle_w: float, horizon: float):
    """Per-GPU power levels and the GPU-seconds spent at each in [0, horizon]: what a fleet-wide
    DCGM sample histogram would show, without sampling (peak, valley and idle levels, weighted exactly).

    ``jobs`` is a run's job table: its ``energy_kwh`` is each job's energy in that same window."""
    ran = jobs[jobs["start_s"].notna()]
    start, end = ran["start_s"].to_numpy(), ran["end_s"].to_numpy()
    peak_w, valley_w = ran["peak_power_w"].to_numpy(), ran["valley_power_w"].to_numpy()
    gpus = ran["num_gpus"].to_numpy(float)
    seconds = gpus * (np.clip(end, 0, horizon) - np.clip(start, 0, horizon))
    # energy = pv * seconds + (pp - pv) * peak_seconds  ->  peak_seconds from the job's metered energy
    energy = ran["energy_kwh"].to_numpy() * 3.6e6
    peak_seconds = (energy - valley_w * seconds) / (peak_w - valley_w)
    levels = np.concatenate([peak_w, valley_w, [idle_w]])
    weights = np.concatenate([peak_seconds, seconds - peak_seconds, [total_gpus * horizon - seconds.sum()]])
    return levels, np.maximum(weights, 0.0)


def ks_distance(levels: np.ndarray, weights: np.ndarray, ref_power: np.ndarray, ref_cdf: np.ndarray) -> float:
    """Kolmogorov-Smirnov distance between a weighted sample and a reference CDF given as points (x, F(x))."""
    order = np.argsort(levels)
    x, w = levels[order], weights[order] / weights.sum()
    sim_cdf = np.cumsum(w)
    grid = np.union1d(x, ref_power)
    f_sim = np.concatenate([[0.0], sim_cdf])[np.searchsorted(x, grid, side="right")]
    f_ref = np.interp(grid, ref_power, ref_cdf, left=0.0, right=1.0)
    return float(np.max(np.abs(f_sim - f_ref)))
