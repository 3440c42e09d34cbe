"""Power-data tables for fitting job power models: one schema, its readers and writer, and a synthetic set.

Generic power-data CSV
----------------------
One row a measured training job, the header on line 1, comma-separated, UTF-8. Metadata columns (what is
known before the job runs, the inputs of every power model):

==============  ========  ====================================================================================
column          required  meaning
==============  ========  ====================================================================================
model           yes       model name; a family of ``forecasters.power.analytic.FAMILIES`` (vit, bert, ...)
                          lets the optional columns below be left out
params          no        trainable parameters
flops           no        forward FLOPs per sample (renamed ``flops_per_sample`` on reading, the name the
                          simulator's job tables use)
batch_size      yes       samples per GPU per step
image_size      no        image side in pixels, or sequence length in tokens
dataset_size    no        samples per epoch
num_gpus        yes       GPUs of the job (data parallel)
num_workers     no        data-loader workers per GPU; default 8, as in the simulator's job traces
gpu             yes       GPU model, a name or alias of ``simulator.catalog`` (case-insensitive)
power_limit     no        GPU power limit in W; default the GPU's TDP (the limit a GPU ships with)
==============  ========  ====================================================================================

Target columns (what a model predicts, W and s per GPU): ``peak_power_w, peak_duration_s, valley_power_w,
valley_duration_s`` (:data:`simulator.jobs.WAVE_COLUMNS`), or any other column a caller names as a target.
Targets and any of the four wave columns present are validated as positive numbers; other columns are kept,
as numbers where every cell is one, else as text.

Impossible values are errors rather than rows to drop, because a fitted power model silently absorbs them:
params, flops, batch_size, image_size, dataset_size, num_gpus, power_limit and targets must be > 0,
num_workers >= 0, and batch_size, num_gpus and num_workers whole. An empty optional cell is filled like a
missing column: params, flops, image_size and dataset_size from the model family's reference configuration
where the family is known (otherwise it is an error naming the column), num_workers and power_limit from
their defaults. Every mistake is a :class:`simulator.errors.UserError` naming the file, the file line (header
= line 1) and the column.

FLOPs convention: ``flops`` follows the figure each model is usually published with, as ``FAMILIES`` does:
multiply-accumulates for convolutional networks (ResNet-50's "4.1 GFLOPs"), 2 x params x tokens for
transformers. The two differ by a factor 2; a fitted model absorbs it within a family, not across families.

Zeus power traces
-----------------
``summary_power_<gpu>.csv`` from Zeus (You, Chung, Chowdhury, NSDI 2023; data/zeus): average power and time per
epoch of six single-GPU training workloads over batch sizes and power limits. The files name neither the
model's size nor its input; :data:`ZEUS_WORKLOADS` adds them per (dataset, network) pair.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from forecasters.power.analytic import FAMILIES, AnalyticPowerModel
from simulator.atomic import write_text_atomic
from simulator.catalog import gpu_spec
from simulator.errors import UserError
from simulator.jobs import WAVE_COLUMNS

SCHEMA_COLUMNS = (
    "model", "params", "flops_per_sample", "batch_size", "image_size", "dataset_size", "num_gpus", "num_workers",
    "gpu", "power_limit",
)
"""Metadata columns of every frame this module returns, in this order (targets and other columns follow)."""

REQUIRED_COLUMNS = ("model", "batch_size", "num_gpus", "gpu")
"""Metadata without which a row cannot be placed: no family reference or default stands in for them."""

FILE_NAMES = {"flops_per_sample": "flops"}
"""Columns whose name in a CSV differs from their name in a frame."""
_FRAME_NAMES = {file: frame for frame, file in FILE_NAMES.items()}

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
class _Rule:
    """What a numeric column may hold."""

    positive: bool = True  # > 0, else >= 0
    whole: bool = False
    required: bool = True  # may a cell be empty?


_METADATA_RULES = {
    "params": _Rule(required=False),
    "flops_per_sample": _Rule(required=False),
    "batch_size": _Rule(whole=True),
    "image_size": _Rule(required=False),
    "dataset_size": _Rule(required=False),
    "num_gpus": _Rule(whole=True),
    "num_workers": _Rule(positive=False, whole=True, required=False),  # 0: loading in the training process
    "power_limit": _Rule(required=False),
}


# ---------------------------------------------------------------------------------------------------------------
# Reading CSV text with file line numbers


@dataclass(frozen=True)
class _Table:
    """A CSV read as stripped text cells, with the file line each row starts on, for error messages."""

    path: Path
    cells: pd.DataFrame
    lines: np.ndarray
    header_line: int

    def fail(self, row: int, column: str, expected: str) -> UserError:
        """The error for a cell: file, line, the column as the file names it, and what was expected."""
        name = FILE_NAMES.get(column, column)
        return UserError(f"{self.path}:{self.lines[row]}: column {name}: {expected}")

    def require(self, columns: list[str]) -> None:
        """Raise for columns the header lacks, naming them in the file's terms."""
        missing = [FILE_NAMES.get(c, c) for c in columns if c not in self.cells.columns]
        if missing:
            noun = "column" if len(missing) == 1 else "columns"
            raise UserError(f"{self.path}:{self.header_line}: missing {noun} {', '.join(missing)}")

    def numbers(self, column: str, rule: _Rule) -> pd.Series:
        """A column as floats (NaN where empty and allowed, or where the column is absent and optional)."""
        if column not in self.cells.columns:
            return pd.Series(np.nan, index=self.cells.index, dtype=float)
        text = self.cells[column]
        values = pd.to_numeric(text.where(text != ""), errors="coerce").astype(float)
        empty = (text == "").to_numpy()
        unparsed = ~np.isfinite(values.to_numpy()) & (~empty | rule.required)
        if unparsed.any():
            row = int(np.flatnonzero(unparsed)[0])
            raise self.fail(row, column, f"expected a number, got {text.iloc[row]!r}")
        low = values <= 0 if rule.positive else values < 0
        if low.any():
            row = int(np.flatnonzero(low.to_numpy())[0])
            raise self.fail(row, column, f"expected a number {'>' if rule.positive else '>='} 0, got {text.iloc[row]}")
        fraction = values % 1 > 0  # NaN (an allowed empty cell) compares False
        if rule.whole and fraction.any():
            row = int(np.flatnonzero(fraction.to_numpy())[0])
            raise self.fail(row, column, f"expected a whole number, got {text.iloc[row]}")
        return values


