"""Power capping: the curve learned from the Zeus sweeps, applied to waves, and through a whole simulation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecasters.power.capping import CURVE_FILE, CappingCurve, default_curve
from forecasters.power.zeus import read_zeus
from simulator.run.pipeline import simulate
from tests.conftest import ROOT, small_scenario


def test_the_shipped_curve_is_the_fit_of_the_shipped_zeus_data():
    sweeps = pd.concat([read_zeus(ROOT / f"data/zeus/summary_power_{g}.csv") for g in ("a40", "v100")])
    assert CappingCurve.fit(sweeps, "summary_power_a40.csv, summary_power_v100.csv") == CappingCurve.load(CURVE_FILE)


def test_the_curve_is_monotone_and_ends_without_effect():
    curve = default_curve()
    assert np.all(np.diff(curve.cap_ratio) > 0)
    assert np.all(np.diff(curve.power_ratio) >= 0) and np.all(np.diff(curve.time_ratio) <= 0)
    assert curve.power_ratio[-1] == 1.0 and curve.time_ratio[-1] == 1.0
    assert curve.time_ratio[0] > 1.5  # Zeus: at ~45 % of the draw an epoch takes well over 1.5x longer


def test_caps_lower_and_stretch_the_peak_and_leave_loose_caps_alone():
    waves = pd.DataFrame({"peak_power_w": [300.0] * 4, "peak_duration_s": [100.0] * 4,
                          "valley_power_w": [80.0] * 4, "valley_duration_s": [5.0] * 4})
    capped = default_curve().apply(waves, np.array([np.nan, 500.0, 200.0, 60.0]))
    pd.testing.assert_series_equal(capped.iloc[0], waves.iloc[0], check_names=False)
    pd.testing.assert_series_equal(capped.iloc[1], waves.iloc[1], check_names=False)
    assert capped.loc[2, "peak_power_w"] < 300 and capped.loc[2, "peak_duration_s"] > 100
    assert capped.loc[3, "peak_power_w"] < capped.loc[2, "peak_power_w"]
    assert capped.loc[3, "peak_duration_s"] > capped.loc[2, "peak_duration_s"]
    assert capped.loc[3, "valley_power_w"] == 60.0  # a valley cannot draw more than the cap
    assert (capped["valley_duration_s"] == 5.0).all()


def test_a_cluster_power_cap_lowers_the_peak_and_costs_time():
    free = simulate(small_scenario())
    capped = simulate(small_scenario(cluster={"gpu_power_limit_w": 200.0}))
    assert capped.metrics["peak_kw"] < free.metrics["peak_kw"]
    both = free.jobs.merge(capped.jobs, on="job_id", suffixes=("", "_capped"))
    assert (both["peak_power_w_capped"] <= both["peak_power_w"]).all()
    assert (both["duration_s_capped"] >= both["duration_s"] - 1e-9).all()
    assert (both["peak_power_w_capped"] < both["peak_power_w"]).any()


@pytest.mark.parametrize("kind", ["analytic", "symbolic"])
def test_both_power_models_run_a_scenario_with_energy_conserved(kind):
    result = simulate(small_scenario(power_model={"kind": kind}))
    m = result.metrics
    assert m["gpu_energy_mwh"] == pytest.approx(m["job_energy_mwh"] + m["idle_gpu_energy_mwh"], rel=1e-6)
    assert (result.jobs["peak_power_w"] > result.jobs["valley_power_w"]).mean() > 0.9
