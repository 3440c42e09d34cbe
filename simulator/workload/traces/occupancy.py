"""An occupancy series as a workload: jobs whose busy nodes reproduce a measured busy-node curve.

Input: ``time,active,total`` (``data/philly/philly_node_sequence.csv``: Philly's busy and total nodes per
minute, 2017-10-03 to 2017-12-15). Each row holds until the next (the last for one median step); a stretch
longer than 1.5 steps is a gap, held and counted in the summary.

The curve is scaled to the cluster: busy nodes = round(active / total x nodes), with nodes = the cluster's GPUs /
``gpus_per_node``. Every rise by k nodes starts k jobs of ``gpus_per_node`` GPUs; every fall by k ends the k most
recently started (last in, first out). Any pairing reproduces the curve; LIFO is the one that gives the heavy
tail real clusters have (Philly: median run 874 s, mean 18,006 s): short jobs come and go on top of long ones.
Nodes busy at the first row start there; nodes still busy after the last row are censored (they run to the end
of the simulation). When ``gpus_per_node`` divides the server size (or is a multiple of it), free GPUs come in
whole nodes, so no job waits while the curve stays within the cluster and the metered busy GPUs equal the
scaled curve x ``gpus_per_node`` (tested); other sizes fragment servers and jobs may queue.

The series has no model metadata: it is sampled from the scenario's mix.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from simulator.workload.traces.base import (
    Check,
    Parsed,
    TraceSummary,
    epoch_seconds,
    missing_columns,
    numbers,
    read_csv_rows,
    screen,
    summarise,
    value_check,
)

COLUMNS = ("time", "active", "total")
GAP_STEPS = 1.5


def occupancy_jobs(path: Path, strict: bool, nodes: int | None, gpus_per_node: int) -> tuple[pd.DataFrame,
                                                                                             TraceSummary]:
    """Jobs (normalised trace columns, seconds from the first row) that reproduce the series scaled to ``nodes``
    nodes, or as it is (``active`` nodes busy) with ``nodes`` None."""
    frame, locate, malformed = read_csv_rows(path, strict, dtype={"time": str})
    missing_columns(path, frame, COLUMNS, "occupancy")
    seconds = epoch_seconds(pd.to_datetime(frame["time"], format="ISO8601", errors="coerce"))
    active, total = numbers(frame, "active"), numbers(frame, "total")
    latest = np.fmax.accumulate(np.concatenate([[-np.inf], seconds[:-1]]))  # latest time in the rows above
    checks = [
        value_check(frame, "time", "expected a date and time", np.isnan(seconds), " such as 2017-10-03 00:00:00"),
        Check("time: not after the row above", seconds <= latest),
        value_check(frame, "total", "expected a whole number >= 1", ~((total >= 1) & (total % 1 == 0))),
        value_check(frame, "active", "expected a whole number from 0 to total",
                    ~((active >= 0) & (active <= total) & (active % 1 == 0))),
    ]
    parsed = Parsed(frame, locate, checks, "", malformed)
    bad, skipped = screen(path, parsed, strict)
    t, share = seconds[~bad], (active / total)[~bad]
    busy = active[~bad] if nodes is None else np.round(share * nodes)
    rows = len(frame) + len(malformed)
    origin = pd.Timestamp(t[0], unit="s").strftime("%Y-%m-%d %H:%M:%S") if len(t) else "none"
    jobs, gaps = _busy_intervals(t - t[0] if len(t) else t, busy.astype(int), gpus_per_node)
    return jobs, summarise("occupancy", path, rows, jobs, skipped, f"first row, {origin}", gaps)


def _busy_intervals(t: np.ndarray, busy: np.ndarray, gpus: int) -> tuple[pd.DataFrame, int]:
    """One job per busy interval of each level of the curve (LIFO pairing), and the number of gaps."""
    if len(t) == 0:
        return _frame(np.zeros(0), np.zeros(0), np.zeros(0, bool), gpus), 0
    steps = np.diff(t)
    step = float(np.median(steps)) if len(steps) else 60.0
    gaps = int((steps > GAP_STEPS * step).sum())
    end_of_series = t[-1] + step
    change = np.diff(np.concatenate([[0], busy]))
    ups, downs = np.flatnonzero(change > 0), np.flatnonzero(change < 0)
    before = np.concatenate([[0], busy[:-1]])
    # a rise from b to b + k starts levels b+1..b+k; a fall from b to b - k ends levels b-k+1..b
    up_level, up_row = _expand(before[ups] + 1, change[ups], ups)
    down_level, down_row = _expand(busy[downs] + 1, -change[downs], downs)
    level = np.concatenate([up_level, down_level])
    time = np.concatenate([t[up_row], t[down_row]])
    is_start = np.concatenate([np.ones(len(up_level), bool), np.zeros(len(down_level), bool)])
    order = np.lexsort((time, level))  # per level in time order, starts and ends alternate from a start
    level, time, is_start = level[order], time[order], is_start[order]
    starts = np.flatnonzero(is_start)
    closed = (starts + 1 < len(level)) & (level[np.minimum(starts + 1, len(level) - 1)] == level[starts])
    closed &= ~is_start[np.minimum(starts + 1, len(level) - 1)]
    begin = time[starts]
    finish = np.where(closed, time[np.minimum(starts + 1, len(time) - 1)], end_of_series)
    return _frame(begin, finish - begin, ~closed, gpus), gaps


def _expand(first: np.ndarray, count: np.ndarray, row: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Levels first..first+count-1 for each change, with the row of the change."""
    rows = np.repeat(row, count)
    offset = np.arange(rows.size) - np.repeat(np.cumsum(count) - count, count)
    return np.repeat(first, count) + offset, rows


def _frame(begin: np.ndarray, duration: np.ndarray, censored: np.ndarray, gpus: int) -> pd.DataFrame:
    order = np.argsort(begin, kind="stable")
    return pd.DataFrame({
        "submit_s": begin[order],
        "num_gpus": gpus,
        "requested_gpus": float(gpus),
        "duration_s": duration[order],
        "epochs": np.nan,
        "trace_state": np.where(censored[order], "censored", "finished"),
        "trace_start_s": begin[order],
    })
