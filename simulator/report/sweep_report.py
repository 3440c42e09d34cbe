"""A sweep's report: designs averaged over seeds, their Pareto front, one plot and a self-contained report.html.

The three objectives are what a planner trades: the policy's total bill, its billed peak (the highest 15-minute
average import) and the mean job wait; all three are minimised. A design (the axis values without the seed) is
on the front when no other design is at least as good on all three and better on one; averaging over seeds
first keeps one lucky seed from making a design look best. Axes named as ``conditions`` in the sweep file (a
tariff the site does not choose) split the designs: each value of the conditions has its own front.
"""

from __future__ import annotations

import base64
import html
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from simulator import __version__
from simulator.common.atomic import replacing, write_text_atomic
from simulator.report.grid_report import save_figure
from simulator.report.run_report import format_value, page_head
from simulator.sweep.spec import Sweep

OBJECTIVES = {
    "policy_total_bill_usd": ("total bill", "USD"),
    "policy_peak_15min_import_kw": ("peak 15-min import", "kW"),
    "wait_mean_s": ("mean job wait", "s"),
}
SHORT = {"policy_total_bill_usd": "bill", "policy_peak_15min_import_kw": "peak", "wait_mean_s": "wait"}
"""Objective names in the terminal's narrower table."""
EXTRA = {
    "baseline_total_bill_usd": ("bill without battery", "USD"),
    "policy_bill_savings_pct": ("savings", "%"),
    "energy_mwh": ("energy", "MWh"),
    "gpu_utilisation": ("GPU utilisation", ""),
}
"""Further means shown beside the objectives, where the rows have them."""
PLOT = "pareto.png"


def designs(sweep: Sweep, frame: pd.DataFrame) -> pd.DataFrame:
    """One row per design of ``sweep`` that has finished points: axis values, seeds, objective means, front flag.

    Sorted by the conditions, then total bill. Rows of other sweeps kept in the same results file are left out.
    """
    ids = {p.point_id for p in sweep.points}
    columns = [c for c in (*OBJECTIVES, *EXTRA) if c in frame.columns]
    ok = frame[frame["point_id"].isin(ids) & frame["status"].eq("ok")] if len(frame) else frame
    if ok.empty:
        return pd.DataFrame(columns=[*sweep.axes, "seeds", *OBJECTIVES, "pareto"])
    first = ok.groupby("design_id", sort=False)[sweep.axes].first() if sweep.axes else None
    means = ok[columns].apply(pd.to_numeric, errors="coerce").groupby(ok["design_id"], sort=False).mean()
    table = pd.concat([first, ok.groupby("design_id", sort=False).size().rename("seeds"), means], axis=1)
    for name in OBJECTIVES:
        if name not in table.columns:
            table[name] = np.nan
    table["pareto"] = False
    conditions = sweep.spec.conditions
    groups = [group.index for _, group in table.groupby(conditions, dropna=False, sort=False)] if conditions \
        else [table.index]
    for rows in groups:
        table.loc[rows, "pareto"] = pareto_front(table.loc[rows, list(OBJECTIVES)].to_numpy(float))
    return table.sort_values([*conditions, *OBJECTIVES]).reset_index()


def pareto_front(values: np.ndarray) -> np.ndarray:
    """Rows of ``values`` (all objectives minimised) that no other row dominates; a missing value counts as worst.

    Identical rows do not dominate each other, so both stay on the front.
    """
    values = np.where(np.isnan(values), np.inf, values)
    front = np.ones(len(values), dtype=bool)
    for i, row in enumerate(values):
        dominated = np.all(values <= row, axis=1) & np.any(values < row, axis=1)
        front[i] = not dominated.any()
    return front


def write_report(sweep: Sweep, frame: pd.DataFrame, folder: Path) -> Path:
    """Write ``pareto.png`` and ``report.html`` into ``folder`` (each in one rename); return the report's path."""
    table = designs(sweep, frame)
    folder.mkdir(parents=True, exist_ok=True)
    with replacing(folder / PLOT) as tmp:
        _plot(table, tmp)
    report = folder / "report.html"
    write_text_atomic(report, _html(sweep, frame, table, (folder / PLOT).read_bytes()))
    return report


def best_rows(sweep: Sweep, table: pd.DataFrame, limit: int | None = None,
              short: bool = False) -> tuple[list[str], list[list[str]]]:
    """Header and text cells of the Pareto front, cheapest bill first: the report's table, or with ``short`` the
    terminal's (axes by their last field, objectives only)."""
    front = table[table["pareto"]]
    return design_rows(sweep, front.head(limit) if limit else front, short=short)


