"""Real workloads: trace adapters (column mapping, skipped rows, strict mode), the occupancy driver, measured power
replay and ``dcsim trace inspect``. Fixtures in tests/fixtures/traces/ are written by hand in each format."""

from __future__ import annotations

import json
import math
import shutil

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from simulator.cli.main import app
from simulator.common.catalog import gpu_spec
from simulator.common.errors import UserError
from simulator.config import load_scenario
from simulator.engine.power_logs import load_log
from simulator.run.pipeline import simulate
from simulator.workload.traces import detect_format, load_occupancy, load_trace
from simulator.workload.traces.base import STATES
from tests.conftest import ROOT, small_scenario
from tests.test_simulation import energy_balance

FIXTURES = ROOT / "tests" / "fixtures" / "traces"
PHILLY_SERIES = ROOT / "data" / "philly" / "philly_node_sequence.csv"

# per format: file, then per kept job (by the trace's id) submit_s, num_gpus, requested_gpus, duration_s, state
MAPPINGS = {
    "philly": ("cluster_job_log.json", {
        "application_1": (0, 2, 2, 600, "finished"),
        "application_2": (300, 4, 4, 600, "failed"),  # 2 GPUs on each of two machines
        "application_3": (600, 8, 8, 3600, "killed"),  # first start 00:20 to last end 01:20, retry included
        "application_4": (3600, 1, 1, 2400, "censored"),  # no end: until the latest time in the file, 01:40
    }),
    "helios": ("cluster_log.csv", {
        "1001": (0, 1, 1, 600, "finished"),
        "1002": (60, 8, 8, 600, "failed"),
        "1003": (120, 2, 2, 300, "killed"),
        "1004": (180, 4, 4, 3840, "censored"),  # RUNNING from 00:04 to the latest time, 01:08
        "1008": (420, 16, 16, 3600, "killed"),  # TIMEOUT
    }),
    "alibaba2020": ("pai_task_table.csv", {
        "job_a/worker": (0, 1, 1, 600, "finished"),
        "job_b/worker": (10, 1, 0.5, 300, "finished"),  # plan_gpu 50: half a GPU, rounded up
        "job_c/worker": (20, 4, 4, 1200, "failed"),  # 2 instances x 200 %
        "job_d/worker": (30, 1, 1, 1190, "censored"),  # Running: to the latest time, 2220
        "job_h/evaluator": (70, 4, 1, 300, "finished"),  # 4 instances x 25 %
    }),
    "alibaba2023": ("openb_pod_list.csv", {
        "openb-pod-0000": (0, 1, 1, 3590, "finished"),
        "openb-pod-0001": (100, 1, 0.46, 1800, "killed"),  # Running, deleted: killed; gpu_milli 460
        "openb-pod-0002": (200, 8, 8, 1140, "failed"),
        "openb-pod-0005": (500, 2, 2, 3080, "censored"),  # Running, never deleted: to the latest time, 3600
    }),
}

# per format: rows, skipped reason -> (count, first line), censored, failed, killed, fractional
SUMMARIES = {
    "philly": (7, {"submitted_time: expected 'YYYY-MM-DD HH:MM:SS'": (1, 22), "never ran (no attempts)": (1, 20),
                   "never ran (no start_time)": (1, 26)}, 1, 1, 1, 0),
    "helios": (8, {"gpu_num: expected a whole number >= 0": (1, 8), "CPU job (gpu_num 0)": (1, 6),
                   "never ran (PENDING)": (1, 7)}, 1, 1, 2, 0),
    "alibaba2020": (8, {"CPU task (no plan_gpu)": (1, 5), "never ran (Waiting)": (1, 6),
                        "start_time: expected seconds": (1, 7)}, 1, 1, 0, 2),
    "alibaba2023": (7, {"CPU pod (num_gpu 0)": (1, 6), "gpu_milli: expected 1 to 1000": (1, 8),
                        "never ran (Pending)": (1, 5)}, 1, 1, 1, 1),
}


