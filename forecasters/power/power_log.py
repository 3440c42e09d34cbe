"""GPU power logs as samples per GPU, from any CSV with a time column and one or more power columns.

Read by ``dcsim profile`` (:mod:`forecasters.power.profile`) and by the simulator's replay of measured power.
Layouts, found from the header (names compared without case, spaces or a unit in brackets, so
``power.draw [W]``, ``Power (W)`` and ``power_draw`` read alike):

- *long*: a time column, a GPU column (``index``, ``gpu``, ``gpu_index``, ...) and one power column, a row per
  GPU and sample: ``nvidia-smi --query-gpu=timestamp,index,power.draw --format=csv[,nounits]``, DCGM fields
  (``timestamp,gpu,DCGM_FI_DEV_POWER_USAGE``);
- *wide*: a time column and one power column per GPU (``gpu0_power_w``, ``power_1``, ``GPU 2``, ...);
- *single*: a time column and one power column, one GPU or the sum over a node (``time,power``,
  ``datetime,power_watts,time_seconds``).

Time is seconds (any numeric column; ``_ms`` or ``[ms]`` for milliseconds) or timestamps (ISO 8601 or
nvidia-smi's ``2024/05/01 12:00:00.123``, with or without a zone). Where several time columns exist they are
one clock and the first of :data:`TIME_NAMES` is used; where the power column is ambiguous, ``power_col``
(``--power-col``) names it, and ``time_col`` (``--time-col``) the time. Every unreadable cell is a
:class:`~simulator.common.errors.UserError` naming the file, the line and the column.
"""

from __future__ import annotations

import csv
import io
import math
import re
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from simulator.common.errors import UserError

TIME_NAMES = ("time_seconds", "time_s", "elapsed_s", "elapsed_seconds", "elapsed_time", "elapsed", "seconds",
              "time_ms", "elapsed_ms", "timestamp", "datetime", "date_time", "time", "ts")
"""Time columns, in the order one is preferred when a log has several (seconds before timestamps)."""
POWER_NAMES = ("power.draw", "power", "power_w", "power_watts", "power_draw", "power_draw_w", "power.draw.instant",
               "power.draw.average", "dcgm_fi_dev_power_usage", "power_usage", "gpu_power", "gpu_power_w",
               "board_power", "watts")
"""Power columns of one GPU (or of a node's sum); a log with several needs ``power_col`` to pick one."""
GPU_NAMES = ("index", "gpu", "gpu_index", "gpu_id", "device", "device_id")
"""Columns that say which GPU a row of a long log belongs to."""
PER_GPU = re.compile(r"(?:gpu[_.]?(\d+)(?:[_.](?:power|power_w|power_watts|power_draw|power_draw_w|watts))?"
                     r"|(?:power|power_draw|power\.draw|watts)[_.](?:gpu[_.]?)?(\d+)(?:[_.]w)?)")
"""A power column of one numbered GPU in a wide log (``gpu0``, ``gpu_1_power``, ``power_gpu2``, ``power.3``)."""
POWER_UNITS = {"w": 1.0, "watts": 1.0, "mw": 1e-3, "kw": 1e3}
TIMESTAMP = re.compile(
    r"(\d{4})[-/](\d{1,2})[-/](\d{1,2})[T ](\d{1,2}):(\d{2}):(\d{2}(?:\.\d*)?)\s*(Z|[+-]\d{2}:?\d{2})?",
    re.IGNORECASE,
)


class PowerLog(dict[str, tuple[np.ndarray, np.ndarray]]):
    """GPU key -> (seconds since the log's first sample, watts), plus per GPU the readings that were skipped.

    A dict, so callers that only want the samples can ignore the counts; the counts exist because a GPU that
    reports ``[N/A]`` for most of a log deserves a warning rather than a silently thin profile.
    """

    def __init__(self, samples: dict[str, tuple[np.ndarray, np.ndarray]], skipped: dict[str, int]) -> None:
        super().__init__(samples)
        self.skipped = skipped


