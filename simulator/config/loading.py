"""Scenario files from disk: the YAML read with its node tree, validated, and every mistake as one line.

Why the node tree: pydantic knows the field of a mistake, the node tree knows its line, and a user wants both
(``peak_shaving.yaml:12: grid.battery.power_kw: ...``). Sweep files are read the same way
(:mod:`simulator.sweep.spec`), so both share :func:`read_yaml`, :func:`line_of` and :func:`error_message`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import TypeAdapter, ValidationError
from pydantic_core import ErrorDetails

from simulator.common.catalog import GpuSpec
from simulator.common.errors import ScenarioError, UserError
from simulator.config.schema import Scenario

UNION_TAGS = ("constant", "curve", "synthetic", "trace", "occupancy", "flat", "series", "tou")
"""The tags pydantic puts in the location of an error inside a discriminated union; a user never wrote them."""


def read_yaml(path: Path, what: str, error: type[UserError] = UserError) -> tuple[yaml.Node | None, Any]:
    """A YAML file's node tree (for the line of a field: :func:`line_of`) and its data; an unreadable file or bad
    YAML raises ``error`` naming the file (and the line)."""
    try:
        text = path.read_text()
    except OSError as err:
        raise error(f"{path}: cannot read {what} ({err.strerror})") from None
    try:
        return yaml.compose(text, Loader=yaml.SafeLoader), yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise error(f"{where}: not valid YAML ({getattr(err, 'problem', err)})") from None


def load_scenario(path: str | Path, seed: int | None = None) -> Scenario:
    """Read and validate a scenario file; raise :class:`ScenarioError` with file:line: field: what is wrong."""
    path = Path(path)
    root, data = read_yaml(path, "scenario file", ScenarioError)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ScenarioError(f"{path}:1: expected a mapping of sections (cluster:, workload:, ...)")
    data.setdefault("name", path.stem)
    data["base_dir"] = path.parent
    if seed is not None:
        data.setdefault("simulation", {})
        if isinstance(data["simulation"], dict):
            data["simulation"]["seed"] = seed
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as err:
        raise ScenarioError("\n".join(describe_error(path, root, e) for e in err.errors())) from None
    for loc, ref in scenario.referenced_files():
        if not scenario.resolve(ref).is_file():
            raise ScenarioError(
                f"{path}:{line_of(root, list(loc))}: {'.'.join(loc)}: file not found: {scenario.resolve(ref)}"
            )
    return scenario


def load_gpu_specs(path: Path) -> list[GpuSpec]:
    """GPUs described in a YAML file (one mapping, or a list of them), checked against the constraints of
    :class:`~simulator.common.catalog.GpuSpec`'s fields; mistakes as file:line: field: message."""
    root, data = read_yaml(path, "GPU description")
    items = data if isinstance(data, list) else [data]
    specs = []
    for i, item in enumerate(items):
        loc = [i] if isinstance(data, list) else []
        if not isinstance(item, dict):
            raise UserError(f"{path}:{line_of(root, loc)}: expected a mapping of GPU fields (name:, tdp_w:, idle_w:, "
                            "tensor_tflops:, memory_gb:, ...)")
        try:
            specs.append(TypeAdapter(GpuSpec).validate_python(item))
        except ValidationError as err:
            error = err.errors()[0]
            raise UserError(describe_error(path, root, {**error, "loc": (*loc, *error["loc"])})) from None
    return specs


def error_message(error: ErrorDetails) -> str:
    """What one pydantic error says is wrong, in a user's words, with the value that was given."""
    # a pydantic model reports extra_forbidden and missing; a validated dataclass (GpuSpec) the other two
    if error["type"] in ("extra_forbidden", "unexpected_keyword_argument"):
        return "unknown field (check the spelling; see simulator/config/schema.py for the fields)"
    if error["type"] in ("missing", "missing_argument"):
        return "required field is missing"
    given = error.get("input")
    return error["msg"] if isinstance(given, dict) else f"{error['msg']} (got {given!r})"


def describe_error(path: Path, root: yaml.Node | None, error: ErrorDetails) -> str:
    """One line for one pydantic error: file:line: dotted.field: message (got value)."""
    loc = [p for p in error["loc"] if not (isinstance(p, str) and p in UNION_TAGS)]
    if error["type"] == "union_tag_invalid":
        loc.append("kind")
    field = ".".join(str(p) for p in loc) or "(top level)"
    return f"{path}:{line_of(root, loc)}: {field}: {error_message(error)}"


def line_of(root: yaml.Node | None, loc: list) -> int:
    """The 1-based YAML line of the deepest node on ``loc`` that exists in the file."""
    node, line = root, 1
    if node is not None:
        line = node.start_mark.line + 1
    for key in loc:
        if isinstance(node, yaml.MappingNode):
            match = next(((k, v) for k, v in node.value if k.value == str(key)), None)
            if match is None:
                break
            key_node, node = match
            line = key_node.start_mark.line + 1
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            node = node.value[key]
            line = node.start_mark.line + 1
        else:
            break
    return line
