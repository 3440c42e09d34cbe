"""Parameter sweeps: expansion, errors, resume, and runs on real Dask clusters (one loses a worker mid-sweep).

The cluster tests start a real ``dask scheduler`` and two ``dask worker`` processes on localhost; every process
is started in its own session and killed with its children when the test ends, and every wait has a deadline.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from simulator.cli.main import app
from simulator.common.errors import UserError
from simulator.report.sweep_report import designs, pareto_front
from simulator.sweep.runner import Results
from simulator.sweep.spec import is_sweep_file, load_sweep
from tests.conftest import ROOT

runner = CliRunner()

BASE = """
name: tiny
cluster: {servers: 2, gpus_per_server: 8}
policy: {kind: none}
simulation: {duration: 2h, warmup: 1h, resolution: 1min, seed: 1}
"""


def write_sweep(folder: Path, body: str, base: str = BASE) -> Path:
    (folder / "base.yaml").write_text(base)
    path = folder / "sweep.yaml"
    path.write_text("base: base.yaml\n" + body)
    return path


# --- expansion -------------------------------------------------------------------------------------------------


def test_grid_runs_every_combination_with_every_seed(tmp_path):
    sweep = load_sweep(write_sweep(tmp_path, """
axes:
  cluster.servers: [2, 3, 4]
  grid.demand_charge_usd_per_kw: [5, 15]
seeds: [7, 8]
"""))
    assert len(sweep.points) == 12 and len({p.point_id for p in sweep.points}) == 12
    combos = {(p.values["cluster.servers"], p.values["grid.demand_charge_usd_per_kw"], p.seed) for p in sweep.points}
    assert combos == {(s, d, seed) for s in (2, 3, 4) for d in (5, 15) for seed in (7, 8)}
    for p in sweep.points:  # the values are in the scenario each point runs
        assert p.data["cluster"]["servers"] == p.values["cluster.servers"]
        assert p.data["grid"]["demand_charge_usd_per_kw"] == p.values["grid.demand_charge_usd_per_kw"]
        assert p.data["simulation"]["seed"] == p.seed
    by_design = pd.Series([p.design_id for p in sweep.points]).value_counts()
    assert len(by_design) == 6 and (by_design == 2).all()  # the two seeds of a design share its id


def test_latin_hypercube_stays_in_bounds_and_fills_every_stratum(tmp_path):
    n = 10
    sweep = load_sweep(write_sweep(tmp_path, f"""
method: lhs
samples: {n}
seed: 3
axes:
  grid.demand_charge_usd_per_kw: {{low: 5, high: 25}}
  grid.import_limit_kw: {{low: 10, high: 1000, log: true}}
  cluster.servers: {{low: 2, high: 11, integer: true}}
  cluster.gpu: [A100-80GB, H100-SXM]
"""))
    assert len(sweep.points) == n
    charge = np.array([p.values["grid.demand_charge_usd_per_kw"] for p in sweep.points])
    energy = np.array([p.values["grid.import_limit_kw"] for p in sweep.points])
    servers = [p.values["cluster.servers"] for p in sweep.points]
    assert charge.min() >= 5 and charge.max() <= 25 and energy.min() >= 10 and energy.max() <= 1000
    # one sample in each of the n equal strata (of the logarithm for a log axis)
    assert sorted(np.floor((charge - 5) / 20 * n).astype(int)) == list(range(n))
    assert sorted(np.floor(np.log(energy / 10) / np.log(100) * n).astype(int)) == list(range(n))
    assert sorted(servers) == list(range(2, 12))  # 10 whole numbers in 10 strata: each once
    assert all(isinstance(s, int) for s in servers)
    assert {p.values["cluster.gpu"] for p in sweep.points} == {"A100-80GB", "H100-SXM"}


@pytest.mark.parametrize("method", ["random", "lhs"])
def test_same_seed_draws_the_same_points_and_another_seed_others(tmp_path, method):
    def draw(seed: int) -> list[str]:
        folder = tmp_path / f"{method}-{seed}-{len(list(tmp_path.iterdir()))}"
        folder.mkdir()
        body = (f"method: {method}\nsamples: 6\nseed: {seed}\n"
                "axes:\n  grid.demand_charge_usd_per_kw: {low: 1, high: 9}\n")
        return [p.point_id for p in load_sweep(write_sweep(folder, body)).points]

    assert draw(1) == draw(1)
    assert set(draw(1)).isdisjoint(draw(2))


def test_point_ids_depend_on_the_inputs_not_on_how_the_file_orders_them(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "c").mkdir()
    one = load_sweep(write_sweep(tmp_path / "a", "axes:\n  cluster.servers: [2, 3]\n  policy.step: [60, 120]\n"))
    two = load_sweep(write_sweep(tmp_path / "b", "axes:\n  policy.step: [120, 60]\n  cluster.servers: [3, 2]\n"))
    other_base = load_sweep(write_sweep(tmp_path / "c", "axes:\n  cluster.servers: [2, 3]\n  policy.step: [60, 120]\n",
                                        base=BASE.replace("seed: 1", "seed: 2")))
    assert {p.point_id for p in one.points} == {p.point_id for p in two.points}
    assert {p.point_id for p in one.points}.isdisjoint(p.point_id for p in other_base.points)


def test_linked_axes_vary_together(tmp_path):
    sweep = load_sweep(write_sweep(tmp_path, """
