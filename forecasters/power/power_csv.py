"""Read and write the generic power-data CSV (:mod:`forecasters.power.schema` says what it holds), and read
several power-data files, generic or Zeus, as one frame.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from forecasters.power._table import Table, gpu_names, numbers_or_text, read_table, text_names
from forecasters.power.schema import (
    DEFAULT_NUM_WORKERS,
    FAMILY_REFERENCES,
    FILE_NAMES,
    FRAME_NAMES,
    INT_COLUMNS,
    METADATA_RULES,
    REQUIRED_COLUMNS,
    SCHEMA_COLUMNS,
    Rule,
    default_limits,
)
from forecasters.power.zeus import is_zeus_file, read_zeus
from simulator.common.atomic import write_text_atomic
from simulator.common.errors import UserError
from simulator.common.families import FAMILIES
from simulator.common.jobs import WAVE_COLUMNS


def read_power_csv(path: Path, targets: list[str]) -> pd.DataFrame:
    """A generic power-data CSV (module docstring) as a validated frame; mistakes raise :class:`UserError`.

    Columns: :data:`SCHEMA_COLUMNS` (``flops`` renamed ``flops_per_sample``; missing optional values filled),
    then ``targets`` and any wave column present, as positive floats, then the file's other columns.
    """
    return _validated(read_table(path), targets)


def read_power_job(job: dict, source: Path) -> pd.DataFrame:
    """One job given as a mapping (a YAML file for ``dcsim power predict``), validated like a CSV row.

    Errors name ``source`` at line 1 and the field, since a mapping has no rows.
    """
    cells = pd.DataFrame([{FRAME_NAMES.get(k, k): "" if v is None else str(v) for k, v in job.items()}], dtype=str)
    return _validated(Table(source, cells, np.array([1]), 1), [])


def _validated(table: Table, targets: list[str]) -> pd.DataFrame:
    """The frame of a read table: required columns present, numbers checked, gaps filled (module docstring)."""
    table.require([*REQUIRED_COLUMNS, *targets])
    frame = pd.DataFrame({"model": text_names(table, "model")})
    for column, rule in METADATA_RULES.items():
        frame[column] = table.numbers(column, rule)
    frame["gpu"] = gpu_names(table)
    _fill_from_families(table, frame)
    frame["num_workers"] = frame["num_workers"].fillna(DEFAULT_NUM_WORKERS)
    frame["power_limit"] = frame["power_limit"].fillna(default_limits(frame["gpu"]))
    measured = [c for c in dict.fromkeys([*targets, *WAVE_COLUMNS]) if c in table.cells and c not in SCHEMA_COLUMNS]
    for column in measured:
        frame[column] = table.numbers(column, Rule())
    others = [c for c in table.cells.columns if c not in frame.columns]
    for column in others:
        frame[column] = numbers_or_text(table.cells[column])
    return frame[[*SCHEMA_COLUMNS, *measured, *others]].astype(dict.fromkeys(INT_COLUMNS, "int64"))


def _fill_from_families(table: Table, frame: pd.DataFrame) -> None:
    """Fill empty params, flops, image_size and dataset_size from the model family's reference configuration.

    A job of a known family that leaves them out is most likely run at its reference; for an unknown model
    there is nothing sound to assume, so the missing value is an error.
    """
    known = frame["model"].isin(FAMILIES)
    for column, attribute in FAMILY_REFERENCES.items():
        missing = frame[column].isna()
        unknown = (missing & ~known).to_numpy()
        if unknown.any():
            row = int(np.flatnonzero(unknown)[0])
            raise table.fail(row, column, f"no value, and model {frame['model'].iloc[row]!r} has no family "
                                          f"reference to fill it from; known families: {', '.join(FAMILIES)}")
        references = {name: float(getattr(family, attribute)) for name, family in FAMILIES.items()}
        frame[column] = frame[column].fillna(frame["model"].map(references).astype(float))


def write_power_csv(frame: pd.DataFrame, path: Path) -> None:
    """Write a frame in the generic schema (``flops_per_sample`` back to ``flops``), atomically.

    Written to a temporary file beside ``path`` and renamed over it, so that a reader never sees half a file
    and an interrupted write leaves the old file in place. Floats are written exactly (shortest round-trip).
    """
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"a power-data frame needs columns {', '.join(missing)}")
    text = frame.rename(columns=FILE_NAMES).to_csv(index=False, lineterminator="\n")
    write_text_atomic(path, text)


def load_power_data(paths: list[Path], targets: list[str]) -> pd.DataFrame:
    """Every file in one frame (Zeus traces by name, the others as generic CSVs), with a ``source`` column.

    Every file must have every target, so that no row enters a fit with a hole where its answer should be.
    """
    if not paths:
        raise UserError("no power-data files given")
    return pd.concat([_read_any(Path(p), targets).assign(source=Path(p).name) for p in paths], ignore_index=True)


def _read_any(path: Path, targets: list[str]) -> pd.DataFrame:
    """One file, by the reader its name calls for; a Zeus trace is checked for the targets here."""
    if not is_zeus_file(path):
        return read_power_csv(path, targets)
    frame = read_zeus(path)
    missing = [t for t in targets if t not in frame.columns]
    if missing:
        raise UserError(f"{path}:1: missing column {', '.join(missing)} (a Zeus power trace measures "
                        f"average_power and time_per_epoch)")
    return frame
