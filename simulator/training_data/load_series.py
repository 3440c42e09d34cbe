"""Load series for the forecasters to learn from, made by running dcsim itself or from a shipped occupancy trace.

Why here, above the run pipeline: :mod:`forecasters.load` trains on any :class:`LoadSeries`, but making the
simulated ones runs the whole simulator, which the forecasters (a lower layer) must not import.

- :func:`simulated_series`: the simulator's own metered IT power, for several cluster sizes and seeds, with the
  known load (:func:`forecasters.load.series.known_load`).
- :func:`philly_series`: real occupancy of Microsoft's Philly cluster (busy nodes of 420, 1-min, 73 days) turned
  into power: a busy GPU draws the mean power that the power model predicts for Philly-calibrated jobs on a P100,
  an idle one its idle power. No job list exists, so no known load.
- :func:`load_data`: either of them, or a user's CSV, split for training.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from forecasters.load.pipeline import DataSplits
from forecasters.load.series import HORIZON, STEP_S, LoadSeries, read_load_csv, split
from forecasters.power import AnalyticPowerModel
from simulator.common.catalog import gpu_spec
from simulator.config import Scenario
from simulator.grid.forecast import run_series
from simulator.run.pipeline import simulate
from simulator.workload.builder import synthetic_jobs

PHILLY_FILE = Path(__file__).resolve().parents[2] / "data" / "philly" / "philly_node_sequence.csv"


@dataclass(frozen=True)
class SimulatedCase:
    servers: int
    seed: int
    days: float = 14.0
    calibration: str = "kalos"


DEFAULT_CASES = (SimulatedCase(32, 1), SimulatedCase(64, 2), SimulatedCase(128, 3), SimulatedCase(256, 4))
"""Train on four sizes and seeds; :data:`TEST_CASE` is a size and seed none of them has."""
TEST_CASE = SimulatedCase(96, 11)


def simulated_series(case: SimulatedCase, horizon: int = HORIZON) -> LoadSeries:
    """Run a one-week-style scenario of ``case`` at 1-min metering and return its per-unit IT load."""
    scenario = Scenario.model_validate({
        "name": f"forecast-{case.servers}x8-seed{case.seed}",
        "cluster": {"servers": case.servers, "gpus_per_server": 8, "gpu": "A100-80GB", "scheduler": "easy"},
        "workload": {"kind": "synthetic", "calibration": case.calibration, "target_utilization": 0.74,
                     "daily_amplitude": 0.3, "weekend_factor": 0.7},
        "simulation": {"start": "2023-07-03T00:00:00", "duration": f"{case.days * 24}h", "warmup": "2d",
                       "resolution": f"{STEP_S}s", "seed": case.seed},
    })
    result = simulate(scenario)
    return run_series(scenario, result.timeseries["it_power_kw"].to_numpy(), result.jobs, horizon=horizon)


def philly_series(path: Path = PHILLY_FILE, gpu: str = "P100", gpus_per_node: int = 8, seed: int = 0) -> LoadSeries:
    """Busy nodes of the Philly trace as per-unit power (see module docstring); a node is ``gpus_per_node`` GPUs."""
    frame = pd.read_csv(path, parse_dates=["time"])
    spec = gpu_spec(gpu)
    scenario = Scenario.model_validate({"name": "philly", "cluster": {"servers": 64, "gpu": gpu},
                                        "workload": {"kind": "synthetic", "calibration": "philly"},
                                        "simulation": {"duration": "7d", "warmup": "0h", "seed": seed}})
    sample = synthetic_jobs(scenario, np.random.default_rng(seed), 0.0, 7 * 86400.0)
    waves = AnalyticPowerModel().predict(sample)
    period = waves["peak_duration_s"] + waves["valley_duration_s"]
    mean_w = (waves["peak_power_w"] * waves["peak_duration_s"] + waves["valley_power_w"] * waves["valley_duration_s"])
    busy_w = float(np.average(mean_w / period, weights=sample["num_gpus"] * sample["duration_s"]))
    busy = frame["active"].to_numpy(float) / frame["total"].to_numpy(float)
    values = (spec.idle_w + busy * (busy_w - spec.idle_w)) / spec.tdp_w
    return LoadSeries("philly", frame["time"].iloc[0], values)


def load_data(source: str, days: float | None = None) -> DataSplits:
    """``simulated``, ``philly`` or a CSV path; ``days`` shortens the simulated runs (tests)."""
    if source == "simulated":
        cases = [replace(c, days=days) if days else c for c in DEFAULT_CASES]
        parts = [split(simulated_series(c)) for c in cases]
        test_case = replace(TEST_CASE, days=days) if days else TEST_CASE
        return DataSplits(source, [p[0] for p in parts], [p[1] for p in parts],
                          [split(simulated_series(test_case))[2]])
    series = philly_series() if source == "philly" else read_load_csv(Path(source))
    train, val, test = split(series)
    return DataSplits(source, [train], [val], [test])