@pytest.mark.parametrize("fmt", list(MAPPINGS))
def test_columns_map_to_dcsim_jobs(fmt):
    name, expected = MAPPINGS[fmt]
    jobs = load_trace(FIXTURES / name, fmt).jobs.set_index("job_name")
    assert sorted(jobs.index) == sorted(expected)
    for job, (submit, gpus, requested, duration, state) in expected.items():
        row = jobs.loc[job]
        assert (row["submit_s"], row["num_gpus"], row["duration_s"]) == (submit, gpus, duration), job
        assert row["requested_gpus"] == pytest.approx(requested) and row["trace_state"] == state, job
    assert jobs["submit_s"].is_monotonic_increasing and set(jobs["trace_state"]) <= set(STATES)


@pytest.mark.parametrize("fmt", list(SUMMARIES))
def test_summary_counts_every_skipped_row_with_its_first_line(fmt):
    name = MAPPINGS[fmt][0]
    rows, skipped, censored, failed, killed, fractional = SUMMARIES[fmt]
    summary = load_trace(FIXTURES / name, fmt).summary
    assert summary.rows == rows == summary.jobs + summary.skipped_rows  # nothing dropped without a count
    assert {reason: (s.count, s.line) for reason, s in summary.skipped.items()} == skipped
    for reason, s in summary.skipped.items():
        assert s.first.startswith(f"{FIXTURES / name}:{s.line}: {reason.split(':')[0]}")
    assert (summary.censored, summary.failed, summary.killed, summary.fractional) == (censored, failed, killed,
                                                                                      fractional)
    gpu_hours = sum(r * d for _, _, r, d, _ in MAPPINGS[fmt][1].values()) / 3600
    assert summary.gpu_hours == pytest.approx(gpu_hours)
    assert sum(summary.by_size.values()) == summary.jobs
    assert summary.without_model == summary.jobs  # no public trace says which model ran


@pytest.mark.parametrize("fmt", list(SUMMARIES))
def test_strict_stops_at_the_first_bad_row(fmt):
    name = MAPPINGS[fmt][0]
    skipped = SUMMARIES[fmt][1]
    reason, (_, line) = min(skipped.items(), key=lambda item: item[1][1])
    with pytest.raises(UserError) as info:
        load_trace(FIXTURES / name, fmt, strict=True)
    assert str(info.value).startswith(f"{FIXTURES / name}:{line}: {reason.split(':')[0]}")
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("year", ["0001", "9999"])
def test_times_out_of_pandas_nanosecond_range_are_read_not_a_traceback(tmp_path, year):
    philly = json.loads((FIXTURES / "cluster_job_log.json").read_text())
    philly[0]["submitted_time"] = f"{year}-10-03 00:00:00"
    (tmp_path / "cluster_job_log.json").write_text(json.dumps(philly))
    helios = (FIXTURES / "cluster_log.csv").read_text().replace("2020-04-01 00:00:00", f"{year}-04-01 00:00:00", 1)
    (tmp_path / "cluster_log.csv").write_text(helios)
    for name, fmt in (("cluster_job_log.json", "philly"), ("cluster_log.csv", "helios")):
        summary = load_trace(tmp_path / name, fmt).summary
        assert summary.rows == summary.jobs + summary.skipped_rows == SUMMARIES[fmt][0]


def test_dcsim_csv_samples_missing_models_and_skips_bad_rows_when_not_strict():
    trace = load_trace(FIXTURES / "jobs.csv", "dcsim", strict=False, max_gpus=4)
    assert {r: (s.count, s.line) for r, s in trace.summary.skipped.items()} == {
        "column num_gpus: expected a number >= 0": (1, 5), "more GPUs than the cluster": (1, 3)}
    assert trace.summary.without_model == 1
    scenario = small_scenario(workload={"kind": "trace", "path": str(FIXTURES / "jobs.csv"), "strict": False,
                                        "model_mix": {"vgg": 1.0}},
                              simulation={"warmup": 0, "duration": "1h", "resolution": "10s"})
    jobs = simulate(scenario).jobs.set_index("submit_s")
    assert list(jobs["model"]) == ["vit", "bert", "vgg", "resnet"]  # written models kept, the missing one sampled
    assert jobs.loc[20.0, "duration_s"] == 600  # a measured duration is kept: epochs follow from it
    period = jobs.loc[20.0, "peak_duration_s"] + jobs.loc[20.0, "valley_duration_s"]
    assert jobs.loc[20.0, "epochs"] == pytest.approx(600 / period)


