"""Metered power: exact bin averages of piecewise-constant signals, built with difference arrays.

A meter with interval ``dt`` reports, per bin, the energy in the bin divided by ``dt``. For a signal that steps
by ``d`` at time ``t`` inside bin ``k``, bin ``k`` gets ``d`` times the share of the bin after ``t`` and every
later bin gets ``d``: one entry in a fractional array and one in a difference array, whatever the number of
bins. Square waves are handled two ways, whichever is cheaper per job:

- period longer than two bins: as steps (two per epoch), through the difference arrays;
- shorter periods: by the closed-form energy of the wave at each bin edge (many epochs per bin).

Both are exact up to float rounding, so metered energy equals the jobs' energy (tests check it to 1e-9).
Jobs are processed in chunks to bound memory.
"""

from __future__ import annotations

import numpy as np

from simulator.common.jobs import wave_energy

CHUNK_ITEMS = 4_000_000
"""Upper bound on steps or bin edges expanded at once (about 100 MB of temporaries)."""


class StepAccumulator:
    """Collects steps (time, change) and returns the bin-averaged level over ``n`` bins of ``dt`` from 0.

    Steps before 0 count fully from bin 0; steps at or after ``n * dt`` are outside the window.
    """

    def __init__(self, dt: float, n: int):
        self.dt = dt
        self.n = n
        self.after = np.zeros(n + 1)  # change applies from bin k on (difference array)
        self.partial = np.zeros(n)  # share of the change inside its own bin

    def add(self, times: np.ndarray, deltas: np.ndarray) -> None:
        times = np.asarray(times, dtype=float)
        deltas = np.broadcast_to(np.asarray(deltas, dtype=float), times.shape)
        inside = times < self.n * self.dt
        times, deltas = np.maximum(times[inside], 0.0), deltas[inside]
        k = np.minimum((times // self.dt).astype(np.int64), self.n - 1)
        share = ((k + 1) * self.dt - times) / self.dt
        self.after += np.bincount(k + 1, weights=deltas, minlength=self.n + 1)
        self.partial += np.bincount(k, weights=deltas * share, minlength=self.n)

    def add_bin_energy(self, bins: np.ndarray, energy: np.ndarray) -> None:
        """Energy (signal x seconds) already known per bin, added as its average level."""
        self.partial += np.bincount(bins, weights=energy / self.dt, minlength=self.n)

    def levels(self) -> np.ndarray:
        return np.cumsum(self.after[:-1]) + self.partial


def wave_power(
    start: np.ndarray,
    end: np.ndarray,
    gpus: np.ndarray,
    peak_w: np.ndarray,
    peak_s: np.ndarray,
    valley_w: np.ndarray,
    valley_s: np.ndarray,
    dt: float,
    n: int,
) -> np.ndarray:
    """Bin-averaged total power (W) of jobs' square waves over ``n`` bins of ``dt`` seconds from 0.

    Job ``i`` runs on ``gpus[i]`` GPUs from ``start[i]`` to ``end[i]``, its wave starting with a peak at its
    start. Jobs that never ran should be left out by the caller.
    """
    acc = StepAccumulator(dt, n)
    horizon = n * dt
    live = (end > 0) & (start < horizon) & (end > start)
    period = peak_s + valley_s
    by_steps = live & (period > 2 * dt)
    by_edges = live & ~by_steps
    for idx in in_chunks(np.flatnonzero(by_steps), np.ceil((end - start) / period) * 2 + 4):
        _add_wave_steps(acc, start[idx], end[idx], gpus[idx], peak_w[idx], peak_s[idx], valley_w[idx], valley_s[idx])
    n_edges = np.ceil(np.minimum(end, horizon) / dt) - np.floor(np.maximum(start, 0) / dt) + 1
    for idx in in_chunks(np.flatnonzero(by_edges), n_edges):
        _add_wave_edges(acc, start[idx], end[idx], gpus[idx], peak_w[idx], peak_s[idx], valley_w[idx], valley_s[idx])
    return acc.levels()


def window_energy(start, end, gpus, peak_w, peak_s, valley_w, valley_s, t0: float, t1: float) -> np.ndarray:
    """Energy (J) of each job's wave inside the window [t0, t1], from the closed form."""
    lo = np.clip(t0 - start, 0.0, end - start)
    hi = np.clip(t1 - start, 0.0, end - start)
    per_gpu = wave_energy(hi, peak_w, peak_s, valley_w, valley_s) - wave_energy(lo, peak_w, peak_s, valley_w, valley_s)
    return gpus * per_gpu


def in_chunks(idx: np.ndarray, cost: np.ndarray):
    """Split job indices into runs whose summed cost stays under CHUNK_ITEMS."""
    if len(idx) == 0:
        return
    group = (np.cumsum(cost[idx]) // CHUNK_ITEMS).astype(np.int64)
    yield from np.split(idx, np.flatnonzero(np.diff(group)) + 1)


def _add_wave_steps(acc, start, end, gpus, peak_w, peak_s, valley_w, valley_s) -> None:
    """Steps of every epoch: +peak at start, peak->valley and valley->peak each period, back to 0 at end.

    Each step is kept only if it falls before the job's end, and the level removed at the end is summed
    from the steps kept, so rounding at a phase boundary cannot leave a job's power behind after it ends.
    """
    period = peak_s + valley_s
    epochs = np.ceil((end - start) / period).astype(np.int64) + 1  # one spare; steps past the end are dropped
    job = np.repeat(np.arange(len(start)), epochs)
    k = np.arange(job.size) - np.repeat(np.cumsum(epochs) - epochs, epochs)
    begin = start[job] + k * period[job]
    swing = (valley_w - peak_w)[job] * gpus[job]
    to_valley = begin + peak_s[job]
    down = to_valley < end[job]
    up = (k > 0) & (begin < end[job])
    acc.add(to_valley[down], swing[down])
    acc.add(begin[up], -swing[up])
    net_swings = np.bincount(job[down], minlength=len(start)) - np.bincount(job[up], minlength=len(start))
    acc.add(start, peak_w * gpus)
    acc.add(end, -(peak_w + net_swings * (valley_w - peak_w)) * gpus)


def _add_wave_edges(acc, start, end, gpus, peak_w, peak_s, valley_w, valley_s) -> None:
    """Energy per bin from the wave's closed-form energy at the bin edges the job covers."""
    dt, n = acc.dt, acc.n
    first = np.floor(np.maximum(start, 0.0) / dt).astype(np.int64)
    last = np.minimum(np.ceil(np.minimum(end, n * dt) / dt).astype(np.int64), n)  # edge index after the job
    bins = np.maximum(last - first, 0)
    job = np.repeat(np.arange(len(start)), bins)
    b = first[job] + np.arange(job.size) - np.repeat(np.cumsum(bins) - bins, bins)
    lo = np.clip(b * dt - start[job], 0.0, (end - start)[job])
    hi = np.clip((b + 1) * dt - start[job], 0.0, (end - start)[job])
    w = (peak_w[job], peak_s[job], valley_w[job], valley_s[job])
    energy = gpus[job] * (wave_energy(hi, *w) - wave_energy(lo, *w))
    acc.add_bin_energy(b, energy)
