"""Helios ``cluster_log.csv`` (github.com/S-Lab-System-Group/HeliosData; SenseTime, SC '21).

Header ``job_id,user,vc,gpu_num,cpu_num,node_num,state,submit_time,start_time,end_time,duration,queue``; times
are ``YYYY-MM-DD HH:MM:SS`` (cluster local time, no zone), ``duration`` and ``queue`` are seconds.

- ``job_id`` -> ``job_name``
- ``submit_time`` -> ``submit_s``: seconds after the earliest ``submit_time`` in the file
- ``gpu_num`` -> ``num_gpus`` (= ``requested_gpus``); 0 is a CPU job, skipped and counted
- ``start_time`` -> ``trace_start_s``
- ``duration`` (else ``end_time`` - ``start_time``) -> ``duration_s``
- ``state`` COMPLETED -> ``trace_state`` finished; CANCELLED, TIMEOUT, PREEMPTED -> killed; FAILED, NODE_FAIL,
  OUT_OF_MEMORY -> failed
- ``state`` RUNNING, or neither ``end_time`` nor ``duration`` -> censored, ``duration_s`` = latest time in the
  file - start

Not used: ``user``, ``vc``, ``cpu_num``, ``node_num`` (dcsim places jobs itself), ``queue`` (the simulated
scheduler makes its own waits). Skipped and counted: CPU jobs, jobs that never started (PENDING or no
``start_time``), jobs that ran 0 s (they drew no power and dcsim needs a positive run time), unreadable cells.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from simulator.workload.traces.base import (
    Check,
    Parsed,
    TraceFormat,
    clock_seconds,
    lookup,
    missing_columns,
    numbers,
    raw,
    read_csv_rows,
    time_span,
    value_check,
)

COLUMNS = ("job_id", "user", "vc", "gpu_num", "cpu_num", "node_num", "state", "submit_time", "start_time",
           "end_time", "duration", "queue")
USED = ("job_id", "gpu_num", "state", "submit_time", "start_time", "end_time", "duration")
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
STATES = {
    "COMPLETED": "finished",
    "CANCELLED": "killed", "TIMEOUT": "killed", "PREEMPTED": "killed",
    "FAILED": "failed", "NODE_FAIL": "failed", "OUT_OF_MEMORY": "failed",
    "RUNNING": "censored",
}


class Helios(TraceFormat):
    name = "helios"
    gpu_column = "gpu_num"

    def parse(self, path: Path, strict: bool) -> Parsed:
        frame, locate, malformed = read_csv_rows(path, strict, dtype={c: str for c in ("job_id", "state")})
        missing_columns(path, frame, USED, "Helios cluster_log.csv")
        gpus = numbers(frame, "gpu_num")
        submit = clock_seconds(frame, "submit_time", TIME_FORMAT)
        start = clock_seconds(frame, "start_time", TIME_FORMAT)
        end = clock_seconds(frame, "end_time", TIME_FORMAT)
        duration = numbers(frame, "duration")
        duration = np.where(np.isnan(duration), end - start, duration)
        state = frame["state"].str.strip().str.upper()
        mapped = lookup(state, STATES)
        censored = (mapped == "censored") | (frame["end_time"].isna() & frame["duration"].isna()).to_numpy()
        checks = [
            value_check(frame, "gpu_num", "expected a whole number >= 0", ~((gpus >= 0) & (gpus % 1 == 0))),
            Check("CPU job (gpu_num 0)", gpus == 0),
            _time_check(frame, "submit_time", submit),
            Check("submit_time: missing", frame["submit_time"].isna().to_numpy()),
            Check("never ran (PENDING)", (state == "PENDING").to_numpy()),
            Check("state: unknown", pd.isna(mapped),
                  lambda i: f"state: expected one of {', '.join([*STATES, 'PENDING'])}, "
                            f"got {raw(frame, 'state', i)!r}"),
            Check("never ran (no start_time)", frame["start_time"].isna().to_numpy()),
            _time_check(frame, "start_time", start),
            _time_check(frame, "end_time", end),
            value_check(frame, "duration", "expected seconds >= 0", ~censored & ~(duration >= 0)),
            Check("ran for 0 s", ~censored & (duration == 0)),
        ]
        origin, latest = time_span(submit, start, end, start + duration)
        jobs = pd.DataFrame({
            "job_name": frame["job_id"],
            "submit_s": submit - origin,
            "num_gpus": gpus,
            "requested_gpus": gpus,
            "duration_s": np.where(censored, latest - start, duration),
            "epochs": np.nan,
            "trace_state": np.where(censored, "censored", mapped),
            "trace_start_s": start - origin,
        })
        when = pd.Timestamp(origin, unit="s").strftime(TIME_FORMAT) if np.isfinite(submit).any() else "none"
        return Parsed(jobs, locate, checks, f"earliest submit_time, {when}", malformed)


def _time_check(frame: pd.DataFrame, column: str, seconds: np.ndarray) -> Check:
    """A time that is there but unreadable; a missing one is its own reason (or a censored job's end)."""
    return value_check(frame, column, "expected 'YYYY-MM-DD HH:MM:SS'",
                       frame[column].notna().to_numpy() & np.isnan(seconds))