def test_sampled_metadata_follows_the_seed():
    def models(seed):
        scenario = small_scenario(workload={"kind": "trace", "path": str(FIXTURES / "cluster_log.csv"),
                                            "format": "helios"},
                                  simulation={"warmup": 0, "duration": "2h", "seed": seed})
        return simulate(scenario).jobs[["model", "batch_size", "image_size"]]

    pd.testing.assert_frame_equal(models(1), models(1))
    assert not all(models(s).equals(models(1)) for s in (2, 3, 4))


def test_offset_moves_t0_and_jobs_before_the_window_are_counted():
    scenario = small_scenario(workload={"kind": "trace", "path": str(FIXTURES / "cluster_log.csv"),
                                        "format": "helios", "offset": 150},
                              simulation={"warmup": 0, "duration": "2h", "resolution": "10s"})
    result = simulate(scenario)
    assert list(result.jobs["submit_s"]) == [30.0, 270.0]  # 180 - 150 and 420 - 150; three submitted before t = 0
    assert result.metrics["trace_jobs_outside_window"] == 3
    assert result.metrics["trace_jobs"] == 5


@pytest.mark.parametrize("fmt", list(MAPPINGS))
def test_replayed_traces_conserve_energy_and_report_their_counts(fmt):
    name = MAPPINGS[fmt][0]
    scenario = small_scenario(workload={"kind": "trace", "path": str(FIXTURES / name), "format": fmt},
                              simulation={"warmup": 0, "duration": "2h", "resolution": "10s"})
    result = simulate(scenario)
    metered, accounted = energy_balance(result)
    assert math.isclose(metered, accounted, rel_tol=1e-6)
    rows, skipped, censored, failed, killed, fractional = SUMMARIES[fmt]
    m = result.metrics
    assert (m["trace_rows"], m["trace_rows_skipped"], m["trace_skipped"]) == (
        rows, sum(c for c, _ in skipped.values()), {r: c for r, (c, _) in skipped.items()})
    assert (m["trace_jobs_censored"], m["trace_jobs_failed"], m["trace_jobs_killed"],
            m["trace_jobs_fractional_gpu"]) == (censored, failed, killed, fractional)
    jobs = result.jobs
    assert set(jobs["trace_state"]) == {s for *_, s in MAPPINGS[fmt][1].values()}  # failed and killed jobs run too
    assert (jobs.loc[jobs["trace_state"] == "censored", "state"] == "running").all()  # they run to the end


def test_occupancy_pairs_rises_and_falls_last_in_first_out():
    jobs, summary = load_occupancy(FIXTURES / "node_sequence.csv", 4, 8)
    # busy nodes 2, 3, 1, (bad row), 4, 2, 3 at minutes 0, 1, 2, 4, 5, 6; the bad row's minute is held
    got = sorted(zip(jobs["submit_s"], jobs["duration_s"], jobs["trace_state"], strict=True))
    assert got == [(0, 120, "finished"), (0, 420, "censored"), (60, 60, "finished"), (240, 60, "finished"),
                   (240, 60, "finished"), (240, 180, "censored"), (360, 60, "censored")]
    assert (jobs["num_gpus"] == 8).all()
    assert summary.skipped["active: expected a whole number from 0 to total"].line == 5 and summary.gaps == 1


