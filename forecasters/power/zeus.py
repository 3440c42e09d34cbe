"""Zeus power traces as power data.

``summary_power_<gpu>.csv`` from Zeus (You, Chung, Chowdhury, NSDI 2023; data/zeus): average power and time per
epoch of six single-GPU training workloads over batch sizes and power limits. The files name neither the
model's size nor its input; :data:`ZEUS_WORKLOADS` adds them per (dataset, network) pair.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from forecasters.power._table import Table, read_table, text_names
from forecasters.power.schema import (
    INT_COLUMNS,
    Rule,
)
from simulator.common.catalog import gpu_spec
from simulator.common.errors import UserError


@dataclass(frozen=True)
class ZeusWorkload:
    """What a Zeus power trace does not say about a workload: the model's size and cost, its input, its epoch."""

    params: float
    flops_per_sample: float  # forward, in the convention of the module docstring
    size: float  # image side in pixels, or sequence length
    dataset_size: float  # training samples per epoch


ZEUS_WORKLOADS: dict[tuple[str, str], ZeusWorkload] = {
    # ShuffleNet V2 1x (Ma et al., ECCV 2018) for CIFAR-100 as in weiaicunzai/pytorch-cifar100
    # models/shufflenetv2.py, which Zeus's examples/cifar100 uses: parameters and multiply-accumulates counted
    # layer by layer from that code for a 32 x 32 image (1,360,896 and 43.7 M). CIFAR-100: 50,000 training images.
    ("cifar100", "shufflenetv2"): ZeusWorkload(1_360_896, 43.68e6, 32, 50_000),
    # ResNet-50 (He et al., CVPR 2016): torchvision's model card, 25,557,032 parameters and 4.09 GFLOPs
    # (multiply-accumulates) at 224 px. ImageNet-1k (ILSVRC 2012): 1,281,167 training images.
    ("imagenet", "resnet50"): ZeusWorkload(25_557_032, 4.09e9, 224, 1_281_167),
    # DeepSpeech2 (Amodei et al., ICML 2016). The trace does not name the implementation; assumed
    # SeanNaren/deepspeech.pytorch's defaults (two convolutions, five bidirectional LSTM layers of 1024, 161
    # frequency bins): 86.6 M parameters counted from that architecture. LibriSpeech 960 h: 281,241 training
    # utterances, 12.3 s on average, 1,230 spectrogram frames at a 10 ms hop (the size). FLOPs: estimate,
    # 2 x the multiply-accumulates of that architecture on an average utterance (60 G) = 1.2e11.
    ("librispeech", "deepspeech2"): ZeusWorkload(86.6e6, 1.2e11, 1_230, 281_241),
    # NeuMF (He et al., WWW 2017) on MovieLens-1M (6,040 users, 3,706 rated movies). Estimate: the configuration
    # of the common PyTorch implementation guoyang9/NCF is assumed (main.py defaults: 32 factors, 3 MLP layers,
    # 4 negatives): 1,602,657 parameters counted from its model.py; 86,176 FLOPs per (user, item) pair, 2 x the
    # multiply-accumulates of the MLP and output layers plus the GMF product (embedding look-ups cost none).
    # A sample is two ids, read as a 2-token sequence (the size). Epoch: the 994,169 leave-one-out training
    # ratings, each with 4 sampled negatives as in the paper: 4,970,845 pairs.
    ("movielens-1m", "ncf"): ZeusWorkload(1_602_657, 86_176, 2, 4_970_845),
    # BERT-base uncased (Devlin et al., NAACL 2019: 110 M parameters) fine-tuned on SQuAD v1.1: 384-token
    # windows (stride 128) give 88,641 training features, as in Hugging Face's SQuAD example and
    # forecasters.power.analytic FAMILIES["bert"]; FLOPs 2 x params x 384.
    ("squad", "bert_base_uncased"): ZeusWorkload(110e6, 2 * 110e6 * 384, 384, 88_641),
    # BERT-base uncased on Sentiment140 (Go et al., 2009: 1,600,000 training tweets). Sequence length: the
    # 128-token max_length of Zeus's examples/capriccio/train.py (Capriccio is drawn from Sentiment140).
    # FLOPs: estimate, 2 x params x 128, an upper bound: batches are padded only to their longest tweet.
    ("sentiment140", "bert_base_uncased"): ZeusWorkload(110e6, 2 * 110e6 * 128, 128, 1_600_000),
}
"""Per (dataset, network) of the Zeus traces, the metadata the generic schema asks for."""

ZEUS_NUM_WORKERS = 4
"""Data-loader workers of the Zeus runs: not stated in the trace's README; 4 is the default of Zeus's example
training scripts (examples/cifar100/train.py ``--num_workers``, examples/imagenet/train.py ``--workers``)."""

ZEUS_COLUMNS = ("dataset", "network", "batch_size", "optimizer", "power_limit", "time_per_epoch", "average_power")
"""Columns of a Zeus ``summary_power_<gpu>.csv``."""

_ZEUS_FILE = re.compile(r"summary_power_(?P<gpu>.+)\.csv")


def is_zeus_file(path: Path) -> bool:
    """Whether a file is named like a Zeus power trace, ``summary_power_<gpu>.csv``."""
    return _ZEUS_FILE.fullmatch(path.name) is not None


def read_zeus(path: Path) -> pd.DataFrame:
    """A Zeus ``summary_power_<gpu>.csv`` in the generic schema, keeping the file's own columns.

    The GPU comes from the file name (``a40`` -> A40). Zeus measured single-GPU training, so ``num_gpus`` is
    1; ``model`` is the network. Model size and input come from :data:`ZEUS_WORKLOADS`.
    """
    match = _ZEUS_FILE.fullmatch(path.name)
    if match is None:
        raise UserError(f"{path}: not a Zeus power trace; expected a file named summary_power_<gpu>.csv")
    try:
        gpu = gpu_spec(match["gpu"]).name
    except KeyError as err:
        raise UserError(f"{path}: file name: {err.args[0]}") from None
    table = read_table(path)
    table.require(list(ZEUS_COLUMNS))
    names = {c: text_names(table, c) for c in ("dataset", "network", "optimizer")}
    workloads = _zeus_workloads(table)
    frame = pd.DataFrame({
        "model": names["network"],
        "params": workloads["params"],
        "flops_per_sample": workloads["flops_per_sample"],
        "batch_size": table.numbers("batch_size", Rule(whole=True)),
        "image_size": workloads["size"],
        "dataset_size": workloads["dataset_size"],
        "num_gpus": 1,
        "num_workers": ZEUS_NUM_WORKERS,
        "gpu": gpu,
        "power_limit": table.numbers("power_limit", Rule()),
        **names,
        "time_per_epoch": table.numbers("time_per_epoch", Rule()),
        "average_power": table.numbers("average_power", Rule()),
    })
    return frame.astype(dict.fromkeys(INT_COLUMNS, "int64"))


def _zeus_workloads(table: Table) -> pd.DataFrame:
    """The :data:`ZEUS_WORKLOADS` entry of every row; an unlisted pair is an error, not a guess."""
    keys = list(zip(table.cells["dataset"], table.cells["network"], strict=True))
    for row, key in enumerate(keys):
        if key not in ZEUS_WORKLOADS:
            known = ", ".join("/".join(k) for k in ZEUS_WORKLOADS)
            raise table.fail(row, "network", f"unknown Zeus workload {'/'.join(key)!r} (dataset/network); "
                                              f"known: {known}")
    return pd.DataFrame([vars(ZEUS_WORKLOADS[key]) for key in keys], index=table.cells.index, dtype=float)
