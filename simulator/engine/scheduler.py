"""Schedulers: which queued jobs start now. One small interface, so more policies can be added.

A scheduler sees the queue (job ids in submit order) and a :class:`SchedulingView` of the cluster; it starts
jobs through the view, which allocates their GPUs, and removes them from the queue.
"""

from __future__ import annotations

import bisect
from abc import ABC, abstractmethod
from collections import deque
from itertools import islice
from typing import Protocol

from simulator.engine.cluster import Cluster


class SchedulingView(Protocol):
    """What a scheduler may look at and do; implemented by the simulation."""

    now: float
    cluster: Cluster  # read-only for schedulers: fits(gpus), free_gpus
    queue: deque[int]
    gpus: list[int]  # GPUs per job id
    runtime: list[float]  # expected run time per job id (s)
    running_ends: list[tuple[float, int]]  # (end time, job id) of running jobs, sorted

    def fits(self, job: int) -> bool: ...

    def start(self, job: int) -> None: ...


class Scheduler(ABC):
    @abstractmethod
    def schedule(self, queue: deque[int], view: SchedulingView) -> None:
        """Start what may start now; started jobs leave ``queue``. Called when GPUs were freed."""

    def arrived(self, queue: deque[int], view: SchedulingView) -> None:
        """Called when a job joined the end of ``queue`` and nothing else changed since the last pass.

        Jobs that could not start then still cannot (free GPUs and the running set are unchanged), so
        a scheduler only needs to consider the newcomer; the default re-runs the full pass.
        """
        self.schedule(queue, view)


class Fifo(Scheduler):
    """Strict first-come first-served: the head of the queue blocks everyone behind it."""

    def schedule(self, queue: deque[int], view: SchedulingView) -> None:
        while queue and view.fits(queue[0]):
            view.start(queue.popleft())

    def arrived(self, queue: deque[int], view: SchedulingView) -> None:
        if len(queue) == 1:  # otherwise a blocked head is still blocked
            self.schedule(queue, view)


class EasyBackfill(Scheduler):
    """EASY backfilling (Lifka 1995; Mu'alem and Feitelson 2001).

    The head job gets a reservation at the *shadow time*, the earliest time enough GPUs are free by the
    expected end times of running jobs. A later job may jump ahead if it fits now and either ends before the
    shadow time or uses only GPUs the head will not need then. The reservation counts GPUs, not their servers,
    as production schedulers' node-count reservations do; at most ``depth`` queued jobs are examined per pass
    (Slurm's bf_max_job_test), which bounds the cost of a long queue.
    """

    def __init__(self, depth: int = 64):
        self.depth = depth

    def schedule(self, queue: deque[int], view: SchedulingView) -> None:
        while queue and view.fits(queue[0]):
            view.start(queue.popleft())
        if len(queue) < 2 or view.cluster.free_gpus == 0:
            return
        started = self._backfill(islice(queue, 1, 1 + self.depth), view)
        for job in started:
            queue.remove(job)

    def arrived(self, queue: deque[int], view: SchedulingView) -> None:
        if len(queue) == 1:
            self.schedule(queue, view)
        elif len(queue) <= 1 + self.depth and view.cluster.free_gpus > 0 and self._backfill([queue[-1]], view):
            queue.pop()

    @staticmethod
    def _backfill(candidates, view: SchedulingView) -> list[int]:
        """Start the candidates that fit now without delaying the head's reservation; return them."""
        cluster, gpus, runtime, now = view.cluster, view.gpus, view.runtime, view.now
        shadow = None  # the reservation is computed only once some candidate fits by count
        started = []
        for job in candidates:  # a hot loop: kept flat, cheapest tests first
            free = cluster.free_gpus
            if free == 0:
                break
            need = gpus[job]
            if need > free:
                continue
            if shadow is None:
                shadow, extra = EasyBackfill._reservation(view)
            in_time = now + runtime[job] <= shadow
            if (not in_time and need > extra) or not cluster.fits(need):
                continue
            if not in_time:
                extra -= need
            view.start(job)
            started.append(job)
        return started

    @staticmethod
    def _reservation(view: SchedulingView) -> tuple[float, int]:
        """Shadow time of the queue's head and the GPUs left over at that time."""
        need = view.gpus[view.queue[0]]
        free = view.cluster.free_gpus
        for end, job in view.running_ends:
            free += view.gpus[job]
            if free >= need:
                return end, free - need
        return float("inf"), 0


def make_scheduler(kind: str, depth: int) -> Scheduler:
    if kind == "fifo":
        return Fifo()
    if kind == "easy":
        return EasyBackfill(depth)
    raise ValueError(f"unknown scheduler {kind!r}")


def insert_sorted(ends: list[tuple[float, int]], end: float, job: int) -> None:
    bisect.insort(ends, (end, job))


def remove_sorted(ends: list[tuple[float, int]], end: float, job: int) -> None:
    i = bisect.bisect_left(ends, (end, job))
    if i < len(ends) and ends[i] == (end, job):
        ends.pop(i)
