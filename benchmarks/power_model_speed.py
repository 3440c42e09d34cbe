"""Run time of the main scenario with the analytic and with the symbolic job power model.

    python benchmarks/power_model_speed.py [--repeats 3]     # ~3 min

Times ``simulate`` on scenarios/peak_shaving.yaml with ``power_model: {kind: analytic}`` and ``{kind: symbolic}``
(the shipped formulas), each ``--repeats`` times in turn, and, apart, the power model's own share: predicting the
waves of the scenario's workload (``prepare_jobs``). Prints a table and writes
benchmarks/results/power_model_speed.json. Best of the repeats, since other work on the machine only adds time.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from forecasters.power import make_power_model
from simulator.config import load_scenario
from simulator.run.pipeline import prepare_jobs, simulate
from simulator.workload.builder import build_workload

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "scenarios" / "peak_shaving.yaml"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    base = load_scenario(SCENARIO)
    kinds = ("analytic", "symbolic")
    runs: dict[str, list[float]] = {k: [] for k in kinds}
    predict: dict[str, list[float]] = {k: [] for k in kinds}
    for _ in range(args.repeats):
        for kind in kinds:
            scenario = base.model_copy(update={"power_model": base.power_model.model_copy(update={"kind": kind})})
            began = time.perf_counter()
            simulate(scenario)
            runs[kind].append(time.perf_counter() - began)
            jobs = build_workload(scenario, np.random.default_rng(scenario.simulation.seed), scenario.simulation.warmup)
            began = time.perf_counter()
            prepare_jobs(jobs, make_power_model(kind))
            predict[kind].append(time.perf_counter() - began)
    result = {"scenario": str(SCENARIO.relative_to(ROOT)), "repeats": args.repeats, "jobs": len(jobs),
              "run_s": {k: min(v) for k, v in runs.items()}, "predict_s": {k: min(v) for k, v in predict.items()},
              "all_run_s": runs}
    result["symbolic_over_analytic"] = result["run_s"]["symbolic"] / result["run_s"]["analytic"]
    table = Table(title=f"{result['scenario']}: best of {args.repeats} ({len(jobs):,} jobs)")
    for column in ("power model", "run s", "predict waves s"):
        table.add_column(column, justify="right")
    for kind in kinds:
        table.add_row(kind, f"{result['run_s'][kind]:.2f}", f"{result['predict_s'][kind]:.3f}")
    console = Console()
    console.print(table)
    console.print(f"symbolic / analytic run time: {result['symbolic_over_analytic']:.3f}")
    out = ROOT / "benchmarks" / "results" / "power_model_speed.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    console.print(f"wrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
