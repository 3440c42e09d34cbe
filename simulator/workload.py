"""Workloads: the jobs a scenario submits, from a calibrated synthetic generator or a CSV trace.

A workload is a pandas frame, one row a job, sorted by ``submit_s`` (seconds from the scenario start; negative
during warm-up), with the metadata columns of :data:`simulator.jobs.METADATA_COLUMNS` and either ``epochs`` or
``duration_s`` (the other is derived from the predicted square wave when the simulation prepares its jobs).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import optimize, special

from forecasters.power.analytic import FAMILIES
from simulator.config import Scenario, SyntheticWorkload, TraceWorkload
from simulator.errors import UserError


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
    names = sorted(cfg.model_mix)
    weights = np.array([cfg.model_mix[m] for m in names], dtype=float)
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

    return pd.DataFrame(
        {
            "submit_s": times,
            "model": model,
            "params": params,
            "flops_per_sample": flops,
            "batch_size": batch,
            "image_size": size,
            "dataset_size": dataset,
            "epochs": np.nan,
            "duration_s": runs,
            "num_gpus": gpus.astype(int),
            "num_workers": rng.choice(WORKERS, size=n),
            "gpu": cluster.gpu,
        }
    )


TRACE_REQUIRED = ("submit_s", "model", "num_gpus")
TRACE_NUMERIC = ("submit_s", "num_gpus", "epochs", "duration_s", "params", "flops_per_sample", "batch_size",
                 "image_size", "dataset_size", "num_workers", "power_limit")


def trace_jobs(scenario: Scenario, path: Path) -> pd.DataFrame:
    """Jobs from a dcsim CSV; missing metadata columns take the model family's reference values."""
    try:
        frame = pd.read_csv(path)
    except FileNotFoundError:
        raise UserError(f"{path}: workload trace not found") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
        raise UserError(f"{path}: cannot read as CSV ({str(err).splitlines()[0]})") from None
    missing = [c for c in TRACE_REQUIRED if c not in frame.columns]
    if missing or not ({"epochs", "duration_s"} & set(frame.columns)):
        need = missing or ["epochs or duration_s"]
        raise UserError(f"{path}:1: missing column(s) {', '.join(need)}; see README 'Job trace CSV'")
    for col in (c for c in TRACE_NUMERIC if c in frame.columns):
        values = pd.to_numeric(frame[col], errors="coerce")
        bad = values.isna() & frame[col].notna() | (values < 0)
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise UserError(f"{path}:{row + 2}: column {col}: expected a number >= 0, got {frame[col].iloc[row]!r}")
        frame[col] = values
    for col in ("epochs", "duration_s"):
        zero = frame[col] == 0 if col in frame.columns else pd.Series(False, index=frame.index)
        if zero.any():
            row = int(np.flatnonzero(zero.to_numpy())[0])
            raise UserError(f"{path}:{row + 2}: column {col}: expected a number > 0, got 0")
    whole = (frame["num_gpus"] >= 1) & (frame["num_gpus"] % 1 == 0)
    if not whole.all():
        row = int(np.flatnonzero(~whole.to_numpy())[0])
        raise UserError(f"{path}:{row + 2}: column num_gpus: expected a whole number >= 1, "
                        f"got {frame['num_gpus'].iloc[row]!r}")
    unknown = sorted(set(frame["model"]) - set(FAMILIES))
    if unknown:
        row = int(np.flatnonzero(frame["model"].isin(unknown).to_numpy())[0])
        raise UserError(f"{path}:{row + 2}: column model: unknown family {unknown[0]!r}; known: {sorted(FAMILIES)}")
    for col in ("epochs", "duration_s"):
        if col not in frame.columns:
            frame[col] = np.nan
    no_length = frame["epochs"].isna() & frame["duration_s"].isna()
    if no_length.any():
        row = int(np.flatnonzero(no_length.to_numpy())[0])
        raise UserError(f"{path}:{row + 2}: a job needs epochs or duration_s")
    too_big = frame["num_gpus"] > scenario.cluster.total_gpus
    if too_big.any():
        row = int(np.flatnonzero(too_big.to_numpy())[0])
        raise UserError(f"{path}:{row + 2}: column num_gpus: {int(frame['num_gpus'].iloc[row])} GPUs exceed the "
                        f"cluster's {scenario.cluster.total_gpus}")
    defaults = {
        "params": lambda f: f.params,
        "flops_per_sample": lambda f: f.flops_per_sample,
        "batch_size": lambda f: f.batch_size,
        "image_size": lambda f: f.size,
        "dataset_size": lambda f: f.dataset_size,
    }
    for col, ref in defaults.items():
        fallback = frame["model"].map(lambda m, ref=ref: ref(FAMILIES[m]))
        frame[col] = frame[col].fillna(fallback) if col in frame.columns else fallback
    if "num_workers" not in frame.columns:
        frame["num_workers"] = 8
    frame["gpu"] = frame["gpu"] if "gpu" in frame.columns else scenario.cluster.gpu
    frame["num_gpus"] = frame["num_gpus"].astype(int)
    return frame.sort_values("submit_s", kind="stable").reset_index(drop=True)


def build_workload(scenario: Scenario, rng: np.random.Generator, warmup_s: float) -> pd.DataFrame:
    """The scenario's jobs over [-warmup, duration), sorted by submit time, with integer ``job_id``."""
    if isinstance(scenario.workload, TraceWorkload):
        jobs = trace_jobs(scenario, scenario.resolve(scenario.workload.path))
        jobs = jobs[jobs["submit_s"] < scenario.simulation.duration]
    else:
        jobs = synthetic_jobs(scenario, rng, -warmup_s, scenario.simulation.duration)
    jobs = jobs.reset_index(drop=True)
    jobs.insert(0, "job_id", np.arange(len(jobs)))
    return jobs

