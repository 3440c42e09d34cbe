"""Every shipped scenario validates and runs (shortened here: six hours after a day of warm-up)."""

from __future__ import annotations

from pathlib import Path

import pytest

from simulator.config import load_scenario
from simulator.run.pipeline import simulate
from simulator.sweep.spec import is_sweep_file

# sweep files (capacity_planning.yaml) live beside the scenarios; tests/test_sweep.py runs them
SCENARIOS = sorted(p for p in (Path(__file__).resolve().parents[1] / "scenarios").glob("*.yaml")
                   if not is_sweep_file(p))


def test_the_issue_scenarios_ship():
    assert {"peak_shaving.yaml", "baseline.yaml", "demand_response.yaml"} <= {p.name for p in SCENARIOS}


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_shipped_scenario_runs(path):
    scenario = load_scenario(path)
    short = scenario.simulation.model_copy(update={"duration": 6 * 3600.0, "warmup": 86400.0, "resolution": 60.0})
    result = simulate(scenario.model_copy(update={"simulation": short}))
    grid = result.grid
    assert "none" in grid.metrics and scenario.policy.label in grid.metrics
    if scenario.grid.battery is not None:
        assert grid.metrics["oracle"]["total_bill_usd"] <= grid.metrics[scenario.policy.label]["total_bill_usd"] + 1e-6
    for frame in grid.frames.values():
        assert (frame["import_kw"] >= 0).all()
