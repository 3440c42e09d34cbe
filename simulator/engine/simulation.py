"""The discrete-event core: a SimPy arrival process, a queue, and one completion event per running job.

Only arrivals, starts and ends are events. A job's epochs are not: its square wave is analytic, and the meter
(:mod:`simulator.engine.metering`) integrates it afterwards, so the event count does not grow with epochs. A running
job is a single ``Timeout`` whose callback frees its GPUs, rather than a process of its own: a process costs
three events (start, timeout, exit) where the job needs one, and a year of a large cluster has ~10^6 jobs.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import simpy

from simulator.engine.cluster import Cluster, Placement
from simulator.engine.scheduler import Scheduler, insert_sorted, remove_sorted


@dataclass(frozen=True)
class Schedule:
    """What happened to every job: start and end time (NaN if it never started) and its GPUs per server."""

    start_s: np.ndarray
    end_s: np.ndarray
    placements: list[Placement | None]


class Simulation:
    """Runs a prepared job list through a scheduler on a cluster, from ``t_start`` (warm-up) to ``t_end``.

    ``submit_s``, ``gpus`` and ``runtime`` are per job id; jobs must be sorted by submit time. Two hooks serve
    the job-side levers (:mod:`simulator.grid.levers`): ``release_s`` holds a deferred job out of the queue until
    then, and ``run_end(job, start)`` gives the end of a job whose speed varies over time (power-cap windows);
    schedulers still plan with ``runtime``, the estimate a user would give.
    """

    def __init__(
        self,
        submit_s: np.ndarray,
        gpus: np.ndarray,
        runtime: np.ndarray,
        cluster: Cluster,
        scheduler: Scheduler,
        t_start: float,
        t_end: float,
        release_s: np.ndarray | None = None,
        run_end: Callable[[int, float], float] | None = None,
    ):
        if np.any(np.diff(submit_s) < 0):
            raise ValueError("jobs must be sorted by submit time")
        # plain lists: indexing them from Python is several times faster than indexing numpy arrays
        self.submit_s: list[float] = np.asarray(submit_s, dtype=float).tolist()
        self.gpus: list[int] = np.asarray(gpus, dtype=np.int64).tolist()
        self.runtime: list[float] = np.asarray(runtime, dtype=float).tolist()
        self.release_s: list[float] | None = None if release_s is None else np.asarray(release_s, float).tolist()
        self.run_end = run_end
        self.cluster = cluster
        self.scheduler = scheduler
        self.t_end = t_end
        self.env = simpy.Environment(initial_time=t_start)
        self.queue: deque[int] = deque()
        self.running_ends: list[tuple[float, int]] = []
        self.start_s = [float("nan")] * len(self.submit_s)
        self.end_s = [float("nan")] * len(self.submit_s)
        self.placements: list[Placement | None] = [None] * len(self.submit_s)

    # --- the view a scheduler gets -------------------------------------------------------------------
    @property
    def now(self) -> float:
        return self.env.now

    def fits(self, job: int) -> bool:
        return self.cluster.fits(self.gpus[job])

    def start(self, job: int) -> None:
        # SimPy reaches a submit time as now + (submit - now), which can fall 1 ulp short of it
        now = max(self.env.now, self.submit_s[job])
        self.placements[job] = self.cluster.allocate(self.gpus[job])
        self.start_s[job] = now
        end = self.run_end(job, now) if self.run_end else now + self.runtime[job]
        self.end_s[job] = end
        insert_sorted(self.running_ends, end, job)
        self.env.timeout(end - now).callbacks.append(lambda _event: self._finish(job, end))

    # --- processes -------------------------------------------------------------------------------------
    def _arrivals(self):
        for job in range(len(self.submit_s)):
            yield self.env.timeout(self.submit_s[job] - self.env.now)
            wait = self.release_s[job] - self.env.now if self.release_s else 0.0
            if wait > 0:
                self.env.timeout(wait).callbacks.append(lambda _event, job=job: self._enqueue(job))
            else:
                self._enqueue(job)

    def _enqueue(self, job: int) -> None:
        self.queue.append(job)
        self.scheduler.arrived(self.queue, self)

    def _finish(self, job: int, end: float) -> None:
        self.cluster.release(self.placements[job])
        remove_sorted(self.running_ends, end, job)
        self.scheduler.schedule(self.queue, self)

    def run(self, progress: Callable[[float], None] | None = None, steps: int = 200) -> Schedule:
        """Simulate to ``t_end``; ``progress`` gets the fraction done after each of ``steps`` slices."""
        self.env.process(self._arrivals())
        t0 = self.env.now
        for i in range(1, steps + 1):
            self.env.run(until=t0 + (self.t_end - t0) * i / steps)
            if progress:
                progress(i / steps)
        return Schedule(np.array(self.start_s), np.array(self.end_s), self.placements)
