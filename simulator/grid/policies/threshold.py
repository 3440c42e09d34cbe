"""Rule-based peak shaving: hold the import at a set level with the battery, recharge below it."""

from __future__ import annotations

from simulator.grid.policies.base import Observation, Policy


class ThresholdPolicy(Policy):
    """Discharge whatever the forecast load exceeds ``threshold_kw`` by; recharge when it is at least
    ``recharge_margin`` below, never pushing the import above ``threshold_kw * (1 - recharge_margin)``."""

    name = "threshold"

    def __init__(self, threshold_kw: float, recharge_margin: float = 0.05):
        self.threshold_kw, self.recharge_margin = threshold_kw, recharge_margin

    def act(self, obs: Observation) -> float:
        net = float(obs.forecast_kw[0] - obs.solar_kw[0])
        if net > self.threshold_kw:
            return -(net - self.threshold_kw)
        ceiling = self.threshold_kw * (1 - self.recharge_margin)
        return max(ceiling - net, 0.0)
