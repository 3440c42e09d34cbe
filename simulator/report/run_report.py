"""Run outputs: tables (Parquet, optional CSV), metrics JSON, PNG plots and one self-contained HTML report.

Everything is written into a temporary folder beside the target and renamed into place at the end, so an
interrupted or failed run never leaves a half-written output under the target's name.
"""

from __future__ import annotations

import base64
import html
import json
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from matplotlib.figure import Figure

from simulator import __version__
from simulator.common.catalog import gpu_spec
from simulator.common.jobs import WAVE_COLUMNS
from simulator.engine.metering import wave_power
from simulator.report.grid_report import PLOTS as GRID_PLOTS
from simulator.report.grid_report import comparison, metrics_json, save_figure, write_grid
from simulator.run.metrics import gpu_power_distribution
from simulator.run.pipeline import RunResult

PLOTS = ("facility_power.png", "occupancy.png", "power_distribution.png")

METRIC_LABELS = {
    "energy_mwh": ("Facility energy", "MWh"),
    "it_energy_mwh": ("IT energy", "MWh"),
    "job_energy_mwh": ("Job GPU energy", "MWh"),
    "pue": ("PUE (energy-weighted)", ""),
    "avg_kw": ("Average power", "kW"),
    "peak_kw": ("Peak power", "kW"),
    "peak_15min_kw": ("Peak 15-min average", "kW"),
    "peak_to_average": ("Peak-to-average", ""),
    "load_factor": ("Load factor", ""),
    "ramp_1s_kw": ("Largest 1-s ramp", "kW"),
    "ramp_1min_kw": ("Largest 1-min ramp", "kW"),
    "gpu_utilisation": ("GPU utilisation", ""),
    "wait_mean_s": ("Mean wait", "s"),
    "wait_p95_s": ("p95 wait", "s"),
    "jobs_submitted": ("Jobs submitted", ""),
    "jobs_finished": ("Jobs finished", ""),
    "jobs_running_at_end": ("Jobs running at end", ""),
    "jobs_queued_at_end": ("Jobs queued at end", ""),
    "minutes_over_import_limit": ("Minutes over import limit", "min"),
    "trace_rows_skipped": ("Trace rows skipped (see metrics.json)", ""),
    "trace_jobs_outside_window": ("Trace jobs outside the window", ""),
    "trace_jobs_censored": ("Trace jobs censored", ""),
    "trace_jobs_failed": ("Trace jobs failed", ""),
    "trace_jobs_fractional_gpu": ("Trace jobs on a GPU share", ""),
}


def page_head(title: str, width_px: int) -> str:
    """The start of a self-contained HTML report, up to ``<body>``: one style for every report dcsim writes."""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: {width_px}px; margin: 2em auto; color: #222; }}
