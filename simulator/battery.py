"""A battery (BESS) behind the facility meter: ratings, efficiency and state-of-charge bounds.

Why a separate charge and discharge efficiency: round-trip efficiency is what datasheets give; splitting it as
sqrt(rt) each way makes energy in = energy out / rt + change in stored energy hold exactly, step by step,
which the tests check. Every policy's command goes through :meth:`Battery.apply`, so no policy can push the
state of charge out of its bounds or the power past its rating.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Battery:
    energy_kwh: float
    power_kw: float
    round_trip_efficiency: float = 0.9
    soc_min: float = 0.1
    soc_max: float = 0.9
    soc_initial: float = 0.5
    degradation_usd_per_kwh: float = 0.0

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


NO_BATTERY = Battery(energy_kwh=0.0, power_kw=0.0, soc_initial=0.0, soc_min=0.0, soc_max=0.0)


def equivalent_cycles(power_kw: np.ndarray, dt_h: float, battery: Battery) -> float:
    """Full cycles: energy discharged at the meter over the usable capacity."""
    usable = battery.e_max - battery.e_min
    if usable <= 0:
        return 0.0
    return float(np.sum(np.maximum(-power_kw, 0.0)) * dt_h / usable)
