"""A synthetic power-data set drawn from the analytic model, for tests and for fitting without measurements."""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecasters.power.analytic import AnalyticPowerModel
from forecasters.power.schema import (
    INT_COLUMNS,
    SCHEMA_COLUMNS,
    default_limits,
)
from simulator.common.families import FAMILIES

SYNTHETIC_GPUS = ("V100", "A40", "A100-80GB", "A800-80GB", "H100-SXM", "L40S")
"""Catalog GPUs of synthetic jobs: three generations, SXM and PCIe boards, 300 to 700 W."""

SYNTHETIC_BATCH_DOUBLINGS = (-2, -1, 0, 1, 2)
"""Per-GPU batch = family reference x 2^k: the range where the analytic model's log-linear growth is calibrated."""

SYNTHETIC_SIZE_FACTORS = (0.5, 0.75, 1.0, 1.5, 2.0)
"""Image side or sequence length = family reference x factor (112 to 448 px for 224 px models)."""

SYNTHETIC_DATASET_FACTORS = (0.25, 0.5, 1.0, 2.0)
"""Samples per epoch = family reference x factor: subsets and larger corpora of the same kind."""

SYNTHETIC_GPU_COUNTS = (1, 2, 4, 8, 16, 32, 64)
SYNTHETIC_WORKER_COUNTS = (2, 4, 8, 16)


def synthetic_dataset(n: int, rng: np.random.Generator, noise: float = 0.03) -> pd.DataFrame:
    """SYNTHETIC power data: ``n`` random jobs and the analytic model's square waves, with noise.

    Not measurements: for tests and teaching, where the true relation must be known. Jobs span the families
    of ``FAMILIES`` (each at its reference parameter count), :data:`SYNTHETIC_GPUS`, per-GPU batches of powers
    of two around the family reference, input sizes around it (FLOPs scaled with size^2 for images and size
    for sequences, as the analytic model assumes), 1 to 64 GPUs and 2 to 16 loader workers (which the
    analytic model ignores: a fitted model should learn to as well), at the GPU's default power limit, its
    TDP. Targets: see :func:`synthetic_waves`; they are predicted before ``power_limit`` is added because a
    limit at TDP caps nothing, so no capping curve is needed. Columns follow the generic schema, so the frame
    can be written with :func:`write_power_csv` and read back with :func:`read_power_csv`.
    """
    data = synthetic_waves(_synthetic_jobs(n, rng), rng, noise)
    data.insert(SCHEMA_COLUMNS.index("power_limit"), "power_limit", default_limits(data["gpu"]))
    return data


def synthetic_waves(jobs: pd.DataFrame, rng: np.random.Generator, noise: float = 0.03) -> pd.DataFrame:
    """``jobs`` with the four wave columns: ``AnalyticPowerModel().predict`` x log-normal noise.

    Each value is multiplied by exp(noise x z), z standard normal, independently: a relative error of about
    ``noise`` that keeps every value positive, like measurement scatter. ``noise=0`` gives the model exactly,
    so its published examples and its logarithmic growth with batch and input size are reproduced.
    """
    if noise < 0:
        raise ValueError(f"noise must be >= 0, got {noise}")
    waves = AnalyticPowerModel().predict(jobs)
    waves *= np.exp(noise * rng.standard_normal(waves.shape))
    return jobs.assign(**waves)


def _synthetic_jobs(n: int, rng: np.random.Generator) -> pd.DataFrame:
    """Random job metadata in the generic schema, less power_limit; :func:`synthetic_dataset` says why."""
    families = pd.DataFrame({name: vars(family) for name, family in FAMILIES.items()}).T
    model = rng.choice(list(FAMILIES), n)
    ref = families.loc[model].astype(float).reset_index(drop=True)
    size = np.round(ref["size"] * rng.choice(SYNTHETIC_SIZE_FACTORS, n))
    return pd.DataFrame({
        "model": model,
        "params": ref["params"],
        "flops_per_sample": ref["flops_per_sample"] * (size / ref["size"]) ** ref["size_exponent"],
        "batch_size": np.maximum(1, np.round(ref["batch_size"] * 2.0 ** rng.choice(SYNTHETIC_BATCH_DOUBLINGS, n))),
        "image_size": size,
        "dataset_size": np.round(ref["dataset_size"] * rng.choice(SYNTHETIC_DATASET_FACTORS, n)),
        "num_gpus": rng.choice(SYNTHETIC_GPU_COUNTS, n),
        "num_workers": rng.choice(SYNTHETIC_WORKER_COUNTS, n),
        "gpu": rng.choice(SYNTHETIC_GPUS, n),
    }).astype(dict.fromkeys(INT_COLUMNS, "int64"))