table {{ border-collapse: collapse; margin: 1em 0; }} td, th {{ padding: 4px 10px; border-bottom: 1px solid #ddd; }}
td.num {{ text-align: right; font-variant-numeric: tabular-nums; }} img {{ max-width: 100%; }}
pre {{ background: #f6f6f6; padding: 1em; overflow-x: auto; }}
</style></head><body>"""


def format_value(value) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:,.3f}" if abs(value) < 100 else f"{value:,.1f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def metric_rows(metrics: dict) -> list[tuple[str, str, str]]:
    """(label, value, unit) for the terminal and HTML tables, in a fixed order."""
    return [(label, format_value(metrics[key]), unit) for key, (label, unit) in METRIC_LABELS.items() if key in metrics]


def write_outputs(result: RunResult, out: Path) -> Path:
    """Write every output of ``result`` into ``out`` atomically (replacing an earlier run there)."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    try:
        _write_all(result, tmp)
        if out.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
            os.replace(out, old / out.name)
            os.replace(tmp, out)
            shutil.rmtree(old)
        else:
            os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


def _write_all(result: RunResult, folder: Path) -> None:
    result.timeseries.to_parquet(folder / "timeseries.parquet", index=False)
    result.jobs.to_parquet(folder / "jobs.parquet", index=False)
    if result.scenario.output.csv:
        result.timeseries.to_csv(folder / "timeseries.csv", index=False)
        result.jobs.to_csv(folder / "jobs.csv", index=False)
    metrics = dict(result.metrics)
    if result.grid is not None:
        metrics["grid"] = metrics_json(result.grid)
        write_grid(result.grid, folder, result.scenario.grid.import_limit_kw)
    (folder / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    (folder / "scenario.yaml").write_text(_scenario_yaml(result))
    _plot_facility(result, folder / PLOTS[0])
    _plot_occupancy(result, folder / PLOTS[1])
    _plot_distribution(result, folder / PLOTS[2])
    (folder / "report.html").write_text(render_html(result, folder))


def _scenario_yaml(result: RunResult) -> str:
    return yaml.safe_dump(result.scenario.model_dump(mode="json"), sort_keys=False)


def _hours(ts: pd.DataFrame) -> np.ndarray:
    return ts["t_s"].to_numpy() / 3600


def _plot_facility(result: RunResult, path: Path) -> None:
    ts, scenario = result.timeseries, result.scenario
    dt = scenario.simulation.resolution
    fig = Figure(figsize=(10, 6.5), layout="constrained")
    full, zoom = fig.subplots(2, 1)
    full.plot(_hours(ts), ts["facility_power_kw"], lw=0.7, label="facility")
    full.plot(_hours(ts), ts["it_power_kw"], lw=0.7, label="IT")
    limit = scenario.grid.import_limit_kw
    for ax in (full, zoom):
        if limit is not None:
            ax.axhline(limit, color="crimson", ls="--", lw=1, label="import limit")
        ax.set_ylabel("power (kW)")
        ax.grid(alpha=0.3)
    full.set_xlabel("hours from start")
    full.set_title(f"{scenario.name}: facility power, {dt:g}-s metering")
    full.legend(loc="upper right")
    # zoom around the peak, where the square waves of the largest jobs stand out
    width = max(1, int(scenario.output.zoom / dt))
    centre = int(ts["facility_power_kw"].to_numpy().argmax())
    lo = max(0, min(centre - width // 2, len(ts) - width))
    window = ts.iloc[lo : lo + width]
    minutes = (window["t_s"].to_numpy() - window["t_s"].iloc[0]) / 60
    zoom.step(minutes, window["facility_power_kw"], where="post", lw=0.8, label="facility")
    zoom.step(minutes, window["gpu_power_kw"], where="post", lw=0.8, label="GPUs")
    t0, t1 = window["t_s"].iloc[0], window["t_s"].iloc[-1] + dt
    jobs = result.jobs
    overlapping = jobs[(jobs["start_s"] < t1) & (jobs["end_s"] > t0)]
    if len(overlapping):
        # one job alone shows the square wave that the sum above blurs
        job = overlapping.loc[(overlapping["num_gpus"] * overlapping["peak_power_w"]).idxmax()]
        alone = wave_power(*(np.array([job[c]], dtype=float) - (t0 if c in ("start_s", "end_s") else 0)
                             for c in ("start_s", "end_s", "num_gpus", *WAVE_COLUMNS)), dt=dt, n=len(window))
        zoom.step(minutes, alone / 1e3, where="post", lw=1.0, color="black",
                  label=f"largest job alone ({job['model']}, {int(job['num_gpus'])} GPUs)")
    zoom.set_xlabel(f"minutes from hour {window['t_s'].iloc[0] / 3600:.2f} (zoom on the peak)")
    zoom.set_title("zoom: peaks and valleys of training epochs")
    zoom.legend(loc="upper right")
    save_figure(fig, path)


def _plot_occupancy(result: RunResult, path: Path) -> None:
    ts, cluster = result.timeseries, result.scenario.cluster
    fig = Figure(figsize=(10, 5.5), layout="constrained")
    gpus, queue = fig.subplots(2, 1, sharex=True)
    gpus.plot(_hours(ts), ts["busy_gpus"], lw=0.7)
    gpus.axhline(cluster.total_gpus, color="grey", ls=":", lw=1, label=f"{cluster.total_gpus} GPUs")
    gpus.set_ylabel("busy GPUs")
    gpus.legend(loc="lower right")
    queue.plot(_hours(ts), ts["queued_jobs"], lw=0.7, color="tab:orange")
    queue.set_ylabel("queued jobs")
    queue.set_xlabel("hours from start")
    for ax in (gpus, queue):
        ax.grid(alpha=0.3)
    gpus.set_title(f"GPU occupancy ({cluster.scheduler} scheduler)")
    save_figure(fig, path)


def _plot_distribution(result: RunResult, path: Path) -> None:
    ts, scenario = result.timeseries, result.scenario
    spec = gpu_spec(scenario.cluster.gpu)
    fig = Figure(figsize=(10, 4), layout="constrained")
    hist, cdf = fig.subplots(1, 2)
    hist.hist(ts["facility_power_kw"], bins=60, color="tab:blue", alpha=0.8)
    hist.set_xlabel("facility power (kW)")
    hist.set_ylabel("metering intervals")
    hist.set_title("facility power distribution")
    levels, weights = gpu_power_distribution(
        result.jobs, scenario.cluster.total_gpus, spec.idle_w, scenario.simulation.duration
    )
    order = np.argsort(levels)
    cdf.step(levels[order], np.cumsum(weights[order]) / weights.sum() * 100, where="post")
    cdf.set_xlabel(f"power per GPU (W), {spec.name}")
    cdf.set_ylabel("share of GPU time (%)")
    cdf.set_title("per-GPU power, time-weighted CDF")
    for ax in (hist, cdf):
        ax.grid(alpha=0.3)
    save_figure(fig, path)


def render_html(result: RunResult, folder: Path) -> str:
    """One HTML file with the metrics, a job summary, the plots inlined as base64 and the scenario used."""
    metrics_html = "".join(
        f"<tr><td>{html.escape(label)}</td><td class=num>{html.escape(value)}</td><td>{unit}</td></tr>"
        for label, value, unit in metric_rows(result.metrics)
    )
    scenario = result.scenario
    jobs = result.jobs
    window = jobs[jobs["energy_kwh"] > 0]
    summary = (
        window.assign(gpu_hours=window["num_gpus"] * (window["end_s"].clip(upper=result.scenario.simulation.duration)
                                                        - window["start_s"].clip(lower=0)) / 3600)
        .groupby("model")
        .agg(jobs=("job_id", "size"), gpu_hours=("gpu_hours", "sum"), energy_kwh=("energy_kwh", "sum"),
             peak_w=("peak_power_w", "mean"), epoch_s=("peak_duration_s", "mean"))
        .round(1)
    )
    plots = [*PLOTS, *(GRID_PLOTS if result.grid is not None else ())]
    images = "".join(
        f'<figure><img alt="{name}" src="data:image/png;base64,'
        f'{base64.b64encode((folder / name).read_bytes()).decode()}"></figure>'
        for name in plots
    )
    grid_html = ""
    if result.grid is not None:
        table = comparison(result.grid).map(lambda v: v if isinstance(v, str) else format_value(v))
        grid_html = (f"<h2>Grid coordination (policy {html.escape(scenario.policy.label)}, "
                     f"{scenario.policy.step:g}-s control step)</h2>{table.to_html(border=0)}")
    return f"""{page_head(f"dcsim: {scenario.name}", 1100)}
<h1>{html.escape(scenario.name)}</h1>
<p>{html.escape(scenario.description)}</p>
<p>{scenario.cluster.servers} servers x {scenario.cluster.gpus_per_server} {html.escape(scenario.cluster.gpu)},
{scenario.simulation.duration / 3600:g} h from {scenario.simulation.start.isoformat()} at
{scenario.simulation.resolution:g}-s metering, seed {scenario.simulation.seed}, policy {scenario.policy.label}.</p>
<h2>Metrics</h2><table>{metrics_html}</table>
{grid_html}
<h2>Jobs by model family (metered window)</h2>{summary.to_html(border=0)}
<h2>Plots</h2>{images}
<h2>Scenario as run</h2><pre>{html.escape(_scenario_yaml(result))}</pre>
<p><small>dcsim {__version__}</small></p>
</body></html>
"""
