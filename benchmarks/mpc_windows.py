"""How much of the oracle's savings the MPC keeps when the billing window is short.

    python benchmarks/mpc_windows.py

``peak_shaving.yaml`` at 1-min metering over windows of 2, 3 and 7 days after 1 or 2 days of warm-up (the MPC's
day-ahead outlook is the load of the day before, so the first weekday after a weekend is the hard case).
Prints a table and writes ``benchmarks/results/mpc_windows.json``.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from simulator.common.atomic import write_text_atomic
from simulator.config import load_scenario
from simulator.run.pipeline import simulate

ROOT = Path(__file__).resolve().parents[1]
WINDOWS = ((2, 2), (3, 1), (3, 2), (7, 2))
"""(days simulated, days of warm-up)."""


def main() -> None:
    base = load_scenario(ROOT / "scenarios" / "peak_shaving.yaml")
    rows = []
    for days, warmup in WINDOWS:
        sim = base.simulation.model_copy(update={"duration": days * 86400.0, "warmup": warmup * 86400.0,
                                                 "resolution": 60.0})
        t0 = time.perf_counter()
        grid = simulate(base.model_copy(update={"simulation": sim})).grid
        share = grid.savings()["mpc"]
        rows.append({"days": days, "warmup_days": warmup, "seconds": time.perf_counter() - t0,
                     **{f"{name}_bill_usd": m["total_bill_usd"] for name, m in grid.metrics.items()},
                     **{f"{name}_peak_kw": m["peak_15min_import_kw"] for name, m in grid.metrics.items()},
                     "share_of_oracle_bill_savings": share["share_of_oracle_bill_savings"],
                     "share_of_oracle_demand_savings": share["share_of_oracle_demand_savings"]})
    table = Table(title="MPC + student on peak_shaving.yaml by billing window (1-min metering)")
    for c in ("days", "warm-up", "bill none", "bill mpc", "bill oracle", "peak none / mpc / oracle kW",
              "share of oracle DC savings"):
        table.add_column(c, justify="right")
    for r in rows:
        table.add_row(str(r["days"]), str(r["warmup_days"]), f"{r['none_bill_usd']:,.0f}", f"{r['mpc_bill_usd']:,.0f}",
                      f"{r['oracle_bill_usd']:,.0f}",
                      f"{r['none_peak_kw']:.0f} / {r['mpc_peak_kw']:.0f} / {r['oracle_peak_kw']:.0f}",
                      f"{100 * r['share_of_oracle_demand_savings']:.1f} %")
    Console().print(table)
    out = ROOT / "benchmarks" / "results" / "mpc_windows.json"
    write_text_atomic(out, json.dumps({"scenario": "peak_shaving.yaml", "rows": rows}, indent=2) + "\n")


if __name__ == "__main__":
    main()
