"""The load forecast a policy acts on: perfect, persistence, or a saved forecaster fed from the run itself.

A saved forecaster (:mod:`forecasters.load`) reads per-unit IT load at 1-minute steps and, where it was trained
with it, the *known load*: what the jobs already running imply for the next minutes. :func:`run_series` makes
that series from a simulated run, as a site's operator would from its meters and its scheduler's job list.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from forecasters.load import LoadSeries, load_forecaster, make_windows
from forecasters.load.series import HORIZON, known_load
from simulator.common.catalog import gpu_spec
from simulator.common.errors import UserError
from simulator.config import Scenario
from simulator.grid.dispatch import Forecast, GridInputs

DEFAULT_STUDENT = Path(__file__).resolve().parents[2] / "data" / "forecaster" / "student"


def perfect_forecast(inputs: GridInputs) -> Forecast:
    """The true load: what the baseline and the oracle are given, and the bound for any forecaster."""
    load = inputs.load_kw
    return lambda t, h: load[t : t + h]


def make_forecast(scenario: Scenario, inputs: GridInputs, it_kw: np.ndarray, history_it_kw: np.ndarray,
                  jobs: pd.DataFrame) -> Forecast:
    """forecast(step, h) for the policy: perfect, persistence, or a saved forecaster (default: the student)."""
    load, history = inputs.load_kw, inputs.history_kw if inputs.history_kw is not None else np.zeros(0)
    name = scenario.policy.forecaster
    if name == "perfect":
        return perfect_forecast(inputs)
    if name == "persistence":
        past, offset = np.concatenate([history, load]), len(history)
        return lambda t, h: np.full(h, past[offset + t - 1] if offset + t else load[0])
    return _model_forecast(scenario, inputs, it_kw, history_it_kw, jobs)


def _model_forecast(scenario: Scenario, inputs: GridInputs, it_kw: np.ndarray, history_it_kw: np.ndarray,
                    jobs: pd.DataFrame) -> Forecast:
    """A saved load forecaster (per-unit IT load) turned into facility kW, all origins predicted at once."""
    if scenario.policy.step != 60:
        raise UserError("policy.forecaster: the load forecasters work at 1-min steps; set policy.step: 60 "
                        "or use forecaster: perfect | persistence")
    name = scenario.policy.forecaster
    folder = DEFAULT_STUDENT if name == "student" else scenario.resolve(Path(name))
    model = load_forecaster(folder)
    horizon = scenario.policy.horizon
    if horizon > model.horizon:
        raise UserError(f"policy.horizon: the forecaster predicts {model.horizon} steps (got {horizon})")
    offset = len(history_it_kw)
    series = run_series(scenario, np.concatenate([history_it_kw, it_kw]), jobs, offset_s=offset * 60.0,
                        horizon=model.horizon)
    windows = make_windows(series, model.lookback, model.horizon, targets=False, use_known=model.use_known)
    per_unit = model.predict_windows(windows)  # row j: origin lookback - 1 + j
    history = inputs.history_kw if inputs.history_kw is not None else np.zeros(0)
    facility = np.concatenate([history, inputs.load_kw])
    ratio = facility / np.maximum(np.concatenate([history_it_kw, it_kw]), 1e-9)
    rated = scenario.cluster.rated_it_w / 1e3
    first_origin = model.lookback - 1

    def forecast(t: int, h: int) -> np.ndarray:
        origin = offset + t - 1
        if origin < first_origin:  # not enough history yet: persistence
            return np.full(h, facility[max(origin, 0)])
        return per_unit[origin - first_origin, :h] * rated * ratio[origin]

    return forecast


def run_series(scenario: Scenario, it_power_kw: np.ndarray, jobs: pd.DataFrame, offset_s: float = 0.0,
               horizon: int = HORIZON) -> LoadSeries:
    """A simulated run's IT load (1-min bins starting ``offset_s`` before t = 0) per unit, with its known load."""
    cluster = scenario.cluster
    spec = gpu_spec(cluster.gpu)
    rated_w = cluster.rated_it_w
    floor_w = cluster.it_power_w(spec.idle_w * cluster.total_gpus)
    shifted = jobs.assign(start_s=jobs["start_s"] + offset_s, end_s=jobs["end_s"] + offset_s)
    known = known_load(shifted, spec.idle_w, len(it_power_kw), horizon) / cluster.psu_efficiency
    start = pd.Timestamp(scenario.simulation.start) - pd.Timedelta(seconds=offset_s)
    return LoadSeries(scenario.name, start, np.asarray(it_power_kw) * 1e3 / rated_w, (floor_w + known) / rated_w)
