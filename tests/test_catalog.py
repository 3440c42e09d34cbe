"""The GPU catalog describes every GPU a planner may ask about, each value with its source, and its numbers
agree with each other (a mistyped rate, SM count or clock shows up as a broken identity)."""

from __future__ import annotations

import dataclasses

import pytest

from simulator.common.catalog import GPUS, SOURCES, UNVERIFIED, GpuSpec, described, gpu_spec

ASKED = ("P100", "V100", "T4", "RTX6000", "A10", "A40", "A100-40GB", "A100-80GB", "A800", "H100-SXM", "H100-PCIe",
         "H200", "B200", "MI300X")
"""The GPUs issue 20 names, as a user would type them."""

FP32_LANES = {"P100": 64, "V100": 64, "T4": 64, "RTX-2080-Ti": 64, "Quadro-RTX-6000": 64, "A10": 128, "A40": 128,
              "A100-40GB": 64, "A100-80GB": 64, "A800-40GB": 64, "A800-80GB": 64, "H100-SXM": 128, "H100-PCIe": 128,
              "H200": 128, "B200": 128, "L40S": 128, "MI300X": 128}
"""FP32 lanes per SM (per compute unit for AMD) by chip: GA100 has 64, GA102 128 (its doubled FP32 datapath)."""


@pytest.mark.parametrize("name", ASKED)
def test_every_gpu_asked_for_is_in_the_catalog(name):
    assert gpu_spec(name).name in GPUS


@pytest.mark.parametrize("name", sorted(GPUS))
def test_every_value_is_sourced_and_physical(name):
    spec = GPUS[name]
    assert SOURCES[name] and all(url.startswith("https://") for url in SOURCES[name])
    fields = {f.name for f in dataclasses.fields(spec)}
    assert set(UNVERIFIED.get(name, ())) <= fields
    assert 0 < spec.idle_w < 0.25 * spec.tdp_w
    assert 0 < spec.fp64_tflops <= spec.fp32_tflops < spec.tensor_tflops
    assert spec.memory_gb > 0 and spec.memory_bw_gbs > 0 and spec.sms > 0
    assert spec.base_mhz is None or spec.base_mhz < spec.boost_mhz
    assert 2010 < spec.year < 2030
    if spec.tf32_tflops is not None:
        assert spec.tf32_tflops == pytest.approx(spec.tensor_tflops / 2, rel=0.02)  # TF32 runs at half rate
    if spec.fp8_tflops is not None:
        assert spec.fp8_tflops == pytest.approx(2 * spec.tensor_tflops, rel=0.02)  # FP8 at twice FP16


@pytest.mark.parametrize("name", sorted(GPUS))
def test_fp32_rate_is_sms_times_lanes_times_clock(name):
    """Peak FP32 = SMs x lanes x 2 (a fused multiply-add) x boost clock: the three transcribed numbers agree."""
    spec = GPUS[name]
    assert spec.fp32_tflops == pytest.approx(spec.sms * FP32_LANES[name] * 2 * spec.boost_mhz * 1e6 / 1e12, rel=0.02)


def test_a_described_gpu_is_known_inside_the_block_only():
    spec = GpuSpec("X100", tdp_w=900.0, idle_w=90.0, tensor_tflops=1800.0, memory_gb=192)
    with described([spec]):
        assert gpu_spec("x100") is spec
    with pytest.raises(KeyError, match="unknown GPU 'X100'"):
        gpu_spec("X100")
    with pytest.raises(ValueError, match="'a100' is the catalog's A100-80GB"), described([
            GpuSpec("a100", tdp_w=400.0, idle_w=60.0, tensor_tflops=312.0, memory_gb=80)]):
        pass
    assert "a100" not in GPUS
