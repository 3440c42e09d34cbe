"""Grid coordination for a scenario: signals at the control step, the forecaster, the policies, the bills.

Takes what the simulation metered (facility load, and the day before t = 0 as history) and the job table
(for the load the running jobs imply), and runs the ``none`` baseline, the scenario's policy and, where asked,
the oracle on the same inputs (:mod:`simulator.coordination`). Returns per-policy time series and metrics.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from simulator.battery import NO_BATTERY, Battery
from simulator.config import Scenario, SeriesPrice, TouPrice
from simulator.coordination import Forecast, GridInputs, bill, run_policy
from simulator.errors import UserError
from simulator.policies import make_policy

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_STUDENT = ROOT / "data" / "forecaster" / "student"
DEFAULT_SOLAR = ROOT / "data" / "grid" / "CISO_NG_avgCI.csv"
FORECAST_POLICIES = frozenset({"threshold", "mpc"})
"""Policies that act on the forecaster's predictions (the baseline ignores load, the oracle knows it)."""


@dataclass
class GridResult:
    frames: dict[str, pd.DataFrame]  # policy -> per control step
    metrics: dict[str, dict]  # policy -> bill and peak metrics
    inputs: GridInputs  # what every policy saw (also the gymnasium environment's episode)
    forecast: Forecast  # the scenario's forecaster, as the policy called it

    def savings(self) -> dict[str, dict]:
        """Per policy: total-bill savings against ``none`` in %, and the share of the oracle's savings (bill and
        demand charge) it achieves."""
        base, oracle = self.metrics["none"], self.metrics.get("oracle")
        out = {}
        for name, m in self.metrics.items():
            row = {"bill_savings_pct": 100 * (base["total_bill_usd"] - m["total_bill_usd"]) / base["total_bill_usd"]
                   if base["total_bill_usd"] else None}
            for key, label in (("total_bill_usd", "share_of_oracle_bill_savings"),
                               ("demand_charge_usd", "share_of_oracle_demand_savings")):
                best = base[key] - oracle[key] if oracle else 0.0
                row[label] = (base[key] - m[key]) / best if best > 1e-9 else None
            out[name] = row
        return out


def battery_of(scenario: Scenario) -> Battery:
    cfg = scenario.grid.battery
    return NO_BATTERY if cfg is None else Battery(**cfg.model_dump())


def control_times(scenario: Scenario, n: int) -> pd.DatetimeIndex:
    """Site-local, tz-aware start of every control step (the simulation's start is site-local time)."""
    start = pd.Timestamp(scenario.simulation.start).tz_localize(scenario.grid.timezone)
    return start + pd.to_timedelta(np.arange(n) * scenario.policy.step, unit="s")


def resample(values: np.ndarray, resolution_s: float, step_s: float) -> np.ndarray:
    """Means over control steps of a series metered at ``resolution_s`` (a divisor of the step)."""
    per = round(step_s / resolution_s)
    if per < 1 or abs(per * resolution_s - step_s) > 1e-6:
        raise UserError(f"policy.step: expected a whole multiple of simulation.resolution ({resolution_s:g} s)")
    whole = len(values) // per
    return np.asarray(values[: whole * per]).reshape(whole, per).mean(axis=1)


