"""A gymnasium environment around grid coordination, for users who train their own battery policy.

One episode is one scenario's metered facility load, control step by control step (the load is simulated once;
the battery does not change what the jobs draw).

- **Observation** (float32 vector): state of charge (0..1); load now and the forecast for the next ``horizon``
  steps, each over the load scale (the highest load of the history day, or of the first step); energy price
  now (USD/kWh); the month's peak 15-minute import so far and the mean import of the current 15-minute block,
  over the load scale; sine and cosine of the hour of day.
- **Action**: one number in [-1, 1], the battery command as a share of its power rating (+ charge, - discharge);
  the battery clips it to what its state of charge allows.
- **Reward**: minus what the step costs: energy (price x import), battery wear, and the demand charge on any
  rise of the month's peak when a 15-minute block closes. Over an episode the rewards add up to minus the bill
  of :func:`simulator.grid.billing.bill` (tested), so maximising reward minimises the bill.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from simulator.config import Scenario
from simulator.grid.battery import Battery, battery_of
from simulator.grid.dispatch import Forecast, GridInputs
from simulator.grid.signals import BLOCK_H
from simulator.run.pipeline import simulate


class GridEnv(gym.Env):
    metadata = {"render_modes": []}

    def __init__(self, inputs: GridInputs, battery: Battery, forecast: Forecast, horizon: int = 15):
        self.inputs, self.battery, self.forecast, self.horizon = inputs, battery, forecast, horizon
        self.block, self.block_month = inputs.blocks()
        history = inputs.history_kw if inputs.history_kw is not None and len(inputs.history_kw) else inputs.load_kw[:1]
        self.scale = float(np.max(history))
        size = 1 + 1 + horizon + 1 + 2 + 2
        # every entry is a share, a USD/kWh price or a sine: well inside +-10 (ERCOT's scarcity price is 4.2)
        self.observation_space = spaces.Box(-10.0, 10.0, shape=(size,), dtype=np.float32)
        self.action_space = spaces.Box(-1.0, 1.0, shape=(1,), dtype=np.float32)

    @classmethod
    def from_scenario(cls, scenario: Scenario) -> GridEnv:
        """The scenario's load and signals (simulated once, policy ``none``) and its forecaster."""
        result = simulate(scenario.model_copy(update={"policy": scenario.policy.model_copy(update={"kind": "none"})}))
        return cls(result.grid.inputs, battery_of(scenario.grid.battery), result.grid.forecast, scenario.policy.horizon)

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        self.t, self.stored = 0, self.battery.e_initial
        self.block_kwh, self.month_peak = 0.0, 0.0
        return self._observe(), {}

    def _observe(self) -> np.ndarray:
        t, inputs = self.t, self.inputs
        ahead = np.zeros(self.horizon)
        if t < len(inputs.load_kw):
            got = self.forecast(t, min(self.horizon, len(inputs.load_kw) - t))
            ahead[: len(got)] = got
        now = inputs.load_kw[t - 1] if t else (inputs.history_kw[-1] if inputs.history_kw is not None
                                               and len(inputs.history_kw) else inputs.load_kw[0])
        hour = inputs.times[min(t, len(inputs.times) - 1)]
        angle = 2 * np.pi * (hour.hour + hour.minute / 60) / 24
        soc = self.stored / self.battery.energy_kwh if self.battery.energy_kwh else 0.0
        price = inputs.price_usd_per_kwh[min(t, len(inputs.load_kw) - 1)]
        return np.concatenate([[soc, now / self.scale], ahead / self.scale,
                               [price, self.month_peak / self.scale, self._block_mean() / self.scale,
                                np.sin(angle), np.cos(angle)]]).clip(-10, 10).astype(np.float32)

    def _block_mean(self) -> float:
        return self.block_kwh / BLOCK_H

    def step(self, action):
        inputs, t, battery = self.inputs, self.t, self.battery
        command = float(np.clip(np.asarray(action, dtype=float).reshape(-1)[0], -1, 1)) * battery.power_kw
        power, self.stored = battery.apply(self.stored, command, inputs.dt_h)
        grid = max(inputs.load_kw[t] - inputs.solar_kw[t] + power, 0.0)
        cost = (inputs.price_usd_per_kwh[t] * grid + battery.degradation_usd_per_kwh * abs(power)) * inputs.dt_h
        self.block_kwh += grid * inputs.dt_h
        self.t += 1
        closes = self.t == len(inputs.load_kw) or self.block[self.t] != self.block[t]
        if closes:  # the block's mean import may raise the month's peak: charge for the rise
            steps = np.count_nonzero(self.block == self.block[t])
            mean = self.block_kwh / (steps * inputs.dt_h)
            if mean > self.month_peak:
                cost += inputs.tariff.demand_charge_usd_per_kw * (mean - self.month_peak)
                self.month_peak = mean
            self.block_kwh = 0.0
            if self.t < len(inputs.load_kw) and self.block_month[self.block[self.t]] != self.block_month[self.block[t]]:
                self.month_peak = 0.0
        done = self.t == len(inputs.load_kw)
        return self._observe(), -cost, done, False, {"import_kw": grid, "battery_kw": power}
