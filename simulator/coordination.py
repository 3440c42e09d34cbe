"""Grid coordination after the schedule: a policy steers the battery against the metered facility load.

The battery sits behind the meter and does not change what the jobs draw, so the facility load is simulated
once and every policy (the ``none`` baseline, the scenario's policy, the oracle) is run on the same load, the
same signals and the same forecasts: differences between them are the policy's alone.

Per control step (default 1 min): grid import = facility load - solar + battery charge - battery discharge,
never below zero (surplus solar is curtailed, there is no export).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from simulator.battery import Battery
from simulator.policies.base import Context, Observation, Outlook, Policy
from simulator.policies.lp import DispatchProblem

BLOCK_S = 900.0
"""Demand charges are billed on clock-aligned 15-minute average import."""


@dataclass(frozen=True)
class GridInputs:
    """Everything per control step: times (site-local, tz-aware), true load and the signals."""

    times: pd.DatetimeIndex
    load_kw: np.ndarray
    solar_kw: np.ndarray
    price_usd_per_kwh: np.ndarray
    carbon_g_per_kwh: np.ndarray
    limit_kw: np.ndarray  # inf where no limit applies
    dt_s: float
    demand_charge_usd_per_kw: float
    history_kw: np.ndarray | None = None  # facility load before the first step (the day before, metered)

    @property
    def dt_h(self) -> float:
        return self.dt_s / 3600

    def blocks(self) -> tuple[np.ndarray, np.ndarray]:
        """15-minute block index per step, and month index per block."""
        codes, uniques = pd.factorize(self.times.floor(f"{int(BLOCK_S)}s"))
        return codes, pd.factorize(uniques.strftime("%Y-%m"))[0]


Forecast = Callable[[int, int], np.ndarray]
"""forecast(step, horizon): the facility load predicted for steps step .. step+horizon-1, made before ``step``."""


def run_policy(policy: Policy, inputs: GridInputs, battery: Battery, forecast: Forecast, horizon: int = 15,
               ) -> pd.DataFrame:
    """Battery power, grid import, stored energy and the one-step forecast per control step."""
    n = len(inputs.load_kw)
    block, block_month = inputs.blocks()
    policy.reset(Context(battery, inputs.dt_h, inputs.demand_charge_usd_per_kw, inputs.dt_s))
    if not policy.online:
        command = policy.plan(DispatchProblem(
            load_kw=inputs.load_kw, solar_kw=inputs.solar_kw, price_usd_per_kwh=inputs.price_usd_per_kwh,
            limit_kw=inputs.limit_kw, block=block, block_past_kwh=np.zeros(len(block_month)),
            block_month=block_month, peak_so_far_kw=np.zeros(block_month.max() + 1),
            demand_charge_usd_per_kw=inputs.demand_charge_usd_per_kw, dt_h=np.full(n, inputs.dt_h),
            battery=battery, stored_kwh=battery.e_initial)).battery_kw
    outlook = _OutlookMaker(inputs, block) if policy.wants_outlook else None
    battery_kw, import_kw, stored_kwh, predicted = (np.zeros(n) for _ in range(4))
    # the load metered over the step before; before the first step, the history's last value (if any)
    before = inputs.history_kw[-1] if inputs.history_kw is not None and len(inputs.history_kw) else np.nan
    stored = battery.e_initial
    block_kwh, month_peak = 0.0, 0.0
    for t in range(n):
        if t and block[t] != block[t - 1]:  # a block closed: it may set the month's peak
            month_peak = max(month_peak, block_kwh / (BLOCK_S / 3600))
            block_kwh = 0.0
            if block_month[block[t]] != block_month[block[t - 1]]:
                month_peak = 0.0
        end = min(t + horizon, n)
        ahead = forecast(t, end - t)
        predicted[t] = ahead[0]
        if policy.online:
            cmd = policy.act(Observation(
                step=t, stored_kwh=stored, load_kw=inputs.load_kw[t - 1] if t else before,
                forecast_kw=ahead, solar_kw=inputs.solar_kw[t:end], price_usd_per_kwh=inputs.price_usd_per_kwh[t:end],
                limit_kw=inputs.limit_kw[t:end], block=block[t:end], block_past_kwh=block_kwh,
                month_peak_kw=month_peak, outlook=outlook(t, end, ahead) if outlook else None))
        else:
            cmd = command[t]
        power, stored = battery.apply(stored, cmd, inputs.dt_h)
        battery_kw[t], stored_kwh[t] = power, stored
        import_kw[t] = max(inputs.load_kw[t] - inputs.solar_kw[t] + power, 0.0)
        block_kwh += import_kw[t] * inputs.dt_h
    return pd.DataFrame({"time": inputs.times, "load_kw": inputs.load_kw, "solar_kw": inputs.solar_kw,
                         "battery_kw": battery_kw, "import_kw": import_kw, "stored_kwh": stored_kwh,
                         "soc": stored_kwh / battery.energy_kwh if battery.energy_kwh else np.zeros(n),
                         "forecast_kw": predicted, "price_usd_per_mwh": inputs.price_usd_per_kwh * 1000,
                         "carbon_g_per_kwh": inputs.carbon_g_per_kwh, "limit_kw": inputs.limit_kw})


class _OutlookMaker:
    """Coarse steps from the end of the forecast horizon to one day after now (see :class:`Outlook`):
    15-minute blocks for two hours, then whole hours, which keeps the MPC's LP at about 45 steps."""

    def __init__(self, inputs: GridInputs, block: np.ndarray):
        self.inputs, self.block = inputs, block
        self.day = round(86400 / inputs.dt_s)
        history = np.zeros(0) if inputs.history_kw is None else inputs.history_kw
        self.offset = len(history)  # the load's cumulative sum starts with the history
        self.cum = {name: np.concatenate([[0.0], np.cumsum(values)]) for name, values in (
            ("load", np.concatenate([history, inputs.load_kw])), ("solar", inputs.solar_kw),
            ("price", inputs.price_usd_per_kwh))}
        # segment edges: every 15-minute block for the first two hours, then every hour
        self.starts = np.flatnonzero(np.r_[True, block[1:] != block[:-1]])
        self.hours = np.flatnonzero(np.r_[True, inputs.times.floor("1h")[1:] != inputs.times.floor("1h")[:-1]])
        self.fine_s = 2 * 3600

    def __call__(self, t: int, end: int, ahead: np.ndarray) -> Outlook:
        inputs, n = self.inputs, len(self.block)
        stop = min(t + self.day, n)
        split = min(end + round(self.fine_s / inputs.dt_s), stop)
        edges = np.concatenate([self.starts[(self.starts > end) & (self.starts < split)],
                                self.hours[(self.hours >= split) & (self.hours < stop)]])
        lo = np.r_[end, edges] if end < stop else np.array([], dtype=int)
        hi = np.r_[edges, stop] if end < stop else np.array([], dtype=int)
        steps = hi - lo

        def mean(name, a, b):
            return (self.cum[name][b] - self.cum[name][a]) / np.maximum(b - a, 1)

        # the same time yesterday (already metered); without a day of history, the forecast's last value held
        back = self.offset - self.day
        load = (mean("load", lo + back, hi + back) if t + back >= 0 else np.full(len(lo), ahead[-1]))
        # segments are contiguous, so each one's lowest limit is one reduceat over [end, stop)
        limit = np.minimum.reduceat(inputs.limit_kw[:stop], lo) if len(lo) else np.zeros(0)
        return Outlook(dt_h=steps * inputs.dt_h, load_kw=load, solar_kw=mean("solar", lo, hi),
                       price_usd_per_kwh=mean("price", lo, hi), limit_kw=limit, block=self.block[lo])