def test_replay_philly_reproduces_the_busy_node_curve():
    """Tolerance: none. Whole-node jobs never wait while the curve fits the cluster, so the metered busy nodes
    at 1-minute metering equal the scaled series minute by minute."""
    scenario = load_scenario(ROOT / "scenarios" / "replay_philly.yaml")
    short = scenario.simulation.model_copy(update={"duration": 6 * 3600.0, "warmup": 86400.0, "resolution": 60.0})
    result = simulate(scenario.model_copy(update={"simulation": short}))
    series = pd.read_csv(PHILLY_SERIES)
    t = (pd.to_datetime(series["time"]) - pd.Timestamp(scenario.simulation.start)).dt.total_seconds()
    inside = (t >= 0) & (t < short.duration)
    want = np.round(series["active"] / series["total"] * scenario.cluster.servers)[inside].to_numpy()
    busy_nodes = result.timeseries["busy_gpus"].to_numpy() / scenario.cluster.gpus_per_server
    assert len(busy_nodes) == len(want) and np.abs(busy_nodes - want).max() == 0
    assert result.metrics["wait_mean_s"] == 0
    assert len(np.unique(want)) > 20  # the curve moves: a flat line would be reproduced by anything


def power_log_scenario(tmp_path, rows: str, duration: str = "1h"):
    shutil.copy(FIXTURES / "power_log.csv", tmp_path / "power_log.csv")
    shutil.copy(FIXTURES / "nvidia_smi.csv", tmp_path / "nvidia_smi.csv")
    (tmp_path / "jobs.csv").write_text("submit_s,model,num_gpus,duration_s,power_log\n" + rows)
    return small_scenario(workload={"kind": "trace", "path": str(tmp_path / "jobs.csv")},
                          simulation={"warmup": 0, "duration": duration, "resolution": "10s"})


def test_power_log_replay_draws_the_log_looped(tmp_path):
    # power_log.csv: 100 W for 10 s, 300 W for 10 s, 200 W for 10 s, then again: 6,000 J per loop and GPU
    scenario = power_log_scenario(tmp_path, "0,resnet,1,900,power_log.csv\n0,resnet,2,600,\n")
    result = simulate(scenario)
    assert load_log(tmp_path / "power_log.csv").loop_energy_j == 6000
    assert result.jobs.loc[0, "energy_kwh"] * 3.6e6 == pytest.approx(900 / 30 * 6000)
    ts, spec = result.timeseries, gpu_spec(scenario.cluster.gpu)
    others = simulate(power_log_scenario(tmp_path, "0,resnet,2,600,\n")).timeseries  # the same without the log job
    log_w = (ts["gpu_power_kw"] - others["gpu_power_kw"]) * 1e3 + spec.idle_w * (ts["busy_gpus"] - others["busy_gpus"])
    assert np.allclose(log_w[:90], np.tile([100.0, 300.0, 200.0], 30)) and np.allclose(log_w[90:], 0)
    metered, accounted = energy_balance(result)
    assert math.isclose(metered, accounted, rel_tol=1e-9)


def test_power_log_of_several_gpus_replays_their_mean_and_is_cut_at_the_horizon(tmp_path):
    # nvidia_smi.csv: GPU 0 100 W then 300 W, GPU 1 200 W (its 5-s reading is [N/A], so 200 W holds); 10-s loop
    # of mean 150 W then 250 W: 2,000 J per GPU. A 4-GPU job from t = 3,000 s is cut by the 1-h horizon.
    scenario = power_log_scenario(tmp_path, "3000,bert,4,1000,nvidia_smi.csv\n")
    result = simulate(scenario)
    assert load_log(tmp_path / "nvidia_smi.csv").loop_energy_j == pytest.approx(2000)
    assert result.jobs.loc[0, "state"] == "running"
    assert result.jobs.loc[0, "energy_kwh"] * 3.6e6 == pytest.approx(4 * 600 / 10 * 2000)
    metered, accounted = energy_balance(result)
    assert math.isclose(metered, accounted, rel_tol=1e-9)


def test_a_bad_power_log_is_named_before_the_run(tmp_path):
    scenario = power_log_scenario(tmp_path, "0,vit,1,60,bad_log.csv\n0,vit,1,60,missing.csv\n")
    (tmp_path / "bad_log.csv").write_text("time,power\n0,100\n5,lots\n")
    with pytest.raises(UserError, match=r"jobs\.csv:3: column power_log: file not found"):
        simulate(scenario)
    (tmp_path / "jobs.csv").write_text("submit_s,model,num_gpus,duration_s,power_log\n0,vit,1,60,bad_log.csv\n")
    with pytest.raises(UserError, match=r"bad_log\.csv:3: column power: expected a number of watts"):
        simulate(scenario)


