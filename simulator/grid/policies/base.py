"""What a grid-coordination policy sees and does: one small interface, observe -> act.

Every control step the coordinator hands an online policy an :class:`Observation` (the state now, the load
forecast and the grid signals for the next steps) and applies its battery command through
:meth:`simulator.grid.battery.Battery.apply`. The oracle is not online: it sees the whole period at once
(:meth:`Policy.plan`), which is why no online policy can beat it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np

from simulator.grid.battery import Battery
from simulator.grid.signals import Tariff


@dataclass(frozen=True)
class Outlook:
    """Coarse steps after the forecast horizon, up to a day ahead (15-minute blocks, then hours).

    The load there is the seasonal-naive guess (the same time the day before); prices, solar and limits are
    known in advance. It lets a planner keep energy for tomorrow's peak, which a 15-minute forecast cannot see.
    """

    dt_h: np.ndarray
    load_kw: np.ndarray
    solar_kw: np.ndarray
    price_usd_per_kwh: np.ndarray
    limit_kw: np.ndarray
    block: np.ndarray


@dataclass(frozen=True)
class Observation:
    """The state at the start of step ``step`` and what lies ahead (arrays over the next H steps)."""

    step: int
    stored_kwh: float
    load_kw: float  # the load metered over the last step (NaN at the first step without history)
    forecast_kw: np.ndarray  # facility load forecast for steps step .. step+H-1
    solar_kw: np.ndarray
    price_usd_per_kwh: np.ndarray
    limit_kw: np.ndarray
    block: np.ndarray  # 15-min block of each step ahead
    block_past_kwh: float  # import already metered in the current 15-min block
    month_peak_kw: float  # highest 15-min average import so far this billing month
    outlook: Outlook | None = None  # for policies with ``wants_outlook``


@dataclass(frozen=True)
class Context:
    """What a policy knows before the run: the battery, the control step, the tariff."""

    battery: Battery
    step_s: float
    tariff: Tariff

    @property
    def dt_h(self) -> float:
        return self.step_s / 3600


class Policy(ABC):
    name: str = ""
    online: bool = True
    wants_outlook: bool = False

    def reset(self, context: Context) -> None:
        self.context = context

    @abstractmethod
    def act(self, obs: Observation) -> float:
        """Battery command in kW at the meter: + charge, - discharge."""


class NoPolicy(Policy):
    """The baseline: the battery (if any) stays idle."""

    name = "none"

    def act(self, obs: Observation) -> float:
        return 0.0
