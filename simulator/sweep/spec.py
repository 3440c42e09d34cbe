"""Sweep files: a base scenario and the axes to vary, expanded into points, each a complete scenario.

A sweep file is YAML::

    base: capacity_base.yaml          # a scenario file, relative to the sweep file
    method: grid                      # grid (every combination) | random | lhs (Latin hypercube)
    samples: 20                       # random and lhs: points drawn (times the seeds)
    seed: 0                           # random and lhs: seed of the draw
    axes:
      grid.demand_charge_usd_per_kw: [10, 25]                    # values, in any method
      grid.battery.energy_kwh: {low: 50, high: 800, log: true}   # a range: random and lhs, or grid with steps
      cluster.gpu_power_limit_w: {low: 200, high: 400, integer: true, steps: 3}
      cluster.servers, workload.target_utilization: [[16, 0.9], [32, 0.45]]   # linked: vary together
    conditions: [grid.demand_charge_usd_per_kw]   # circumstances, not choices: one Pareto front for each
    seeds: [1, 2]                     # every point is run with each simulation seed

An axis is any scenario field by dotted path (``grid.demand_response.0.limit_kw`` indexes a list). Every point
is validated up front as a scenario, so a bad path or value stops the sweep before anything runs, with one line
naming the sweep file, the axis and what was expected. A point's id is a hash of its scenario as written (the
base with the point's values applied; name, description and output left out), so a rerun finds the points it
already has whatever order they are drawn in, and a changed base makes new points.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from simulator.common.errors import UserError
from simulator.config import Scenario, describe_error, error_message, line_of, load_scenario, read_yaml

MAX_POINTS = 1_000_000
"""More points than this is a mistake in the sweep file (a grid of many long axes), not a plan."""

UNHASHED = ("name", "description", "output")
"""Scenario sections that do not change a run's results, so they do not change a point's id."""


class Axis(BaseModel):
    """One axis: a list of values, or a range {low, high} sampled uniformly (or log-uniformly)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    values: list[Any] | None = Field(None, min_length=1, description="the values, as YAML (numbers, text, mappings)")
    low: float | None = None
    high: float | None = None
    log: bool = Field(False, description="sample the logarithm uniformly (sizes that span decades)")
    integer: bool = Field(False, description="whole numbers from low to high, both included")
    steps: int | None = Field(None, ge=2, description="grid method: this many values from low to high")

    @model_validator(mode="before")
    @classmethod
    def _list_is_values(cls, data: Any) -> Any:
        if isinstance(data, list):
            return {"values": data}
        if not isinstance(data, dict):
            raise ValueError("expected a list of values or a range {low: ..., high: ...}")
        return data

    @model_validator(mode="after")
    def _range(self) -> Axis:
        if self.values is not None:
            if {"low", "high", "steps"} & self.model_fields_set or self.log or self.integer:
                raise ValueError("expected either values or a range {low, high, log, integer, steps}, not both")
            return self
        if self.low is None or self.high is None:
            raise ValueError("expected a list of values or a range with both low and high")
        if not self.low < self.high:
            raise ValueError(f"expected low < high (got low {self.low:g}, high {self.high:g})")
        if self.log and self.low <= 0:
            raise ValueError("a log range needs low > 0")
        return self

    def at(self, u: np.ndarray) -> list[Any]:
        """Values at positions ``u`` in [0, 1): list axes pick an item, ranges map u onto [low, high]."""
        if self.values is not None:
            n = len(self.values)
            return [self.values[min(int(x * n), n - 1)] for x in u]
        lo, hi = self.low, self.high + (1 if self.integer else 0)  # integers: floor over [low, high + 1)
        scaled = np.exp(np.log(lo) + u * (np.log(hi) - np.log(lo))) if self.log else lo + u * (hi - lo)
        if self.integer:
            return [int(min(math.floor(x), self.high)) for x in scaled]
        return [float(x) for x in scaled]

    def grid_values(self, where: str) -> list[Any]:
        """The values a grid takes along this axis."""
        if self.values is not None:
            return list(self.values)
        if self.steps is None:
            raise UserError(f"{where}: a range in a grid needs steps (how many values), or give a list of values")
        spaced = (np.geomspace if self.log else np.linspace)(self.low, self.high, self.steps)
        if self.integer:
            return list(dict.fromkeys(int(round(x)) for x in spaced))
        return [float(x) for x in spaced]


