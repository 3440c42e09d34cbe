"""Cluster placement and schedulers: no GPU is ever double-booked, FIFO keeps order, EASY never delays the head."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.engine.cluster import Cluster
from simulator.engine.scheduler import EasyBackfill, Fifo
from simulator.engine.simulation import Simulation


def run(submit, gpus, runtime, scheduler, servers=4, per_server=8, t_end=1e6):
    cluster = Cluster(servers, per_server)
    sim = Simulation(np.array(submit, float), np.array(gpus), np.array(runtime, float), cluster, scheduler,
                     0.0, t_end)
    return sim.run(), cluster


def usage_never_exceeds_capacity(schedule, gpus, runtime, servers, per_server):
    """Sweep every start and end: per-server GPUs in use must stay within 0..per_server."""
    events = []
    for job, placement in enumerate(schedule.placements):
        if placement is None:
            continue
        assert sum(c for _, c in placement.items(per_server)) == gpus[job]
        for server, count in placement.items(per_server):
            events.append((schedule.start_s[job] + runtime[job], 0, server, -count))  # ends first at a tie
            events.append((schedule.start_s[job], 1, server, count))
    used = np.zeros(servers, dtype=int)
    for _, _, server, count in sorted(events):
        used[server] += count
        assert 0 <= used[server] <= per_server


def test_placement_fills_whole_servers_then_best_fit():
    cluster = Cluster(4, 8)
    small = cluster.allocate(3)
    assert small.items(8) == [(0, 3)]
    big = cluster.allocate(20)  # two whole free servers and 4 GPUs on the fullest server that fits
    assert big.items(8) == [(1, 8), (2, 8), (0, 4)]
    assert cluster.free == [1, 0, 0, 8] and cluster.free_gpus == 9
    assert cluster.fits(9)  # server 3 whole plus the 1 GPU left on server 0
    assert not cluster.fits(10)  # 8 + 2 would need 2 GPUs on one other server
    assert cluster.allocate(2).items(8) == [(3, 2)]  # best fit: server 0 has only 1 free
    cluster.release(big)
    cluster.release(small)
    assert cluster.free == [8, 8, 8, 6] and cluster.free_gpus == 30  # only the 2-GPU job is left



@settings(max_examples=40, deadline=None)
@given(
    jobs=st.lists(st.tuples(st.floats(0, 500), st.sampled_from([1, 2, 3, 4, 8, 12, 16, 24, 32]),
                            st.floats(1, 400)), min_size=1, max_size=60),
    easy=st.booleans(),
)
def test_no_gpu_is_double_booked(jobs, easy):
    jobs.sort()
    submit, gpus, runtime = map(list, zip(*jobs, strict=True))
    schedule, cluster = run(submit, gpus, runtime, EasyBackfill(8) if easy else Fifo())
    usage_never_exceeds_capacity(schedule, gpus, runtime, 4, 8)
    started = ~np.isnan(schedule.start_s)
    assert started.all()  # every job fits the cluster, so all start before t_end
    assert (schedule.start_s >= np.array(submit)).all()
    assert cluster.free_gpus == 32  # everything released


def test_fifo_starts_jobs_in_submit_order():
    rng = np.random.default_rng(4)
    submit = np.sort(rng.uniform(0, 100, 40))
    gpus = rng.choice([1, 4, 8, 16, 32], 40)
    runtime = rng.uniform(10, 200, 40)
    schedule, _ = run(submit, gpus, runtime, Fifo())
    assert (np.diff(schedule.start_s) >= 0).all()


def test_easy_backfills_short_jobs_without_delaying_the_head():
    # t=0: a 24-GPU job runs 100 s. t=1: a 32-GPU head must wait for it. t=2: a short 8-GPU job fits in the
    # 8 free GPUs and ends before the head could start, so EASY runs it now; FIFO makes it wait.
    submit, gpus, runtime = [0, 1, 2, 3], [24, 32, 8, 8], [100, 50, 30, 500]
    easy, _ = run(submit, gpus, runtime, EasyBackfill())
    fifo, _ = run(submit, gpus, runtime, Fifo())
    assert easy.start_s[2] == 2 and fifo.start_s[2] == 150
    assert easy.start_s[1] == fifo.start_s[1] == 100  # the head is not delayed
    assert easy.start_s[3] == 150  # the long job would have delayed the head, so it waits


@pytest.mark.parametrize("scheduler", [Fifo(), EasyBackfill()])
def test_whole_cluster_jobs_run_one_after_another(scheduler):
    schedule, cluster = run([0, 0, 0], [32, 32, 32], [10, 10, 10], scheduler)
    assert list(schedule.start_s) == [0, 10, 20]
    assert cluster.free_gpus == 32
