"""What every job-trace format shares: the normalised job columns, the row checks, and the summary.

A format is a :class:`TraceFormat`: it turns a file into one candidate row per data row (in the normalised
columns below) plus the :class:`Check` s a row must pass. :func:`apply_checks` then treats every format the
same way. With ``strict`` the first bad row (by line) stops the load with ``file:line: reason``; otherwise bad
rows are skipped and counted by reason, with the first place each reason occurs, in a :class:`TraceSummary`.
Nothing is dropped without a count: a public trace has rows no user can fix (CPU jobs, jobs that never ran),
and a capacity planner needs to see how much of the trace those are before trusting a replay.

Normalised columns (seconds count from the trace start, see ``TraceSummary.origin``):

- ``submit_s``: submission; ``num_gpus``: whole GPUs the job holds in dcsim; ``requested_gpus``: what the trace
  asked for (a fraction for a shared GPU, see the Alibaba adapter); ``duration_s``: measured run time (for a
  censored job the part observed before the trace ended); ``epochs`` (dcsim CSV only);
- ``trace_state``: ``finished``, ``failed``, ``killed`` or ``censored`` (still running when the trace ended);
- ``trace_start_s``: measured start, where the trace has one (to compare with the simulated wait);
- ``job_name``: the trace's own id; ``model`` and the other metadata columns of
  :data:`simulator.common.jobs.METADATA_COLUMNS` where the trace has them (only the dcsim CSV does).
"""

from __future__ import annotations

import re
import warnings
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import ClassVar

import numpy as np
import pandas as pd

from simulator.common.errors import UserError

STATES = ("finished", "failed", "killed", "censored")
"""Values of ``trace_state``. Failed and killed jobs are kept: they drew power until they stopped."""


@dataclass(frozen=True)
class Check:
    """One rule a row must pass: ``bad`` flags the rows that break it.

    ``reason`` is short and without the row's value, so rows that break the same rule count together;
    ``detail(i)`` is the full message for row ``i`` (position), with the value, for errors and examples.
    """

    reason: str
    bad: np.ndarray
    detail: Callable[[int], str] | None = None

    def message(self, row: int) -> str:
        return self.detail(row) if self.detail else self.reason


@dataclass
class Parsed:
    """What a format's parser returns: candidate rows in file order, the checks, and the trace's origin.

    ``locate(rows)`` gives the file lines of some rows. It is a function rather than an array because only the
    rows named in errors and in the summary need a line, and for JSON finding one costs a scan of the text.
    """

    jobs: pd.DataFrame
    locate: Callable[[np.ndarray], np.ndarray]
    checks: list[Check]
    origin: str
    malformed: dict[int, str] = field(default_factory=dict)
    """Lines that could not even be split into fields, with why; they are not in ``jobs``."""


@dataclass(frozen=True)
class Skipped:
    """The rows skipped for one reason: how many, and where the first is (to open it in an editor)."""

    count: int
    line: int
    first: str
    """``file:line: message`` of the first row skipped for this reason (on ``line``)."""


@dataclass(frozen=True)
class TraceSummary:
    """What a trace holds and what was made of it; ``dcsim trace inspect`` prints it and a run's metrics keep
    its counts. Counts after ``jobs`` are over the kept jobs."""

    path: str
    format: str
    rows: int
    jobs: int
    skipped: Mapping[str, Skipped]
    censored: int
    failed: int
    killed: int
    fractional: int
    without_model: int
    origin: str
    span_s: float
    gpu_hours: float
    by_size: Mapping[str, int]
    gaps: int = 0
    """Occupancy series only: stretches longer than 1.5 steps without a row, over which the last row holds."""

    @property
    def skipped_rows(self) -> int:
        return sum(s.count for s in self.skipped.values())

    def to_dict(self) -> dict:
        """Plain JSON-ready values."""
        data = asdict(self)
        data["skipped"] = {reason: asdict(s) for reason, s in self.skipped.items()}
        data["by_size"] = dict(self.by_size)
        data["skipped_rows"] = self.skipped_rows
        return data


class TraceFormat(ABC):
    """A job-trace file format. Subclasses document their column mapping in their module docstring."""

    name: ClassVar[str]
    gpu_column: ClassVar[str]
    """The file's column with the GPU count, named when a job is larger than the cluster."""

    @abstractmethod
    def parse(self, path: Path, strict: bool) -> Parsed:
        """Candidate rows and checks; raise :class:`UserError` only for what makes the whole file unusable."""


