"""One scenario, start to finish: workload -> power model -> SimPy schedule -> metered power -> metrics.

Nothing here writes files; :mod:`simulator.report.run_report` turns a :class:`RunResult` into outputs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from forecasters.power import PowerModel, make_power_model
from simulator.common.catalog import gpu_spec
from simulator.common.errors import UserError
from simulator.common.jobs import WAVE_COLUMNS
from simulator.config import CurvePue, OccupancyWorkload, Scenario, TraceWorkload
from simulator.engine.cluster import Cluster
from simulator.engine.facility import facility_power, outdoor_temperature, read_epw_temperature
from simulator.engine.metering import StepAccumulator, wave_power, window_energy
from simulator.engine.power_logs import log_power, log_window_energy, replays_log
from simulator.engine.scheduler import make_scheduler
from simulator.engine.simulation import Simulation
from simulator.grid.coordinate import BaselineLoad, GridResult, coordinate, resample
from simulator.grid.levers import Levers, plan, segment_waves
from simulator.run.metrics import compute_metrics
from simulator.workload.builder import build_workload, load_replay


@dataclass
class RunResult:
    scenario: Scenario
    jobs: pd.DataFrame
    timeseries: pd.DataFrame
    metrics: dict
    grid: GridResult | None = None


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
    """Run ``scenario`` with its seed; identical inputs give identical results.

    With job-side levers (power-cap windows, deferral) the workload is also simulated without them: that run is
    the ``none`` baseline of the grid comparison; the returned jobs, time series and metrics are the policy's.
    """
    sim_cfg = scenario.simulation
    rng = np.random.default_rng(sim_cfg.seed)
    jobs = build_workload(scenario, rng, sim_cfg.warmup)
    if scenario.cluster.gpu_power_limit_w is not None:
        jobs["power_limit"] = scenario.cluster.gpu_power_limit_w
    cfg = scenario.power_model
    model = make_power_model(cfg.kind, scenario.resolve(cfg.path) if cfg.path else None)
    jobs = prepare_jobs(jobs, model)

    baseline = None
    if scenario.policy.has_levers:
        baseline = _run(scenario, jobs, Levers(), _part(progress, 0.0, 0.5))
        levers = plan(scenario, jobs, model, baseline.timeseries["facility_power_kw"].to_numpy())
        run = _run(scenario, jobs, levers, _part(progress, 0.5, 1.0))
    else:
        run = _run(scenario, jobs, Levers(), progress)
    replayed = isinstance(scenario.workload, TraceWorkload | OccupancyWorkload)
    metrics = compute_metrics(scenario, run.jobs, run.timeseries, load_replay(scenario).summary if replayed else None)
    return RunResult(scenario, run.jobs, run.timeseries, metrics, coordinate_grid(scenario, run, baseline))


@dataclass
class _Run:
    """One schedule of the workload, metered: the job table, its waves (segments where caps cut them) and
    the facility time series."""

    jobs: pd.DataFrame
    waves: pd.DataFrame
    timeseries: pd.DataFrame


def _part(progress: Callable[[float], None] | None, lo: float, hi: float) -> Callable[[float], None] | None:
    return None if progress is None else (lambda f: progress(lo + (hi - lo) * f))


def _run(scenario: Scenario, jobs: pd.DataFrame, levers: Levers, progress: Callable[[float], None] | None) -> _Run:
    sim_cfg, cluster_cfg = scenario.simulation, scenario.cluster
    cluster = Cluster(cluster_cfg.servers, cluster_cfg.gpus_per_server)
    schedule = Simulation(
        jobs["submit_s"].to_numpy(),
        jobs["num_gpus"].to_numpy(),
        jobs["duration_s"].to_numpy(),
        cluster,
        make_scheduler(cluster_cfg.scheduler, cluster_cfg.backfill_depth),
        t_start=-sim_cfg.warmup,
        t_end=sim_cfg.duration,
        release_s=levers.release_s,
        run_end=levers.run_end(jobs),
    ).run(progress)

    jobs = jobs.copy()
    jobs["start_s"] = schedule.start_s
    jobs["end_s"] = schedule.end_s
    jobs["duration_s"] = jobs["end_s"].sub(jobs["start_s"]).fillna(jobs["duration_s"])  # caps stretch runs
    jobs["wait_s"] = jobs["start_s"] - jobs["submit_s"]
    if levers.release_s is not None:
        jobs["deferred_s"] = levers.release_s - jobs["submit_s"].to_numpy()
    horizon = sim_cfg.duration
    jobs["state"] = np.select(
        [jobs["start_s"].isna(), jobs["end_s"] > horizon], ["queued", "running"], default="finished"
    )
    per_server = cluster_cfg.gpus_per_server
    jobs["placement"] = [p.describe(per_server) if p is not None else "" for p in schedule.placements]
    waves = _waves(jobs, levers)
    if levers.windows is not None:
        jobs["capped_h"] = _per_job(waves, jobs, (waves["end_s"] - waves["start_s"]) * waves["capped"]) / 3600
    jobs["energy_kwh"] = _per_job(waves, jobs, _wave_energy_j(waves, horizon)) / 3.6e6
    return _Run(jobs, waves, meter(scenario, jobs, waves))


def _waves(jobs: pd.DataFrame, levers: Levers) -> pd.DataFrame:
    """What the meter integrates: one row per started job, or per segment where cap windows cut its run.

    A job replaying a recorded power log stays one row: the log is what it drew, which a cap cannot re-predict
    (:func:`simulator.grid.levers.plan` leaves its speed alone too), and the log plays from the row's start."""
    ran = jobs[jobs["start_s"].notna()]
    logs = ["power_log"] if "power_log" in ran.columns else []
    whole = ran[["job_id", "start_s", "end_s", "num_gpus", *WAVE_COLUMNS, *logs]].reset_index(drop=True)
    if levers.windows is None or levers.capped is None:
        return whole
    logged = replays_log(whole)
    cut = segment_waves(levers.windows.segments(ran[~logged]), jobs, levers.capped)
    return pd.concat([whole[logged].assign(capped=False), cut], ignore_index=True) if logged.any() else cut


