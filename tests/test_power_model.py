"""The analytic power model reproduces the published waves and behaves as its docstring says."""

from __future__ import annotations

import pandas as pd
import pytest

from forecasters.power.analytic import PUBLISHED, AnalyticPowerModel
from simulator.common.catalog import GPUS, gpu_spec
from simulator.common.families import FAMILIES
from simulator.common.jobs import WAVE_COLUMNS


def reference_job(family: str, gpu: str = "A800-80GB", gpus: int = 4, **changes) -> dict:
    fam = FAMILIES[family]
    job = {
        "model": family, "params": fam.params, "flops_per_sample": fam.flops_per_sample,
        "batch_size": fam.batch_size, "image_size": fam.size, "dataset_size": fam.dataset_size,
        "epochs": 1.0, "num_gpus": gpus, "num_workers": 8, "gpu": gpu,
    }
    job.update(changes)
    return job


@pytest.mark.parametrize("example", PUBLISHED, ids=lambda e: e.family)
def test_published_examples_are_reproduced(example):
    wave = AnalyticPowerModel().predict(pd.DataFrame([reference_job(example.family, example.gpu,
                                                                    example.num_gpus)])).iloc[0]
    assert wave["peak_power_w"] == pytest.approx(example.peak_w, rel=1e-9)
    assert wave["peak_duration_s"] == pytest.approx(example.peak_s, rel=1e-9)
    assert wave["valley_power_w"] == pytest.approx(example.valley_w, rel=1e-9)
    assert wave["valley_duration_s"] == pytest.approx(example.valley_s, rel=1e-9)


def test_power_grows_logarithmically_with_batch_and_image_size():
    jobs = pd.DataFrame([reference_job("vit", batch_size=b) for b in (16, 32, 64, 128)]
                        + [reference_job("vit", image_size=s) for s in (160, 224, 320)])
    peak = AnalyticPowerModel().predict(jobs)["peak_power_w"].to_numpy()
    batch_steps = peak[1:4] - peak[0:3]
    assert (batch_steps > 0).all()
    assert batch_steps == pytest.approx([batch_steps[0]] * 3, rel=1e-9)  # equal steps per doubling: log growth
    assert peak[4] < peak[5] < peak[6]


def test_predictions_stay_within_the_gpu_envelope():
    jobs = pd.DataFrame([reference_job(f, gpu, gpus=g, batch_size=FAMILIES[f].batch_size * m)
                         for f in FAMILIES for gpu in ("V100", "H100-SXM", "T4") for g in (1, 8, 64)
                         for m in (1, 64)])
    waves = AnalyticPowerModel().predict(jobs)
    for gpu, rows in waves.groupby(jobs["gpu"]):
        spec = gpu_spec(gpu)
        assert (rows["peak_power_w"] <= spec.tdp_w + 1e-9).all()
        assert (rows["valley_power_w"] >= spec.idle_w).all()
        assert (rows["valley_power_w"] < rows["peak_power_w"]).all()
    assert (waves[list(WAVE_COLUMNS)] > 0).all(axis=None)


def test_more_gpus_shorten_the_epoch_and_faster_gpus_too():
    jobs = pd.DataFrame([reference_job("bert", gpus=4), reference_job("bert", gpus=8),
                         reference_job("bert", gpu="H100-SXM", gpus=4)])
    peak_s = AnalyticPowerModel().predict(jobs)["peak_duration_s"].to_numpy()
    assert peak_s[1] == pytest.approx(peak_s[0] / 2)  # same node: linear scaling
    assert peak_s[2] < peak_s[0]


def test_unknown_family_is_a_clear_error():
    with pytest.raises(ValueError, match="no analytic power model"):
        AnalyticPowerModel().predict(pd.DataFrame([reference_job("vit", model="alexnet")]))


def test_catalog_covers_the_required_gpus():
    for name in ("V100", "P100", "T4", "A10", "A40", "A100-40GB", "A100-80GB", "A800-40GB", "A800-80GB",
                 "H100-SXM", "H100-PCIe", "H200", "B200", "RTX-2080-Ti", "Quadro-RTX-6000", "L40S"):
        spec = GPUS[name]
        assert 0 < spec.idle_w < spec.tdp_w
        assert spec.tensor_tflops > 0
    assert gpu_spec("a100").name == "A100-80GB"
    with pytest.raises(KeyError, match="unknown GPU"):
        gpu_spec("Voodoo2")
