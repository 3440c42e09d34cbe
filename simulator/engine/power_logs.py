"""Measured power replay: a job that carries a recorded power log draws that log, looped, instead of a square wave.

A log (any CSV :func:`forecasters.power.power_log.read_power_log` reads: nvidia-smi, DCGM fields, ``time,power``,
one column per GPU; the reader behind ``dcsim profile``) is a step function: each sample's power holds until the
next sample, and the last sample's time is where the loop ends and starts again (its value is not used; for a
log sampled every 100 ms this drops one interval out of thousands, and it lets a log say exactly how long it
lasts). A log of several GPUs is replayed as their mean: one GPU of the job draws the mean of the logged GPUs
(each held before its first and after its last sample), and the job draws that times its GPU count, from its
start.

Energy is exact: the cumulative energy of a step function is piecewise linear, so the energy between any two
times is a difference of interpolated values plus whole loops, and the meter gets per-bin energies from it,
the same way it meters waves with epochs shorter than its bins.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from forecasters.power.power_log import read_power_log
from simulator.common.errors import UserError
from simulator.engine.metering import StepAccumulator, in_chunks


@dataclass(frozen=True)
class LoopedLog:
    """Per-GPU power held from ``times[i]`` to ``times[i + 1]``; ``times[-1]`` is the loop's length."""

    times: np.ndarray
    watts: np.ndarray
    cumulative_j: np.ndarray

    @classmethod
    def from_samples(cls, samples: dict[str, tuple[np.ndarray, np.ndarray]], source: str) -> LoopedLog:
        period = max(float(t[-1]) for t, _ in samples.values())
        if period <= 0:
            raise UserError(f"{source}: a power log needs samples at two or more times to replay")
        times = np.unique(np.concatenate([t for t, _ in samples.values()]))
        held = [p[np.clip(np.searchsorted(t, times[:-1], side="right") - 1, 0, len(t) - 1)]
                for t, p in samples.values()]
        watts = np.mean(held, axis=0)
        cumulative = np.concatenate([[0.0], np.cumsum(watts * np.diff(times))])
        return cls(times, watts, cumulative)

    @property
    def period_s(self) -> float:
        return float(self.times[-1])

    @property
    def loop_energy_j(self) -> float:
        return float(self.cumulative_j[-1])

    def energy_until(self, tau: np.ndarray) -> np.ndarray:
        """Energy (J) of one GPU from the job's start to ``tau`` seconds after it."""
        tau = np.maximum(np.asarray(tau, dtype=float), 0.0)
        loops, phase = np.divmod(tau, self.period_s)
        return loops * self.loop_energy_j + np.interp(phase, self.times, self.cumulative_j)


def load_log(path: str | Path) -> LoopedLog:
    """The looped log of a file; cached, since many jobs may replay one log and a run meters twice."""
    path = Path(path)
    try:
        stat = path.stat()
    except OSError:
        raise UserError(f"{path}: power log not found") from None
    return _load(str(path), stat.st_size, stat.st_mtime_ns)


@lru_cache(maxsize=64)
def _load(path: str, _size: int, _mtime: int) -> LoopedLog:
    return LoopedLog.from_samples(read_power_log(Path(path)), path)


def replays_log(jobs: pd.DataFrame) -> np.ndarray:
    """Which jobs draw a recorded log rather than their predicted wave."""
    if "power_log" not in jobs.columns:
        return np.zeros(len(jobs), dtype=bool)
    return jobs["power_log"].notna().to_numpy()


def log_power(jobs: pd.DataFrame, dt: float, n: int) -> np.ndarray:
    """Bin-averaged power (W) over ``n`` bins of ``dt`` from 0 of the jobs' logs, each looped from its start."""
    acc = StepAccumulator(dt, n)
    if jobs.empty:
        return acc.levels()
    for path, group in jobs.groupby("power_log", sort=True):
        log = load_log(path)
        start, end, gpus = (group[c].to_numpy(float) for c in ("start_s", "end_s", "num_gpus"))
        first = np.floor(np.maximum(start, 0.0) / dt).astype(np.int64)
        last = np.clip(np.ceil(np.minimum(end, n * dt) / dt).astype(np.int64), 0, n)  # edge index after the job
        bins = np.maximum(last - first, 0)
        for idx in in_chunks(np.arange(len(group)), bins.astype(float)):
            job = np.repeat(idx, bins[idx])
            b = first[job] + np.arange(job.size) - np.repeat(np.cumsum(bins[idx]) - bins[idx], bins[idx])
            lo = np.clip(b * dt - start[job], 0.0, (end - start)[job])
            hi = np.clip((b + 1) * dt - start[job], 0.0, (end - start)[job])
            acc.add_bin_energy(b, gpus[job] * (log.energy_until(hi) - log.energy_until(lo)))
    return acc.levels()


def log_window_energy(jobs: pd.DataFrame, t0: float, t1: float) -> np.ndarray:
    """Energy (J) each job's log delivers inside [t0, t1] (jobs in their frame order)."""
    energy = np.zeros(len(jobs))
    if jobs.empty:
        return energy
    positions = pd.Series(np.arange(len(jobs)), index=jobs.index)
    for path, group in jobs.groupby("power_log", sort=True):
        log = load_log(path)
        start, end, gpus = (group[c].to_numpy(float) for c in ("start_s", "end_s", "num_gpus"))
        lo = np.clip(t0 - start, 0.0, end - start)
        hi = np.clip(t1 - start, 0.0, end - start)
        energy[positions[group.index].to_numpy()] = gpus * (log.energy_until(hi) - log.energy_until(lo))
    return energy
