"""A battery (BESS) behind the facility meter: ratings, efficiency and state-of-charge bounds.

Why a separate charge and discharge efficiency: round-trip efficiency is what datasheets give; splitting it as
sqrt(rt) each way makes energy in = energy out / rt + change in stored energy hold exactly, step by step,
which the tests check. Every policy's command goes through :meth:`Battery.apply`, so no policy can push the
state of charge out of its bounds or the power past its rating.
"""

from __future__ import annotations

import math

import numpy as np

from simulator.config import BatteryConfig


class Battery(BatteryConfig):
    """The validated ``grid.battery`` section (ratings, efficiency, state-of-charge bounds: its fields and their
    checks are :class:`simulator.config.BatteryConfig`'s) with what such a battery can do."""

    @property
    def eta(self) -> float:
        """One-way efficiency."""
        return math.sqrt(self.round_trip_efficiency)

    @property
    def e_min(self) -> float:
        return self.soc_min * self.energy_kwh

    @property
    def e_max(self) -> float:
        return self.soc_max * self.energy_kwh

    @property
    def e_initial(self) -> float:
        return self.soc_initial * self.energy_kwh

    def apply(self, stored_kwh: float, command_kw: float, dt_h: float) -> tuple[float, float]:
        """Clip a command (+ charge, - discharge, kW at the meter) to what the battery can do this step.

        Returns (power actually drawn (+) or delivered (-) at the meter, stored energy after the step).
        """
        if command_kw >= 0:
            room = (self.e_max - stored_kwh) / (self.eta * dt_h)
            power = min(command_kw, self.power_kw, max(room, 0.0))
            return power, stored_kwh + power * self.eta * dt_h
        available = (stored_kwh - self.e_min) * self.eta / dt_h
        power = min(-command_kw, self.power_kw, max(available, 0.0))
        return -power, stored_kwh - power / self.eta * dt_h


NO_BATTERY = Battery.model_construct(energy_kwh=0.0, power_kw=0.0, soc_initial=0.0, soc_min=0.0, soc_max=0.0)
"""A site without a battery: zero capacity, which a scenario's ``grid.battery`` cannot ask for (hence unvalidated)."""


def battery_of(config: BatteryConfig | None) -> Battery:
    """The battery a scenario's ``grid.battery`` section describes, or :data:`NO_BATTERY`."""
    return NO_BATTERY if config is None else Battery(**config.model_dump())


def equivalent_cycles(power_kw: np.ndarray, dt_h: float, battery: Battery) -> float:
    """Full cycles: energy discharged at the meter over the usable capacity."""
    usable = battery.e_max - battery.e_min
    if usable <= 0:
        return 0.0
    return float(np.sum(np.maximum(-power_kw, 0.0)) * dt_h / usable)