def apply_checks(fmt: TraceFormat, path: Path, parsed: Parsed, strict: bool,
                 max_gpus: int | None = None) -> tuple[pd.DataFrame, TraceSummary]:
    """The kept jobs (positional index, sorted by submission) and the summary; see the module docstring."""
    checks = []
    if max_gpus is not None:
        gpus = parsed.jobs["num_gpus"].to_numpy(float)
        checks.append(Check("more GPUs than the cluster", gpus > max_gpus,
                            lambda i: f"column {fmt.gpu_column}: {gpus[i]:.0f} GPUs exceed the cluster's {max_gpus}"))
    bad, skipped = screen(path, parsed, strict, checks)
    kept = parsed.jobs[~bad].sort_values("submit_s", kind="stable").reset_index(drop=True)
    return kept, summarise(fmt.name, path, len(parsed.jobs) + len(parsed.malformed), kept, skipped, parsed.origin)


def screen(path: Path, parsed: Parsed, strict: bool, extra: list[Check] | tuple = ()) -> tuple[np.ndarray, dict]:
    """Rows that break a check (the first check a row breaks is its reason) and the skips by reason; with
    ``strict``, :class:`UserError` at the first bad row or malformed line instead."""
    checks = [*parsed.checks, *extra]
    reason = np.full(len(parsed.jobs), -1)
    for k, check in enumerate(checks):
        reason[(reason < 0) & np.asarray(check.bad, dtype=bool)] = k
    bad = reason >= 0
    firsts = {k: int(np.argmax(bad & (reason == k))) for k in np.unique(reason[bad])}  # rows are in file order
    lines = dict(zip(firsts.values(), parsed.locate(np.array(list(firsts.values()), dtype=int)), strict=True))
    if strict:
        first_row = int(np.argmax(bad)) if bad.any() else None
        first_malformed = min(parsed.malformed) if parsed.malformed else None
        if first_malformed is not None and (first_row is None or first_malformed < lines[first_row]):
            raise UserError(f"{path}:{first_malformed}: {parsed.malformed[first_malformed]}")
        if first_row is not None:
            raise UserError(f"{path}:{lines[first_row]}: {checks[reason[first_row]].message(first_row)}")
    skipped: dict[str, Skipped] = {}
    if parsed.malformed:
        first = min(parsed.malformed)
        skipped["malformed line"] = Skipped(len(parsed.malformed), first, f"{path}:{first}: {parsed.malformed[first]}")
    for k, row in firsts.items():
        skipped[checks[k].reason] = Skipped(int((reason == k).sum()), int(lines[row]),
                                            f"{path}:{lines[row]}: {checks[k].message(row)}")
    return bad, skipped


def summarise(fmt: str, path: Path, rows: int, jobs: pd.DataFrame, skipped: Mapping[str, Skipped],
              origin: str, gaps: int = 0) -> TraceSummary:
    """The summary of kept jobs in the normalised columns."""
    state = jobs["trace_state"]
    submit = jobs["submit_s"].to_numpy(float)
    duration = jobs["duration_s"].to_numpy(float)
    began = jobs["trace_start_s"].to_numpy(float)
    end = np.where(np.isnan(began), submit, began) + duration
    span = float(np.nanmax(end) - submit.min()) if len(jobs) and np.isfinite(end).any() else 0.0
    requested = jobs["requested_gpus"].to_numpy(float)
    model = jobs["model"] if "model" in jobs.columns else pd.Series(np.nan, index=jobs.index)
    return TraceSummary(
        path=str(path), format=fmt, rows=rows, jobs=len(jobs), skipped=dict(skipped),
        censored=int((state == "censored").sum()), failed=int((state == "failed").sum()),
        killed=int((state == "killed").sum()),
        fractional=int((requested != jobs["num_gpus"].to_numpy(float)).sum()),
        without_model=int(model.isna().sum()), origin=origin, span_s=span,
        gpu_hours=float(np.nansum(requested * duration) / 3600), by_size=size_buckets(jobs["num_gpus"].to_numpy()),
        gaps=gaps,
    )


def size_buckets(gpus: np.ndarray) -> dict[str, int]:
    """Jobs per GPU-count bucket on powers of two (1, 2, 3-4, 5-8, ...), the way cluster studies report them."""
    if len(gpus) == 0:
        return {}
    top = np.ceil(np.log2(np.maximum(gpus, 1))).astype(int)
    counts = np.bincount(top)
    out = {}
    for k in np.flatnonzero(counts):
        lo, hi = (1, 1) if k == 0 else (2 ** (k - 1) + 1, 2**k)
        out[str(hi) if lo == hi else f"{lo}-{hi}"] = int(counts[k])
    return out