@dataclass(frozen=True)
class _Column:
    """A header cell: as written (for messages), as compared, and the unit it states, if any."""

    written: str
    plain: str
    unit: str


@dataclass(frozen=True)
class _Layout:
    """Which columns hold the time, the GPU of a row (long logs) and the power of each GPU key."""

    time: int
    gpu: int | None
    power: dict[str, int]


def read_power_log(path: Path, time_col: str | None = None, power_col: Sequence[str] | str | None = None,
                   ) -> PowerLog:
    """Samples per GPU of a power log (module docstring): key the GPU index (long logs), the number in a wide
    log's column name, or "0" for a log of one power column.

    Times count from the log's first sample over all GPUs, so GPUs of one log stay on one clock. Readings
    nvidia-smi could not take (``[N/A]``, ``[Not Supported]``) or left empty are skipped and counted in
    ``.skipped``. Columns are converted whole, not row by row: a day of 8 GPUs at 100 ms is seven million rows.
    """
    header_line, header, columns_of, rows = _rows(path)
    names = ",".join(c.written for c in header)
    layout = _layout(path, header_line, header, time_col, power_col)
    numbers = [number for number, _ in rows]
    fields = columns_of(rows)
    width = len(header)
    wrong = next((k for k, row in enumerate(fields) if len(row) != width), None)
    if wrong is not None:
        raise UserError(f"{path}:{numbers[wrong]}: expected {width} comma-separated fields ({names}), "
                        f"got {len(fields[wrong])}")
    columns = [[text.strip().strip('"') for text in column] for column in zip(*fields, strict=True)]

    def where(row: int) -> str:
        return f"{path}:{numbers[row]}"

    times = _times(columns[layout.time], where, header[layout.time])
    if layout.gpu is not None:
        (index,) = layout.power.values()
        keys = _gpu_indices(columns[layout.gpu], where, header[layout.gpu].written)
        watts = _watts(columns[index], where, header[index])
        return _per_gpu(path, keys, times, watts)
    watts = [_watts(columns[index], where, header[index]) for index in layout.power.values()]
    keys = np.repeat(np.arange(len(watts)), len(rows))
    return _per_gpu(path, keys, np.tile(times, len(watts)), np.concatenate(watts), labels=list(layout.power))


def _rows(path: Path) -> tuple[int, list[_Column], Callable, list[tuple[int, str]]]:
    """The header's line and columns, a splitter for data rows, and the non-blank data rows with their lines."""
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").lstrip("\ufeff").splitlines()
    except OSError as err:
        raise UserError(f"{path}: cannot read power log ({err.strerror})") from None
    rows = [(number, line) for number, line in enumerate(lines, start=1) if line.strip()]
    if not rows:
        raise UserError(f"{path}: empty file")
    (header_line, header), *body = rows
    if not body:
        raise UserError(f"{path}: no samples after the header")
    quoted = any('"' in line for _, line in rows[:50])

    def split(data: list[tuple[int, str]]) -> list[list[str]]:
        # a quote (DCGM's model names, spreadsheet exports) needs the csv module; plain logs split at C speed
        if quoted:
            return list(csv.reader(io.StringIO("\n".join(line for _, line in data))))
        return [line.split(",") for _, line in data]

    return header_line, [_column(name) for name in split([(header_line, header)])[0]], split, body


def _column(written: str) -> _Column:
    text = written.strip().strip('"').strip()
    unit = re.search(r"[\[(]\s*([A-Za-z]+)\s*[\])]\s*$", text)
    base = text[: unit.start()] if unit else text
    plain = re.sub(r"[\s\-]+", "_", base.strip().lower())
    return _Column(text, plain, unit.group(1).lower() if unit else "")


