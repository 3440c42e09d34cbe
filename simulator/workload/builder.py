"""Workloads: the jobs a scenario submits, from a calibrated synthetic generator, a job trace or an occupancy series.

A workload is a pandas frame, one row a job, sorted by ``submit_s`` (seconds from the scenario start; negative
during warm-up), with the metadata columns of :data:`simulator.common.jobs.METADATA_COLUMNS` and either ``epochs`` or
``duration_s`` (the other is derived from the predicted square wave when the simulation prepares its jobs).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd
from scipy import optimize, special

from simulator.common.families import FAMILIES
from simulator.common.jobs import METADATA_COLUMNS
from simulator.config import OccupancyWorkload, Scenario, SyntheticWorkload, TraceWorkload
from simulator.engine.power_logs import load_log
from simulator.workload.traces import Trace, load_occupancy, load_trace


@dataclass(frozen=True)
class ClusterStats:
    """Per-cluster GPU-job statistics, as published in data/acmetrace/cluster_summary.csv."""

    median_gpus: float
    mean_gpus: float
    max_gpus: int
    median_run_s: float
    mean_run_s: float
    max_run_s: float
    gpu_seconds_per_job: float  # (complete + cancel + fail GPU time) / GPU jobs


# Numbers copied from data/acmetrace/cluster_summary.csv (tests/test_workload.py re-reads the file and checks
# them): med_gpu_num, avg_gpu_num, max_gpu, med_run_time_gpu, avg_run_time_gpu, max_run_time_gpu, and the
# sum of complete/cancel/fail_gpu_time divided by gpu_job_num.
CLUSTER_STATS = {
    "kalos": ClusterStats(1.0, 26.77, 1024, 124.0, 1259.689, 625740.0, 267906.0),
    "seren": ClusterStats(1.0, 5.68, 1024, 122.0, 1414.335, 1209604.0, 32405.0),
    "philly": ClusterStats(1.0, 1.928, 128, 874.0, 18006.055, 4240676.0, 61039.0),
    "helios": ClusterStats(1.0, 3.716, 2048, 206.0, 6651.681, 4320009.0, 49352.0),
}

SINGLE_GPU_SHARE = 0.6
"""Share of 1-GPU jobs. The summaries give a median of 1 GPU in every cluster but not the share; 60 % is assumed."""

SIZE_CHOICES = {
    # per-GPU batch multipliers of the family's reference, input sizes (pixels or tokens) and their weights
    "vision": ((0.25, 0.5, 1.0, 2.0), (160, 224, 288), (0.2, 0.6, 0.2)),
    "bert": ((0.25, 0.5, 1.0, 2.0), (128, 384, 512), (0.3, 0.5, 0.2)),
    "gpt": ((0.5, 1.0, 2.0), (2048,), (1.0,)),
}
GPT_PARAMS = ((1.3e9, 7e9, 13e9), (0.3, 0.5, 0.2))
WORKERS = (4, 8, 16)


MIN_RUN_S = 1.0


@dataclass(frozen=True)
class JobSizeModel:
    """GPU counts on powers of two and log-normal run times whose median grows with GPU count.

    P(1 GPU) = SINGLE_GPU_SHARE, P(2^k) proportional to ratio^k for k >= 1; ln(run time) = mu + beta ln(gpus)
    + sigma Z, clipped to [1 s, the cluster's longest job]. ``ratio`` is solved for the mean GPU count, then
    ``mu``, ``beta`` and ``sigma`` together for the median and mean run time and the mean GPU-time per job
    (means of the clipped distribution, in closed form).
    """

    sizes: np.ndarray
    probs: np.ndarray
    mu: float
    beta: float
    sigma: float
    max_run_s: float

    @classmethod
    def calibrate(cls, stats: ClusterStats, max_gpus: int) -> JobSizeModel:
        top = min(stats.max_gpus, max_gpus)
        sizes = 2.0 ** np.arange(0, int(np.log2(top)) + 1)

        def probs_for(ratio: float) -> np.ndarray:
            if len(sizes) == 1:
                return np.ones(1)
            rest = ratio ** np.arange(1, len(sizes), dtype=float)
            return np.concatenate([[SINGLE_GPU_SHARE], (1 - SINGLE_GPU_SHARE) * rest / rest.sum()])

        probs = probs_for(_solve(lambda r: probs_for(r) @ sizes - stats.mean_gpus, 1e-3, 1e3, log=True))

        def residuals(x: np.ndarray) -> np.ndarray:
            mu, beta, sigma = x[0], x[1], np.exp(x[2])
            runs = _clipped_lognormal_mean(mu + beta * np.log(sizes), sigma, MIN_RUN_S, stats.max_run_s)
            median = probs @ special.ndtr((np.log(stats.median_run_s) - mu - beta * np.log(sizes)) / sigma)
            return np.array([
                np.log(probs @ runs / stats.mean_run_s),
                np.log(probs @ (sizes * runs) / stats.gpu_seconds_per_job),
                median - 0.5,
            ])

        guess = np.array([np.log(stats.median_run_s), 0.5, np.log(2.0)])
        fit = optimize.least_squares(residuals, guess, bounds=([-10, -1, np.log(0.05)], [20, 3, np.log(5)]),
                                     xtol=1e-12, ftol=1e-12)
        mu, beta, log_sigma = fit.x
        return cls(sizes.astype(int), probs, float(mu), float(beta), float(np.exp(log_sigma)), stats.max_run_s)

    def sample(self, rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
        gpus = rng.choice(self.sizes, size=n, p=self.probs)
        log_run = self.mu + self.beta * np.log(gpus) + self.sigma * rng.standard_normal(n)
        return gpus, np.clip(np.exp(log_run), MIN_RUN_S, self.max_run_s)

    @property
    def mean_gpu_seconds(self) -> float:
        """E[gpus x run time] of the clipped model: what sets the arrival rate for a target utilisation."""
        runs = _clipped_lognormal_mean(self.mu + self.beta * np.log(self.sizes), self.sigma, MIN_RUN_S,
                                       self.max_run_s)
        return float(self.probs @ (self.sizes * runs))


def _clipped_lognormal_mean(m: np.ndarray, sigma: float, lo: float, hi: float) -> np.ndarray:
    """E[clip(exp(m + sigma Z), lo, hi)] in closed form."""
    a = (np.log(lo) - m) / sigma
    c = (np.log(hi) - m) / sigma
    body = np.exp(m + sigma**2 / 2) * (special.ndtr(c - sigma) - special.ndtr(a - sigma))
    return lo * special.ndtr(a) + body + hi * (1 - special.ndtr(c))


def _solve(f, lo: float, hi: float, log: bool = False) -> float:
    """Root of a monotone ``f`` in [lo, hi]; the nearer bound when the target is out of reach."""
    flo, fhi = f(lo), f(hi)
    if flo * fhi > 0:
        return lo if abs(flo) < abs(fhi) else hi
    if log:
        return float(np.exp(optimize.brentq(lambda x: f(np.exp(x)), np.log(lo), np.log(hi), xtol=1e-12)))
    return float(optimize.brentq(f, lo, hi, xtol=1e-12))


def arrival_shape(start: datetime, t: np.ndarray, cfg: SyntheticWorkload) -> np.ndarray:
    """Relative arrival rate at ``t`` seconds after ``start``: a daily cosine and a weekend dip, mean 1 per week."""
    hours = (start.hour + start.minute / 60 + start.second / 3600) + t / 3600.0
    daily = 1 + cfg.daily_amplitude * np.cos(2 * np.pi * (hours - cfg.peak_hour) / 24)
    weekday = (start.weekday() + np.floor(hours / 24)) % 7
    weekly = np.where(weekday >= 5, cfg.weekend_factor, 1.0)
    return daily * weekly / ((5 + 2 * cfg.weekend_factor) / 7)


def synthetic_jobs(scenario: Scenario, rng: np.random.Generator, t0: float, t1: float) -> pd.DataFrame:
    """Jobs submitted in [t0, t1) by a seasonal Poisson process sized to the target utilisation."""
    cfg: SyntheticWorkload = scenario.workload
    cluster = scenario.cluster
    largest = min(cfg.max_gpus or max(1, cluster.total_gpus // 4), cluster.total_gpus)
    sizes = JobSizeModel.calibrate(CLUSTER_STATS[cfg.calibration], largest)
    rate = cfg.target_utilization * cluster.total_gpus / sizes.mean_gpu_seconds  # jobs per second
    peak = (1 + cfg.daily_amplitude) * max(1.0, cfg.weekend_factor) / ((5 + 2 * cfg.weekend_factor) / 7)
    # thinning: a homogeneous process at the peak rate, each arrival kept with probability shape / peak
    count = rng.poisson(rate * peak * (t1 - t0))
    times = np.sort(rng.uniform(t0, t1, count))
    keep = rng.uniform(0, peak, count) < arrival_shape(scenario.simulation.start, times, cfg)
    times = times[keep]
    n = len(times)

    gpus, runs = sizes.sample(rng, n)
    meta = sample_metadata(rng, gpus, cfg.model_mix)
    return pd.DataFrame(
        {
            "submit_s": times,
            **{c: meta[c] for c in ("model", "params", "flops_per_sample", "batch_size", "image_size",
                                    "dataset_size")},
            "epochs": np.nan,
            "duration_s": runs,
            "num_gpus": gpus.astype(int),
            "num_workers": meta["num_workers"],
            "gpu": cluster.gpu,
        }
    )


def sample_metadata(rng: np.random.Generator, gpus: np.ndarray, mix: dict[str, float]) -> dict[str, np.ndarray]:
    """Model family from ``mix`` and, per family, batch size, input size, parameters, FLOPs, dataset size and
    data-loader workers, for jobs of ``gpus`` GPUs: what the synthetic generator draws, and what a trace without
    model metadata gets."""
    n = len(gpus)
    names = sorted(mix)
    weights = np.array([mix[m] for m in names], dtype=float)
    model = np.array(names)[rng.choice(len(names), size=n, p=weights / weights.sum())]

    params = np.empty(n)
    flops = np.empty(n)
    batch = np.empty(n, dtype=int)
    size = np.empty(n, dtype=int)
    dataset = np.empty(n, dtype=int)
    for name in names:
        rows = np.flatnonzero(model == name)
        fam = FAMILIES[name]
        kind = "gpt" if name == "gpt" else "bert" if name == "bert" else "vision"
        mults, choices, probs = SIZE_CHOICES[kind]
        batch[rows] = np.maximum(1, (fam.batch_size * rng.choice(mults, size=len(rows))).astype(int))
        size[rows] = rng.choice(choices, size=len(rows), p=probs)
        if name == "gpt":
            params[rows] = rng.choice(GPT_PARAMS[0], size=len(rows), p=GPT_PARAMS[1])
            flops[rows] = 2 * params[rows] * size[rows]
        else:
            params[rows] = fam.params
            flops[rows] = fam.flops_per_sample * (size[rows] / fam.size) ** fam.size_exponent
        dataset[rows] = fam.dataset_size
        if name == "gpt":  # checkpoint every ~36 min whatever the job's size: the reference 200 k is for 64 GPUs
            dataset[rows] = np.maximum(1, fam.dataset_size * gpus[rows] // 64)
    return {"model": model, "params": params, "flops_per_sample": flops, "batch_size": batch, "image_size": size,
            "dataset_size": dataset, "num_workers": rng.choice(WORKERS, size=n)}


def build_workload(scenario: Scenario, rng: np.random.Generator, warmup_s: float) -> pd.DataFrame:
    """The scenario's jobs over [-warmup, duration), sorted by submit time, with integer ``job_id``."""
    if isinstance(scenario.workload, TraceWorkload | OccupancyWorkload):
        jobs = replay_jobs(scenario, rng, warmup_s)
    else:
        jobs = synthetic_jobs(scenario, rng, -warmup_s, scenario.simulation.duration)
    jobs = jobs.reset_index(drop=True)
    jobs.insert(0, "job_id", np.arange(len(jobs)))
    return jobs


def load_replay(scenario: Scenario) -> Trace:
    """The scenario's trace or occupancy series, read (and cached) the same way for its jobs and its metrics."""
    cfg, cluster = scenario.workload, scenario.cluster
    path = scenario.resolve(cfg.path)
    if isinstance(cfg, OccupancyWorkload):
        per_node = cfg.gpus_per_node or cluster.gpus_per_server
        return load_occupancy(path, cluster.total_gpus // per_node, per_node, cfg.strict)
    return load_trace(path, cfg.format, cfg.is_strict, cluster.total_gpus)


def replay_jobs(scenario: Scenario, rng: np.random.Generator, warmup_s: float) -> pd.DataFrame:
    """A trace's or occupancy series' jobs in the window, with missing metadata sampled from the model mix.

    ``offset`` of the trace plays at t = 0. Trace jobs submitted before the warm-up starts are left out (their
    count is in the metrics: trace_jobs - jobs); an occupancy job already running then starts with the warm-up
    for the rest of its interval, since the series says that node was busy. A censored job runs at least past
    the end of the simulation: it was still running when the trace ended.
    """
    cfg, horizon = scenario.workload, scenario.simulation.duration
    jobs = load_replay(scenario).jobs.copy()
    jobs["submit_s"] -= cfg.offset
    if "trace_start_s" in jobs.columns:
        jobs["trace_start_s"] -= cfg.offset
    if isinstance(cfg, OccupancyWorkload):
        late = jobs["submit_s"] < -warmup_s
        jobs.loc[late, "duration_s"] -= -warmup_s - jobs.loc[late, "submit_s"]
        jobs.loc[late, "submit_s"] = -warmup_s
        jobs = jobs[jobs["duration_s"] > 0]
    censored = jobs["trace_state"] == "censored"  # past the end by a metering interval: nothing later is metered
    jobs.loc[censored, "duration_s"] = np.maximum(jobs.loc[censored, "duration_s"], horizon
                                                  + scenario.simulation.resolution - jobs.loc[censored, "submit_s"])
    jobs = jobs[(jobs["submit_s"] >= -warmup_s) & (jobs["submit_s"] < horizon)].reset_index(drop=True)
    for col in METADATA_COLUMNS:
        if col not in jobs.columns:
            jobs[col] = None if col in ("model", "gpu") else np.nan
    unknown = jobs["model"].isna().to_numpy()
    if unknown.any():
        sampled = sample_metadata(rng, jobs.loc[unknown, "num_gpus"].to_numpy(int), cfg.model_mix)
        for col, values in sampled.items():  # a value the trace has is kept; only gaps are filled
            column = jobs[col].to_numpy(dtype=object if values.dtype.kind == "U" else float, copy=True)
            gap = unknown & pd.isna(column)
            column[gap] = values[gap[unknown]]
            jobs[col] = column
    jobs["gpu"] = jobs["gpu"].fillna(scenario.cluster.gpu)
    jobs["num_gpus"] = jobs["num_gpus"].astype(int)
    for path in jobs["power_log"].dropna().unique() if "power_log" in jobs.columns else ():
        load_log(path)  # a bad log stops the run here, before any simulation
    return jobs
