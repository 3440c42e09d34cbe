"""The generic power-data table: its columns, what each may hold, and the numbers models are fitted on.

One row a measured training job, the header on line 1, comma-separated, UTF-8. Metadata columns (what is
known before the job runs, the inputs of every power model):

==============  ========  ====================================================================================
column          required  meaning
==============  ========  ====================================================================================
model           yes       model name; a family of ``simulator.common.families.FAMILIES`` (vit, bert, ...)
                          lets the optional columns below be left out
params          no        trainable parameters
flops           no        forward FLOPs per sample (renamed ``flops_per_sample`` on reading, the name the
                          simulator's job tables use)
batch_size      yes       samples per GPU per step
image_size      no        image side in pixels, or sequence length in tokens
dataset_size    no        samples per epoch
num_gpus        yes       GPUs of the job (data parallel)
num_workers     no        data-loader workers per GPU; default 8, as in the simulator's job traces
gpu             yes       GPU model, a name or alias of ``simulator.common.catalog`` (case-insensitive)
power_limit     no        GPU power limit in W; default the GPU's TDP (the limit a GPU ships with)
==============  ========  ====================================================================================

Target columns (what a model predicts, W and s per GPU): ``peak_power_w, peak_duration_s, valley_power_w,
valley_duration_s`` (:data:`simulator.common.jobs.WAVE_COLUMNS`), or any other column a caller names as a target.
Targets and any of the four wave columns present are validated as positive numbers; other columns are kept,
as numbers where every cell is one, else as text.

Impossible values are errors rather than rows to drop, because a fitted power model silently absorbs them:
params, flops, batch_size, image_size, dataset_size, num_gpus, power_limit and targets must be > 0,
num_workers >= 0, and batch_size, num_gpus and num_workers whole. An empty optional cell is filled like a
missing column: params, flops, image_size and dataset_size from the model family's reference configuration
where the family is known (otherwise it is an error naming the column), num_workers and power_limit from
their defaults. Every mistake is a :class:`simulator.common.errors.UserError` naming the file, the file line (header
= line 1) and the column.

FLOPs convention: ``flops`` follows the figure each model is usually published with, as ``FAMILIES`` does:
multiply-accumulates for convolutional networks (ResNet-50's "4.1 GFLOPs"), 2 x params x tokens for
transformers. The two differ by a factor 2; a fitted model absorbs it within a family, not across families.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from simulator.common.catalog import gpu_spec

SCHEMA_COLUMNS = (
    "model", "params", "flops_per_sample", "batch_size", "image_size", "dataset_size", "num_gpus", "num_workers",
    "gpu", "power_limit",
)
"""Metadata columns of every frame this module returns, in this order (targets and other columns follow)."""

REQUIRED_COLUMNS = ("model", "batch_size", "num_gpus", "gpu")
"""Metadata without which a row cannot be placed: no family reference or default stands in for them."""

FILE_NAMES = {"flops_per_sample": "flops"}
"""Columns whose name in a CSV differs from their name in a frame."""
FRAME_NAMES = {file: frame for frame, file in FILE_NAMES.items()}

FAMILY_REFERENCES = {"params": "params", "flops_per_sample": "flops_per_sample", "image_size": "size",
                     "dataset_size": "dataset_size"}
"""Optional columns filled from the model family's reference (frame column -> ``Family`` attribute)."""

DEFAULT_NUM_WORKERS = 8
"""Data-loader workers where a generic file does not say: the default of the simulator's job traces."""

INT_COLUMNS = ("batch_size", "num_gpus", "num_workers")

FEATURE_COLUMNS = (
    "params", "flops_per_sample", "batch_size", "image_size", "dataset_size", "num_gpus", "num_workers",
    "power_limit", "gpu_tdp_w", "gpu_idle_w", "gpu_tflops",
)
"""Columns of :func:`numeric_features`, in order."""

GPU_FEATURES = {"gpu_tdp_w": "tdp_w", "gpu_idle_w": "idle_w", "gpu_tflops": "tensor_tflops"}
"""Features looked up in the GPU catalog (feature -> ``GpuSpec`` attribute)."""


@dataclass(frozen=True)
class Rule:
    """What a numeric column may hold."""

    positive: bool = True  # > 0, else >= 0
    whole: bool = False
    required: bool = True  # may a cell be empty?


METADATA_RULES = {
    "params": Rule(required=False),
    "flops_per_sample": Rule(required=False),
    "batch_size": Rule(whole=True),
    "image_size": Rule(required=False),
    "dataset_size": Rule(required=False),
    "num_gpus": Rule(whole=True),
    "num_workers": Rule(positive=False, whole=True, required=False),  # 0: loading in the training process
    "power_limit": Rule(required=False),
}


def default_limits(gpu: pd.Series) -> pd.Series:
    """Each row's GPU TDP, its default power limit; looked up once per GPU because files run to 10^5 rows."""
    return gpu.map({name: gpu_spec(name).tdp_w for name in pd.unique(gpu)}).astype(float)


def numeric_features(frame: pd.DataFrame) -> pd.DataFrame:
    """The float matrix power models are fitted on, one row per job, on the frame's index.

    - ``params``: checkpoint size, hence the valley's duration; memory traffic per step.
    - ``flops_per_sample``, ``dataset_size``: the compute of an epoch, hence the peak's duration.
    - ``batch_size`` (per GPU), ``image_size``: how full the GPU is kept; power grows with their logarithms.
    - ``num_gpus``: divides the epoch; more nodes add communication and parallel checkpoint bandwidth.
    - ``num_workers``: data-loader parallelism; a starved GPU idles between steps and draws less.
    - ``power_limit`` (the GPU's TDP where missing): caps the peak and stretches it (Zeus sweeps).
    - ``gpu_tdp_w``, ``gpu_idle_w``: the envelope a GPU's power lives in, so one model can span GPU types.
    - ``gpu_tflops``: dense tensor throughput, turning FLOPs into seconds.
    """
    inputs = list(FEATURE_COLUMNS[:7])
    missing = [c for c in [*inputs, "gpu"] if c not in frame.columns]
    if missing:
        raise ValueError(f"power-data frame lacks columns {', '.join(missing)}")
    specs = {name: gpu_spec(name) for name in pd.unique(frame["gpu"])}
    features = frame[inputs].astype(float)
    for column, attribute in GPU_FEATURES.items():
        features[column] = frame["gpu"].map({n: getattr(s, attribute) for n, s in specs.items()}).astype(float)
    limit = frame["power_limit"] if "power_limit" in frame.columns else pd.Series(np.nan, index=frame.index)
    features["power_limit"] = limit.astype(float).fillna(features["gpu_tdp_w"])
    features = features[list(FEATURE_COLUMNS)]
    holes = [c for c in features.columns if features[c].isna().any()]
    if holes:
        raise ValueError(f"missing values in {', '.join(holes)}; read_power_csv fills them from the model family")
    return features