class SweepFile(BaseModel):
    """The sweep file as written (see the module docstring)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str | None = Field(None, description="default: the sweep file's name")
    description: str = ""
    base: Path = Field(description="base scenario file, relative to the sweep file")
    method: Literal["grid", "random", "lhs"] = "grid"
    samples: int | None = Field(None, ge=1, description="random and lhs: points drawn (each run with every seed)")
    seed: int = Field(0, ge=0, description="random and lhs: seed of the numpy Generator that draws the points")
    axes: dict[str, Axis] = Field(default_factory=dict, description="dotted scenario path -> values or range; "
                                  "paths joined by commas vary together (each value a list, one item per path)")
    seeds: list[int] | None = Field(None, min_length=1, description="simulation seeds; default: the base's")
    conditions: list[str] = Field(default_factory=list, description="axis paths that describe circumstances "
                                  "(a tariff), not choices: the Pareto front is taken for each of their values")

    @model_validator(mode="after")
    def _consistent(self) -> SweepFile:
        if self.method == "grid" and self.samples is not None:
            raise ValueError("samples applies to method random or lhs; a grid runs every combination")
        if self.method != "grid" and self.samples is None:
            raise ValueError(f"method {self.method} needs samples (how many points to draw)")
        if self.method != "grid" and not self.axes:
            raise ValueError(f"method {self.method} needs at least one axis")
        if not self.axes and not self.seeds:
            raise ValueError("expected axes or seeds: nothing to vary")
        if self.seeds is not None and (len(set(self.seeds)) < len(self.seeds) or min(self.seeds) < 0):
            raise ValueError("seeds: expected distinct whole numbers >= 0")
        paths = [path for key in self.axes for path in split_key(key)]
        for path in paths:
            if not all(path.split(".")):
                raise ValueError(f"axis {path!r}: expected a dotted scenario path such as cluster.servers")
        if len(set(paths)) < len(paths):
            raise ValueError("axes: a scenario path appears on two axes")
        unknown = sorted(set(self.conditions) - set(paths))
        if unknown:
            raise ValueError(f"conditions: {unknown} are not axis paths; expected some of {paths}")
        return self

    @property
    def paths(self) -> list[str]:
        """Every axis path, linked ones one by one: the axis columns of the results."""
        return [path for key in self.axes for path in split_key(key)]


def split_key(key: str) -> list[str]:
    """The scenario paths of an axis: one, or several joined by commas (linked: they vary together)."""
    return [part.strip() for part in key.split(",")]


@dataclass(frozen=True)
class Point:
    """One run of a sweep: the axis values and the scenario they make.

    ``design_id`` is shared by the points that differ only in their seed, so the report can average them.
    """

    point_id: str
    design_id: str
    values: dict[str, Any]  # axis path -> value as a table cell (numbers and text as they are, the rest JSON)
    seed: int
    data: dict  # the scenario mapping (base with the values applied), validated


@dataclass(frozen=True)
class Sweep:
    path: Path
    spec: SweepFile
    name: str
    base_path: Path
    points: list[Point]
    duplicates: int  # points that came out identical to an earlier one (a random draw of a short list)

    @property
    def axes(self) -> list[str]:
        """The axis paths (linked axes one path each), in the order of the sweep file."""
        return self.spec.paths

    @property
    def base_dir(self) -> Path:
        return self.base_path.parent


def is_sweep_file(path: Path) -> bool:
    """Whether a YAML file is a sweep (has ``base`` and ``axes`` or ``seeds``) rather than a scenario."""
    try:
        data = yaml.safe_load(Path(path).read_text())
    except (OSError, yaml.YAMLError):
        return False
    return isinstance(data, dict) and "base" in data and ("axes" in data or "seeds" in data)


def load_sweep(path: str | Path) -> Sweep:
    """Read a sweep file, load its base scenario and expand every point; raise :class:`UserError` on mistakes."""
    path = Path(path)
    root, raw = read_yaml(path, "sweep file")
    if not isinstance(raw, dict):
        raise UserError(f"{path}:1: expected a mapping with base:, axes: and method:")
    try:
        spec = SweepFile.model_validate(raw)
    except ValidationError as err:
        raise UserError("\n".join(describe_error(path, root, e) for e in err.errors())) from None
    base_path = spec.base if spec.base.is_absolute() else path.parent / spec.base
    load_scenario(base_path)  # the base on its own: its mistakes are reported against its own lines
    base = yaml.safe_load(base_path.read_text()) or {}
    base.setdefault("name", base_path.stem)

    located = {key: f"{path}:{line_of(root, ['axes', key])}: axes.{key}" for key in spec.axes}
    where = located.__getitem__  # axis key -> "file:line: axes.key", the start of its error messages
    key_of = {p: key for key in spec.axes for p in split_key(key)}

    def where_path(axis_path: str) -> str:
        return located[key_of[axis_path]]

    designs = [_flatten(design, where) for design in _draw(spec, where)]
    cells = {axis: _cells([d[axis] for d in designs]) for axis in spec.paths}
    seeds = spec.seeds
    points, seen = [], set()
    for i, design in enumerate(designs):
        data = copy.deepcopy(base)
        for axis, value in design.items():
            _assign(data, axis, copy.deepcopy(value), where_path(axis))
        design_id = _digest(data, seed=False) if seeds else None
        for seed in seeds or [None]:
            point_data = copy.deepcopy(data) if seeds else data
            if seed is not None:
                simulation = point_data.setdefault("simulation", {})
                if not isinstance(simulation, dict):
                    raise UserError(f"{path}:{line_of(root, ['seeds'])}: seeds: the base scenario's simulation "
                                    "section is not a mapping")
                simulation["seed"] = seed
            scenario = _validate(point_data, base_path, design, where_path, path)
            point_id = _digest(point_data)
            if point_id in seen:
                continue
            seen.add(point_id)
            values = {axis: cells[axis][i] for axis in spec.paths}
            points.append(Point(point_id, design_id or point_id, values, scenario.simulation.seed, point_data))
    total = len(designs) * len(seeds or [None])
    return Sweep(path, spec, spec.name or path.stem, base_path, points, total - len(points))


def _flatten(design: dict[str, Any], where) -> dict[str, Any]:
    """Axis key -> value as scenario path -> value: a linked axis's value is a list, one item per path."""
    flat = {}
    for key, value in design.items():
        paths = split_key(key)
        if len(paths) == 1:
            flat[key] = value
        elif isinstance(value, list) and len(value) == len(paths):
            flat.update(zip(paths, value, strict=True))
        else:
            raise UserError(f"{where(key)}: a linked axis takes lists of {len(paths)} values, one per path "
                            f"(got {value!r})")
    return flat