def _read_table(path: Path) -> _Table:
    """Parse a CSV into text cells, keeping the file line of every row (quoted newlines and blank lines count)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise UserError(f"{path}: file not found") from None
    except UnicodeDecodeError:
        raise UserError(f"{path}: not a UTF-8 text file") from None
    except OSError as err:
        raise UserError(f"{path}: cannot read ({err.strerror})") from None
    reader = csv.reader(io.StringIO(text))
    header: list[str] | None = None
    rows, lines, header_line, end = [], [], 0, 0
    try:
        for record in reader:
            start, end = end + 1, reader.line_num
            if not "".join(record).strip():
                continue
            cells = [cell.strip() for cell in record]
            if header is None:
                header, header_line = _checked_header(path, cells, start), start
            elif len(cells) != len(header):
                raise UserError(f"{path}:{start}: expected {len(header)} fields as in the header, got {len(cells)}")
            else:
                rows.append(cells)
                lines.append(start)
    except csv.Error as err:
        raise UserError(f"{path}:{reader.line_num}: cannot read as CSV ({err})") from None
    if header is None:
        raise UserError(f"{path}: empty file")
    if not rows:
        raise UserError(f"{path}: no data rows after the header")
    return _Table(path, pd.DataFrame(rows, columns=header, dtype=str), np.asarray(lines), header_line)


def _checked_header(path: Path, names: list[str], line: int) -> list[str]:
    """The header's names as frame columns; unnamed or repeated columns are errors: their cells are ambiguous."""
    columns = [_FRAME_NAMES.get(name, name) for name in names]
    for i, name in enumerate(names):
        if not name:
            raise UserError(f"{path}:{line}: column {i + 1} has no name")
        if columns[i] in columns[:i]:
            raise UserError(f"{path}:{line}: duplicate column {name}")
    return columns


