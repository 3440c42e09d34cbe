"""GPU catalog: what a power model or the meter may need to know of a GPU it has never seen measured.

Why so many numbers: a power model fitted on some GPUs can only transfer to another through a description of
the hardware (how much power it may draw, how fast it computes and moves memory), so every entry carries its
ratings, throughputs, memory, SM count, clocks, architecture and year. Sources, by column:

- ``tdp_w``: board power / maximum TDP from the vendor's datasheet (SXM form factor unless the name says PCIe).
- ``tensor_tflops``: dense (no sparsity: half a "with sparsity" figure) FP16/BF16 tensor throughput; P100 has
  no tensor cores, so its FP16 vector rate is given. GeForce/Quadro Turing rates are FP16 with FP32 accumulate.
  ``tf32_tflops`` and ``fp8_tflops`` likewise, ``None`` where the GPU has no such unit.
- ``fp32_tflops``, ``fp64_tflops``: vector (non-tensor) peaks; for GPUs whose FP64 runs at 1/32 or 1/64 of FP32
  (T4, RTX, A10, A40, L40S) the datasheets give none and the value is that ratio times FP32.
- ``memory_gb``, ``memory_bw_gbs``, ``sms`` (SMs; compute units for AMD), ``base_mhz`` / ``boost_mhz``,
  ``architecture``, ``year``: datasheets, architecture whitepapers and, for SM counts and clocks, spec
  databases; :data:`SOURCES` lists them per GPU and :data:`UNVERIFIED` the fields no source opened for this
  catalog confirmed (worked out from SM count x clock x rate, or as commonly published).
- ``idle_w``: power of a GPU that holds no job. No vendor publishes it; values are typical readings of
  ``nvidia-smi`` on an idle, driver-loaded board. A100/A800: 60 W, the floor of the AcmeTrace Kalos A100 fleet
  (data/acmetrace/gpu_power_cdf_kalos.csv: 1st percentile 60.2 W, 5th 61.9 W); the others are public idle
  readings of the same boards (MLPerf and vendor forum reports) rounded to 5 W, and MI300X's is the B200
  entry's share of TDP (14 %): estimates all.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Annotated

from pydantic import ConfigDict, Field

Positive = Annotated[float, Field(gt=0)]


@dataclass(frozen=True)
class GpuSpec:
    """Power, speed and make-up of one GPU model; frozen because every job on the cluster shares it.

    The field constraints are what pydantic checks when a user describes a GPU
    (:func:`simulator.config.load_gpu_specs`); the catalog's own entries are only checked by ``__post_init__``.
    """

    __pydantic_config__ = ConfigDict(extra="forbid")

    name: Annotated[str, Field(min_length=1)]
    tdp_w: Positive
    idle_w: Annotated[float, Field(ge=0)]
    tensor_tflops: Positive  # dense FP16/BF16 tensor (FP16 vector without tensor cores)
    memory_gb: Positive
    # every catalog entry has the rest; a GPU a user describes (:func:`described`) may leave them unknown
    fp32_tflops: Positive | None = None
    fp64_tflops: Positive | None = None
    memory_bw_gbs: Positive | None = None
    sms: Annotated[int, Field(ge=1)] | None = None  # streaming multiprocessors (NVIDIA) or compute units (AMD)
    base_mhz: Positive | None = None  # None where the vendor gives none
    boost_mhz: Positive | None = None
    architecture: str = ""
    year: Annotated[int, Field(ge=2000, le=2100)] | None = None
    tf32_tflops: Positive | None = None
    fp8_tflops: Positive | None = None
    vendor: str = "NVIDIA"

    def __post_init__(self) -> None:
        if self.idle_w >= self.tdp_w:
            raise ValueError("expected idle_w below tdp_w")


GPUS: dict[str, GpuSpec] = {
    spec.name: spec
    for spec in [
        # name, TDP W, idle W, FP16/BF16 tensor TF, memory GB, FP32 TF, FP64 TF, GB/s, SMs, base, boost MHz,
        # architecture, year, TF32 TF, FP8 TF
        GpuSpec("P100", 250.0, 30.0, 18.7, 16, 9.3, 4.7, 732, 56, 1126, 1303, "Pascal", 2016),  # PCIe 16 GB
        GpuSpec("V100", 300.0, 40.0, 125.0, 32, 15.7, 7.8, 900, 80, 1290, 1530, "Volta", 2018),  # SXM2 32 GB
        GpuSpec("T4", 70.0, 10.0, 65.0, 16, 8.1, 0.25, 320, 40, 585, 1590, "Turing", 2018),
        GpuSpec("A10", 150.0, 20.0, 125.0, 24, 31.2, 0.98, 600, 72, 885, 1695, "Ampere", 2021, 62.5),
        GpuSpec("A40", 300.0, 30.0, 149.7, 48, 37.4, 1.17, 696, 84, 1305, 1740, "Ampere", 2020, 74.8),
        GpuSpec("A100-40GB", 400.0, 60.0, 312.0, 40, 19.5, 9.7, 1555, 108, 1095, 1410, "Ampere", 2020, 156.0),
        GpuSpec("A100-80GB", 400.0, 60.0, 312.0, 80, 19.5, 9.7, 2039, 108, 1095, 1410, "Ampere", 2020, 156.0),
        # A800: an A100 with NVLink capped at 400 GB/s for export; the same power and rates
        GpuSpec("A800-40GB", 400.0, 60.0, 312.0, 40, 19.5, 9.7, 1555, 108, 1095, 1410, "Ampere", 2022, 156.0),
        GpuSpec("A800-80GB", 400.0, 60.0, 312.0, 80, 19.5, 9.7, 2039, 108, 1095, 1410, "Ampere", 2022, 156.0),
        GpuSpec("H100-SXM", 700.0, 70.0, 989.0, 80, 67.0, 34.0, 3350, 132, 1590, 1980, "Hopper", 2022, 494.7,
                1978.9),
        GpuSpec("H100-PCIe", 350.0, 50.0, 756.0, 80, 51.0, 26.0, 2000, 114, 1125, 1755, "Hopper", 2022, 378.0,
                1513.0),
        GpuSpec("H200", 700.0, 75.0, 989.0, 141, 67.0, 34.0, 4800, 132, None, 1980, "Hopper", 2024, 494.7,
                1978.9),
        GpuSpec("B200", 1000.0, 140.0, 2250.0, 180, 75.0, 37.0, 8000, 148, None, 1965, "Blackwell", 2024, 1125.0,
                4500.0),
        GpuSpec("RTX-2080-Ti", 250.0, 20.0, 53.8, 11, 13.4, 0.42, 616, 68, 1350, 1545, "Turing", 2018),
        GpuSpec("Quadro-RTX-6000", 295.0, 25.0, 130.5, 24, 16.3, 0.51, 672, 72, 1440, 1770, "Turing", 2018),
        GpuSpec("L40S", 350.0, 35.0, 362.0, 48, 91.6, 1.43, 864, 142, 1110, 2520, "Ada Lovelace", 2023, 183.0,
                733.0),
        GpuSpec("MI300X", 750.0, 105.0, 1307.4, 192, 163.4, 81.7, 5300, 304, None, 2100, "CDNA 3", 2023, 653.7,
                2614.9, vendor="AMD"),
    ]
}

SOURCES: dict[str, tuple[str, ...]] = {
    "P100": ("https://images.nvidia.com/content/tesla/pdf/nvidia-tesla-p100-PCIe-datasheet.pdf",
             "https://cputronic.com/gpu/nvidia-tesla-p100-pcie-16-gb"),
    "V100": ("https://images.nvidia.com/content/technologies/volta/pdf/volta-v100-datasheet-update-us-1165301-r5.pdf",
             "https://developer.nvidia.com/programming-tensor-cores-cuda-9-0"),
    "T4": ("https://www.nvidia.com/content/dam/en-zz/Solutions/Data-Center/tesla-t4/t4-tensor-core-datasheet-951643.pdf",
           "https://sysrqmts.com/en/gpus/nvidia/tesla/t4"),
    "A10": ("https://www.nvidia.com/content/dam/en-zz/Solutions/Data-Center/a10/pdf/a10-datasheet.pdf",
            "https://sysrqmts.com/ru/gpus/compare/nvidia-a10-pcie-vs-nvidia-quadro-rtx-4000"),
    "A40": ("https://images.nvidia.com/content/Solutions/data-center/a40/nvidia-a40-datasheet.pdf",
            "https://sysrqmts.com/fr/gpus/compare/nvidia-a40-pcie-vs-nvidia-quadro-rtx-6000"),
    "A100-40GB": ("https://www.nvidia.com/content/dam/en-zz/Solutions/Data-Center/a100/pdf/nvidia-a100-datasheet-us-nvidia-1758950-r4-web.pdf",
                  "https://www.techpowerup.com/gpu-specs/a100-sxm4-40-gb.c3506"),
    "A100-80GB": ("https://www.nvidia.com/content/dam/en-zz/Solutions/Data-Center/a100/pdf/nvidia-a100-datasheet-us-nvidia-1758950-r4-web.pdf",
                  "https://glennklockwood.com/garden/processors/A100"),
    "A800-40GB": ("https://aiwiki.ai/wiki/nvidia_a800",),
    "A800-80GB": ("https://aiwiki.ai/wiki/nvidia_a800",
                  "https://www.purepc.pl/nvidia-a800-akcelerator-graficzny-ampere-przygotowany-z-mysla-o-obejsciu-amerykanskich-sankcji-na-chiny"),
    "H100-SXM": ("https://resources.nvidia.com/en-us-tensor-core/gtc22-whitepaper-hopper",
                 "https://glennklockwood.com/garden/processors/h100"),
    "H100-PCIe": ("https://archive-lib.hpctech.co.jp/gpuproduct/nvidia-h100.html",
                  "https://glennklockwood.com/garden/processors/h100"),
    "H200": ("https://www.nvidia.com/en-us/data-center/h200/",
             "https://lzwjava.github.io/nvidia-h200-gpu-specs-en"),
    "B200": ("https://glennklockwood.com/garden/processors/B200",
             "https://hmc-tech.com/gpus/nvidia-b200-vs-nvidia-gb200"),
    "RTX-2080-Ti": ("https://images.nvidia.com/aem-dam/en-zz/Solutions/design-visualization/technologies/turing-architecture/NVIDIA-Turing-Architecture-Whitepaper.pdf",
                    "https://gpu.spicedreamphone.com/ru/gpu/nvidia/geforce-rtx-2080-ti"),
    "Quadro-RTX-6000": ("https://www.nvidia.com/content/dam/en-zz/Solutions/design-visualization/quadro-product-literature/quadro-rtx-6000-us-nvidia-704093-r4-web.pdf",
                        "https://sysrqmts.com/fr/gpus/compare/nvidia-a40-pcie-vs-nvidia-quadro-rtx-6000"),
    "L40S": ("https://www.mullet.se/product.html?product_id=355414",
             "https://www.itcreations.com/nvidia-gpu/nvidia-l40s-gpu-accelerator"),
    "MI300X": ("https://www.amd.com/en/products/accelerators/instinct/mi300/mi300x.html",
               "https://rocm.docs.amd.com/en/docs-6.2.2/conceptual/gpu-arch/mi300.html"),
}
"""Where each GPU's values come from: the vendor datasheet or whitepaper first, then a page that repeats its
table or gives the SM count and clocks."""

UNVERIFIED: dict[str, tuple[str, ...]] = {
    "P100": ("base_mhz", "boost_mhz"),
    "V100": ("base_mhz",),
    "T4": ("fp64_tflops",),
    "A10": ("fp64_tflops",),
    "A40": ("fp64_tflops",),
    "A800-40GB": ("base_mhz", "memory_bw_gbs"),
    "A800-80GB": ("base_mhz", "memory_bw_gbs"),
    "H100-SXM": ("base_mhz",),
    "H100-PCIe": ("base_mhz", "boost_mhz"),
    "H200": ("boost_mhz",),
    "B200": ("fp32_tflops", "fp64_tflops", "sms", "boost_mhz"),
    "RTX-2080-Ti": ("tensor_tflops", "fp64_tflops"),
    "Quadro-RTX-6000": ("fp64_tflops",),
    "L40S": ("fp64_tflops",),
    "MI300X": ("fp64_tflops", "tf32_tflops", "boost_mhz"),
}
"""Fields that no source opened for this catalog stated: computed from SM count x clock x rate per clock, or
the commonly published figure (see the module docstring)."""

# Names people type for the same boards.
ALIASES: dict[str, str] = {
    "A100": "A100-80GB",
    "A800": "A800-80GB",
    "H100": "H100-SXM",
    "2080Ti": "RTX-2080-Ti",
    "RTX6000": "Quadro-RTX-6000",
    "RTX-6000": "Quadro-RTX-6000",
    "Quadro RTX 6000": "Quadro-RTX-6000",
    "RTX 2080 Ti": "RTX-2080-Ti",
    "H100-PCIE": "H100-PCIe",
    "MI300": "MI300X",
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


@contextmanager
def described(specs: Sequence[GpuSpec]) -> Iterator[None]:
    """GPUs a user describes (hardware not yet in the catalog, or not yet built), known to :func:`gpu_spec` inside
    the block. A name the catalog already has is refused (ValueError, before the block runs): a datasheet entry
    is not redefined by accident."""
    for spec in specs:
        try:
            taken = gpu_spec(spec.name).name
        except KeyError:
            continue
        raise ValueError(f"{spec.name!r} is the catalog's {taken}; describe a GPU under a name of its own")
    added = {spec.name: spec for spec in specs}
    GPUS.update(added)
    try:
        yield
    finally:
        for name in added:
            del GPUS[name]