def _per_job(waves: pd.DataFrame, jobs: pd.DataFrame, values) -> np.ndarray:
    """Sum per job of a per-wave-row quantity, in the job table's order (job ids are 0..n-1)."""
    return np.bincount(waves["job_id"].to_numpy(), weights=np.asarray(values, float), minlength=len(jobs))


def coordinate_grid(scenario: Scenario, run: _Run, baseline: _Run | None = None) -> GridResult:
    """Bill the metered load under the baseline and the scenario's policy, at the policy's control step.

    The policy and its forecaster may look back one day before t = 0 (metered from the warm-up), as a running
    site would; without warm-up they start blind. ``baseline`` is the run without job levers, if any.
    """
    step = scenario.policy.step
    res = scenario.simulation.resolution
    history_s = np.floor(min(scenario.simulation.warmup, 86400.0) / step) * step

    def control(r: _Run) -> dict[str, np.ndarray]:
        """Facility and IT load per control step, and the same for the day before t = 0."""
        out = {c: resample(r.timeseries[c].to_numpy(), res, step) for c in ("facility_power_kw", "it_power_kw")}
        for c in ("facility_power_kw", "it_power_kw"):
            out["history_" + c] = np.zeros(0)
        if history_s > 0:
            sim = scenario.simulation.model_copy(update={
                "duration": history_s, "resolution": step,
                "start": scenario.simulation.start - pd.Timedelta(seconds=history_s)})
            shift = {c: r.jobs[c] + history_s for c in ("start_s", "end_s", "submit_s")}
            before = meter(scenario.model_copy(update={"simulation": sim}), r.jobs.assign(**shift),
                           r.waves.assign(start_s=r.waves["start_s"] + history_s, end_s=r.waves["end_s"] + history_s))
            for c in ("facility_power_kw", "it_power_kw"):
                out["history_" + c] = before[c].to_numpy()
        return out

    now = control(run)
    base = None
    if baseline is not None:
        b = control(baseline)
        base = BaselineLoad(b["facility_power_kw"], b["history_facility_power_kw"], baseline.jobs)
    return coordinate(scenario, now["facility_power_kw"], now["it_power_kw"], now["history_facility_power_kw"],
                      now["history_it_power_kw"], run.jobs, base)


def _wave_energy_j(waves: pd.DataFrame, horizon: float) -> np.ndarray:
    energy = window_energy(*_wave_arrays(waves), 0.0, horizon)
    logged = replays_log(waves)  # a job with a recorded power log draws the log, not its wave
    energy[logged] = log_window_energy(waves[logged], 0.0, horizon)
    return energy


def _wave_arrays(waves: pd.DataFrame) -> list[np.ndarray]:
    return [waves[c].to_numpy(float) for c in ("start_s", "end_s", "num_gpus", *WAVE_COLUMNS)]


def meter(scenario: Scenario, jobs: pd.DataFrame, waves: pd.DataFrame) -> pd.DataFrame:
    """Facility time series at the metering resolution: every column a bin average.

    ``jobs`` gives busy GPUs and the queue; ``waves`` (one row per started job, or per segment) the power."""
    sim_cfg, cluster = scenario.simulation, scenario.cluster
    dt, n = sim_cfg.resolution, sim_cfg.bins
    spec = gpu_spec(cluster.gpu)
    # cumulative sums of steps that cancel can leave -1e-9 where the exact level is 0
    logged = replays_log(waves)
    job_w = np.maximum(wave_power(*_wave_arrays(waves[~logged]), dt=dt, n=n) + log_power(waves[logged], dt, n), 0.0)

    ran = jobs["start_s"].notna().to_numpy()
    start, end, gpus = (jobs[c].to_numpy(float)[ran] for c in ("start_s", "end_s", "num_gpus"))
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
