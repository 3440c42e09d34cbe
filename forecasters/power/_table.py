"""CSV text with file line numbers: the cells every power-data reader validates, and the errors it raises.

Internal to :mod:`forecasters.power` (the generic and Zeus readers share it); not an API.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from forecasters.power.schema import (
    FILE_NAMES,
    FRAME_NAMES,
    Rule,
)
from simulator.common.catalog import gpu_spec
from simulator.common.errors import UserError


@dataclass(frozen=True)
class Table:
    """A CSV read as stripped text cells, with the file line each row starts on, for error messages."""

    path: Path
    cells: pd.DataFrame
    lines: np.ndarray
    header_line: int

    def fail(self, row: int, column: str, expected: str) -> UserError:
        """The error for a cell: file, line, the column as the file names it, and what was expected."""
        name = FILE_NAMES.get(column, column)
        return UserError(f"{self.path}:{self.lines[row]}: column {name}: {expected}")

    def require(self, columns: list[str]) -> None:
        """Raise for columns the header lacks, naming them in the file's terms."""
        missing = [FILE_NAMES.get(c, c) for c in columns if c not in self.cells.columns]
        if missing:
            noun = "column" if len(missing) == 1 else "columns"
            raise UserError(f"{self.path}:{self.header_line}: missing {noun} {', '.join(missing)}")

    def numbers(self, column: str, rule: Rule) -> pd.Series:
        """A column as floats (NaN where empty and allowed, or where the column is absent and optional)."""
        if column not in self.cells.columns:
            return pd.Series(np.nan, index=self.cells.index, dtype=float)
        text = self.cells[column]
        values = pd.to_numeric(text.where(text != ""), errors="coerce").astype(float)
        empty = (text == "").to_numpy()
        unparsed = ~np.isfinite(values.to_numpy()) & (~empty | rule.required)
        if unparsed.any():
            row = int(np.flatnonzero(unparsed)[0])
            raise self.fail(row, column, f"expected a number, got {text.iloc[row]!r}")
        low = values <= 0 if rule.positive else values < 0
        if low.any():
            row = int(np.flatnonzero(low.to_numpy())[0])
            raise self.fail(row, column, f"expected a number {'>' if rule.positive else '>='} 0, got {text.iloc[row]}")
        fraction = values % 1 > 0  # NaN (an allowed empty cell) compares False
        if rule.whole and fraction.any():
            row = int(np.flatnonzero(fraction.to_numpy())[0])
            raise self.fail(row, column, f"expected a whole number, got {text.iloc[row]}")
        return values


def read_table(path: Path) -> Table:
    """Parse a CSV into text cells, keeping the file line of every row (quoted newlines and blank lines count)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise UserError(f"{path}: file not found") from None
    except UnicodeDecodeError:
        raise UserError(f"{path}: not a UTF-8 text file") from None
    except OSError as err:
        raise UserError(f"{path}: cannot read ({err.strerror})") from None
    reader = csv.reader(io.StringIO(text))
    header: list[str] | None = None
    rows, lines, header_line, end = [], [], 0, 0
    try:
        for record in reader:
            start, end = end + 1, reader.line_num
            if not "".join(record).strip():
                continue
            cells = [cell.strip() for cell in record]
            if header is None:
                header, header_line = checked_header(path, cells, start), start
            elif len(cells) != len(header):
                raise UserError(f"{path}:{start}: expected {len(header)} fields as in the header, got {len(cells)}")
            else:
                rows.append(cells)
                lines.append(start)
    except csv.Error as err:
        raise UserError(f"{path}:{reader.line_num}: cannot read as CSV ({err})") from None
    if header is None:
        raise UserError(f"{path}: empty file")
    if not rows:
        raise UserError(f"{path}: no data rows after the header")
    return Table(path, pd.DataFrame(rows, columns=header, dtype=str), np.asarray(lines), header_line)


def checked_header(path: Path, names: list[str], line: int) -> list[str]:
    """The header's names as frame columns; unnamed or repeated columns are errors: their cells are ambiguous."""
    columns = [FRAME_NAMES.get(name, name) for name in names]
    for i, name in enumerate(names):
        if not name:
            raise UserError(f"{path}:{line}: column {i + 1} has no name")
        if columns[i] in columns[:i]:
            raise UserError(f"{path}:{line}: duplicate column {name}")
    return columns


def text_names(table: Table, column: str) -> pd.Series:
    """A text column in which every cell must say something (a model, a dataset, ...)."""
    text = table.cells[column]
    empty = (text == "").to_numpy()
    if empty.any():
        raise table.fail(int(np.flatnonzero(empty)[0]), column, "expected a name, got ''")
    return text


def gpu_names(table: Table) -> pd.Series:
    """Catalog names of the ``gpu`` column, so that aliases and case variants group as one GPU."""
    text = table.cells["gpu"]
    names = {}
    for name in pd.unique(text):  # in order of appearance: the first unknown name is on the first bad row
        try:
            names[name] = gpu_spec(name).name
        except KeyError as err:
            raise table.fail(int(np.flatnonzero((text == name).to_numpy())[0]), "gpu", err.args[0]) from None
    return text.map(names)


def numbers_or_text(text: pd.Series) -> pd.Series:
    """An extra column as floats when every non-empty cell is a number, so that callers can fit on it."""
    values = pd.to_numeric(text.where(text != ""), errors="coerce")
    return values.astype(float) if values.notna().any() and (values.notna() | (text == "")).all() else text
