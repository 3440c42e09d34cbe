"""dcsim's own job CSV (README, 'Job trace CSV'): one job a row, written for dcsim, so columns map one to one.

| column | mapping |
|---|---|
| ``submit_s`` | as written: seconds from the scenario start (t = 0 is not moved to the first row) |
| ``num_gpus`` | whole number >= 1 |
| ``epochs`` or ``duration_s`` | one column required, one value per row; the other is derived later |
| ``model`` | family (resnet, vgg, vit, bert, mobilenet, gpt); column or cell left out: sampled from the mix |
| ``params``, ``flops_per_sample``, ``batch_size``, ``image_size``, ``dataset_size`` | default: the family's reference |
| ``num_workers`` | default 8 |
| ``gpu`` | default: the cluster's GPU |
| ``power_limit`` | GPU power cap in W |
| ``power_log`` | a recorded power log to replay instead of the square wave, relative to this file |

Every row is ``trace_state`` finished: a dcsim CSV lists jobs to run, not what a cluster recorded.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from simulator.common.catalog import GPUS, gpu_spec
from simulator.common.errors import UserError
from simulator.common.families import FAMILIES
from simulator.workload.traces.base import Check, Parsed, TraceFormat, numbers, raw, read_csv_rows

REQUIRED = ("submit_s", "num_gpus")
NUMERIC = ("submit_s", "num_gpus", "epochs", "duration_s", "params", "flops_per_sample", "batch_size",
           "image_size", "dataset_size", "num_workers", "power_limit")
FAMILY_DEFAULTS = {
    "params": lambda f: f.params,
    "flops_per_sample": lambda f: f.flops_per_sample,
    "batch_size": lambda f: f.batch_size,
    "image_size": lambda f: f.size,
    "dataset_size": lambda f: f.dataset_size,
}
DEFAULT_WORKERS = 8


class DcsimCsv(TraceFormat):
    name = "dcsim"
    gpu_column = "num_gpus"

    def parse(self, path: Path, strict: bool) -> Parsed:
        frame, locate, malformed = read_csv_rows(path, strict)
        missing = [c for c in REQUIRED if c not in frame.columns]
        if missing or not ({"epochs", "duration_s"} & set(frame.columns)):
            need = missing or ["epochs or duration_s"]
            raise UserError(f"{path}:1: missing column(s) {', '.join(need)}; see README 'Job trace CSV'")
        text = {c: frame[c] for c in frame.columns}  # the cells as written, for messages, before conversion
        checks = []
        for col in (c for c in NUMERIC if c in frame.columns):
            values = numbers(frame, col)
            bad = np.isnan(values) & frame[col].notna().to_numpy() | (values < 0)
            checks.append(Check(f"column {col}: expected a number >= 0", bad,
                                lambda i, col=col: f"column {col}: expected a number >= 0, got {raw(text, col, i)!r}"))
            frame[col] = values
        for col in ("epochs", "duration_s"):
            if col not in frame.columns:
                frame[col] = np.nan
        checks.append(Check("column submit_s: missing", frame["submit_s"].isna().to_numpy()))
        for col in ("epochs", "duration_s"):
            checks.append(Check(f"column {col}: expected a number > 0", (frame[col] == 0).to_numpy(),
                                lambda i, col=col: f"column {col}: expected a number > 0, got 0"))
        gpus = frame["num_gpus"]
        whole = ((gpus >= 1) & (gpus % 1 == 0)).to_numpy()
        checks.append(Check("column num_gpus: expected a whole number >= 1", ~whole,
                            lambda i: f"column num_gpus: expected a whole number >= 1, "
                                      f"got {raw(text, 'num_gpus', i)!r}"))
        if "model" not in frame.columns:
            frame["model"] = np.nan
        model = frame["model"]
        checks.append(Check("column model: unknown family", (model.notna() & ~model.isin(list(FAMILIES))).to_numpy(),
                            lambda i: f"column model: unknown family {model.iloc[i]!r}; known: {sorted(FAMILIES)}"))
        checks.append(Check("a job needs epochs or duration_s", (frame["epochs"].isna() & frame["duration_s"].isna())
                            .to_numpy()))
        if "gpu" in frame.columns:
            known = {name: _known_gpu(name) for name in frame["gpu"].dropna().unique()}
            checks.append(Check("column gpu: unknown GPU", frame["gpu"].map(known).eq(False).to_numpy(),
                                lambda i: f"column gpu: unknown GPU {frame['gpu'].iloc[i]!r}; "
                                          f"known: {', '.join(GPUS)}"))
        if "power_log" in frame.columns:
            logs = frame["power_log"].map(lambda p: str(_beside(path, p)), na_action="ignore")
            found = {p: Path(p).is_file() for p in logs.dropna().unique()}
            checks.append(Check("column power_log: file not found", logs.map(found).eq(False).to_numpy(),
                                lambda i: f"column power_log: file not found: {logs.iloc[i]}"))
            frame["power_log"] = logs
        names = sorted(FAMILIES)
        family = pd.Index(names).get_indexer(model)  # -1: no model (sampled later) or an unknown one (skipped)
        for col, ref in FAMILY_DEFAULTS.items():
            reference = np.append([ref(FAMILIES[name]) for name in names], np.nan)[family]
            frame[col] = frame[col].fillna(pd.Series(reference, index=frame.index)) if col in frame.columns \
                else reference
        workers = frame["num_workers"] if "num_workers" in frame.columns else np.nan
        frame["num_workers"] = np.where(model.notna() & np.isnan(np.asarray(workers, float)), DEFAULT_WORKERS, workers)
        frame["requested_gpus"] = frame["num_gpus"]
        frame["trace_state"] = "finished"
        frame["trace_start_s"] = np.nan
        return Parsed(frame, locate, checks, "the scenario start (submit_s as written)", malformed)


def _known_gpu(name: object) -> bool:
    try:
        gpu_spec(str(name))
    except KeyError:
        return False
    return True


def _beside(trace: Path, log: object) -> Path:
    """A path written in the trace, taken relative to the trace file."""
    path = Path(str(log))
    return path if path.is_absolute() else trace.parent / path
