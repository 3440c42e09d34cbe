"""Speed of the grid-coordination policies: time per MPC step and for a whole-month oracle.

    python benchmarks/policy_speed.py            # writes benchmarks/results/policy_speed.json

The load is a synthetic 1-min facility series (daily cycle, surges, noise; 30 days plus a day of history),
CAISO 2023 prices for July, a $20/kW demand charge and a 400 kWh / 200 kW battery. The MPC step is timed over
a day of steps with a perfect forecast (15 one-minute steps plus the day-ahead outlook of 8 quarter-hours and
22 hours: ~45 LP steps); the oracle solves the whole month at 1-min steps in one LP (~43,200 steps).
Targets: under 5 ms per MPC step, under 30 s for the month's oracle.
"""

from __future__ import annotations

import json
import platform
import time
from pathlib import Path

import numpy as np
import pandas as pd
from rich.console import Console
from rich.table import Table

from simulator.grid.battery import Battery
from simulator.grid.dispatch import GridInputs, run_policy
from simulator.grid.policies import make_policy
from simulator.grid.signal_files import at_times, read_price_csv
from simulator.grid.signals import GridSignals, Tariff

ROOT = Path(__file__).resolve().parents[1]


def month_inputs(days: int = 30) -> GridInputs:
    n = (days + 1) * 1440
    times = pd.date_range("2023-06-30", periods=n, freq="1min", tz="America/Los_Angeles")
    rng = np.random.default_rng(0)
    t = np.arange(n)
    load = 400 + 100 * np.sin(2 * np.pi * (t / 1440 - 0.3)) + rng.normal(0, 10, n) + (rng.random(n) < 0.01) * 150
    load = np.convolve(load, np.ones(5) / 5, "same")
    prices = at_times(read_price_csv(ROOT / "data/grid/US-CAL-CISO_electricity_prices_2023_processed.csv"), times)
    day = 1440
    signals = GridSignals(times[day:], prices[day:] / 1000, np.zeros(n - day), np.zeros(n - day),
                          np.full(n - day, np.inf), 60.0, Tariff(demand_charge_usd_per_kw=20.0))
    return GridInputs.of(signals, load[day:], history_kw=load[:day])


def main() -> None:
    inputs = month_inputs()
    battery = Battery(energy_kwh=400, power_kw=200)
    day = GridInputs(*(getattr(inputs, f)[:1440] if f in ("times", "load_kw", "solar_kw", "price_usd_per_kwh",
                                                         "carbon_g_per_kwh", "limit_kw") else getattr(inputs, f)
                       for f in GridInputs.__dataclass_fields__))

    def perfect(t, h):
        return day.load_kw[t : t + h]

    began = time.perf_counter()
    run_policy(make_policy("mpc"), day, battery, perfect)
    mpc_ms = (time.perf_counter() - began) / len(day.load_kw) * 1e3

    began = time.perf_counter()
    run_policy(make_policy("oracle"), inputs, battery, lambda t, h: inputs.load_kw[t : t + h])
    oracle_s = time.perf_counter() - began

    result = {"mpc_step_ms": mpc_ms, "mpc_steps": len(day.load_kw), "oracle_month_s": oracle_s,
              "oracle_steps": len(inputs.load_kw), "machine": platform.machine(),
              "targets": {"mpc_step_ms": 5.0, "oracle_month_s": 30.0}}
    table = Table(title="policy speed (1-min control steps)")
    for column in ("case", "measured", "target"):
        table.add_column(column, justify="left" if column == "case" else "right")
    table.add_row(f"MPC, per step (mean of {len(day.load_kw):,})", f"{mpc_ms:.2f} ms", "< 5 ms")
    table.add_row(f"oracle, one month ({len(inputs.load_kw):,} steps)", f"{oracle_s:.1f} s", "< 30 s")
    Console().print(table)
    out = ROOT / "benchmarks" / "results" / "policy_speed.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
