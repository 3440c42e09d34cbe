"""One scenario, start to finish: workload -> power model -> SimPy schedule -> metered power -> metrics.

Nothing here writes files; :mod:`simulator.report` turns a :class:`RunResult` into outputs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from forecasters.power import AnalyticPowerModel, PowerModel
from simulator.catalog import gpu_spec
from simulator.cluster import Cluster
from simulator.config import CurvePue, Scenario
from simulator.engine import Simulation
from simulator.errors import UserError
from simulator.facility import facility_power, outdoor_temperature, read_epw_temperature
from simulator.grid import GridResult, coordinate, resample
from simulator.jobs import WAVE_COLUMNS
from simulator.metering import StepAccumulator, wave_power, window_energy
from simulator.metrics import compute_metrics
from simulator.scheduler import make_scheduler
from simulator.workload import build_workload


@dataclass
class RunResult:
    scenario: Scenario
    jobs: pd.DataFrame
    timeseries: pd.DataFrame
    metrics: dict
    grid: GridResult | None = None


def make_power_model(scenario: Scenario) -> PowerModel:
    cfg = scenario.power_model
    if cfg.kind == "analytic":
        return AnalyticPowerModel()
    from forecasters.power.symbolic import DEFAULT_MODEL, SymbolicPowerModel

    return SymbolicPowerModel.load(scenario.resolve(cfg.path) if cfg.path else DEFAULT_MODEL)


def prepare_jobs(jobs: pd.DataFrame, model: PowerModel) -> pd.DataFrame:
    """Add each job's predicted wave, and derive epochs from duration or duration from epochs.

    A duration given by the workload is the job's run time without a power cap: it fixes the work (epochs),
    which a cap then stretches, since a capped epoch takes longer.
    """
    capped = model.predict(jobs)
    free = model.predict(jobs.drop(columns="power_limit")) if "power_limit" in jobs.columns else capped
    jobs = pd.concat([jobs, capped], axis=1)
    free_period = free["peak_duration_s"] + free["valley_duration_s"]
    jobs["epochs"] = jobs["epochs"].fillna(jobs["duration_s"] / free_period)
    jobs["duration_s"] = jobs["epochs"] * (jobs["peak_duration_s"] + jobs["valley_duration_s"])
    if (jobs[list(WAVE_COLUMNS)] <= 0).any(axis=None) or jobs["duration_s"].le(0).any():
        raise UserError("the power model predicted a non-positive power or duration; check the job metadata")
    return jobs


def simulate(scenario: Scenario, progress: Callable[[float], None] | None = None) -> RunResult:
    """Run ``scenario`` with its seed; identical inputs give identical results."""
    sim_cfg = scenario.simulation
    rng = np.random.default_rng(sim_cfg.seed)
    jobs = build_workload(scenario, rng, sim_cfg.warmup)
    if scenario.cluster.gpu_power_limit_w is not None:
        jobs["power_limit"] = scenario.cluster.gpu_power_limit_w
    jobs = prepare_jobs(jobs, make_power_model(scenario))

    cluster_cfg = scenario.cluster
    cluster = Cluster(cluster_cfg.servers, cluster_cfg.gpus_per_server)
    schedule = Simulation(
        jobs["submit_s"].to_numpy(),
        jobs["num_gpus"].to_numpy(),
        jobs["duration_s"].to_numpy(),
        cluster,
        make_scheduler(cluster_cfg.scheduler, cluster_cfg.backfill_depth),
        t_start=-sim_cfg.warmup,
        t_end=sim_cfg.duration,
    ).run(progress)

    jobs["start_s"] = schedule.start_s
    jobs["end_s"] = jobs["start_s"] + jobs["duration_s"]
    jobs["wait_s"] = jobs["start_s"] - jobs["submit_s"]
    horizon = sim_cfg.duration
    jobs["state"] = np.select(
        [jobs["start_s"].isna(), jobs["end_s"] > horizon], ["queued", "running"], default="finished"
    )
    per_server = cluster_cfg.gpus_per_server
    jobs["placement"] = [p.describe(per_server) if p is not None else "" for p in schedule.placements]
    jobs["energy_kwh"] = _job_energy_j(jobs, horizon) / 3.6e6

    timeseries = meter(scenario, jobs)
    metrics = compute_metrics(scenario, jobs, timeseries)
    return RunResult(scenario, jobs, timeseries, metrics, coordinate_grid(scenario, jobs, timeseries))


def coordinate_grid(scenario: Scenario, jobs: pd.DataFrame, timeseries: pd.DataFrame) -> GridResult:
    """Bill the metered load under the baseline and the scenario's policy, at the policy's control step.

    The policy and its forecaster may look back one day before t = 0 (metered from the warm-up), as a running
    site would; without warm-up they start blind.
    """
    step = scenario.policy.step
    res = scenario.simulation.resolution
    history_s = np.floor(min(scenario.simulation.warmup, 86400.0) / step) * step
    control = {c: resample(timeseries[c].to_numpy(), res, step) for c in ("facility_power_kw", "it_power_kw")}
    history = {c: np.zeros(0) for c in control}
    if history_s > 0:
        sim = scenario.simulation.model_copy(update={
            "duration": history_s, "resolution": step,
            "start": scenario.simulation.start - pd.Timedelta(seconds=history_s)})
        before = meter(scenario.model_copy(update={"simulation": sim}),
                       jobs.assign(start_s=jobs["start_s"] + history_s, end_s=jobs["end_s"] + history_s,
                                   submit_s=jobs["submit_s"] + history_s))
        history = {c: before[c].to_numpy() for c in control}
    return coordinate(scenario, control["facility_power_kw"], control["it_power_kw"], history["facility_power_kw"],
                      history["it_power_kw"], jobs)


def _wave_arrays(jobs: pd.DataFrame):
    ran = jobs["start_s"].notna().to_numpy()
    cols = ["start_s", "end_s", "num_gpus", *WAVE_COLUMNS]
    return [jobs[c].to_numpy(float)[ran] for c in cols], ran


def _job_energy_j(jobs: pd.DataFrame, horizon: float) -> np.ndarray:
    arrays, ran = _wave_arrays(jobs)
    energy = np.zeros(len(jobs))
    energy[ran] = window_energy(*arrays, 0.0, horizon)
    return energy


def meter(scenario: Scenario, jobs: pd.DataFrame) -> pd.DataFrame:
    """Facility time series at the metering resolution: every column a bin average."""
    sim_cfg, cluster = scenario.simulation, scenario.cluster
    dt, n = sim_cfg.resolution, sim_cfg.bins
    spec = gpu_spec(cluster.gpu)
    arrays, ran = _wave_arrays(jobs)
    # cumulative sums of steps that cancel can leave -1e-9 where the exact level is 0
    job_w = np.maximum(wave_power(*arrays, dt=dt, n=n), 0.0)

    start, end, gpus = arrays[0], arrays[1], arrays[2]
    busy = StepAccumulator(dt, n)
    busy.add(start, gpus)
    busy.add(end, -gpus)
    busy_gpus = np.maximum(busy.levels(), 0.0)

    queued = StepAccumulator(dt, n)
    queued.add(jobs["submit_s"].to_numpy(), 1.0)
    queued.add(jobs["start_s"].to_numpy()[ran], -1.0)
    queued_jobs = np.maximum(queued.levels(), 0.0)

    gpu_w = job_w + spec.idle_w * (cluster.total_gpus - busy_gpus)
    it_w = cluster.it_power_w(gpu_w)
    rated_it_w = cluster.rated_it_w
    t = np.arange(n) * dt
    columns: dict[str, np.ndarray] = {}
    temperature = None
    pue = scenario.facility.pue
    if isinstance(pue, CurvePue) and pue.weather is not None:
        hourly = read_epw_temperature(scenario.resolve(pue.weather))
        temperature = outdoor_temperature(hourly, sim_cfg.start, t + dt / 2)
        columns["outdoor_temp_c"] = temperature
    facility_w = facility_power(it_w, pue, rated_it_w, temperature)

    frame = pd.DataFrame(
        {
            "time": pd.Timestamp(sim_cfg.start) + pd.to_timedelta(t, unit="s"),
            "t_s": t,
            "gpu_power_kw": gpu_w / 1e3,
            "it_power_kw": it_w / 1e3,
            "facility_power_kw": facility_w / 1e3,
            "busy_gpus": busy_gpus,
            "queued_jobs": queued_jobs,
            **columns,
        }
    )
    return frame