def _names(table: _Table, column: str) -> pd.Series:
    """A text column in which every cell must say something (a model, a dataset, ...)."""
    text = table.cells[column]
    empty = (text == "").to_numpy()
    if empty.any():
        raise table.fail(int(np.flatnonzero(empty)[0]), column, "expected a name, got ''")
    return text


def _gpu_names(table: _Table) -> pd.Series:
    """Catalog names of the ``gpu`` column, so that aliases and case variants group as one GPU."""
    text = table.cells["gpu"]
    names = {}
    for name in pd.unique(text):  # in order of appearance: the first unknown name is on the first bad row
        try:
            names[name] = gpu_spec(name).name
        except KeyError as err:
            raise table.fail(int(np.flatnonzero((text == name).to_numpy())[0]), "gpu", err.args[0]) from None
    return text.map(names)


def _tdp(gpu: pd.Series) -> pd.Series:
    """Each row's GPU TDP, its default power limit; looked up once per GPU because files run to 10^5 rows."""
    return gpu.map({name: gpu_spec(name).tdp_w for name in pd.unique(gpu)}).astype(float)


def _numbers_or_text(text: pd.Series) -> pd.Series:
    """An extra column as floats when every non-empty cell is a number, so that callers can fit on it."""
    values = pd.to_numeric(text.where(text != ""), errors="coerce")
    return values.astype(float) if values.notna().any() and (values.notna() | (text == "")).all() else text


# ---------------------------------------------------------------------------------------------------------------
# Generic power-data files


def read_power_csv(path: Path, targets: list[str]) -> pd.DataFrame:
    """A generic power-data CSV (module docstring) as a validated frame; mistakes raise :class:`UserError`.

    Columns: :data:`SCHEMA_COLUMNS` (``flops`` renamed ``flops_per_sample``; missing optional values filled),
    then ``targets`` and any wave column present, as positive floats, then the file's other columns.
    """
    return _validated(_read_table(path), targets)


def read_power_job(job: dict, source: Path) -> pd.DataFrame:
    """One job given as a mapping (a YAML file for ``dcsim power predict``), validated like a CSV row.

    Errors name ``source`` at line 1 and the field, since a mapping has no rows.
    """
    cells = pd.DataFrame([{_FRAME_NAMES.get(k, k): "" if v is None else str(v) for k, v in job.items()}], dtype=str)
    return _validated(_Table(source, cells, np.array([1]), 1), [])


def _validated(table: _Table, targets: list[str]) -> pd.DataFrame:
    """The frame of a read table: required columns present, numbers checked, gaps filled (module docstring)."""
    table.require([*REQUIRED_COLUMNS, *targets])
    frame = pd.DataFrame({"model": _names(table, "model")})
    for column, rule in _METADATA_RULES.items():
        frame[column] = table.numbers(column, rule)
    frame["gpu"] = _gpu_names(table)
    _fill_from_families(table, frame)
    frame["num_workers"] = frame["num_workers"].fillna(DEFAULT_NUM_WORKERS)
    frame["power_limit"] = frame["power_limit"].fillna(_tdp(frame["gpu"]))
    measured = [c for c in dict.fromkeys([*targets, *WAVE_COLUMNS]) if c in table.cells and c not in SCHEMA_COLUMNS]
    for column in measured:
        frame[column] = table.numbers(column, _Rule())
    others = [c for c in table.cells.columns if c not in frame.columns]
    for column in others:
        frame[column] = _numbers_or_text(table.cells[column])
    return frame[[*SCHEMA_COLUMNS, *measured, *others]].astype(dict.fromkeys(INT_COLUMNS, "int64"))


