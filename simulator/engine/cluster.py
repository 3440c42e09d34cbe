"""The cluster's GPUs, as one gang-allocated resource over its servers.

A job's GPUs must all be granted at once (gang scheduling), possibly across servers. ``simpy.Resource`` grants
one unit per request, so a multi-GPU job built from several requests could hold half its GPUs while waiting for
the rest and deadlock with another job doing the same. The cluster therefore keeps per-server free counts and
grants a whole placement in one call; the scheduler decides *when*, this module decides *where*.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass


@dataclass(frozen=True)
class Placement:
    """Where one job's GPUs are: whole servers, plus at most one server shared with other jobs."""

    whole: tuple[int, ...]  # servers the job holds entirely, ascending
    server: int  # server holding the remainder, or -1
    count: int  # GPUs on ``server``

    def describe(self, per_server: int) -> str:
        """Readable form, runs of whole servers compressed: '16-31:8 40:3' (server or range:GPUs each)."""
        parts = []
        first = None
        for i, server in enumerate(self.whole):
            first = server if first is None else first
            if i + 1 == len(self.whole) or self.whole[i + 1] != server + 1:
                parts.append(f"{first}:{per_server}" if first == server else f"{first}-{server}:{per_server}")
                first = None
        if self.count:
            parts.append(f"{self.server}:{self.count}")
        return " ".join(parts)

    def items(self, per_server: int) -> list[tuple[int, int]]:
        """(server, GPUs) pairs, in allocation order."""
        pairs = [(s, per_server) for s in self.whole]
        return pairs + [(self.server, self.count)] if self.count else pairs


class Cluster:
    """Free GPUs per server, kept so that both the fit test and the placement are cheap.

    ``by_free[f]`` counts servers with ``f`` free GPUs, so a fit test is O(GPUs per server). ``_lowest[f]`` is a
    heap of server indices that entered level ``f``, cleaned lazily (an entry whose server has since moved to
    another level is dropped when it reaches the top), so the lowest-index server at a level costs O(log n).
    """

    def __init__(self, servers: int, gpus_per_server: int):
        self.servers = servers
        self.per_server = gpus_per_server
        self.free = [gpus_per_server] * servers
        self.by_free = [0] * gpus_per_server + [servers]  # by_free[f] = servers with f free GPUs
        self.free_gpus = servers * gpus_per_server
        self._lowest: list[list[int]] = [[] for _ in range(gpus_per_server)] + [list(range(servers))]

    @property
    def total_gpus(self) -> int:
        return self.servers * self.per_server

    def fits(self, gpus: int) -> bool:
        """Whether a job of ``gpus`` GPUs could be placed now (whole free servers plus one best-fit server)."""
        if gpus > self.free_gpus:
            return False
        full, rest = divmod(gpus, self.per_server)
        if full == 0:
            return any(self.by_free[rest:])
        if self.by_free[self.per_server] < full:
            return False
        return rest == 0 or any(self.by_free[rest : self.per_server]) or self.by_free[self.per_server] > full

    def allocate(self, gpus: int) -> Placement:
        """Place a job: whole free servers for each multiple of a server, best fit for the remainder.

        Best fit (the fullest server that still fits) keeps whole servers free for large jobs. Ties go to the
        lowest server index, so placements are deterministic.
        """
        if not self.fits(gpus):
            raise RuntimeError(f"no placement for {gpus} GPUs; the scheduler must test fits() first")
        per = self.per_server
        full, rest = divmod(gpus, per)
        whole = []
        if full:  # take the lowest-index free servers straight off their heap
            heap, free = self._lowest[per], self.free
            while len(whole) < full:
                server = heapq.heappop(heap)
                if free[server] == per:
                    free[server] = 0
                    whole.append(server)
            self._count(per, 0, full)
        server = -1
        if rest:
            level = next(f for f in range(rest, per + 1) if self.by_free[f])
            server = self._lowest_at(level)
            self._set(server, level - rest)
        return Placement(tuple(sorted(whole)), server, rest)

    def release(self, placement: Placement) -> None:
        if placement.count:
            self._set(placement.server, self.free[placement.server] + placement.count)
        if placement.whole:
            heap, free, per = self._lowest[self.per_server], self.free, self.per_server
            for server in placement.whole:
                if free[server] != 0:
                    raise RuntimeError(f"server {server}: released while {free[server]} GPUs were free")
                free[server] = per
                heapq.heappush(heap, server)
            self._count(0, per, len(placement.whole))

    def _lowest_at(self, level: int) -> int:
        """Lowest-index server with ``level`` free GPUs (there must be one)."""
        heap = self._lowest[level]
        while self.free[heap[0]] != level:
            heapq.heappop(heap)
        return heap[0]

    def _count(self, before: int, after: int, servers: int) -> None:
        self.by_free[before] -= servers
        self.by_free[after] += servers
        self.free_gpus += (after - before) * servers

    def _set(self, server: int, after: int) -> None:
        before = self.free[server]
        if not 0 <= after <= self.per_server or after == before:
            raise RuntimeError(f"server {server}: {before} free GPUs, cannot change to {after}")
        self.free[server] = after
        self._count(before, after, 1)
        if after:
            heapq.heappush(self._lowest[after], server)
