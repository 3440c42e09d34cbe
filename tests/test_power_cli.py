"""`dcsim power ...` and `dcsim profile`: the commands work end to end and mistakes exit 2 with one line."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from forecasters.power.power_csv import write_power_csv
from forecasters.power.synthetic import synthetic_dataset
from simulator.cli.main import app
from simulator.common.jobs import WAVE_COLUMNS
from simulator.engine.metering import wave_power
from simulator.run.pipeline import simulate
from tests.conftest import ROOT, small_scenario

runner = CliRunner()
TINY = ["--population", "100", "--generations", "3", "--restarts", "1"]
ZEUS = [str(ROOT / "data/zeus/summary_power_a40.csv"), str(ROOT / "data/zeus/summary_power_v100.csv")]


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    folder = tmp_path_factory.mktemp("power")
    data = folder / "jobs.csv"
    write_power_csv(synthetic_dataset(200, np.random.default_rng(0)), data)
    model = folder / "model.json"
    result = runner.invoke(app, ["power", "fit", str(data), "-t", "peak_power_w", "-t", "peak_duration_s",
                                 "--out", str(model), *TINY])
    assert result.exit_code == 0, result.output
    return data, model, result.output


def test_fit_prints_selection_and_formulas_and_writes_json(fitted):
    _, model, output = fitted
    assert "feature selection" in output and "mutual info" in output
    assert "all rows:" in output and "peak_power_w = " in output and "log(peak_duration_s) = " in output
    document = json.loads(model.read_text())
    assert set(document["formulas"]) == {"peak_power_w", "peak_duration_s"}


def test_eval_reports_mre_and_mse(fitted):
    data, model, _ = fitted
    result = runner.invoke(app, ["power", "eval", str(model), str(data), "--json"])
    assert result.exit_code == 0, result.output
    scores = json.loads(result.output)
    assert scores["peak_power_w"]["rows"] == 200 and 0 <= scores["peak_power_w"]["mre"] < 1
    assert scores["peak_duration_s"]["mse"] > 0


def test_predict_one_yaml_job_and_a_csv(fitted, tmp_path):
    data, model, _ = fitted
    job = tmp_path / "job.yaml"
    job.write_text("model: vit\nbatch_size: 64\nnum_gpus: 4\ngpu: A800\n")
    result = runner.invoke(app, ["power", "predict", str(model), str(job)])
    assert result.exit_code == 0, result.output
    header, row = result.output.strip().splitlines()
    assert "peak_power_w" in header and row.startswith("vit,")
    many = runner.invoke(app, ["power", "predict", str(model), str(data)])
    assert many.exit_code == 0 and len(many.output.strip().splitlines()) == 201


def test_compare_lists_every_method(tmp_path):
    data = tmp_path / "small.csv"
    write_power_csv(synthetic_dataset(80, np.random.default_rng(1)), data)
    result = runner.invoke(app, ["power", "compare", str(data), "-t", "valley_power_w", "--repeats", "1", "--json",
                                 *TINY])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["rows"] == 80 and out["repeats"] == 1
    assert set(out["results"]) == {"SymbolicRegression", "MLP", "Linear", "Ridge", "Lasso", "GradientBoosting"}
    assert all(v["valley_power_w"]["mre_mean"] > 0 for v in out["results"].values())


def test_zeus_files_are_read_as_they_are():
    result = runner.invoke(app, ["power", "eval", str(ROOT / "forecasters/power/models/symbolic_default.json"),
                                 *ZEUS])
    assert result.exit_code == 2 and "missing column peak_power_w" in result.output  # Zeus measures other targets


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("model,batch_size,num_gpus,gpu,peak_power_w\nvit,-32,4,A100,300\n",
         "data.csv:2: column batch_size: expected a number > 0, got -32"),
        ("model,batch_size,num_gpus,gpu,peak_power_w\nvit,abc,4,A100,300\n",
         "data.csv:2: column batch_size: expected a number, got 'abc'"),
        ("model,num_gpus,gpu,peak_power_w\nvit,4,A100,300\n", "data.csv:1: missing column batch_size"),
        ("", "data.csv: empty file"),
    ],
)
def test_bad_data_exits_2_with_file_row_and_column(tmp_path, text, expected):
    data = tmp_path / "data.csv"
    data.write_text(text)
    result = runner.invoke(app, ["power", "fit", str(data), "-t", "peak_power_w", "--out", str(tmp_path / "m.json"),
                                 *TINY])
    assert result.exit_code == 2
    assert expected in result.output and "Traceback" not in result.output
    assert not (tmp_path / "m.json").exists()


def test_profile_recovers_a_wave_the_simulator_metered(tmp_path):
    """A job from a simulated run, metered alone at 1 s with noise, read back by `dcsim profile`."""
    jobs = simulate(small_scenario(simulation={"resolution": "1s"})).jobs
    periods = jobs["duration_s"] / (jobs["peak_duration_s"] + jobs["valley_duration_s"])
    job = jobs[(periods > 4) & (jobs["peak_duration_s"] > 20)].iloc[0]
    duration = min(job["duration_s"], 12 * (job["peak_duration_s"] + job["valley_duration_s"]))  # a dozen epochs
    n = int(duration) + 120
    power = wave_power(np.array([60.0]), np.array([60.0 + duration]), np.array([1.0]),
                       *(np.array([job[c]]) for c in WAVE_COLUMNS), dt=1.0, n=n)
    idle = power == 0
    power[idle] = 60.0  # an idle A100 before and after the job
    power += np.random.default_rng(0).normal(0, 2.0, n)
    log = tmp_path / "log.csv"
    log.write_text("time,power\n" + "".join(f"{t},{p:.2f}\n" for t, p in enumerate(power)))
    result = runner.invoke(app, ["profile", str(log), "--json"])
    assert result.exit_code == 0, result.output
    found = json.loads(result.output)["0"]
    assert found["peak_power_w"] == pytest.approx(job["peak_power_w"], rel=0.03)
    assert found["peak_duration_s"] == pytest.approx(job["peak_duration_s"], rel=0.03, abs=1.0)
    assert found["valley_duration_s"] == pytest.approx(job["valley_duration_s"], rel=0.1, abs=1.0)


def test_profile_of_a_flat_log_says_so(tmp_path):
    log = tmp_path / "flat.csv"
    log.write_text("time,power\n" + "".join(f"{t},100\n" for t in range(600)))
    result = runner.invoke(app, ["profile", str(log)])
    assert result.exit_code == 2 and "no periodic" in result.output


def test_compare_leaves_each_gpu_out(tmp_path):
    frame = synthetic_dataset(120, np.random.default_rng(2))
    frame = frame[frame["gpu"].isin(["V100", "A40", "H100-SXM"])]
    data = tmp_path / "gpus.csv"
    write_power_csv(frame, data)
    args = ["power", "compare", str(data), "-t", "peak_power_w", "--holdout", "gpu", "--physics", *TINY]
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["holdout"] == "gpu" and out["physics"] and set(out["mre"]) == set(frame["gpu"])
    assert out["test_rows"] == frame["gpu"].value_counts().to_dict()
    assert all(set(v["peak_power_w"]) >= {"SymbolicRegression", "GradientBoosting", "MLP"} for v in out["mre"].values())
    table = runner.invoke(app, args, env={"COLUMNS": "200"})
    assert table.exit_code == 0 and "peak_power_w: test MRE % with each gpu left out" in table.output
    bad = runner.invoke(app, ["power", "compare", str(data), "--holdout", "rack", *TINY])
    assert bad.exit_code == 2 and "--holdout rack: no such column" in bad.output


@pytest.mark.parametrize(("spec", "expected"), [
    ("name: A100\ntdp_w: 400\nidle_w: 60\ntensor_tflops: 312\nmemory_gb: 80\n",
     "gpu.yaml: 'A100' is the catalog's A100-80GB; describe a GPU under a name of its own"),
    ("name: X100\ntdp_w: 400\nidle_w: 500\ntensor_tflops: 312\nmemory_gb: 80\n",
     "gpu.yaml:1: (top level): Value error, expected idle_w below tdp_w"),
    ("- name: X100\n  tdp_w: -4\n  idle_w: 5\n  tensor_tflops: 3\n  memory_gb: 8\n",
     "gpu.yaml:2: 0.tdp_w: Input should be greater than 0 (got -4)"),
    ("name: X100\ntdp_w: 900\nidle_w: 90\nmemory_gb: 192\n", "gpu.yaml:1: tensor_tflops: required field is missing"),
    ("[1, 2]\n", "gpu.yaml:1: expected a mapping of GPU fields"),
])
def test_a_bad_gpu_description_is_one_line(tmp_path, spec, expected):
    (tmp_path / "gpu.yaml").write_text(spec)
    job = tmp_path / "job.yaml"
    job.write_text("model: vit\nbatch_size: 64\nnum_gpus: 8\ngpu: X100\n")
    result = runner.invoke(app, ["power", "predict", str(ROOT / "forecasters/power/models/symbolic_default.json"),
                                 str(job), "--gpu-spec", str(tmp_path / "gpu.yaml")])
    assert result.exit_code == 2 and expected in result.output and len(result.output.strip().splitlines()) == 1


def test_a_gpu_not_in_the_catalog_is_predicted_from_its_description(tmp_path):
    """A planner's future GPU: only its ratings; the prediction scales with its envelope like a catalog GPU's."""
    model = str(ROOT / "forecasters/power/models/symbolic_default.json")
    (tmp_path / "gpu.yaml").write_text("name: X100\ntdp_w: 900\nidle_w: 90\ntensor_tflops: 1800\nmemory_gb: 192\n")
    job = tmp_path / "job.yaml"
    job.write_text("model: vit\nbatch_size: 64\nnum_gpus: 8\ngpu: X100\n")
    unknown = runner.invoke(app, ["power", "predict", model, str(job)])
    assert unknown.exit_code == 2 and "unknown GPU 'X100'" in unknown.output
    result = runner.invoke(app, ["power", "predict", model, str(job), "--gpu-spec", str(tmp_path / "gpu.yaml")])
    assert result.exit_code == 0, result.output
    header, row = result.output.strip().splitlines()
    values = dict(zip(header.split(","), row.split(","), strict=True))
    assert values["gpu"] == "X100" and float(values["power_limit"]) == 900.0
    assert 90.0 < float(values["valley_power_w"]) < float(values["peak_power_w"]) <= 900.0
