"""Job-side levers: power-cap windows stretch the jobs they cut, deferral waits for cleaner hours within slack."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.config import Scenario
from simulator.grid.levers import CapWindows, release_times
from simulator.run.pipeline import simulate
from tests.conftest import small_scenario
from tests.test_simulation import energy_balance

CARBON = "../data/grid/US-CAL-CISO_carbon_intensity_2023_hourly.csv"


def windows(*pairs) -> CapWindows:
    return CapWindows(np.array([a for a, _ in pairs], float), np.array([b for _, b in pairs], float))


def test_a_window_inside_a_run_slows_it_by_the_capped_share():
    w = windows((100.0, 200.0))
    # 10 epochs of 50 s free, 80 s capped: 100 s before the window (2 epochs), 100 s in it (1.25), rest free
    assert w.run_end(0.0, 10.0, 50.0, 80.0) == pytest.approx(200 + (10 - 2 - 1.25) * 50)
    assert w.run_end(300.0, 2.0, 50.0, 80.0) == pytest.approx(400.0)  # after every window: unchanged
    assert w.run_end(150.0, 0.5, 50.0, 80.0) == pytest.approx(190.0)  # ends inside the window


@settings(max_examples=60, deadline=None)
@given(
    edges=st.lists(st.floats(0, 5000), min_size=0, max_size=8, unique=True),
    start=st.floats(-500, 5000),
    epochs=st.floats(0.1, 40),
    free=st.floats(10, 300),
    stretch=st.floats(1.0, 3.0),
)
def test_segments_cover_the_run_and_do_exactly_its_work(edges, start, epochs, free, stretch):
    edges = sorted(edges)[: len(edges) // 2 * 2]
    w = windows(*zip(edges[::2], edges[1::2], strict=True))
    slow = free * stretch
    end = w.run_end(start, epochs, free, slow)
    seg = w.segments(pd.DataFrame({"job_id": [0], "start_s": [start], "end_s": [end], "num_gpus": [4]}))
    assert seg["start_s"].iloc[0] == start and seg["end_s"].iloc[-1] == end
    assert np.allclose(seg["start_s"].to_numpy()[1:], seg["end_s"].to_numpy()[:-1])  # contiguous
    assert (seg["end_s"] > seg["start_s"]).all()
    work = ((seg["end_s"] - seg["start_s"]) / np.where(seg["capped"], slow, free)).sum()
    assert work == pytest.approx(epochs, rel=1e-9)
    assert np.array_equal(seg["capped"], w.active(((seg["start_s"] + seg["end_s"]) / 2).to_numpy()))


def test_from_mask_turns_steps_into_windows():
    w = CapWindows.from_mask(np.array([0, 1, 1, 0, 1]), 60.0)
    assert list(w.starts) == [60.0, 240.0] and list(w.ends) == [180.0, 300.0]


def test_release_waits_for_the_cleanest_start_within_slack():
    signal = np.array([500.0] * 6 + [100.0] * 4 + [500.0] * 20)  # hourly: clean from hour 6 to 10
    submit = np.array([-600.0, 0.0, 3600.0, 9 * 3600.0])
    runtime = np.full(4, 3600.0)
    released = release_times(submit, runtime, signal, 3600.0, slack_s=8 * 3600.0, step_s=900.0, min_gain=0.05)
    assert released[0] == -600.0  # submitted in the warm-up: never deferred
    assert released[1] == 6 * 3600.0 and released[2] == 6 * 3600.0  # wait for the clean hours
    assert released[3] == 9 * 3600.0  # already clean: starts at once
    assert np.all(released - submit <= 8 * 3600.0 + 1e-9)
    flat = release_times(submit, runtime, np.full(30, 300.0), 3600.0, 8 * 3600.0, 900.0, 0.05)
    assert np.array_equal(flat, submit)  # no gain, no wait


def lever_scenario(**policy) -> Scenario:
    return small_scenario(
        grid={"timezone": "America/Los_Angeles", "carbon": {"file": CARBON},
              "demand_response": [{"start": "2023-07-03T02:00:00", "end": "2023-07-03T04:00:00", "limit_kw": 1000}]},
        policy={"step": 60, "slack": "6h", **policy},
        workload={"target_utilization": 0.6},
        simulation={"duration": "12h"},
    )


def test_capping_lowers_power_in_its_window_conserves_energy_and_costs_time():
    result = simulate(lever_scenario(capping={"gpu_power_limit_w": 200}))
    grid = result.grid
    none, capped = grid.frames["none"], grid.frames["capping"]
    local = none["time"].dt.tz_localize(None)
    event = (local >= pd.Timestamp("2023-07-03T02:00")) & (local < pd.Timestamp("2023-07-03T04:00"))
    assert capped.loc[event, "load_kw"].mean() < none.loc[event, "load_kw"].mean()
    metered, accounted = energy_balance(result)
    assert math.isclose(metered, accounted, rel_tol=1e-6)
    jobs = result.jobs
    assert (jobs["capped_h"] > 0).any() and (jobs["capped_h"] <= 2 + 1e-9).all()
    assert grid.metrics["capping"]["capped_gpu_h"] > 0 and grid.metrics["none"]["capped_gpu_h"] == 0
    # a job cut by the window runs longer than its free run; one that never meets it is unchanged
    free = jobs["epochs"] * (jobs["peak_duration_s"] + jobs["valley_duration_s"])
    cut = jobs["capped_h"] > 0
    assert (jobs.loc[cut, "duration_s"] > free[cut] + 1e-6).all()
    assert np.allclose(jobs.loc[~cut & jobs["start_s"].notna(), "duration_s"], free[~cut & jobs["start_s"].notna()])


def test_deferral_cuts_carbon_within_slack_and_reports_what_it_costs_the_jobs():
    result = simulate(lever_scenario(deferral={"signal": "carbon"}))
    m = result.grid.metrics
    assert m["deferral"]["jobs_deferred"] > 0 and m["none"]["jobs_deferred"] == 0
    assert m["deferral"]["carbon_t"] < m["none"]["carbon_t"]
    assert m["deferral"]["job_wait_mean_h"] > m["none"]["job_wait_mean_h"]
    jobs = result.jobs
    assert (jobs["deferred_s"] <= 6 * 3600 + 1e-6).all() and (jobs["deferred_s"] >= 0).all()
    started = jobs["start_s"].notna()
    assert (jobs.loc[started, "wait_s"] >= jobs.loc[started, "deferred_s"] - 1e-6).all()
    late = (jobs["start_s"].fillna(12 * 3600) - jobs["submit_s"] > 6 * 3600 + 1e-6) & (jobs["submit_s"] >= 0)
    assert m["deferral"]["jobs_past_slack"] == int(late.sum())


def test_levers_need_their_signals():
    from simulator.common.errors import UserError

    scenario = small_scenario(policy={"step": 60, "deferral": {"signal": "carbon"}})
    with pytest.raises(UserError, match="policy.deferral.signal: needs a carbon series"):
        simulate(scenario)


def test_a_job_replaying_a_power_log_is_not_capped_and_energy_still_balances(tmp_path):
    from tests.test_traces import power_log_scenario

    scenario = power_log_scenario(tmp_path, "0,resnet,1,3000,power_log.csv\n0,resnet,2,3000,\n")
    grid = {"demand_response": [{"start": "2023-07-03T00:10:00", "end": "2023-07-03T00:20:00", "limit_kw": 1000}]}
    capped = Scenario.model_validate({**scenario.model_dump(), "grid": grid, "base_dir": scenario.base_dir,
                                      "policy": {"step": 60, "capping": {"gpu_power_limit_w": 150}}})
    result = simulate(capped)
    jobs = result.jobs.set_index("job_id")
    assert jobs.loc[0, "duration_s"] == pytest.approx(3000) and jobs.loc[0, "capped_h"] == 0  # runs as recorded
    assert jobs.loc[1, "duration_s"] > 3000 and jobs.loc[1, "capped_h"] == pytest.approx(600 / 3600)
    assert jobs.loc[0, "energy_kwh"] * 3.6e6 == pytest.approx(3000 / 30 * 6000)
    metered, accounted = energy_balance(result)
    assert math.isclose(metered, accounted, rel_tol=1e-9)


def test_deferral_by_load_moves_jobs_to_hours_the_site_would_draw_less():
    result = simulate(lever_scenario(deferral={"signal": "load", "min_gain": 0.02}))
    jobs, none = result.jobs, result.grid.frames["none"]
    deferred = jobs[jobs["deferred_s"] > 0]
    assert len(deferred) > 0 and (deferred["deferred_s"] <= 6 * 3600 + 1e-6).all()
    load = none["load_kw"].to_numpy()  # the load without levers, per 1-min step: what deferral planned against

    def mean_load(start, seconds):
        a, b = int(start // 60), int(np.ceil((start + seconds) / 60))
        return load[a:min(b, len(load))].mean() if a < len(load) else load[-1]

    runs = deferred["duration_s"]  # waves are not capped here: the planned run time is the run time
    now = [mean_load(s, r) for s, r in zip(deferred["submit_s"], runs, strict=True)]
    later = [mean_load(s + d, r) for s, d, r in zip(deferred["submit_s"], deferred["deferred_s"], runs, strict=True)]
    assert np.mean(later) < np.mean(now)
