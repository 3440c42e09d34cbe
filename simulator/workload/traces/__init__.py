"""Real workloads: cluster job traces in several formats, and occupancy series, read into dcsim's job columns.

:func:`load_trace` reads a job trace in any of :data:`FORMATS` (module docstrings give each mapping);
:func:`load_occupancy` turns a busy-node series into jobs. Both return the jobs and a :class:`TraceSummary`, and
both are cached (the last two) on the file's path, size and modification time: a run reads its trace once for
the jobs and once more for the counts in its metrics, and a million-row trace should be parsed once, not twice.

Part of :mod:`simulator.workload`; may import :mod:`simulator.common` (errors, the catalog, model families).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

import pandas as pd

from simulator.common.errors import UserError
from simulator.workload.traces.alibaba import OPENB_USED, PAI_TASK_COLUMNS, AlibabaOpenb2023, AlibabaPai2020
from simulator.workload.traces.base import TraceFormat, TraceSummary, apply_checks
from simulator.workload.traces.dcsim_csv import DcsimCsv
from simulator.workload.traces.helios import COLUMNS as HELIOS_COLUMNS
from simulator.workload.traces.helios import Helios
from simulator.workload.traces.occupancy import COLUMNS as OCCUPANCY_COLUMNS
from simulator.workload.traces.occupancy import occupancy_jobs
from simulator.workload.traces.philly import Philly

FORMATS: dict[str, TraceFormat] = {f.name: f for f in (DcsimCsv(), Philly(), Helios(), AlibabaPai2020(),
                                                        AlibabaOpenb2023())}


class Trace(NamedTuple):
    """Kept jobs (shared by the cache: copy before changing) and what the file held."""

    jobs: pd.DataFrame
    summary: TraceSummary


def load_trace(path: Path, fmt: str = "dcsim", strict: bool = False, max_gpus: int | None = None) -> Trace:
    """Jobs of a trace file in format ``fmt``; rows with more than ``max_gpus`` GPUs are bad rows too."""
    if fmt not in FORMATS:
        raise UserError(f"unknown trace format {fmt!r}; expected one of {', '.join(FORMATS)} or occupancy")
    size, mtime = _stat(path)
    return _load_trace(str(path), fmt, strict, max_gpus, size, mtime)


def load_occupancy(path: Path, nodes: int | None, gpus_per_node: int, strict: bool = False) -> Trace:
    """Jobs of ``gpus_per_node`` GPUs that reproduce a ``time,active,total`` series scaled to ``nodes`` nodes
    (``None``: as recorded)."""
    size, mtime = _stat(path)
    return _load_occupancy(str(path), strict, nodes, gpus_per_node, size, mtime)


@lru_cache(maxsize=2)
def _load_trace(path: str, fmt: str, strict: bool, max_gpus: int | None, _size: int, _mtime: int) -> Trace:
    adapter = FORMATS[fmt]
    return Trace(*apply_checks(adapter, Path(path), adapter.parse(Path(path), strict), strict, max_gpus))


@lru_cache(maxsize=2)
def _load_occupancy(path: str, strict: bool, nodes: int | None, gpus_per_node: int, _size: int,
                    _mtime: int) -> Trace:
    return Trace(*occupancy_jobs(Path(path), strict, nodes, gpus_per_node))


def _stat(path: Path) -> tuple[int, int]:
    try:
        stat = Path(path).stat()
    except FileNotFoundError:
        raise UserError(f"{path}: trace file not found") from None
    except OSError as err:
        raise UserError(f"{path}: cannot read ({err.strerror})") from None
    return stat.st_size, stat.st_mtime_ns


def detect_format(path: Path) -> str:
    """The format of a trace file from its first characters and header, for ``dcsim trace inspect``."""
    _stat(path)
    with Path(path).open(encoding="utf-8", errors="replace") as handle:
        head = handle.read(4096)
    if head.lstrip().startswith("["):
        return "philly"
    columns = [c.strip() for c in head.splitlines()[0].split(",")] if head.strip() else []
    if set(HELIOS_COLUMNS) <= set(columns):
        return "helios"
    if set(OPENB_USED) <= set(columns):
        return "alibaba2023"
    if set(OCCUPANCY_COLUMNS) <= set(columns):
        return "occupancy"
    if "submit_s" in columns:
        return "dcsim"
    if len(columns) == len(PAI_TASK_COLUMNS):
        return "alibaba2020"
    raise UserError(f"{path}:1: cannot tell the trace format from the header; pass --format "
                    f"({', '.join(FORMATS)} or occupancy)")