def read_csv_rows(path: Path, strict: bool, **options) -> tuple[pd.DataFrame, Callable, dict[int, str]]:
    """A CSV read by pandas' C parser, with a ``locate`` for its rows' lines and the lines it could not split.

    Blank lines are read as empty rows (so the line count stays exact) and dropped: they hold no job. A line
    with the wrong number of fields stops a strict read; otherwise pandas skips it with a warning, which is
    caught here and turned into a counted, located skip (``Parsed.malformed``).
    """
    header_lines = 0 if options.get("header", "infer") is None else 1
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", pd.errors.ParserWarning)
            frame = pd.read_csv(path, skip_blank_lines=False, on_bad_lines="error" if strict else "warn",
                                **options)
    except FileNotFoundError:
        raise UserError(f"{path}: trace file not found") from None
    except pd.errors.ParserError as err:
        raise UserError(_parser_message(path, err)) from None
    except (pd.errors.EmptyDataError, UnicodeDecodeError, ValueError) as err:
        raise UserError(f"{path}: cannot read as CSV ({str(err).splitlines()[0]})") from None
    malformed = {}
    for warning in caught:
        for text in str(warning.message).splitlines():
            if text.startswith("Skipping line "):
                number, _, why = text[len("Skipping line "):].partition(": ")
                malformed[int(number)] = why.strip()
    lines = np.arange(len(frame) + len(malformed)) + 1 + header_lines
    if malformed:
        lines = lines[~np.isin(lines, list(malformed))]
    blank = frame.isna().all(axis=1).to_numpy()
    if blank.any():
        frame, lines = frame[~blank].reset_index(drop=True), lines[~blank]
    return frame, lines.__getitem__, malformed


def _parser_message(path: Path, err: Exception) -> str:
    """pandas says 'Error tokenizing data. C error: Expected 3 fields in line 5, saw 4': say it as file:line."""
    text = str(err).strip().splitlines()[0].split("C error: ", 1)[-1]
    match = re.fullmatch(r"Expected (\d+) fields in line (\d+), saw (\d+)", text)
    if match:
        return f"{path}:{match.group(2)}: expected {match.group(1)} fields, saw {match.group(3)}"
    return f"{path}: cannot read as CSV ({text})"


def numbers(frame: pd.DataFrame, column: str) -> np.ndarray:
    """A column as floats, NaN where a cell is empty or not a number."""
    return pd.to_numeric(frame[column], errors="coerce").to_numpy(float)


def raw(frame: pd.DataFrame | Mapping[str, pd.Series], column: str, row: int) -> object:
    """A cell as the file had it, for messages: text stays text, a number is a plain Python number."""
    value = frame[column].iloc[row]
    return value.item() if isinstance(value, np.generic) else value


def value_check(frame: pd.DataFrame, column: str, expected: str, bad: np.ndarray, hint: str = "") -> Check:
    """A rule on one column's cells: rows that break it count under ``COLUMN: EXPECTED``, and each row's message
    adds ``hint`` and the cell as the file wrote it."""
    return Check(f"{column}: {expected}", bad, lambda i: f"{column}: {expected}{hint}, got {raw(frame, column, i)!r}")


def lookup(values: pd.Series, table: Mapping[str, str]) -> np.ndarray:
    """``table[value]`` per value, None where a value is not in the table; one vectorised comparison per key
    (a dict ``map`` over a million strings costs a second)."""
    out = np.full(len(values), None, dtype=object)
    for key, mapped in table.items():
        out[(values == key).to_numpy(dtype=bool, na_value=False)] = mapped
    return out


def clock_seconds(frame: pd.DataFrame, column: str, fmt: str) -> np.ndarray:
    """Timestamps in ``fmt`` as seconds since the Unix epoch (naive times are read as they are), NaN where
    a cell is empty, 'None' or not in that format."""
    return epoch_seconds(pd.to_datetime(frame[column], format=fmt, errors="coerce"))


def epoch_seconds(stamps: pd.Series) -> np.ndarray:
    """Parsed times as seconds since the Unix epoch, NaN where a time is missing (NaT).

    Counted in microseconds, the unit pandas parses into: subtracting the nanosecond ``Timestamp(0)`` would
    overflow on the far-off years a damaged trace can hold (0001, 9999) and stop the load with a traceback."""
    micro = stamps.to_numpy(dtype="datetime64[us]")
    seconds = micro.astype(np.int64) / 1e6
    seconds[np.isnat(micro)] = np.nan
    return seconds


def missing_columns(path: Path, frame: pd.DataFrame, required: tuple[str, ...], what: str) -> None:
    """Stop on a file that lacks a column every row needs: no row of it could be read."""
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise UserError(f"{path}:1: missing column(s) {', '.join(missing)}; expected the {what} header "
                        f"({','.join(required)})")


def time_span(first: np.ndarray, *others: np.ndarray) -> tuple[float, float]:
    """A trace's t = 0 (the earliest of ``first``, its submit or start times) and the latest time in any of the
    columns (where a censored job is taken to end); 0 for a file without readable times."""
    origin = float(np.nanmin(first)) if np.isfinite(first).any() else 0.0
    every = np.concatenate([first, *others])
    latest = float(np.nanmax(every)) if np.isfinite(every).any() else 0.0
    return origin, latest
