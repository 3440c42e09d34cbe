"""The synthetic workload is calibrated to the real cluster statistics it cites, and is seeded."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from simulator.workload.builder import CLUSTER_STATS, JobSizeModel, arrival_shape, build_workload
from tests.conftest import ROOT, small_scenario


def test_calibration_numbers_match_the_shipped_summary():
    table = pd.read_csv(ROOT / "data/acmetrace/cluster_summary.csv").set_index("id")
    for name, stats in CLUSTER_STATS.items():
        row = table.loc[name.capitalize()]
        assert stats.median_gpus == row["med_gpu_num"]
        assert stats.mean_gpus == row["avg_gpu_num"]
        assert stats.max_gpus == row["max_gpu"]
        assert stats.median_run_s == row["med_run_time_gpu"]
        assert stats.mean_run_s == row["avg_run_time_gpu"]
        assert stats.max_run_s == row["max_run_time_gpu"]
        gpu_time = row["complete_gpu_time"] + row["cancel_gpu_time"] + row["fail_gpu_time"]
        assert stats.gpu_seconds_per_job == pytest.approx(gpu_time / row["gpu_job_num"], rel=1e-4)


def test_default_utilisation_is_phillys_mean_occupancy():
    occupancy = pd.read_csv(ROOT / "data/philly/philly_node_sequence.csv")
    assert (occupancy["active"] / occupancy["total"]).mean() == pytest.approx(
        small_scenario().workload.target_utilization, abs=0.005)


@pytest.mark.parametrize("name", sorted(CLUSTER_STATS))
def test_sampled_jobs_reproduce_the_cluster_statistics(name):
    stats = CLUSTER_STATS[name]
    model = JobSizeModel.calibrate(stats, stats.max_gpus)
    gpus, runs = model.sample(np.random.default_rng(1), 400_000)
    assert np.median(gpus) == stats.median_gpus
    assert gpus.mean() == pytest.approx(stats.mean_gpus, rel=0.05)
    assert np.median(runs) == pytest.approx(stats.median_run_s, rel=0.05)
    assert runs.mean() == pytest.approx(stats.mean_run_s, rel=0.1)
    assert (gpus * runs).mean() == pytest.approx(stats.gpu_seconds_per_job, rel=0.1)
    assert model.mean_gpu_seconds == pytest.approx(stats.gpu_seconds_per_job, rel=1e-3)
    assert runs.max() <= stats.max_run_s


def test_arrivals_follow_the_daily_and_weekly_shape():
    scenario = small_scenario(cluster={"servers": 64}, simulation={"duration": "28d", "warmup": 0,
                                                                   "resolution": "1h"})
    jobs = build_workload(scenario, np.random.default_rng(0), 0.0)
    hour = (jobs["submit_s"] // 3600 % 24).astype(int)
    by_hour = hour.value_counts().sort_index()
    assert by_hour.loc[13:15].mean() > 1.3 * by_hour.loc[[1, 2, 3]].mean()  # peak at 14:00, amplitude 0.3
    day = (jobs["submit_s"] // 86400 % 7).astype(int)  # the default start is a Monday
    weekend = day.isin([5, 6]).mean() / (2 / 7)
    assert weekend == pytest.approx(0.7 / ((5 + 2 * 0.7) / 7), rel=0.1)
    t = np.linspace(0, 7 * 86400, 7 * 24 * 60, endpoint=False)
    assert arrival_shape(scenario.simulation.start, t, scenario.workload).mean() == pytest.approx(1.0, rel=1e-3)


def test_offered_load_meets_the_target_utilisation():
    scenario = small_scenario(cluster={"servers": 32}, simulation={"duration": "120d", "warmup": 0,
                                                                   "resolution": "1h"})
    jobs = build_workload(scenario, np.random.default_rng(5), 0.0)
    offered = (jobs["num_gpus"] * jobs["duration_s"]).sum() / (scenario.cluster.total_gpus * 120 * 86400)
    assert offered == pytest.approx(scenario.workload.target_utilization, rel=0.25)  # heavy-tailed sizes


def test_same_seed_same_jobs_and_a_different_seed_differs():
    scenario = small_scenario()
    a = build_workload(scenario, np.random.default_rng(9), 3600.0)
    b = build_workload(scenario, np.random.default_rng(9), 3600.0)
    c = build_workload(scenario, np.random.default_rng(10), 3600.0)
    pd.testing.assert_frame_equal(a, b)
    assert not a["submit_s"].equals(c["submit_s"])
    assert a["submit_s"].min() >= -3600.0 and a["submit_s"].is_monotonic_increasing
    assert a["num_gpus"].max() <= scenario.cluster.total_gpus // 4