axes:
  cluster.servers, workload.target_utilization: [[2, 0.8], [4, 0.4]]
  grid.demand_charge_usd_per_kw: [5, 15]
"""))
    assert sweep.axes == ["cluster.servers", "workload.target_utilization", "grid.demand_charge_usd_per_kw"]
    pairs = {(p.data["cluster"]["servers"], p.data["workload"]["target_utilization"]) for p in sweep.points}
    assert len(sweep.points) == 4 and pairs == {(2, 0.8), (4, 0.4)}


@pytest.mark.parametrize(("body", "expected"), [
    ("axes:\n  cluster.server: [2, 3]\n",
     ["sweep.yaml:3: axes.cluster.server", "cluster.server: unknown field"]),
    ("axes:\n  cluster.servers: [2, 0]\n",
     ["sweep.yaml:3: axes.cluster.servers: value 0", "greater than or equal to 1"]),
    ("seeds: [1]\naxes:\n  cluster.servers.count: [2]\n", ["sweep.yaml:4: axes.cluster.servers.count",
                                                              "cluster.servers is a value (2)"]),
    ("axes:\n  grid.demand_response.3.limit_kw: [100]\n",
     ["sweep.yaml:3: axes.grid.demand_response.3.limit_kw", "grid.demand_response: Input should be a valid list"]),
    ("axes:\n  grid.demand_charge_usd_per_kw: {low: 1, high: 5}\n", ["sweep.yaml:3:", "needs steps"]),
    ("axes:\n  grid.demand_charge_usd_per_kw: {low: 5, high: 1}\n", ["sweep.yaml:3:", "expected low < high"]),
    ("method: lhs\naxes:\n  cluster.servers: [2]\n", ["method lhs needs samples"]),
    ("axes:\n  cluster.servers, cluster.gpu: [[2, A100-80GB], [3]]\n", ["sweep.yaml:3:", "lists of 2 values"]),
    ("axes:\n  cluster.servers: [2]\nconditions: [grid.x]\n", ["conditions", "not axis paths"]),
    ("axes:\n  grid.prices.file: [missing.csv]\n",
     ["axes.grid.prices.file: value 'missing.csv'", "grid.prices.file: file not found"]),
])
def test_a_bad_axis_is_one_line_naming_the_file_and_the_axis_and_writes_nothing(tmp_path, body, expected):
    base = BASE
    if "prices" in body:  # the base names a file that exists; the axis, one that does not
        (tmp_path / "prices.csv").write_text("time,usd_per_mwh\n2023-07-03T00:00:00,50\n")
        base += "grid: {prices: {kind: series, file: prices.csv}}\n"
    path = write_sweep(tmp_path, body, base)
    out = tmp_path / "out"
    result = runner.invoke(app, ["sweep", str(path), "--out", str(out)])
    assert result.exit_code == 2, result.output
    message = result.output.strip()
    assert message.startswith("error:") and len(message.splitlines()) == 1 and "Traceback" not in message
    for part in expected:
        assert part in message, message
    assert not out.exists()


def test_a_scheduler_that_cannot_be_reached_is_one_line_and_writes_nothing(tmp_path):
    path = write_sweep(tmp_path, "axes:\n  cluster.servers: [2, 3]\n")
    out = tmp_path / "out"
    result = runner.invoke(app, ["sweep", str(path), "--out", str(out), "--scheduler", "no-port-here"])
    assert result.exit_code == 2, result.output
    assert "error: --scheduler no-port-here: cannot connect" in result.output and "Traceback" not in result.output
    assert not out.exists()


def test_sweep_files_are_told_apart_from_scenarios():
    assert is_sweep_file(ROOT / "scenarios" / "capacity_planning.yaml")
    assert not is_sweep_file(ROOT / "scenarios" / "capacity_base.yaml")
    assert not is_sweep_file(ROOT / "scenarios" / "peak_shaving.yaml")


def test_the_shipped_sweep_has_at_least_24_points():
    sweep = load_sweep(ROOT / "scenarios" / "capacity_planning.yaml")
    assert len(sweep.points) >= 24 and sweep.duplicates == 0
    assert len(sweep.spec.seeds) >= 2 and sweep.spec.conditions


# --- Pareto front and results file ----------------------------------------------------------------------------


def test_pareto_front_keeps_exactly_the_undominated_rows():
    values = np.array([
        [1.0, 5.0, 5.0],   # best bill
        [5.0, 1.0, 5.0],   # best peak
        [2.0, 6.0, 6.0],   # dominated by row 0
        [1.0, 5.0, 5.0],   # equal to row 0: not dominated by it
        [3.0, 3.0, 3.0],   # a compromise no row beats everywhere
        [3.0, 3.0, np.nan],  # missing wait counts as worst: dominated by row 4
    ])
    assert pareto_front(values).tolist() == [True, True, False, True, True, False]


def test_results_keep_the_first_row_of_a_point_and_survive_a_reload(tmp_path):
    path = tmp_path / "results.parquet"
    results = Results(path)
    assert results.add([{"point_id": "a", "status": "ok", "x": 1.0}, {"point_id": "b", "status": "ok", "x": 2.0}]) == 2
    assert results.add([{"point_id": "a", "status": "ok", "x": 9.0}]) == 0  # a duplicate is not written
    again = Results(path)
    assert sorted(again.rows) == ["a", "b"] and again.rows["a"]["x"] == 1.0
    assert [p.name for p in tmp_path.iterdir()] == ["results.parquet"]  # no temporary file left
    path.write_text("not parquet")
    with pytest.raises(UserError, match="cannot read earlier results"):
        Results(path)


# --- runs on Dask ----------------------------------------------------------------------------------------------


def rows_of(out: Path) -> pd.DataFrame:
    return pd.read_parquet(out / "results.parquet")


def test_local_cluster_runs_records_failures_and_resumes(tmp_path):
    # policy.step 90 s is not a whole number of 1-min metering intervals: that point fails when it runs
    path = write_sweep(tmp_path, "axes:\n  cluster.servers: [2, 3]\n  policy.step: [60, 90]\n")
    out = tmp_path / "out"
    first = runner.invoke(app, ["sweep", str(path), "--out", str(out), "--workers", "1"])
    assert first.exit_code == 0, first.output
    assert "4 points, 0 already in" in first.output and "2 points failed" in first.output
    rows = rows_of(out)
    assert len(rows) == 4 and rows["point_id"].is_unique
    ok, failed = rows[rows["status"] == "ok"], rows[rows["status"] == "failed"]
    assert set(ok["policy.step"]) == {60} and set(failed["policy.step"]) == {90}
    assert failed["error"].str.contains("policy.step").all() and ok["error"].isna().all()
    assert (ok["baseline_total_bill_usd"] > 0).all() and (ok["energy_mwh"] > 0).all()
    assert (ok.set_index("cluster.servers")["energy_mwh"].sort_index().diff().dropna() > 0).all()  # 3 > 2 servers
    html = (out / "report.html").read_text()
    assert "data:image/png;base64," in html and "Pareto front" in html and "Failed points" in html
    assert (out / "pareto.png").stat().st_size > 0 and (out / "sweep.yaml").read_text() == path.read_text()

    before = (out / "results.parquet").read_bytes()
    second = runner.invoke(app, ["sweep", str(path), "--out", str(out), "--workers", "1"])
    assert second.exit_code == 0, second.output
    assert "4 already in" in second.output and "0 to run" in second.output and "dask scheduler" not in second.output
    assert (out / "results.parquet").read_bytes() == before  # nothing recomputed, nothing rewritten


@pytest.fixture
def dask_cluster(tmp_path):
    """Start a real `dask scheduler` and two `dask worker` processes on localhost; yield (address, workers)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg"}
    procs: list[subprocess.Popen] = []
    logs = tmp_path / "dask-logs"
    logs.mkdir()

    def start(name: str, *args: str) -> subprocess.Popen:
        with open(logs / f"{name}.log", "w") as log:
            proc = subprocess.Popen([sys.executable, "-m", "dask", *args], cwd=tmp_path, env=env, stdout=log,
                                    stderr=subprocess.STDOUT, start_new_session=True)
        procs.append(proc)
        return proc

    def stop() -> None:
        for proc in procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)

    try:
        info = tmp_path / "scheduler.json"
        start("scheduler", "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
              "--dashboard-address", "127.0.0.1:0", "--scheduler-file", str(info))
        address = _wait_for(lambda: _scheduler_address(info), 60)
        workers = {name: start(name, "worker", address, "--nthreads", "1", "--nworkers", "1", "--no-dashboard",
                               "--name", name, "--death-timeout", "60", "--local-directory", str(tmp_path))
                   for name in ("victim", "survivor")}
        from dask.distributed import Client

        with Client(address, timeout=30) as client:
            client.wait_for_workers(2, timeout=90)
        yield address, workers
    finally:
        stop()


