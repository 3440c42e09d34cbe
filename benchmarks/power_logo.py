"""Leave one GPU out on the Zeus data: how well each power model predicts a GPU it was never fitted on.

    python benchmarks/power_logo.py          # ~12 min on 2 cores (the two variants side by side)

Runs what ``dcsim power compare data/zeus/summary_power_a40.csv data/zeus/summary_power_v100.csv --holdout gpu
--restarts 1 --group-by model [--physics] --json`` runs, without and with the physics references, and beside
them the transfer no model can beat on these data: copying the other GPU's measurement of the very same
configuration (network, dataset, batch size, power limit), for the configurations both GPUs measured, and how
much the GPUs differ there in watts and seconds and in the physics references' terms. Prints a table per
target and writes benchmarks/results/power_logo_zeus.json.
"""

from __future__ import annotations

import json
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
from rich.console import Console
from rich.table import Table

from forecasters.power.compare import METHODS, compare, per_group
from forecasters.power.power_csv import load_power_data
from forecasters.power.symbolic import candidate_features, to_fitted

ROOT = Path(__file__).resolve().parents[1]
DATA = [ROOT / "data/zeus/summary_power_a40.csv", ROOT / "data/zeus/summary_power_v100.csv"]
TARGETS = ["average_power", "time_per_epoch"]
SEARCH = {"restarts": 1}
"""One search per formula (the default is the best of three): 24 formulas per variant fit in a session."""


def variant(physics: bool) -> dict:
    frame = load_power_data(DATA, TARGETS)
    results = compare(frame, TARGETS, seed=0, sr_settings=SEARCH, group_by="model", holdout="gpu", physics=physics)
    table = per_group(results)
    return {str(g): {t: {m: float(table.loc[g, (t, m)]) for m in METHODS} for t in TARGETS} for g in table.index}


def copy_other_gpu(frame: pd.DataFrame) -> dict:
    """MRE of predicting each GPU with the other GPU's measurement of the same configuration, and how much the
    two GPUs differ on those configurations before and after the physics references (median |1 - ratio|)."""
    key = ["dataset", "network", "batch_size", "power_limit"]
    features = candidate_features(frame)
    frame = frame.assign(envelope_share=to_fitted(frame["average_power"].to_numpy(float), "envelope", False, features),
                         roofline_ratio=to_fitted(frame["time_per_epoch"].to_numpy(float), "roofline", False,
                                                  features))
    columns = [*TARGETS, "envelope_share", "roofline_ratio"]
    by_gpu = {gpu: rows.set_index(key)[columns] for gpu, rows in frame.groupby("gpu")}
    (a, first), (b, second) = by_gpu.items()
    both = first.merge(second, left_index=True, right_index=True, suffixes=("_a", "_b"))
    out = {}
    for left_out, measured, copied in ((a, "_a", "_b"), (b, "_b", "_a")):
        out[left_out] = {t: float(np.mean(np.abs(both[t + copied] / both[t + measured] - 1))) for t in TARGETS}
    differ = {c: float(np.median(np.abs(1 - both[c + "_b"] / both[c + "_a"]))) for c in columns}
    return {"configurations": len(both), "mre": out, "median_abs_1_minus_ratio": differ}


def main() -> None:
    frame = load_power_data(DATA, TARGETS)
    with ProcessPoolExecutor(2) as pool:
        plain, physics = pool.map(variant, (False, True))
    result = {
        "data": [str(p.relative_to(ROOT)) for p in DATA], "rows": len(frame), "holdout": "gpu",
        "group_by": "model", "search": SEARCH, "test_rows": frame["gpu"].value_counts().to_dict(),
        "mre": {"plain": plain, "physics": physics}, "copy_other_gpu": copy_other_gpu(frame),
    }
    console = Console()
    for target in TARGETS:
        table = Table(title=f"{target}: test MRE % with each GPU left out")
        table.add_column("GPU left out")
        table.add_column("copy other GPU", justify="right")
        for name in ("plain", "physics"):
            for method in ("SymbolicRegression", "GradientBoosting", "MLP"):
                table.add_column(f"{method} ({name})", justify="right")
        for gpu in plain:
            cells = [f"{100 * result['copy_other_gpu']['mre'][gpu][target]:.1f}"]
            cells += [f"{100 * result['mre'][name][gpu][target][method]:.1f}" for name in ("plain", "physics")
                      for method in ("SymbolicRegression", "GradientBoosting", "MLP")]
            table.add_row(gpu, *cells)
        console.print(table)
    out = ROOT / "benchmarks" / "results" / "power_logo_zeus.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    console.print(f"wrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