def bill(frame: pd.DataFrame, inputs: GridInputs, battery: Battery) -> dict:
    """Cost, peak and carbon metrics of one policy's run (see the README for each definition)."""
    from simulator.battery import equivalent_cycles
    from simulator.grid_signals import demand_charge_peaks

    dt_h = inputs.dt_h
    imp = frame["import_kw"].to_numpy()
    month_peaks = demand_charge_peaks(imp, inputs.times, BLOCK_S)["peak_kw"]
    energy_cost = float(np.sum(imp * inputs.price_usd_per_kwh) * dt_h)
    demand = float(month_peaks.sum() * inputs.demand_charge_usd_per_kw)
    degradation = float(np.sum(np.abs(frame["battery_kw"])) * dt_h * battery.degradation_usd_per_kwh)
    over = imp > inputs.limit_kw + 1e-6
    avg = float(imp.mean())
    peak15 = float(month_peaks.max())
    load = frame["load_kw"].to_numpy()
    per_minute = pd.Series(imp, index=inputs.times).resample("1min").mean().to_numpy()
    return {
        "import_energy_mwh": float(imp.sum() * dt_h / 1000),
        "energy_cost_usd": energy_cost,
        "demand_charge_usd": demand,
        "degradation_usd": degradation,
        "total_bill_usd": energy_cost + demand + degradation,
        "peak_15min_import_kw": peak15,
        "peak_to_average": float(imp.max() / avg) if avg > 0 else None,
        "load_factor": avg / peak15 if peak15 > 0 else None,
        "ramp_1min_import_kw": float(np.max(np.abs(np.diff(per_minute)))) if len(per_minute) > 1 else 0.0,
        "carbon_t": float(np.sum(imp * inputs.carbon_g_per_kwh) * dt_h / 1e6),
        "battery_cycles": equivalent_cycles(frame["battery_kw"].to_numpy(), dt_h, battery),
        "minutes_over_limit": float(over.sum() * inputs.dt_s / 60),
        "forecast_mae_kw": float(np.mean(np.abs(frame["forecast_kw"].to_numpy() - load))),
    }
