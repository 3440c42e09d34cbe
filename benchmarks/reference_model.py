"""The plain reference model the fast engine is measured against: every epoch phase is its own SimPy timeout.

Same jobs, same scheduler, same cluster; the only difference is that each running job is a process that
steps through its peaks and valleys and meters each phase as it goes, the way a first simulator would be
written. ``benchmarks/sim_speed.py`` times both on the same run, and ``tests/test_reference.py`` checks that
both give the same metered power.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from simulator.common.jobs import WAVE_COLUMNS
from simulator.engine.cluster import Cluster
from simulator.engine.scheduler import Scheduler, insert_sorted
from simulator.engine.simulation import Simulation


class PerPhaseSimulation(Simulation):
    """A :class:`~simulator.engine.simulation.Simulation` whose jobs advance one epoch phase per SimPy timeout."""

    def __init__(self, jobs: pd.DataFrame, cluster: Cluster, scheduler: Scheduler, t_start: float, t_end: float,
                 dt: float, bins: int):
        super().__init__(jobs["submit_s"].to_numpy(), jobs["num_gpus"].to_numpy(), jobs["duration_s"].to_numpy(),
                         cluster, scheduler, t_start, t_end)
        self.waves = jobs[list(WAVE_COLUMNS)].to_numpy().tolist()
        self.dt, self.bins = dt, bins
        self.energy = np.zeros(bins)  # joules per metering bin, of the jobs' GPUs
        self.phases = 0  # epoch phases stepped, for the benchmark's table

    def start(self, job: int) -> None:
        now = self.env.now
        self.placements[job] = self.cluster.allocate(self.gpus[job])
        self.start_s[job] = now
        end = now + self.runtime[job]
        insert_sorted(self.running_ends, end, job)
        self.env.process(self._phases(job, end))

    def _phases(self, job: int, end: float):
        peak_w, peak_s, valley_w, valley_s = self.waves[job]
        gpus = self.gpus[job]
        begin = self.env.now
        epoch = 0
        while True:
            # phase boundaries from the job's start, as the fast model has them, so rounding does not drift
            for power, phase_end in ((peak_w, begin + epoch * (peak_s + valley_s) + peak_s),
                                     (valley_w, begin + (epoch + 1) * (peak_s + valley_s))):
                now = self.env.now
                stop = min(phase_end, end)
                self._meter(now, stop, power * gpus)
                self.phases += 1
                yield self.env.timeout(stop - now)
                if stop >= end:
                    self._finish(job, end)
                    return
            epoch += 1

    def _meter(self, a: float, b: float, watts: float) -> None:
        horizon = self.bins * self.dt
        a, b = max(a, 0.0), min(b, horizon)
        if b <= a:
            return
        k0, k1 = int(a // self.dt), min(int(math.floor(b / self.dt)), self.bins - 1)
        if k0 == k1:
            self.energy[k0] += watts * (b - a)
            return
        self.energy[k0] += watts * ((k0 + 1) * self.dt - a)
        self.energy[k0 + 1 : k1] += watts * self.dt
        self.energy[k1] += watts * (b - k1 * self.dt)

    def power(self) -> np.ndarray:
        """Bin-averaged power (W) of the jobs' GPUs."""
        return self.energy / self.dt