def design_rows(sweep: Sweep, table: pd.DataFrame, flag: bool = False,
                short: bool = False) -> tuple[list[str], list[list[str]]]:
    """Header and text cells of designs: axis values, seeds, objectives, further means (and the front flag)."""
    measures = [*OBJECTIVES, *(c for c in EXTRA if c in table.columns and not short)]
    labels = {**OBJECTIVES, **EXTRA}
    header = [*(a.rsplit(".", 1)[-1] if short else a for a in sweep.axes), "seeds",
              *(_label(c, labels, short) for c in measures)]
    rows = [[_cell(row[c]) for c in (*sweep.axes, "seeds", *measures)] + (["yes" if row["pareto"] else ""]
                                                                          if flag else [])
            for _, row in table.iterrows()]
    return header + (["on the front"] if flag else []), rows


def _label(column: str, labels: dict, short: bool = False) -> str:
    name, unit = labels[column]
    if short:
        name = SHORT[column]
    return f"{name} ({unit})" if unit else name


def _cell(value) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "-"
    if isinstance(value, (np.integer, np.floating)):
        value = value.item()
    return format_value(value)


def _plot(table: pd.DataFrame, path: Path) -> None:
    bill, peak, wait = (table[c].to_numpy(float) for c in OBJECTIVES)
    front = table["pareto"].to_numpy(bool)
    fig = Figure(figsize=(11, 4.5), layout="constrained")
    axes = fig.subplots(1, 2)
    for ax, y, colour, (y_label, colour_label) in (
        (axes[0], peak, wait, ("peak 15-min import (kW)", "mean job wait (s)")),
        (axes[1], wait, peak, ("mean job wait (s)", "peak 15-min import (kW)")),
    ):
        shown = np.isfinite(bill) & np.isfinite(y) & np.isfinite(colour)
        dots = ax.scatter(bill[shown], y[shown], c=colour[shown], cmap="viridis", s=30, zorder=2)
        ax.scatter(bill[shown & front], y[shown & front], s=110, facecolors="none", edgecolors="crimson",
                   linewidths=1.4, zorder=3, label="Pareto front")
        if shown.any():
            fig.colorbar(dots, ax=ax, label=colour_label)
            ax.legend(loc="best", fontsize=8)
        ax.set_xlabel("total bill (USD)")
        ax.set_ylabel(y_label)
        ax.grid(alpha=0.3)
    axes[0].set_title("bill against peak (colour: wait)")
    axes[1].set_title("bill against wait (colour: peak)")
    save_figure(fig, path)


def _html_table(header: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td class=num>{html.escape(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _html(sweep: Sweep, frame: pd.DataFrame, table: pd.DataFrame, png: bytes) -> str:
    ids = {p.point_id for p in sweep.points}
    mine = frame[frame["point_id"].isin(ids)] if len(frame) else frame
    failed = mine[mine["status"].ne("ok")] if len(mine) else mine
    spec = sweep.spec
    header, rows = best_rows(sweep, table)
    failed_html = ""
    if len(failed):
        failed_html = "<h2>Failed points</h2>" + _html_table(
            ["point", *sweep.axes, "seed", "error"],
            [[r["point_id"], *(_cell(r[a]) for a in sweep.axes), _cell(r["seed"]), str(r["error"])]
             for _, r in failed.iterrows()])
    conditioned = f" under the same {', '.join(spec.conditions)}" if spec.conditions else ""
    method = spec.method + (f", {spec.samples} samples, draw seed {spec.seed}" if spec.method != "grid" else "")
    objectives = ", ".join(f"{name} ({unit}, <code>{key}</code>)" for key, (name, unit) in OBJECTIVES.items())
    image = base64.b64encode(png).decode()
    return f"""{page_head(f"dcsim sweep: {sweep.name}", 1200)}
<h1>Sweep {html.escape(sweep.name)}</h1>
<p>{html.escape(spec.description)}</p>
<p>Base scenario <code>{html.escape(str(spec.base))}</code>; method {html.escape(method)}; axes
{html.escape(", ".join(sweep.axes) or "none")}; seeds {html.escape(str(spec.seeds or "the base's"))}.
{len(sweep.points)} points: {int(mine["status"].eq("ok").sum()) if len(mine) else 0} finished,
{len(failed)} failed, {len(sweep.points) - len(mine)} not run. {len(table)} designs (points averaged over seeds).</p>
<p>Objectives, all minimised: {objectives}.</p>
<h2>Best points: the Pareto front</h2>
<p>Designs that no other design beats on all three objectives at once{conditioned}, cheapest first (means
over seeds).</p>
{_html_table(header, rows)}
<h2>Pareto plot</h2><figure><img alt="{PLOT}" src="data:image/png;base64,{image}"></figure>
<h2>Every design</h2>{_html_table(*design_rows(sweep, table, flag=True))}
{failed_html}
<h2>Sweep file</h2><pre>{html.escape(sweep.path.read_text())}</pre>
<p><small>dcsim {__version__}</small></p>
</body></html>
"""