def _layout(path: Path, line: int, header: list[_Column], time_col: str | None,
            power_col: Sequence[str] | str | None) -> _Layout:
    """Find the columns; a log whose header holds no time or no power column, or several power columns that
    are not one per GPU, is refused naming what was found and what to pass."""
    got = ",".join(c.written for c in header)

    def named(name: str, option: str) -> int:
        wanted = name.strip().lower()
        for i, c in enumerate(header):
            if wanted in (c.written.lower(), c.plain):
                return i
        raise UserError(f"{path}:{line}: {option} {name}: no such column (header: {got})")

    if time_col is not None:
        time = named(time_col, "--time-col")
    else:
        found = sorted((TIME_NAMES.index(c.plain), i) for i, c in enumerate(header) if c.plain in TIME_NAMES)
        if not found:
            raise UserError(f"{path}:{line}: no time column (expected one of {', '.join(TIME_NAMES)}, or name it "
                            f"with --time-col), got {_clip(got)!r}")
        time = found[0][1]
    gpu = next((i for i, c in enumerate(header) if c.plain in GPU_NAMES and i != time), None)
    if power_col is not None:
        chosen = [power_col] if isinstance(power_col, str) else list(power_col)
        chosen = [name for text in chosen for name in text.split(",") if name.strip()]
        indices = [named(name, "--power-col") for name in chosen]
        if len(indices) == 1:
            return _Layout(time, gpu, {"0": indices[0]})
        return _Layout(time, None, _wide_keys(header, indices))
    generic = [i for i, c in enumerate(header) if c.plain in POWER_NAMES and i != time]
    wide = [i for i, c in enumerate(header) if PER_GPU.fullmatch(c.plain) and i not in (time, gpu)]
    if len(generic) == 1:
        return _Layout(time, gpu, {"0": generic[0]})
    if generic:
        listed = ", ".join(header[i].written for i in generic)
        raise UserError(f"{path}:{line}: several power columns ({listed}); name the one to read with --power-col")
    if wide:
        return _Layout(time, None, _wide_keys(header, wide))
    raise UserError(f"{path}:{line}: no power column (expected one of {', '.join(POWER_NAMES)}, one per GPU such "
                    f"as gpu0_power_w, or name it with --power-col), got {_clip(got)!r}")


def _wide_keys(header: list[_Column], indices: list[int]) -> dict[str, int]:
    """A wide log's GPU keys: the number in each column's name (``gpu3_power`` -> "3"), else the names as
    written, where a column has no number or two columns have the same one."""
    numbers = []
    for i in indices:
        match = PER_GPU.fullmatch(header[i].plain)
        numbers.append(next((g for g in match.groups() if g is not None), None) if match else None)
    if None in numbers or len(set(numbers)) < len(numbers):
        return {header[i].written: i for i in indices}
    return dict(zip(numbers, indices, strict=True))


def _times(texts: list[str], where: Callable[[int], str], column: _Column) -> np.ndarray:
    """Seconds, from numbers (milliseconds where the name or unit says so) or from timestamps."""
    if math.isfinite(_float(texts[0])):
        scale = 1e-3 if column.unit == "ms" or column.plain.endswith("_ms") else 1.0
        return _seconds(texts, where, column.written) * scale
    return _timestamps(texts, where, column.written)


def _per_gpu(path: Path, keys: np.ndarray, times: np.ndarray, watts: np.ndarray,
             labels: list[str] | None = None) -> PowerLog:
    """Split by GPU, on the clock of the first readable sample; NaN watts are the skipped readings. A GPU's key
    is its index, or ``labels[index]`` (a wide log's column keys, in header order)."""
    readable = ~np.isnan(watts)
    if not readable.any():
        raise UserError(f"{path}: no power readings: all {watts.size} were '[N/A]' or similar")
    start = times[readable].min()
    samples, skipped = {}, {}
    for key in np.unique(keys):
        mine = keys == key
        name = str(key) if labels is None else labels[int(key)]
        samples[name] = sorted_unique(times[mine & readable] - start, watts[mine & readable])
        skipped[name] = int(np.count_nonzero(mine & ~readable))
    return PowerLog(samples, skipped)


def _floats(texts: list[str]) -> np.ndarray:
    """Numbers, NaN where a text is none; numpy converts a whole column at C speed unless one text fails."""
    try:
        return np.array(texts, dtype=float)
    except ValueError:
        return np.array([_float(text) for text in texts])


