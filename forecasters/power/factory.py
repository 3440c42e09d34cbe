"""The power model a scenario names, made beside the models themselves so that adding one is a local change."""

from __future__ import annotations

from pathlib import Path

from forecasters.power.analytic import AnalyticPowerModel
from forecasters.power.base import PowerModel
from forecasters.power.symbolic import DEFAULT_MODEL, SymbolicPowerModel

KINDS = ("analytic", "symbolic")


def make_power_model(kind: str, path: Path | None = None) -> PowerModel:
    """``analytic``, or ``symbolic`` loaded from ``path`` (default: the shipped fitted model)."""
    if kind == "analytic":
        return AnalyticPowerModel()
    if kind == "symbolic":
        return SymbolicPowerModel.load(path or DEFAULT_MODEL)
    raise ValueError(f"unknown power model kind {kind!r}; expected one of {', '.join(KINDS)}")