def _scheduler_address(info: Path) -> str | None:
    """The address in the scheduler's file, once it is there and whole."""
    try:
        return json.loads(info.read_text()).get("address")
    except (OSError, ValueError):
        return None


def _wait_for(condition, timeout_s: float, every_s: float = 0.05):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(every_s)
    raise TimeoutError(f"not within {timeout_s} s")


def test_the_shipped_sweep_runs_through_an_existing_scheduler(dask_cluster, tmp_path):
    address, _ = dask_cluster
    out = tmp_path / "capacity"
    path = ROOT / "scenarios" / "capacity_planning.yaml"
    result = runner.invoke(app, ["sweep", str(path), "--scheduler", address, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert f"dask scheduler {address}: 2 workers" in result.output
    rows = rows_of(out)
    sweep = load_sweep(path)
    assert len(rows) == len(sweep.points) and set(rows["point_id"]) == {p.point_id for p in sweep.points}
    assert (rows["status"] == "ok").all() and rows["worker"].nunique() == 2  # both workers computed points
    # the capped GPUs lower the billed peak of the same design
    capped = rows["cluster.gpu_power_limit_w"].notna()
    keys = ["cluster.servers", "grid.battery.energy_kwh", "grid.demand_charge_usd_per_kw", "seed"]
    pairs = rows[capped].merge(rows[~capped], on=keys, suffixes=("_cap", "_free"))
    assert len(pairs) == len(rows) // 2
    assert (pairs["policy_peak_15min_import_kw_cap"] < pairs["policy_peak_15min_import_kw_free"]).all()
    table = designs(sweep, rows)
    assert (table["seeds"] == 2).all()
    for _, group in table.groupby("grid.demand_charge_usd_per_kw"):  # a front under each demand charge
        assert group["pareto"].any() and not group["pareto"].all()

    # resume: drop two rows as if the sweep had been interrupted; the rerun computes exactly those
    kept = rows.iloc[2:]
    kept.to_parquet(out / "results.parquet", index=False)
    again = runner.invoke(app, ["sweep", str(path), "--scheduler", address, "--out", str(out)])
    assert again.exit_code == 0, again.output
    assert f"{len(kept)} already in" in again.output and "2 to run" in again.output
    resumed = rows_of(out)
    assert len(resumed) == len(rows) and resumed["point_id"].is_unique
    restored = resumed.set_index("point_id").loc[rows["point_id"].iloc[:2]]
    assert np.allclose(restored["policy_total_bill_usd"], rows["policy_total_bill_usd"].iloc[:2])  # same result


def test_a_worker_killed_mid_sweep_loses_no_point(dask_cluster, tmp_path):
    address, workers = dask_cluster
    base = BASE.replace("policy: {kind: none}", "policy: {kind: threshold, forecaster: persistence}\n"
                        "grid: {import_limit_kw: 20, battery: {energy_kwh: 20, power_kw: 10}}")
    path = write_sweep(tmp_path, "axes:\n  cluster.servers: [2, 3, 4, 5]\nseeds: [1, 2]\n",
                       base.replace("duration: 2h", "duration: 1d"))
    points = load_sweep(path).points
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg", "COLUMNS": "200"}
    sweep = subprocess.Popen([sys.executable, "-m", "simulator", "sweep", str(path), "--scheduler", address,
                              "--out", str(out)], cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        from dask.distributed import Client

        with Client(address, timeout=30) as client:
            victim = next(a for a, w in client.scheduler_info()["workers"].items() if w["name"].startswith("victim"))

            def victim_busy_mid_sweep():
                started = (out / "results.parquet").exists()  # at least one point is in: we are mid-sweep
                busy = client.processing(workers=[victim]).get(victim, ())
                return started and busy and tuple(busy)

            in_flight = _wait_for(victim_busy_mid_sweep, 120, every_s=0.01)
            os.killpg(workers["victim"].pid, signal.SIGKILL)  # the worker and its nanny, mid-task
            workers["victim"].wait(timeout=30)
            _wait_for(lambda: victim not in client.scheduler_info()["workers"], 60)
        output, _ = sweep.communicate(timeout=180)
    finally:
        if sweep.poll() is None:
            os.killpg(sweep.pid, signal.SIGKILL)
            sweep.wait(timeout=30)
    assert sweep.returncode == 0, output
    rows = rows_of(out)
    assert len(rows) == len(points) and rows["point_id"].is_unique  # every point, exactly once
    assert set(rows["point_id"]) == {p.point_id for p in points} and (rows["status"] == "ok").all()
    lost = rows[rows["point_id"].isin([key.removeprefix("dcsim-point-") for key in in_flight])]
    assert len(lost) and (lost["worker"] != victim).any()  # what the victim held was computed elsewhere
