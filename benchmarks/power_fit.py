"""Fit time of the symbolic power model on 2 cores: one target, one formula, published or quick settings.

    python benchmarks/power_fit.py              # published settings (population 15,000, 50 generations)
    python benchmarks/power_fit.py --quick      # the default (population 2,000, 20 generations, best of 3 runs)

Fits average_power of the Zeus A40 + V100 data (929 rows) with one formula over all rows (group_by none),
with gplearn on 2 processes, and reports wall time, the formula's training MRE and its size. A model with one
formula per model family costs one such fit per family and target. Writes benchmarks/results/power_fit*.json.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from forecasters.power.compare import mre
from forecasters.power.power_csv import load_power_data
from forecasters.power.symbolic import ALL, SymbolicPowerModel

ROOT = Path(__file__).resolve().parents[1]
DATA = [ROOT / "data/zeus/summary_power_a40.csv", ROOT / "data/zeus/summary_power_v100.csv"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="default settings instead of the published ones")
    args = parser.parse_args()
    frame = load_power_data(DATA, ["average_power"])
    model = SymbolicPowerModel(["average_power"], published=not args.quick, group_by=None, n_jobs=2)
    began = time.perf_counter()
    model.fit(frame)
    wall = time.perf_counter() - began
    formula = model.formulas["average_power"][ALL]
    error = mre(frame["average_power"].to_numpy(float), model.predict(frame)["average_power"].to_numpy())
    result = {"settings": model.gp_settings(), "rows": len(frame), "processes": 2, "wall_s": wall,
              "train_mre": error, "formula_tokens": len(formula.tokens), "formula": formula.readable()}
    table = Table(title="symbolic regression fit: average_power, Zeus A40 + V100, 2 processes")
    for col in ("settings", "rows", "wall s", "train MRE %", "formula size"):
        table.add_column(col, justify="right")
    settings = "quick" if args.quick else "published"
    table.add_row(settings, str(len(frame)), f"{wall:.1f}", f"{100 * error:.2f}", str(len(formula.tokens)))
    Console().print(table)
    out = ROOT / "benchmarks" / "results" / f"power_fit_{settings}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
