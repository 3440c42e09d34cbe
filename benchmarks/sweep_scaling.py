"""Sweep throughput on Dask: points per minute with 1 and 2 local worker processes on this machine.

    python benchmarks/sweep_scaling.py           # writes benchmarks/results/sweep_scaling.json

Runs every point of scenarios/capacity_planning.yaml (32 points: one day at 1-min metering with the oracle's
battery dispatch) on a LocalCluster of N single-threaded processes, into a fresh results file each time. The
clock starts once the workers are up and have imported the simulator (what a long sweep pays once), and stops
when the last row is written, so it measures the steady throughput of the sweep, rows written included; the
cluster's start-up is reported beside it. The same points without Dask, one after another in this process and
on a pool of as many plain processes, give the cost of the distribution itself and what the machine's cores
give at all.

The machine is shared: each case runs ``--repeats`` times, alternating, and the fastest run is kept (the one
least slowed by other work); the load average before each run is recorded.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from dask.distributed import Client, LocalCluster
from rich.console import Console
from rich.table import Table

from simulator.sweep.runner import Results, run_point, run_points
from simulator.sweep.spec import load_sweep

ROOT = Path(__file__).resolve().parents[1]


def _import_simulator() -> None:
    """Run on every worker before the clock starts: the imports a worker pays once per sweep."""
    import simulator.run.pipeline  # noqa: F401


def measure(workers: int, sweep_file: Path) -> dict:
    """The sweep on a fresh local cluster of ``workers`` processes."""
    sweep = load_sweep(sweep_file)
    load = os.getloadavg()[0]  # other work on the machine slows the sweep: say how busy it was
    began = time.perf_counter()
    with (LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                       silence_logs=logging.ERROR) as cluster, Client(cluster) as client,
          tempfile.TemporaryDirectory() as folder):
        client.run(_import_simulator)
        started = time.perf_counter()
        results = Results(Path(folder) / "results.parquet")
        errors = run_points(sweep, sweep.points, results, client)
        wall = time.perf_counter() - started
        rows = results.frame()
    if errors or len(rows) != len(sweep.points) or not rows["status"].eq("ok").all():
        raise RuntimeError(f"the sweep did not complete cleanly: {errors[:3]}")
    return {"case": f"Dask, {workers} worker{'s' * (workers > 1)}", "workers": workers, "dask": True,
            "points": len(rows), "wall_s": wall, "points_per_min": len(rows) / wall * 60,
            "start_s": started - began, "mean_point_s": float(rows["wall_s"].mean()), "load_average_before": load}


def measure_plain(processes: int, sweep_file: Path) -> dict:
    """The sweep's points without Dask: in this process one after another (``processes`` 1), or on a pool of
    plain processes; the same task function as the Dask workers run. The baseline for Dask's own cost, and for
    what this machine's cores give at all."""
    sweep = load_sweep(sweep_file)
    base_dir = str(sweep.base_dir.resolve())
    tasks = [(p.data, base_dir) for p in sweep.points]
    load = os.getloadavg()[0]
    began = time.perf_counter()
    if processes == 1:
        run_point(*tasks[0])  # warm-up, as the workers' imports
        started = time.perf_counter()
        rows = [run_point(*task) for task in tasks]
    else:
        with ProcessPoolExecutor(processes, initializer=_import_simulator) as pool:
            list(pool.map(_hold, range(processes)))  # every process started and warm before the clock starts
            started = time.perf_counter()
            rows = list(pool.map(run_point, *zip(*tasks, strict=True)))
    wall = time.perf_counter() - started
    if not all(r["status"] == "ok" for r in rows):
        raise RuntimeError("a point failed")
    n = len(rows)
    return {"case": f"{processes} plain process{'es' * (processes > 1)}", "workers": processes, "dask": False,
            "points": n, "wall_s": wall, "points_per_min": n / wall * 60, "start_s": started - began,
            "mean_point_s": float(sum(r["wall_s"] for r in rows) / n), "load_average_before": load}


def _hold(_: int) -> None:
    """A task long enough that the pool hands one to each of its processes, so all of them start."""
    time.sleep(0.5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sweep", type=Path, default=ROOT / "scenarios" / "capacity_planning.yaml")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    cases = [(dask, n) for dask in (False, True) for n in args.workers]
    tries = [measure(n, args.sweep) if dask else measure_plain(n, args.sweep)
             for _ in range(args.repeats) for dask, n in cases]
    runs = [max((t for t in tries if (t["dask"], t["workers"]) == case), key=lambda t: t["points_per_min"])
            for case in cases]
    serial = runs[0]["points_per_min"]
    table = Table(title=f"sweep throughput: {args.sweep.name}, {os.cpu_count()} cores (best of {args.repeats})")
    for column in ("case", "points", "wall s", "points/min", "vs serial", "s/point", "start s", "load"):
        table.add_column(column, justify="left" if column == "case" else "right")
    for run in runs:
        run["tries_points_per_min"] = [t["points_per_min"] for t in tries
                                       if (t["dask"], t["workers"]) == (run["dask"], run["workers"])]
        run["speedup_vs_serial"] = run["points_per_min"] / serial
        table.add_row(run["case"], str(run["points"]), f"{run['wall_s']:.1f}", f"{run['points_per_min']:.1f}",
                      f"{run['speedup_vs_serial']:.2f}x", f"{run['mean_point_s']:.2f}", f"{run['start_s']:.1f}",
                      f"{run['load_average_before']:.2f}")
    Console(width=120).print(table)
    out = ROOT / "benchmarks" / "results" / "sweep_scaling.json"
    out.parent.mkdir(exist_ok=True)
    sweep = str(args.sweep.relative_to(ROOT)) if args.sweep.is_relative_to(ROOT) else str(args.sweep)
    out.write_text(json.dumps({"sweep": sweep, "cpu_count": os.cpu_count(), "machine": platform.machine(),
                               "repeats": args.repeats, "runs": runs}, indent=2) + "\n")


if __name__ == "__main__":
    main()
