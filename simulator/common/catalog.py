"""GPU catalog: the few numbers per GPU model that the power model and the meter need.

Sources, by column:
- ``tdp_w``: board power / maximum TDP from NVIDIA's product datasheets (SXM form factor unless the name says PCIe).
- ``tensor_tflops``: dense FP16/BF16 tensor throughput from the same datasheets (without sparsity); P100 has no
  tensor cores, so its FP16 vector rate is given. GeForce/Quadro Turing rates are FP16 with FP32 accumulate.
- ``idle_w``: power of a GPU that holds no job. NVIDIA publishes no idle figure; values are typical readings of
  ``nvidia-smi`` on an idle, driver-loaded board. A100/A800: 60 W, the floor of the AcmeTrace Kalos A100 fleet
  (data/acmetrace/gpu_power_cdf_kalos.csv: 1st percentile 60.2 W, 5th 61.9 W); the others are public idle
  readings of the same boards (MLPerf and vendor forum reports) rounded to 5 W, and should be read as
  estimates.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class GpuSpec:
    """Power and speed of one GPU model; frozen because every job on the cluster shares it."""

    name: str
    tdp_w: float
    idle_w: float
    tensor_tflops: float
    memory_gb: int


GPUS: dict[str, GpuSpec] = {
    spec.name: spec
    for spec in [
        # name, TDP W, idle W, dense FP16/BF16 TFLOPS, memory GB
        GpuSpec("P100", 250.0, 30.0, 18.7, 16),  # Tesla P100 PCIe datasheet: 250 W, 18.7 TFLOPS FP16
        GpuSpec("V100", 300.0, 40.0, 125.0, 32),  # Tesla V100 SXM2 datasheet: 300 W, 125 TFLOPS tensor
        GpuSpec("T4", 70.0, 10.0, 65.0, 16),  # T4 datasheet: 70 W, 65 TFLOPS FP16 tensor
        GpuSpec("A10", 150.0, 20.0, 125.0, 24),  # A10 datasheet: 150 W, 125 TFLOPS FP16 tensor
        GpuSpec("A40", 300.0, 30.0, 149.7, 48),  # A40 datasheet: 300 W, 149.7 TFLOPS FP16 tensor
        GpuSpec("A100-40GB", 400.0, 60.0, 312.0, 40),  # A100 SXM4 datasheet: 400 W, 312 TFLOPS BF16
        GpuSpec("A100-80GB", 400.0, 60.0, 312.0, 80),  # A100 80GB SXM4 datasheet: 400 W, 312 TFLOPS BF16
        GpuSpec("A800-40GB", 400.0, 60.0, 312.0, 40),  # A800 SXM4 (A100 with capped NVLink): same power and rate
        GpuSpec("A800-80GB", 400.0, 60.0, 312.0, 80),
        GpuSpec("H100-SXM", 700.0, 70.0, 989.0, 80),  # H100 SXM5 datasheet: 700 W, 989 TFLOPS BF16 dense
        GpuSpec("H100-PCIe", 350.0, 50.0, 756.0, 80),  # H100 PCIe datasheet: 350 W, 756 TFLOPS BF16 dense
        GpuSpec("H200", 700.0, 75.0, 989.0, 141),  # H200 SXM datasheet: 700 W, 989 TFLOPS BF16 dense
        GpuSpec("B200", 1000.0, 140.0, 2250.0, 180),  # HGX B200 datasheet: 1000 W, 2.25 PFLOPS BF16 dense
        GpuSpec("RTX-2080-Ti", 250.0, 20.0, 53.8, 11),  # Turing whitepaper: 250 W, 53.8 TFLOPS FP16/FP32 acc
        GpuSpec("Quadro-RTX-6000", 295.0, 25.0, 130.5, 24),  # Quadro RTX 6000 datasheet: 295 W, 130.5 TFLOPS
        GpuSpec("L40S", 350.0, 35.0, 362.0, 48),  # L40S datasheet: 350 W, 362 TFLOPS FP16 dense
    ]
}

# Names people type for the same boards.
ALIASES: dict[str, str] = {
    "A100": "A100-80GB",
    "A800": "A800-80GB",
    "H100": "H100-SXM",
    "2080Ti": "RTX-2080-Ti",
    "RTX6000": "Quadro-RTX-6000",
}


def gpu_spec(name: str) -> GpuSpec:
    """Look a GPU up by catalog name or alias, case-insensitively; KeyError lists what exists."""
    wanted = name.strip().lower()
    for key, target in ALIASES.items():
        if key.lower() == wanted:
            return GPUS[target]
    for key, spec in GPUS.items():
        if key.lower() == wanted:
            return spec
    raise KeyError(f"unknown GPU {name!r}; known: {', '.join(GPUS)}")
