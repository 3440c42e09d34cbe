"""Grid coordination for a scenario: signals at the control step, the forecaster, the policies, the bills.

Takes what the simulation metered (facility load, and the day before t = 0 as history) and the job table
(for the load the running jobs imply), and runs the ``none`` baseline, the scenario's policy and, where asked,
the oracle on the same inputs (:mod:`simulator.grid.dispatch`). Returns per-policy time series and metrics.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from simulator.common.errors import UserError
from simulator.common.jobs import submitted_in_window
from simulator.config import Scenario
from simulator.grid.battery import battery_of
from simulator.grid.billing import bill
from simulator.grid.dispatch import Forecast, GridInputs, run_policy
from simulator.grid.forecast import make_forecast, perfect_forecast
from simulator.grid.policies import make_policy
from simulator.grid.signals import scenario_signals

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


def resample(values: np.ndarray, resolution_s: float, step_s: float) -> np.ndarray:
    """Means over control steps of a series metered at ``resolution_s`` (a divisor of the step)."""
    per = round(step_s / resolution_s)
    if per < 1 or abs(per * resolution_s - step_s) > 1e-6:
        raise UserError(f"policy.step: expected a whole multiple of simulation.resolution ({resolution_s:g} s)")
    whole = len(values) // per
    return np.asarray(values[: whole * per]).reshape(whole, per).mean(axis=1)


def grid_inputs(scenario: Scenario, load_kw: np.ndarray, history_kw: np.ndarray | None) -> GridInputs:
    return GridInputs.of(scenario_signals(scenario, len(load_kw)), load_kw, history_kw)


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
    battery = battery_of(scenario.grid.battery)
    policy_cfg = scenario.policy
    kinds = {"none": "none"}  # report label -> battery policy
    if policy_cfg.label != "none":
        kinds[policy_cfg.label] = policy_cfg.kind
    if policy_cfg.oracle and battery.energy_kwh > 0 and policy_cfg.kind != "oracle":
        kinds["oracle"] = "oracle"

    # only the policies that act on a forecast load a forecaster; none and the oracle see the true load
    forecast = (make_forecast(scenario, inputs, it_kw, history_it_kw, jobs)
                if policy_cfg.kind in FORECAST_POLICIES else perfect_forecast(inputs))
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
        frames[label] = run_policy(policy, seen, battery, forecast if uses_forecast else perfect_forecast(seen),
                                   policy_cfg.horizon)
        metrics[label] = bill(frames[label], seen, battery)
        metrics[label].update(job_metrics(baseline.jobs if label == "none" and baseline else jobs, duration, slack))
        if not uses_forecast:
            metrics[label]["forecast_mae_kw"] = None
    return GridResult(frames, metrics, inputs, forecast)