def test_malformed_csv_lines_are_counted_or_stop_a_strict_read(tmp_path):
    path = tmp_path / "cluster_log.csv"
    lines = (FIXTURES / "cluster_log.csv").read_text().splitlines()
    path.write_text("\n".join([*lines[:3], "1009,u1,vc1,1,4,1,COMPLETED,extra,field,,,,,", "", *lines[3:]]) + "\n")
    summary = load_trace(path, "helios").summary
    assert (summary.skipped["malformed line"].count, summary.skipped["malformed line"].line) == (1, 4)
    assert summary.rows == 9 and summary.skipped["CPU job (gpu_num 0)"].line == 8  # lines after it keep their number
    with pytest.raises(UserError, match=r"cluster_log\.csv:4: expected 12 fields, saw 14"):
        load_trace(path, "helios", strict=True)


@pytest.mark.parametrize(("name", "fmt"), [("jobs.csv", "dcsim"), ("cluster_job_log.json", "philly"),
                                           ("cluster_log.csv", "helios"), ("pai_task_table.csv", "alibaba2020"),
                                           ("openb_pod_list.csv", "alibaba2023"), ("node_sequence.csv", "occupancy")])
def test_format_is_told_from_the_file(name, fmt):
    assert detect_format(FIXTURES / name) == fmt


def test_inspect_prints_the_summary():
    result = CliRunner().invoke(app, ["trace", "inspect", str(FIXTURES / "cluster_log.csv"), "--json"])
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert (data["format"], data["rows"], data["jobs"], data["skipped_rows"]) == ("helios", 8, 5, 3)
    assert data["by_size"] == {"1": 1, "2": 1, "3-4": 1, "5-8": 1, "9-16": 1}
    table = CliRunner().invoke(app, ["trace", "inspect", str(FIXTURES / "node_sequence.csv"),
                                     "--gpus-per-node", "8"], env={"COLUMNS": "200"})
    assert table.exit_code == 0
    assert "occupancy" in table.stdout and "active: expected a whole number from 0 to total" in table.stdout


@pytest.mark.parametrize(("args", "message"), [
    (["--strict"], f"error: {FIXTURES / 'cluster_job_log.json'}:20: never ran (no attempts)"),
    (["--format", "slurm"], "error: --format: unknown format 'slurm'"),
    (["--format", "helios"], f"error: {FIXTURES / 'cluster_job_log.json'}:1: missing column(s) job_id, gpu_num"),
])
def test_inspect_mistakes_are_one_line_and_exit_2(args, message):
    result = CliRunner().invoke(app, ["trace", "inspect", str(FIXTURES / "cluster_job_log.json"), *args],
                                env={"COLUMNS": "300"})
    assert result.exit_code == 2
    assert result.stderr.startswith(message) and result.stderr.count("\n") == 1


def test_inspect_missing_file_exits_2():
    result = CliRunner().invoke(app, ["trace", "inspect", "no/such/trace.csv"])
    assert result.exit_code == 2 and result.stderr == "error: no/such/trace.csv: trace file not found\n"


@pytest.mark.parametrize(("workload", "message"), [
    ("{kind: trace, path: jobs.csv, format: slurm}", ":2: workload.format: Input should be 'dcsim', 'philly'"),
    ("{kind: occupancy, path: node_sequence.csv, gpus_per_node: 0}", ":2: workload.gpus_per_node: Input should be"),
    ("{kind: occupancy, path: missing.csv}", ":2: workload.path: file not found"),
])
def test_scenario_mistakes_in_a_replay_are_named(tmp_path, workload, message):
    for name in ("jobs.csv", "node_sequence.csv"):
        shutil.copy(FIXTURES / name, tmp_path / name)
    path = tmp_path / "s.yaml"
    path.write_text(f"name: s\nworkload: {workload}\n")
    with pytest.raises(UserError) as info:
        load_scenario(path)
    assert str(info.value).startswith(f"{path}{message}") and "\n" not in str(info.value)