def build_scenario(data: dict, base_dir: Path) -> Scenario:
    """A point's scenario: validated, with every file it names found (as :func:`load_scenario` does)."""
    scenario = Scenario.model_validate({**data, "base_dir": Path(base_dir)})
    for loc, ref in scenario.referenced_files():
        if not scenario.resolve(ref).is_file():
            raise UserError(f"{'.'.join(loc)}: file not found: {scenario.resolve(ref)}")
    return scenario


def _draw(spec: SweepFile, where) -> list[dict[str, Any]]:
    """The axis values of every design (a point before seeds), in a stable order."""
    axes = spec.axes
    if spec.method == "grid":
        columns = [axis.grid_values(where(name)) for name, axis in axes.items()]
        count = math.prod(len(c) for c in columns) * len(spec.seeds or [None])
        if count > MAX_POINTS:
            raise UserError(f"{where(next(iter(axes)))}: the grid has {count:,} points; at most {MAX_POINTS:,}")
        return [dict(zip(axes, combo, strict=True)) for combo in itertools.product(*columns)]
    if spec.samples * len(spec.seeds or [None]) > MAX_POINTS:
        raise UserError(f"samples: {spec.samples:,} x {len(spec.seeds or [None])} seeds is more than "
                        f"{MAX_POINTS:,} points")
    rng = np.random.default_rng(spec.seed)
    if spec.method == "lhs":
        from scipy.stats import qmc

        # seed= is the keyword every scipy from the pyproject floor (1.11) accepts; newer ones also take rng=
        unit = qmc.LatinHypercube(d=len(axes), seed=rng).random(spec.samples)
    else:
        unit = rng.random((spec.samples, len(axes)))
    columns = [axis.at(unit[:, j]) for j, axis in enumerate(axes.values())]
    return [dict(zip(axes, row, strict=True)) for row in zip(*columns, strict=True)]