def _float(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return math.nan


def _first(bad: np.ndarray) -> int | None:
    """The first flagged row: an error names one line, the one a user meets first in an editor."""
    return int(np.argmax(bad)) if bad.any() else None


def _gpu_indices(texts: list[str], where: Callable[[int], str], column: str) -> np.ndarray:
    bad = _first(np.array([not (text.isascii() and text.isdigit()) for text in texts]))
    if bad is not None:
        raise UserError(f"{where(bad)}: column {column}: expected a GPU index such as '0', "
                        f"got {_clip(texts[bad])!r}")
    return np.array(texts, dtype=int)


def _seconds(texts: list[str], where: Callable[[int], str], column: str) -> np.ndarray:
    seconds = _floats(texts)
    bad = _first(~np.isfinite(seconds))
    if bad is not None:
        raise UserError(f"{where(bad)}: column {column}: expected seconds as a number, like the first row, "
                        f"got {_clip(texts[bad])!r}")
    return seconds


def _watts(texts: list[str], where: Callable[[int], str], column: _Column) -> np.ndarray:
    """Watts (scaled by the header's unit, mW or kW), NaN for a reading the driver could not take (nvidia-smi
    writes those in brackets) or an empty cell (a GPU that joined a wide log late)."""
    unreadable = np.array([not text or (text.startswith("[") and text.endswith("]")) for text in texts])
    watts = _floats(["nan" if skip else text[:-1] if text.endswith(("W", "w")) else text
                     for text, skip in zip(texts, unreadable, strict=True)])
    bad = _first(~unreadable & ~(np.isfinite(watts) & (watts >= 0)))
    if bad is not None:
        raise UserError(f"{where(bad)}: column {column.plain}: expected a number of watts such as '245.1 W', "
                        f"got {_clip(texts[bad])!r}")
    watts[unreadable] = np.nan
    return watts * POWER_UNITS.get(column.unit, 1.0)


def _timestamps(texts: list[str], where: Callable[[int], str], column: str) -> np.ndarray:
    """Seconds since the Unix epoch. numpy parses ISO 8601 in C; a column it refuses, that has a time zone
    (numpy warns, it would have to guess) or that lacks a time of day (numpy reads '5' as the year 5) goes
    row by row, which also names the first bad row."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            stamps = np.array([text.replace("/", "-") for text in texts], dtype="datetime64[us]")
        if all(":" in text for text in texts) and not np.isnat(stamps).any():
            return (stamps - np.datetime64(0, "us")) / np.timedelta64(1, "s")
    except (ValueError, Warning):
        pass
    return np.array([_timestamp(text, where(row), column) for row, text in enumerate(texts)])


def _timestamp(text: str, where: str, column: str) -> float:
    """Seconds since the Unix epoch of one timestamp; by hand because ``datetime.fromisoformat`` on Python 3.10
    takes neither nvidia-smi's slashes nor 'Z' nor fractions other than 3 or 6 digits."""
    match = TIMESTAMP.fullmatch(text)
    try:
        if match is None:
            raise ValueError(text)
        year, month, day, hour, minute = (int(group) for group in match.groups()[:5])
        base = datetime(year, month, day, hour, minute, tzinfo=timezone.utc).timestamp()
    except ValueError:
        raise UserError(f"{where}: column {column}: expected a timestamp such as '2024/05/01 12:00:00.123' "
                        f"or '2024-05-01T12:00:00.123Z', got {_clip(text)!r}") from None
    return base + float(match.group(6)) - _utc_offset_s(match.group(7))


def _utc_offset_s(zone: str | None) -> float:
    if zone is None or zone.upper() == "Z":
        return 0.0
    digits = zone[1:].replace(":", "")
    offset = int(digits[:2]) * 3600 + int(digits[2:]) * 60
    return -offset if zone[0] == "-" else offset


def _clip(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[:limit] + "..."


def sorted_unique(t: np.ndarray, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Samples in time order, the first of any duplicated timestamp kept: logs get concatenated and re-run."""
    order = np.argsort(t, kind="stable")
    t, p = t[order], p[order]
    _, first = np.unique(t, return_index=True)
    return t[first], p[first]
