"""The grid-coordination part of a run's outputs: policy comparison table, grid.parquet and three plots."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from simulator.grid.coordinate import GridResult

PLOTS = ("grid_import.png", "cost_breakdown.png", "price_carbon.png")

ROWS = {
    "import_energy_mwh": ("Grid energy", "MWh"),
    "energy_cost_usd": ("Energy cost", "USD"),
    "demand_charge_usd": ("Demand charge", "USD"),
    "degradation_usd": ("Battery wear", "USD"),
    "total_bill_usd": ("Total bill", "USD"),
    "peak_15min_import_kw": ("Peak 15-min import", "kW"),
    "peak_to_average": ("Peak-to-average", ""),
    "load_factor": ("Load factor", ""),
    "ramp_1min_import_kw": ("Largest 1-min ramp", "kW"),
    "carbon_t": ("Carbon", "t CO2"),
    "battery_cycles": ("Battery cycles", ""),
    "minutes_over_limit": ("Minutes over import limit", "min"),
    "forecast_mae_kw": ("In-loop forecast MAE (1 step)", "kW"),
    "job_wait_mean_h": ("Job wait, mean", "h"),
    "job_wait_p95_h": ("Job wait, p95", "h"),
    "jobs_past_slack": ("Jobs past their slack", ""),
    "jobs_deferred": ("Jobs deferred", ""),
    "capped_gpu_h": ("GPU-hours under a cap", "GPU-h"),
    "bill_savings_pct": ("Bill savings vs none", "%"),
    "share_of_oracle_bill_savings": ("Share of oracle's bill savings", ""),
    "share_of_oracle_demand_savings": ("Share of oracle's demand-charge savings", ""),
}


def comparison(grid: GridResult) -> pd.DataFrame:
    """Rows: metrics (labelled); columns: unit and one per policy."""
    savings = grid.savings()
    merged = {name: {**m, **savings[name]} for name, m in grid.metrics.items()}
    table = pd.DataFrame(merged).reindex(list(ROWS))
    table.insert(0, "unit", [ROWS[k][1] for k in table.index])
    table.index = [ROWS[k][0] for k in table.index]
    return table


def metrics_json(grid: GridResult) -> dict:
    savings = grid.savings()
    return {name: {**m, **savings[name]} for name, m in grid.metrics.items()}


def write_grid(grid: GridResult, folder: Path, limit_kw: float | None) -> None:
    frames = pd.concat([f.assign(policy=name) for name, f in grid.frames.items()], ignore_index=True)
    frames["time"] = frames["time"].astype(str)  # one string column: Parquet keeps the site's offset readable
    frames.to_parquet(folder / "grid.parquet", index=False)
    _plot_import(grid, folder / PLOTS[0], limit_kw)
    _plot_costs(grid, folder / PLOTS[1])
    _plot_signals(grid, folder / PLOTS[2])


def save_figure(fig, path: Path) -> None:
    """PNG without the matplotlib version in its metadata, so the same run writes the same bytes.

    Figures here are made with ``matplotlib.figure.Figure``, not pyplot: writing a report then never picks or
    changes a backend, so a notebook that imports it keeps its inline plots."""
    fig.savefig(path, dpi=110, metadata={"Software": None})


def _plot_import(grid: GridResult, path: Path, limit_kw: float | None) -> None:
    fig = Figure(figsize=(10, 6.5), layout="constrained")
    power, soc = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [2, 1]})
    base = grid.frames["none"]
    power.plot(base["time"], base["load_kw"], lw=0.6, color="grey", label="facility load")
    if base["solar_kw"].any():
        power.plot(base["time"], base["solar_kw"], lw=0.6, color="gold", label="solar")
    for name, frame in grid.frames.items():
        if name != "none":
            power.plot(frame["time"], frame["import_kw"], lw=0.6, label=f"grid import ({name})")
            soc.plot(frame["time"], 100 * frame["soc"], lw=0.8, label=name)
    limit = base["limit_kw"]
    if limit.lt(float("inf")).any():
        power.step(base["time"], limit.where(limit < float("inf")), where="post", color="crimson", ls="--", lw=1,
                   label="import limit")
    elif limit_kw is not None:
        power.axhline(limit_kw, color="crimson", ls="--", lw=1, label="import limit")
    power.set_ylabel("power (kW)")
    power.set_title("facility load and grid import per policy")
    power.legend(loc="upper right", fontsize=8)
    soc.set_ylabel("battery state of charge (%)")
    soc.set_xlabel("site-local time")
    for ax in (power, soc):
        ax.grid(alpha=0.3)
    if len(grid.frames) > 1:
        soc.legend(loc="upper right", fontsize=8)
    save_figure(fig, path)


def _plot_costs(grid: GridResult, path: Path) -> None:
    names = list(grid.metrics)
    parts = [("energy_cost_usd", "energy"), ("demand_charge_usd", "demand charge"), ("degradation_usd", "battery wear")]
    fig = Figure(figsize=(7, 4), layout="constrained")
    ax = fig.subplots()
    bottom = [0.0] * len(names)
    for key, label in parts:
        values = [grid.metrics[n][key] for n in names]
        ax.bar(names, values, bottom=bottom, label=label)
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    ax.set_ylabel("USD over the simulated period")
    ax.set_title("bill per policy")
    ax.legend()
    ax.grid(alpha=0.3, axis="y")
    save_figure(fig, path)


def _plot_signals(grid: GridResult, path: Path) -> None:
    base = grid.frames["none"]
    fig = Figure(figsize=(10, 4), layout="constrained")
    price, carbon = fig.subplots(1, 2)
    for ax, column, label in ((price, "price_usd_per_mwh", "energy price (USD/MWh)"),
                              (carbon, "carbon_g_per_kwh", "carbon intensity (g/kWh)")):
        ax.scatter(base[column], base["load_kw"], s=2, alpha=0.3)
        ax.set_xlabel(label)
        ax.set_ylabel("facility load (kW)")
        ax.grid(alpha=0.3)
    price.set_title("load against price")
    carbon.set_title("load against carbon intensity")
    save_figure(fig, path)
