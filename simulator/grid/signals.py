"""What the grid tells the site, step by step: prices, carbon, solar, import limits, and the tariff's rules.

:class:`GridSignals` is the one carrier of them: the dispatch loop, the policies, the bill, the job levers and
the gymnasium environment all read the same object, built from a scenario by :func:`scenario_signals`. They
are known before the run whatever the load (day-ahead prices, announced demand-response events), so they can
be built once for every policy.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from simulator.config import Scenario, SeriesPrice, TouPrice
from simulator.grid.signal_files import TimeOfUse, at_times, read_carbon_csv, read_price_csv, read_solar_profile

DEFAULT_SOLAR = Path(__file__).resolve().parents[2] / "data" / "grid" / "CISO_NG_avgCI.csv"

BLOCK_S = 900.0
"""Demand charges are billed on clock-aligned 15-minute average import."""
BLOCK_H = BLOCK_S / 3600


@dataclass(frozen=True)
class Tariff:
    """The billing rules beyond each step's energy price (a per-step signal): a demand charge per billing month
    on the highest clock-aligned :data:`BLOCK_S` average import."""

    demand_charge_usd_per_kw: float = 0.0


@dataclass(frozen=True)
class GridSignals:
    """The grid's side of every control step: times (site-local, tz-aware), prices, carbon, solar, limits."""

    times: pd.DatetimeIndex
    price_usd_per_kwh: np.ndarray
    carbon_g_per_kwh: np.ndarray
    solar_kw: np.ndarray
    limit_kw: np.ndarray  # inf where no limit applies
    dt_s: float
    tariff: Tariff

    @property
    def dt_h(self) -> float:
        return self.dt_s / 3600

    def blocks(self) -> tuple[np.ndarray, np.ndarray]:
        """Billing block index per step, and month index per block."""
        codes, uniques = pd.factorize(self.times.floor(f"{int(BLOCK_S)}s"))
        return codes, pd.factorize(uniques.strftime("%Y-%m"))[0]


def control_times(scenario: Scenario, n: int, step_s: float) -> pd.DatetimeIndex:
    """Site-local, tz-aware start of every step (the simulation's start is site-local time)."""
    start = pd.Timestamp(scenario.simulation.start).tz_localize(scenario.grid.timezone)
    return start + pd.to_timedelta(np.arange(n) * step_s, unit="s")


def scenario_signals(scenario: Scenario, n: int, step_s: float | None = None) -> GridSignals:
    """The scenario's signals at ``n`` steps of ``step_s`` (default: the control step) from t = 0; the signals'
    files serve any year (:func:`simulator.grid.signal_files.at_times`)."""
    grid = scenario.grid
    step_s = step_s or scenario.policy.step
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
    return GridSignals(times, np.asarray(usd_per_mwh, float) / 1000, np.asarray(carbon, float), solar, limit,
                       float(step_s), Tariff(grid.demand_charge_usd_per_kw))
