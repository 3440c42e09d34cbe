"""The bill of one policy's run: energy at each step's price, the demand charge on each month's peak block,
battery wear, and the peak and carbon figures reported beside it."""

from __future__ import annotations

import numpy as np
import pandas as pd

from simulator.grid.battery import Battery, equivalent_cycles
from simulator.grid.signals import BLOCK_S, GridSignals


def demand_charge_peaks(import_kw: np.ndarray, times: pd.DatetimeIndex, window_s: float = BLOCK_S) -> pd.DataFrame:
    """Per billing month, the highest average grid import over clock-aligned windows, as demand charges bill.

    Utilities bill demand on the highest average power over fixed 15-minute intervals starting at :00, :15,
    :30 and :45, not on instantaneous peaks: a 5-minute spike of X kW raises the bill by X/3. Sample ``i`` holds
    from ``times[i]`` for one step; ``times`` are regular and the step divides ``window_s``. Windows are aligned
    on the wall clock of ``times`` (naive or tz-aware), months are calendar months of that clock, and a partial
    window at either end of the data averages the samples it has.

    Returns one row per month: ``month`` ('YYYY-MM'), ``peak_kw`` and ``peak_start`` (the window's start, in
    the time zone of ``times``); the earliest window wins a tie.
    """
    import_kw = np.asarray(import_kw, dtype=float)
    if len(times) < 2 or len(import_kw) != len(times):
        raise ValueError(f"need at least 2 times and one import value per time, got {len(times)} and {len(import_kw)}")
    if not np.all(np.isfinite(import_kw)):
        raise ValueError("import_kw has NaN or infinite values")
    step = times[1] - times[0]
    window = pd.Timedelta(seconds=window_s)
    if step <= pd.Timedelta(0) or window % step != pd.Timedelta(0):
        raise ValueError(f"the time step ({step}) must be positive and divide the window ({window})")
    if not np.all(np.diff(times.asi8) == times.asi8[1] - times.asi8[0]):
        raise ValueError("times must be regular (one step between all samples)")
    wall = times.tz_localize(None) if times.tz is not None else times
    offset = wall - wall.floor(window)
    start_wall = wall - offset
    month = np.asarray(start_wall.year * 100 + start_wall.month)  # integer key: formatting every sample is slow
    samples = pd.DataFrame({"month": month, "start": times - offset, "kw": import_kw})
    windows = samples.groupby(["month", "start"], sort=True)["kw"].mean().reset_index()
    peaks = windows.sort_values(["month", "kw"], ascending=[True, False], kind="stable").drop_duplicates("month")
    return pd.DataFrame(
        {
            "month": [f"{m // 100:04d}-{m % 100:02d}" for m in peaks["month"]],
            "peak_kw": peaks["kw"].to_numpy(),
            "peak_start": peaks["start"].reset_index(drop=True),
        }
    )



def bill(frame: pd.DataFrame, signals: GridSignals, battery: Battery) -> dict:
    """Cost, peak and carbon metrics of one policy's run (see the README for each definition)."""
    dt_h = signals.dt_h
    imp = frame["import_kw"].to_numpy()
    month_peaks = demand_charge_peaks(imp, signals.times)["peak_kw"]
    energy_cost = float(np.sum(imp * signals.price_usd_per_kwh) * dt_h)
    demand = float(month_peaks.sum() * signals.tariff.demand_charge_usd_per_kw)
    degradation = float(np.sum(np.abs(frame["battery_kw"])) * dt_h * battery.degradation_usd_per_kwh)
    over = imp > signals.limit_kw + 1e-6
    avg = float(imp.mean())
    peak15 = float(month_peaks.max())
    load = frame["load_kw"].to_numpy()
    per_minute = pd.Series(imp, index=signals.times).resample("1min").mean().to_numpy()
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
        "carbon_t": float(np.sum(imp * signals.carbon_g_per_kwh) * dt_h / 1e6),
        "battery_cycles": equivalent_cycles(frame["battery_kw"].to_numpy(), dt_h, battery),
        "minutes_over_limit": float(over.sum() * signals.dt_s / 60),
        "forecast_mae_kw": float(np.mean(np.abs(frame["forecast_kw"].to_numpy() - load))),
    }
