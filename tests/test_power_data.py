"""The power-data layer reads Zeus and generic files, says exactly what is wrong with bad ones, and its synthetic
set is the analytic model itself."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from forecasters.power.analytic import PUBLISHED, AnalyticPowerModel
from forecasters.power.power_csv import load_power_data, read_power_csv, write_power_csv
from forecasters.power.schema import FEATURE_COLUMNS, SCHEMA_COLUMNS, numeric_features
from forecasters.power.synthetic import synthetic_dataset, synthetic_waves
from forecasters.power.zeus import ZEUS_WORKLOADS, read_zeus
from simulator.common.catalog import gpu_spec
from simulator.common.errors import UserError
from simulator.common.families import FAMILIES
from simulator.common.jobs import WAVE_COLUMNS
from tests.conftest import ROOT

ZEUS = ROOT / "data" / "zeus"
WAVES = list(WAVE_COLUMNS)
HEADER = "model,params,flops,batch_size,image_size,dataset_size,num_gpus,num_workers,gpu,power_limit," + ",".join(WAVES)
GOOD_ROW = "bert,110e6,8.448e10,32,384,88641,4,8,A800-80GB,400,320.72,169.25,67.01,5.98"


def write(tmp_path: Path, *lines: str, name: str = "data.csv") -> Path:
    path = tmp_path / name
    path.write_text("".join(line + "\n" for line in lines))
    return path


def read_error(path: Path, targets: list[str] = WAVES) -> str:
    with pytest.raises(UserError) as err:
        read_power_csv(path, targets)
    return str(err.value)


@pytest.mark.parametrize(("gpu", "rows"), [("a40", 453), ("v100", 476)])
def test_zeus_files_read_whole_with_their_gpu_and_workload_metadata(gpu, rows):
    frame = read_zeus(ZEUS / f"summary_power_{gpu}.csv")
    assert len(frame) == rows
    assert set(frame["gpu"]) == {gpu_spec(gpu).name}
    assert list(frame.columns[: len(SCHEMA_COLUMNS)]) == list(SCHEMA_COLUMNS)
    assert {"dataset", "network", "optimizer", "time_per_epoch", "average_power"} <= set(frame.columns)
    assert (frame["model"] == frame["network"]).all()
    assert (frame["num_gpus"] == 1).all()
    for column in ("params", "flops_per_sample", "image_size", "dataset_size"):
        assert (frame[column] > 0).all(), column
    pairs = set(zip(frame["dataset"], frame["network"], strict=True))
    assert pairs == set(ZEUS_WORKLOADS)


def test_zeus_gpu_comes_from_the_file_name(tmp_path):
    path = tmp_path / "summary_power_x999.csv"
    shutil.copy(ZEUS / "summary_power_a40.csv", path)
    with pytest.raises(UserError, match=r"summary_power_x999.csv: file name: unknown GPU 'x999'; known: P100"):
        read_zeus(path)


def test_zeus_rows_are_validated_with_file_line_and_column(tmp_path):
    header = "dataset,network,batch_size,optimizer,power_limit,time_per_epoch,average_power"
    path = write(tmp_path, header, "cifar100,shufflenetv2,1024,adadelta,100,27.1,106.9",
                 "cifar100,shufflenetv2,1024,adadelta,125,16.8,-5", name="summary_power_a40.csv")
    with pytest.raises(UserError) as err:
        read_zeus(path)
    assert str(err.value) == f"{path}:3: column average_power: expected a number > 0, got -5"
    path = write(tmp_path, header, "mnist,lenet,32,adam,100,1.0,50.0", name="summary_power_v100.csv")
    with pytest.raises(UserError, match=rf"{path}:2: column network: unknown Zeus workload 'mnist/lenet'"):
        read_zeus(path)


def test_a_generic_file_is_read_with_flops_renamed_and_gaps_filled(tmp_path):
    path = write(tmp_path, "model,batch_size,num_gpus,gpu,peak_power_w,note", "bert,16,8,a100,300,first",
                 "", "vit,64,4,A800-80GB,291.06,")
    frame = read_power_csv(path, ["peak_power_w"])
    assert list(frame.columns) == [*SCHEMA_COLUMNS, "peak_power_w", "note"]
    bert, vit = FAMILIES["bert"], FAMILIES["vit"]
    assert frame["params"].tolist() == [bert.params, vit.params]
    assert frame["flops_per_sample"].tolist() == [bert.flops_per_sample, vit.flops_per_sample]
    assert frame["image_size"].tolist() == [bert.size, vit.size]
    assert frame["dataset_size"].tolist() == [bert.dataset_size, vit.dataset_size]
    assert frame["gpu"].tolist() == ["A100-80GB", "A800-80GB"]  # aliases become catalog names
    assert frame["power_limit"].tolist() == [400.0, 400.0]  # the TDP
    assert frame["num_workers"].tolist() == [8, 8]
    assert frame["batch_size"].dtype == np.int64 and frame["num_gpus"].dtype == np.int64


@pytest.mark.parametrize(("lines", "expected"), [
    ([], "{path}: empty file"),
    (["model,num_gpus,gpu," + ",".join(WAVES), "bert,4,A40,1,1,1,1"], "{path}:1: missing column batch_size"),
    ([HEADER, *[GOOD_ROW] * 5, GOOD_ROW.replace(",32,", ",abc,")],
     "{path}:7: column batch_size: expected a number, got 'abc'"),
    ([HEADER, *[GOOD_ROW] * 7, GOOD_ROW.replace(",32,", ",-32,")],
     "{path}:9: column batch_size: expected a number > 0, got -32"),
    ([HEADER, GOOD_ROW.replace(",4,8,", ",0,8,")], "{path}:2: column num_gpus: expected a number > 0, got 0"),
    ([HEADER, GOOD_ROW.replace(",4,8,", ",2.5,8,")], "{path}:2: column num_gpus: expected a whole number, got 2.5"),
    ([HEADER, GOOD_ROW.replace("88641", "-1")], "{path}:2: column dataset_size: expected a number > 0, got -1"),
    ([HEADER, GOOD_ROW.replace("110e6", "0")], "{path}:2: column params: expected a number > 0, got 0"),
    ([HEADER, GOOD_ROW.replace("8.448e10", "-1e9")], "{path}:2: column flops: expected a number > 0, got -1e9"),
    ([HEADER, GOOD_ROW.replace(",400,", ",-100,")], "{path}:2: column power_limit: expected a number > 0, got -100"),
    ([HEADER, GOOD_ROW.replace("320.72", "0")], "{path}:2: column peak_power_w: expected a number > 0, got 0"),
    ([HEADER, GOOD_ROW.replace("5.98", "nan")], "{path}:2: column valley_duration_s: expected a number, got 'nan'"),
    ([HEADER, GOOD_ROW.replace("5.98", "")], "{path}:2: column valley_duration_s: expected a number, got ''"),
    ([HEADER, GOOD_ROW, "", GOOD_ROW.replace("A800-80GB", "X")],
     "{path}:4: column gpu: unknown GPU 'X'; known: " + ", ".join(["P100", "V100", "T4"])),
    ([HEADER, GOOD_ROW + ",1"], "{path}:2: expected 14 fields as in the header, got 15"),
    ([HEADER], "{path}: no data rows after the header"),
])
def test_each_mistake_is_named_with_file_line_and_column(tmp_path, lines, expected):
    path = write(tmp_path, *lines)
    message = read_error(path)
    assert message.startswith(expected.format(path=path)), message


def test_missing_metadata_of_an_unknown_model_is_an_error_naming_the_column(tmp_path):
    path = write(tmp_path, "model,batch_size,num_gpus,gpu,peak_power_w", "bert,16,8,A40,300", "llama,8,64,H100,600")
    assert read_error(path, ["peak_power_w"]).startswith(
        f"{path}:3: column params: no value, and model 'llama' has no family reference")


def test_load_power_data_concatenates_files_and_names_their_source(tmp_path):
    generic = write(tmp_path, HEADER.replace("peak_power_w", "average_power"), GOOD_ROW)
    frame = load_power_data([ZEUS / "summary_power_a40.csv", generic], ["average_power"])
    assert len(frame) == 454
    assert frame["source"].value_counts().to_dict() == {"summary_power_a40.csv": 453, "data.csv": 1}
    assert frame["average_power"].notna().all()
    with pytest.raises(UserError, match=r"summary_power_v100.csv:1: missing column peak_power_w"):
        load_power_data([ZEUS / "summary_power_v100.csv"], ["peak_power_w"])


def test_numeric_features_are_floats_on_the_same_index_with_tdp_for_missing_limits():
    jobs = pd.DataFrame({
        "model": ["bert", "vit"], "params": [110e6, 86.6e6], "flops_per_sample": [8e10, 1.76e10],
        "batch_size": [32, 64], "image_size": [384, 224], "dataset_size": [88641, 1281167], "num_gpus": [4, 8],
        "num_workers": [8, 4], "gpu": ["H100-SXM", "V100"], "power_limit": [np.nan, 250.0],
    }, index=[10, 20])
    features = numeric_features(jobs)
    assert list(features.columns) == list(FEATURE_COLUMNS)
    assert (features.dtypes == np.float64).all()
    assert features.index.tolist() == [10, 20]
    assert features["power_limit"].tolist() == [700.0, 250.0]
    assert features["gpu_tdp_w"].tolist() == [700.0, 300.0]
    assert features["gpu_tflops"].tolist() == [989.0, 125.0]
    without_column = numeric_features(jobs.drop(columns="power_limit"))
    assert without_column["power_limit"].tolist() == [700.0, 300.0]


@pytest.mark.parametrize("example", PUBLISHED, ids=lambda e: e.family)
def test_noise_free_synthetic_waves_reproduce_the_published_examples(example):
    fam = FAMILIES[example.family]
    job = pd.DataFrame([{
        "model": example.family, "params": fam.params, "flops_per_sample": fam.flops_per_sample,
        "batch_size": fam.batch_size, "image_size": fam.size, "dataset_size": fam.dataset_size,
        "num_gpus": example.num_gpus, "num_workers": 8, "gpu": example.gpu,
    }])
    wave = synthetic_waves(job, np.random.default_rng(0), noise=0.0).iloc[0]
    expected = [example.peak_w, example.peak_s, example.valley_w, example.valley_s]
    assert wave[WAVES].tolist() == pytest.approx(expected, rel=1e-9)


def test_noise_free_synthetic_dataset_is_the_analytic_model_over_varied_jobs():
    data = synthetic_dataset(400, np.random.default_rng(1), noise=0.0)
    assert list(data.columns) == [*SCHEMA_COLUMNS, *WAVES]
    # power_limit is the TDP, which caps nothing: predict without it so that no capping curve is involved
    predicted = AnalyticPowerModel().predict(data[list(SCHEMA_COLUMNS)].drop(columns="power_limit"))
    pd.testing.assert_frame_equal(data[WAVES], predicted, rtol=1e-12)
    assert set(data["model"]) == set(FAMILIES)
    assert data["gpu"].nunique() >= 4
    assert data["num_gpus"].between(1, 64).all() and data["num_gpus"].nunique() > 3
    assert (data["power_limit"] == [gpu_spec(g).tdp_w for g in data["gpu"]]).all()
    ratio = data["batch_size"] / data["model"].map(lambda m: FAMILIES[m].batch_size)
    assert set(np.log2(ratio)) <= {-2.0, -1.0, 0.0, 1.0, 2.0}


def test_synthetic_noise_is_relative_and_seeded():
    exact = synthetic_dataset(2000, np.random.default_rng(7), noise=0.0)
    noisy = synthetic_dataset(2000, np.random.default_rng(7), noise=0.03)
    pd.testing.assert_frame_equal(noisy, synthetic_dataset(2000, np.random.default_rng(7), noise=0.03))
    pd.testing.assert_frame_equal(noisy[list(SCHEMA_COLUMNS)], exact[list(SCHEMA_COLUMNS)])
    spread = np.log(noisy[WAVES] / exact[WAVES]).to_numpy().std()
    assert spread == pytest.approx(0.03, rel=0.1)
    assert not synthetic_dataset(50, np.random.default_rng(8)).equals(noisy.iloc[:50])


def test_write_then_read_gives_the_same_frame(tmp_path):
    data = synthetic_dataset(300, np.random.default_rng(3))
    path = tmp_path / "synthetic.csv"
    write_power_csv(data, path)
    assert path.read_text().splitlines()[0] == HEADER
    assert [p.name for p in tmp_path.iterdir()] == ["synthetic.csv"]  # no temporary file left behind
    pd.testing.assert_frame_equal(read_power_csv(path, WAVES), data)