def _fill_from_families(table: _Table, frame: pd.DataFrame) -> None:
    """Fill empty params, flops, image_size and dataset_size from the model family's reference configuration.

    A job of a known family that leaves them out is most likely run at its reference; for an unknown model
    there is nothing sound to assume, so the missing value is an error.
    """
    known = frame["model"].isin(FAMILIES)
    for column, attribute in FAMILY_REFERENCES.items():
        missing = frame[column].isna()
        unknown = (missing & ~known).to_numpy()
        if unknown.any():
            row = int(np.flatnonzero(unknown)[0])
            raise table.fail(row, column, f"no value, and model {frame['model'].iloc[row]!r} has no family "
                                          f"reference to fill it from; known families: {', '.join(FAMILIES)}")
        references = {name: float(getattr(family, attribute)) for name, family in FAMILIES.items()}
        frame[column] = frame[column].fillna(frame["model"].map(references).astype(float))


def write_power_csv(frame: pd.DataFrame, path: Path) -> None:
    """Write a frame in the generic schema (``flops_per_sample`` back to ``flops``), atomically.

    Written to a temporary file beside ``path`` and renamed over it, so that a reader never sees half a file
    and an interrupted write leaves the old file in place. Floats are written exactly (shortest round-trip).
    """
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"a power-data frame needs columns {', '.join(missing)}")
    text = frame.rename(columns=FILE_NAMES).to_csv(index=False, lineterminator="\n")
    write_text_atomic(path, text)


# ---------------------------------------------------------------------------------------------------------------
# Zeus power traces


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
    table = _read_table(path)
    table.require(list(ZEUS_COLUMNS))
    names = {c: _names(table, c) for c in ("dataset", "network", "optimizer")}
    workloads = _zeus_workloads(table)
    frame = pd.DataFrame({
        "model": names["network"],
        "params": workloads["params"],
        "flops_per_sample": workloads["flops_per_sample"],
        "batch_size": table.numbers("batch_size", _Rule(whole=True)),
        "image_size": workloads["size"],
        "dataset_size": workloads["dataset_size"],
        "num_gpus": 1,
        "num_workers": ZEUS_NUM_WORKERS,
        "gpu": gpu,
        "power_limit": table.numbers("power_limit", _Rule()),
        **names,
        "time_per_epoch": table.numbers("time_per_epoch", _Rule()),
        "average_power": table.numbers("average_power", _Rule()),
    })
    return frame.astype(dict.fromkeys(INT_COLUMNS, "int64"))


def _zeus_workloads(table: _Table) -> pd.DataFrame:
    """The :data:`ZEUS_WORKLOADS` entry of every row; an unlisted pair is an error, not a guess."""
    keys = list(zip(table.cells["dataset"], table.cells["network"], strict=True))
    for row, key in enumerate(keys):
        if key not in ZEUS_WORKLOADS:
            known = ", ".join("/".join(k) for k in ZEUS_WORKLOADS)
            raise table.fail(row, "network", f"unknown Zeus workload {'/'.join(key)!r} (dataset/network); "
                                              f"known: {known}")
    return pd.DataFrame([vars(ZEUS_WORKLOADS[key]) for key in keys], index=table.cells.index, dtype=float)


# ---------------------------------------------------------------------------------------------------------------
# Several files, and the matrix models are fitted on


def load_power_data(paths: list[Path], targets: list[str]) -> pd.DataFrame:
    """Every file in one frame (Zeus traces by name, the others as generic CSVs), with a ``source`` column.

    Every file must have every target, so that no row enters a fit with a hole where its answer should be.
    """
    if not paths:
        raise UserError("no power-data files given")
    return pd.concat([_read_any(Path(p), targets).assign(source=Path(p).name) for p in paths], ignore_index=True)


def _read_any(path: Path, targets: list[str]) -> pd.DataFrame:
    """One file, by the reader its name calls for; a Zeus trace is checked for the targets here."""
    if not is_zeus_file(path):
        return read_power_csv(path, targets)
    frame = read_zeus(path)
    missing = [t for t in targets if t not in frame.columns]
    if missing:
        raise UserError(f"{path}:1: missing column {', '.join(missing)} (a Zeus power trace measures "
                        f"average_power and time_per_epoch)")
    return frame


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


# ---------------------------------------------------------------------------------------------------------------
# Synthetic data


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
    data.insert(SCHEMA_COLUMNS.index("power_limit"), "power_limit", _tdp(data["gpu"]))
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
