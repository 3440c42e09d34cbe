"""The simulated fleet's per-GPU power distribution against the real A100 clusters of AcmeTrace.

    python benchmarks/power_distribution.py [SCENARIO]    # default scenarios/peak_shaving.yaml

Prints the Kolmogorov-Smirnov distance (largest gap between the two CDFs) to Kalos and Seren and a few
percentiles side by side, and writes benchmarks/results/power_distribution.json. The simulated distribution
is exact (GPU-seconds at each peak, valley and idle level), not sampled.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from rich.console import Console
from rich.table import Table

from simulator.common.catalog import gpu_spec
from simulator.config import load_scenario
from simulator.run.metrics import gpu_power_distribution, ks_distance
from simulator.run.pipeline import simulate

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "power_distribution.json"
PERCENTILES = (10, 25, 50, 75, 90)


def weighted_percentile(levels: np.ndarray, weights: np.ndarray, q: float) -> float:
    order = np.argsort(levels)
    cdf = np.cumsum(weights[order]) / weights.sum()
    return float(levels[order][np.searchsorted(cdf, q / 100)])


def main() -> None:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "scenarios" / "peak_shaving.yaml"
    scenario = load_scenario(path)
    result = simulate(scenario)
    levels, weights = gpu_power_distribution(result.jobs, scenario.cluster.total_gpus,
                                             gpu_spec(scenario.cluster.gpu).idle_w, scenario.simulation.duration)
    table = Table(title=f"per-GPU power (W): {scenario.name} ({scenario.cluster.gpu}) vs AcmeTrace A100 clusters")
    table.add_column("distribution")
    for q in PERCENTILES:
        table.add_column(f"p{q}", justify="right")
    table.add_column("KS distance", justify="right")
    table.add_row("simulated", *(f"{weighted_percentile(levels, weights, q):.0f}" for q in PERCENTILES), "")
    out = {"scenario": str(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path), "ks": {}}
    for cluster in ("kalos", "seren"):
        ref = pd.read_csv(ROOT / f"data/acmetrace/gpu_power_cdf_{cluster}.csv")
        x, cdf = ref["gpu_power_w"].to_numpy(), ref["cdf_percent"].to_numpy() / 100
        ks = ks_distance(levels, weights, x, cdf)
        out["ks"][cluster] = ks
        table.add_row(cluster.capitalize(), *(f"{np.interp(q / 100, cdf, x):.0f}" for q in PERCENTILES), f"{ks:.3f}")
    Console().print(table)
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(out, indent=2) + "\n")
    print(f"wrote {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