def grid_inputs(scenario: Scenario, load_kw: np.ndarray, history_kw: np.ndarray | None) -> GridInputs:
    from simulator.grid_signals import TimeOfUse, at_times, read_carbon_csv, read_price_csv, read_solar_profile

    grid, n = scenario.grid, len(load_kw)
    times = control_times(scenario, n)
    prices = grid.prices
    if isinstance(prices, SeriesPrice):
        usd_per_mwh = at_times(read_price_csv(scenario.resolve(prices.file)), times)
    elif isinstance(prices, TouPrice):
        tou = TimeOfUse(tuple((p.start_hour, p.end_hour, p.usd_per_mwh) for p in prices.periods),
                        prices.default_usd_per_mwh, prices.weekdays_only)
        usd_per_mwh = tou.prices(times)
    else:
        usd_per_mwh = np.full(n, prices.usd_per_mwh)
    carbon = (at_times(read_carbon_csv(scenario.resolve(grid.carbon.file), grid.carbon.kind), times)
              if grid.carbon else np.zeros(n))
    solar = np.zeros(n)
    if grid.solar is not None:
        path = scenario.resolve(grid.solar.file) if grid.solar.file else DEFAULT_SOLAR
        solar = grid.solar.rated_kw * at_times(read_solar_profile(path), times)
    limit = np.full(n, np.inf if grid.import_limit_kw is None else grid.import_limit_kw)
    local = times.tz_localize(None)
    for event in grid.demand_response:
        inside = (local >= pd.Timestamp(event.start)) & (local < pd.Timestamp(event.end))
        limit[inside] = np.minimum(limit[inside], event.limit_kw)
    return GridInputs(times, np.asarray(load_kw, float), solar, np.asarray(usd_per_mwh, float) / 1000, carbon, limit,
                      scenario.policy.step, grid.demand_charge_usd_per_kw, history_kw)


def make_forecast(scenario: Scenario, inputs: GridInputs, it_kw: np.ndarray, history_it_kw: np.ndarray,
                  jobs: pd.DataFrame) -> Forecast:
    """forecast(step, h) for the policy: perfect, persistence, or a saved forecaster (default: the student)."""
    load, history = inputs.load_kw, inputs.history_kw if inputs.history_kw is not None else np.zeros(0)
    name = scenario.policy.forecaster
    if name == "perfect":
        return lambda t, h: load[t : t + h]
    if name == "persistence":
        past, offset = np.concatenate([history, load]), len(history)
        return lambda t, h: np.full(h, past[offset + t - 1] if offset + t else load[0])
    return _model_forecast(scenario, inputs, it_kw, history_it_kw, jobs)


def _model_forecast(scenario: Scenario, inputs: GridInputs, it_kw: np.ndarray, history_it_kw: np.ndarray,
                    jobs: pd.DataFrame) -> Forecast:
    """A saved load forecaster (per-unit IT load) turned into facility kW, all origins predicted at once."""
    from forecasters.load import load_forecaster
    from forecasters.load.base import make_windows
    from forecasters.load.series import run_series

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


def coordinate(scenario: Scenario, facility_kw: np.ndarray, it_kw: np.ndarray, history_facility_kw: np.ndarray,
               history_it_kw: np.ndarray, jobs: pd.DataFrame) -> GridResult:
    """Run none, the scenario's policy and (with a battery and ``policy.oracle``) the oracle; bill each."""
    inputs = grid_inputs(scenario, facility_kw, history_facility_kw)
    battery = battery_of(scenario)
    policy_cfg = scenario.policy
    kinds = ["none"]
    if policy_cfg.kind != "none":
        kinds.append(policy_cfg.kind)
    if policy_cfg.oracle and battery.energy_kwh > 0 and "oracle" not in kinds:
        kinds.append("oracle")

    def perfect(t: int, h: int) -> np.ndarray:
        return inputs.load_kw[t : t + h]

    # only the policies that act on a forecast load a forecaster; none and the oracle see the true load
    forecast = (make_forecast(scenario, inputs, it_kw, history_it_kw, jobs)
                if policy_cfg.kind in FORECAST_POLICIES else perfect)
    frames, metrics = {}, {}
    threshold = policy_cfg.threshold_kw or scenario.grid.import_limit_kw
    for kind in kinds:
        try:
            policy = make_policy(kind, threshold)
        except ValueError as err:
            raise UserError(f"policy.threshold_kw: {err}") from None
        uses_forecast = kind in FORECAST_POLICIES
        frames[kind] = run_policy(policy, inputs, battery, forecast if uses_forecast else perfect, policy_cfg.horizon)
        metrics[kind] = bill(frames[kind], inputs, battery)
        if not uses_forecast:
            metrics[kind]["forecast_mae_kw"] = None
    return GridResult(frames, metrics, inputs, forecast)
