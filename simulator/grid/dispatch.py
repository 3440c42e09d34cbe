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

from simulator.grid.battery import Battery
from simulator.grid.policies.base import Context, Observation, Outlook, Policy
from simulator.grid.policies.lp import DispatchProblem
from simulator.grid.signals import BLOCK_H, GridSignals


@dataclass(frozen=True)
class GridInputs(GridSignals):
    """What every policy runs on: the grid's signals per control step and the true facility load they meet."""

    load_kw: np.ndarray
    history_kw: np.ndarray | None = None  # facility load before the first step (the day before, metered)

    @classmethod
    def of(cls, signals: GridSignals, load_kw: np.ndarray, history_kw: np.ndarray | None = None) -> GridInputs:
        return cls(**vars(signals), load_kw=np.asarray(load_kw, float), history_kw=history_kw)


Forecast = Callable[[int, int], np.ndarray]
"""forecast(step, horizon): the facility load predicted for steps step .. step+horizon-1, made before ``step``."""


def run_policy(policy: Policy, inputs: GridInputs, battery: Battery, forecast: Forecast, horizon: int = 15,
               ) -> pd.DataFrame:
    """Battery power, grid import, stored energy and the one-step forecast per control step."""
    n = len(inputs.load_kw)
    block, block_month = inputs.blocks()
    policy.reset(Context(battery, inputs.dt_s, inputs.tariff))
    if not policy.online:
        command = policy.plan(DispatchProblem(
            load_kw=inputs.load_kw, solar_kw=inputs.solar_kw, price_usd_per_kwh=inputs.price_usd_per_kwh,
            limit_kw=inputs.limit_kw, block=block, block_past_kwh=np.zeros(len(block_month)),
            block_month=block_month, peak_so_far_kw=np.zeros(block_month.max() + 1),
            tariff=inputs.tariff, dt_h=np.full(n, inputs.dt_h),
            battery=battery, stored_kwh=battery.e_initial)).battery_kw
    outlook = _OutlookMaker(inputs, block) if policy.wants_outlook else None
    battery_kw, import_kw, stored_kwh, predicted = (np.zeros(n) for _ in range(4))
    # the load metered over the step before; before the first step, the history's last value (if any)
    before = inputs.history_kw[-1] if inputs.history_kw is not None and len(inputs.history_kw) else np.nan
    stored = battery.e_initial
    block_kwh, month_peak = 0.0, 0.0
    for t in range(n):
        if t and block[t] != block[t - 1]:  # a block closed: it may set the month's peak
            month_peak = max(month_peak, block_kwh / BLOCK_H)
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