def _assign(data: dict, path: str, value: Any, where: str) -> None:
    """Set ``value`` at a dotted path, making the sections on the way (a battery the base does not have)."""
    keys = path.split(".")
    node: Any = data
    for depth, key in enumerate(keys):
        last = depth == len(keys) - 1
        if isinstance(node, list):
            if not (key.isdigit() and int(key) < len(node)):
                raise UserError(f"{where}: {'.'.join(keys[:depth]) or path} is a list of {len(node)}; "
                                f"expected an index 0 to {len(node) - 1} (got {key!r})")
            key = int(key)
        elif not isinstance(node, dict):
            raise UserError(f"{where}: {'.'.join(keys[:depth])} is a value ({node!r}), not a section with fields")
        if last:
            node[key] = value
        else:
            if isinstance(node, dict) and node.get(key) is None:
                node[key] = {}
            node = node[key]


def _validate(data: dict, base_path: Path, design: dict[str, Any], where, path: Path) -> Scenario:
    """The point as a scenario; a mistake is reported against the axis whose path it concerns."""
    try:
        return build_scenario(data, base_path.parent)
    except ValidationError as err:
        first = err.errors()[0]
        hint = " (set it in the base scenario or as an axis)" if first["type"] == "missing" else ""
        field = _field(data, first["loc"])
        problem = f"{field}: {error_message(first)}{hint}"
    except UserError as err:
        field, problem = str(err).split(":")[0], str(err)
    axis = _axis_for(field, design)
    if axis is None:
        raise UserError(f"{path}: point {design}: {problem}")
    raise UserError(f"{where(axis)}: value {design[axis]!r} makes an invalid scenario: {problem}")


def _field(data: dict, loc: tuple) -> str:
    """The dotted field of a pydantic error location, less the tags of unions (``workload.synthetic.x``): the
    parts that are keys of the mapping, and the last one (which a missing field is not)."""
    parts, node = [], data
    for i, key in enumerate(loc):
        inside = isinstance(node, dict) and key in node
        inside = inside or (isinstance(node, list) and isinstance(key, int) and key < len(node))
        if inside or i == len(loc) - 1:
            parts.append(str(key))
            node = node[key] if inside else None
    return ".".join(parts) or "(top level)"


def _axis_for(field: str, design: dict[str, Any]) -> str | None:
    """The axis a scenario error concerns: the one sharing the longest dotted prefix with the field."""
    parts = field.split(".")
    best, best_len = None, 0
    for axis in design:
        common = len(os.path.commonprefix([axis.split("."), parts]))
        if common > best_len:
            best, best_len = axis, common
    return best


def _cells(values: list[Any]) -> list[Any]:
    """An axis's values as table cells of one type: numbers, flags and text as they are, anything else as JSON."""
    present = [v for v in values if v is not None]
    numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in present)
    if numbers or all(isinstance(v, bool) for v in present) or all(isinstance(v, str) for v in present):
        return values
    return [None if v is None else json.dumps(v, sort_keys=True, default=str) for v in values]


def _digest(data: dict, seed: bool = True) -> str:
    """A stable id for a scenario mapping: its canonical JSON, less what does not change results, hashed.

    Without ``seed``, the id of the design: the same for every simulation seed.
    """
    kept = {k: v for k, v in data.items() if k not in UNHASHED}
    if not seed and isinstance(kept.get("simulation"), dict):
        kept["simulation"] = {k: v for k, v in kept["simulation"].items() if k != "seed"}
    text = json.dumps(kept, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]
