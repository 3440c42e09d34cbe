"""Grid coordination for a scenario: signals at the control step, the forecaster, the policies, the bills.

Takes what the simulation metered (facility load, and the day before t = 0 as history) and the job table
(for the load the running jobs imply), and runs the ``none`` baseline, the scenario's policy and, where asked,
the oracle on the same inputs (:mod:`simulator.coordination`). Returns per-policy time series and metrics.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from simulator.battery import NO_BATTERY, Battery
from simulator.config import Scenario, SeriesPrice, TouPrice
from simulator.coordination import Forecast, GridInputs, bill, run_policy
from simulator.errors import UserError
from simulator.metrics import submitted_in_window
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


def control_times(scenario: Scenario, n: int, step_s: float | None = None) -> pd.DatetimeIndex:
    """Site-local, tz-aware start of every control step (the simulation's start is site-local time)."""
    start = pd.Timestamp(scenario.simulation.start).tz_localize(scenario.grid.timezone)
    return start + pd.to_timedelta(np.arange(n) * (step_s or scenario.policy.step), unit="s")


def resample(values: np.ndarray, resolution_s: float, step_s: float) -> np.ndarray:
    """Means over control steps of a series metered at ``resolution_s`` (a divisor of the step)."""
    per = round(step_s / resolution_s)
    if per < 1 or abs(per * resolution_s - step_s) > 1e-6:
        raise UserError(f"policy.step: expected a whole multiple of simulation.resolution ({resolution_s:g} s)")
    whole = len(values) // per
    return np.asarray(values[: whole * per]).reshape(whole, per).mean(axis=1)


@dataclass(frozen=True)
class Signals:
    """The grid's signals at every control step from t = 0: known before the run, whatever the load."""

    times: pd.DatetimeIndex
    usd_per_kwh: np.ndarray
    carbon_g_per_kwh: np.ndarray
    solar_kw: np.ndarray
    limit_kw: np.ndarray  # inf where no limit applies


def signals(scenario: Scenario, n: int, step_s: float | None = None) -> Signals:
    """Prices, carbon, solar and import limits at ``n`` steps of ``step_s`` (default: the control step) from
    t = 0; the signals' files serve any year (:func:`simulator.grid_signals.at_times`)."""
    from simulator.grid_signals import TimeOfUse, at_times, read_carbon_csv, read_price_csv, read_solar_profile

    grid = scenario.grid
    times = control_times(scenario, n, step_s)
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
    return Signals(times, np.asarray(usd_per_mwh, float) / 1000, np.asarray(carbon, float), solar, limit)


def grid_inputs(scenario: Scenario, load_kw: np.ndarray, history_kw: np.ndarray | None) -> GridInputs:
    sig = signals(scenario, len(load_kw))
    return GridInputs(sig.times, np.asarray(load_kw, float), sig.solar_kw, sig.usd_per_kwh, sig.carbon_g_per_kwh,
                      sig.limit_kw, scenario.policy.step, scenario.grid.demand_charge_usd_per_kw, history_kw)


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


@dataclass(frozen=True)
class BaselineLoad:
    """The ``none`` baseline's own facility load and jobs, where the policy's job levers changed them."""

    facility_kw: np.ndarray
    history_kw: np.ndarray
    jobs: pd.DataFrame


def job_metrics(jobs: pd.DataFrame, duration_s: float, slack_s: float) -> dict:
    """What a policy costs the jobs submitted in the window: waits (started jobs) and jobs past their slack
    (started late, or still queued past it at the end)."""
    submitted = jobs[submitted_in_window(jobs, duration_s)]
    waited = submitted["wait_s"].dropna().to_numpy() / 3600
    waiting = submitted["start_s"].fillna(duration_s) - submitted["submit_s"]
    return {
        "job_wait_mean_h": float(waited.mean()) if len(waited) else None,
        "job_wait_p95_h": float(np.percentile(waited, 95)) if len(waited) else None,
        "jobs_past_slack": int((waiting > slack_s + 1e-6).sum()),
        "jobs_deferred": int((submitted["deferred_s"] > 0).sum()) if "deferred_s" in jobs.columns else 0,
        # cap windows lie inside the metered window, so every capped hour counts, whenever its job was submitted
        "capped_gpu_h": float((jobs["capped_h"] * jobs["num_gpus"]).sum()) if "capped_h" in jobs.columns else 0.0,
    }


def coordinate(scenario: Scenario, facility_kw: np.ndarray, it_kw: np.ndarray, history_facility_kw: np.ndarray,
               history_it_kw: np.ndarray, jobs: pd.DataFrame, baseline: BaselineLoad | None = None) -> GridResult:
    """Run none, the scenario's policy and (with a battery and ``policy.oracle``) the oracle; bill each.

    Without job levers every policy sees the same load; with them, ``none`` runs on ``baseline`` (the jobs
    as they ran without levers) and the policy and the oracle on the levered load, so the oracle bounds the
    battery's dispatch given the levers.
    """
    inputs = grid_inputs(scenario, facility_kw, history_facility_kw)
    none_inputs = inputs if baseline is None else replace(inputs, load_kw=np.asarray(baseline.facility_kw, float),
                                                          history_kw=baseline.history_kw)
    battery = battery_of(scenario)
    policy_cfg = scenario.policy
    kinds = {"none": "none"}  # report label -> battery policy
    if policy_cfg.label != "none":
        kinds[policy_cfg.label] = policy_cfg.kind
    if policy_cfg.oracle and battery.energy_kwh > 0 and policy_cfg.kind != "oracle":
        kinds["oracle"] = "oracle"

    # only the policies that act on a forecast load a forecaster; none and the oracle see the true load
    forecast = (make_forecast(scenario, inputs, it_kw, history_it_kw, jobs)
                if policy_cfg.kind in FORECAST_POLICIES else _perfect(inputs))
    frames, metrics = {}, {}
    threshold = policy_cfg.threshold_kw or scenario.grid.import_limit_kw
    duration, slack = scenario.simulation.duration, policy_cfg.slack
    for label, kind in kinds.items():
        seen = none_inputs if label == "none" else inputs
        try:
            policy = make_policy(kind, threshold)
        except ValueError as err:
            raise UserError(f"policy.threshold_kw: {err}") from None
        uses_forecast = kind in FORECAST_POLICIES
        frames[label] = run_policy(policy, seen, battery, forecast if uses_forecast else _perfect(seen),
                                   policy_cfg.horizon)
        metrics[label] = bill(frames[label], seen, battery)
        metrics[label].update(job_metrics(baseline.jobs if label == "none" and baseline else jobs, duration, slack))
        if not uses_forecast:
            metrics[label]["forecast_mae_kw"] = None
    return GridResult(frames, metrics, inputs, forecast)


def _perfect(inputs: GridInputs) -> Forecast:
    load = inputs.load_kw
    return lambda t, h: load[t : t + h]
