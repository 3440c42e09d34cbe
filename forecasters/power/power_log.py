"""GPU power logs as samples per GPU: an nvidia-smi CSV (``--query-gpu=timestamp,index,power.draw``) or a plain
``time,power`` CSV. Read by ``dcsim profile`` (:mod:`forecasters.power.profile`) and by the simulator's replay of
measured power; every unreadable cell is a :class:`~simulator.common.errors.UserError` naming the file and line.
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from simulator.common.errors import UserError

NVIDIA_HEADER = "timestamp, index, power.draw [W]"
PLAIN_HEADER = "time,power"
NVIDIA_COLUMNS = ("timestamp", "index", "power.draw [w]")
PLAIN_COLUMNS = ("time", "power")
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


def read_power_log(path: Path) -> PowerLog:
    """Samples per GPU of an nvidia-smi CSV log (key: the GPU index) or a plain ``time,power`` CSV (key "0").

    Times count from the log's first sample over all GPUs, so GPUs of one log stay on one clock. Readings
    nvidia-smi could not take (``[N/A]``, ``[Not Supported]``) are skipped and counted in ``.skipped``.
    Columns are converted whole, not row by row: a day of 8 GPUs at 100 ms is seven million rows.
    """
    header, rows = _rows(path)
    numbers = [number for number, _ in rows]
    fields = [line.split(",") for _, line in rows]
    width = len(header)
    wrong = next((k for k, row in enumerate(fields) if len(row) != width), None)
    if wrong is not None:
        raise UserError(f"{path}:{numbers[wrong]}: expected {width} comma-separated fields "
                        f"({NVIDIA_HEADER if header == NVIDIA_COLUMNS else PLAIN_HEADER}), got {len(fields[wrong])}")
    columns = [[text.strip() for text in column] for column in zip(*fields, strict=True)]

    def where(row: int) -> str:
        return f"{path}:{numbers[row]}"

    if header == NVIDIA_COLUMNS:
        keys = _gpu_indices(columns[1], where)
        times = _timestamps(columns[0], where, "timestamp")
        watts = _watts(columns[2], where, "power.draw")
    else:
        keys = np.zeros(len(rows), dtype=int)
        numeric = math.isfinite(_float(columns[0][0]))
        times = _seconds(columns[0], where) if numeric else _timestamps(columns[0], where, "time")
        watts = _watts(columns[1], where, "power")
    return _per_gpu(path, keys, times, watts)


def _rows(path: Path) -> tuple[tuple[str, ...], list[tuple[int, str]]]:
    """The header's column names and the non-blank data rows with their line numbers."""
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").lstrip("\ufeff").splitlines()
    except OSError as err:
        raise UserError(f"{path}: cannot read power log ({err.strerror})") from None
    rows = [(number, line) for number, line in enumerate(lines, start=1) if line.strip()]
    if not rows:
        raise UserError(f"{path}: empty file")
    (header_line, header), *body = rows
    columns = tuple(name.strip().lower() for name in header.split(","))
    if columns not in (NVIDIA_COLUMNS, PLAIN_COLUMNS):
        raise UserError(f"{path}:{header_line}: expected a header '{NVIDIA_HEADER}' (nvidia-smi) or "
                        f"'{PLAIN_HEADER}', got {_clip(header)!r}")
    if not body:
        raise UserError(f"{path}: no samples after the header")
    return columns, body


def _per_gpu(path: Path, keys: np.ndarray, times: np.ndarray, watts: np.ndarray) -> PowerLog:
    """Split by GPU, on the clock of the first readable sample; NaN watts are the skipped readings."""
    readable = ~np.isnan(watts)
    if not readable.any():
        raise UserError(f"{path}: no power readings: all {watts.size} were '[N/A]' or similar")
    start = times[readable].min()
    samples, skipped = {}, {}
    for key in np.unique(keys):
        mine = keys == key
        samples[str(key)] = sorted_unique(times[mine & readable] - start, watts[mine & readable])
        skipped[str(key)] = int(np.count_nonzero(mine & ~readable))
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


def _gpu_indices(texts: list[str], where: Callable[[int], str]) -> np.ndarray:
    bad = _first(np.array([not (text.isascii() and text.isdigit()) for text in texts]))
    if bad is not None:
        raise UserError(f"{where(bad)}: column index: expected a GPU index such as '0', got {_clip(texts[bad])!r}")
    return np.array(texts, dtype=int)


def _seconds(texts: list[str], where: Callable[[int], str]) -> np.ndarray:
    seconds = _floats(texts)
    bad = _first(~np.isfinite(seconds))
    if bad is not None:
        raise UserError(f"{where(bad)}: column time: expected seconds as a number, like the first row, "
                        f"got {_clip(texts[bad])!r}")
    return seconds


def _watts(texts: list[str], where: Callable[[int], str], column: str) -> np.ndarray:
    """Watts, NaN for a reading the driver could not take (nvidia-smi writes those in brackets)."""
    unreadable = np.array([text.startswith("[") and text.endswith("]") for text in texts])
    watts = _floats(["nan" if skip else text[:-1] if text.endswith(("W", "w")) else text
                     for text, skip in zip(texts, unreadable, strict=True)])
    bad = _first(~unreadable & ~(np.isfinite(watts) & (watts >= 0)))
    if bad is not None:
        raise UserError(f"{where(bad)}: column {column}: expected a number of watts such as '245.1 W', "
                        f"got {_clip(texts[bad])!r}")
    watts[unreadable] = np.nan
    return watts


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
