"""Microsoft Philly ``cluster_job_log`` (github.com/msr-fiddle/philly-traces): one JSON array of jobs.

Each job is ``{"jobid", "user", "vc", "status", "submitted_time", "attempts": [{"start_time", "end_time",
"detail": [{"ip", "gpus": ["gpu0", ...]}, ...]}, ...]}`` with times as ``YYYY-MM-DD HH:MM:SS`` (cluster local
time, no zone). The mapping follows the trace's own analysis notebook:

- ``jobid`` -> ``job_name``
- ``submitted_time`` -> ``submit_s``: seconds after the earliest ``submitted_time`` in the file
- GPUs listed in the first attempt's ``detail``, over all its machines -> ``num_gpus`` (= ``requested_gpus``)
- first attempt's ``start_time`` -> ``trace_start_s``
- last attempt's ``end_time`` - first attempt's ``start_time`` -> ``duration_s`` (retries and the gaps between
  them included, as in the notebook's run time)
- ``status`` Pass / Killed / Failed -> ``trace_state`` finished / killed / failed
- last attempt's ``end_time`` null or "None" -> ``trace_state`` censored (still running when the log was cut),
  ``duration_s`` = latest time in the file - start

Skipped and counted: a job with no attempts or no start time (it never ran), no GPUs, an unreadable time, an
end before its start, or an unknown status. Philly has no model metadata: it is sampled from the scenario's mix.
"""

from __future__ import annotations

import gc
import json
import re
from collections.abc import Callable
from itertools import chain
from pathlib import Path

import numpy as np
import pandas as pd

from simulator.common.errors import UserError
from simulator.workload.traces.base import Check, Parsed, TraceFormat, epoch_seconds, lookup, time_span

TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
STATES = {"Pass": "finished", "Killed": "killed", "Failed": "failed"}
FIELDS = ("job_name", "status", "submitted", "first_start", "last_end", "gpus", "attempts")
NOT_A_JOB = (None, None, None, None, None, 0, -1)
NO_TIME = ("None", "")


class Philly(TraceFormat):
    name = "philly"
    gpu_column = "attempts[0].detail[].gpus"

    def parse(self, path: Path, strict: bool) -> Parsed:
        text = _read(path)
        collecting = gc.isenabled()
        # json.loads of a large array makes millions of dicts and lists; the cyclic collector would re-walk all
        # of them every few hundred allocations (three times the parse time for a million jobs), and parsed
        # JSON cannot hold a reference cycle.
        # The parsed jobs are freed before the collector is back on, or its next pass would walk all of them.
        gc.disable()
        try:
            data = json.loads(text)
            if not isinstance(data, list):
                raise UserError(f"{path}:1: expected a JSON array of jobs (Philly cluster_job_log)")
            # One row of FIELDS per job, written straight into one object array: cheaper than a tuple per job
            # transposed into columns. The columns below are views of it.
            cells = np.fromiter(chain.from_iterable(map(_fields, data)), dtype=object,
                                count=len(data) * len(FIELDS))
            del data
        except json.JSONDecodeError as err:
            raise UserError(f"{path}:{err.lineno}: not valid JSON ({err.msg})") from None
        finally:
            if collecting:
                gc.enable()
        raw = dict(zip(FIELDS, cells.reshape(-1, len(FIELDS)).T, strict=True))
        (submitted, no_submit), (start, no_start), (end, open_end) = (
            _clock(raw[c]) for c in ("submitted", "first_start", "last_end"))
        # Compared as pandas text (Arrow): the status strings are read once, not once per known status. A status
        # that is not text (a number, a list) becomes its str(), which is never a known one; messages show it raw.
        state = lookup(pd.Series(raw["status"], dtype="str"), STATES)
        attempts, gpus = raw["attempts"].astype(int), raw["gpus"].astype(float)
        checks = [
            Check("not a job object", attempts < 0),
            _time_check(raw["submitted"], no_submit, "submitted_time", submitted),
            Check("submitted_time: missing", no_submit),
            Check("never ran (no attempts)", attempts == 0),
            Check("never ran (no start_time)", no_start),
            _time_check(raw["first_start"], no_start, "attempts[0].start_time", start),
            _time_check(raw["last_end"], open_end, "attempts[-1].end_time", end),
            Check("no GPUs in the first attempt", gpus == 0),
            Check("status: unknown", pd.isna(state),
                  lambda i: f"status: expected Pass, Killed or Failed, got {raw['status'][i]!r}"),
            Check("end_time before start_time", end < start),
        ]
        origin, latest = time_span(submitted, start, end)
        jobs = pd.DataFrame({
            "job_name": raw["job_name"],
            "submit_s": submitted - origin,
            "num_gpus": gpus,
            "requested_gpus": gpus,
            "duration_s": np.where(open_end, latest, end) - start,
            "epochs": np.nan,
            "trace_state": np.where(open_end, "censored", state),
            "trace_start_s": start - origin,
        })
        when = pd.Timestamp(origin, unit="s").strftime(TIME_FORMAT) if np.isfinite(submitted).any() else "none"
        return Parsed(jobs, _element_lines(text), checks, f"earliest submitted_time, {when}")


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(f"{path}: trace file not found") from None
    except (OSError, UnicodeDecodeError) as err:
        raise UserError(f"{path}: cannot read ({err})") from None


def _fields(job: object) -> tuple:
    """The few values dcsim needs from one job; NOT_A_JOB for anything shaped otherwise. A time comes back as
    its text, or None where the log has none (null, "None", ""); anything else as its repr, which then fails
    to parse and is named. Written inline for speed: this runs once per job."""
    try:
        attempts = job.get("attempts") or ()
        sub = job.get("submitted_time")
        sub = sub if sub.__class__ is str and sub not in NO_TIME else _time(sub)
        if not attempts:
            return job.get("jobid"), job.get("status"), sub, None, None, 0, 0
        first = attempts[0]
        gpus = 0
        for machine in first.get("detail") or ():
            gpus += len(machine.get("gpus") or ())
        start, end = first.get("start_time"), attempts[-1].get("end_time")
        return (job.get("jobid"), job.get("status"), sub,
                start if start.__class__ is str and start not in NO_TIME else _time(start),
                end if end.__class__ is str and end not in NO_TIME else _time(end), gpus, len(attempts))
    except (AttributeError, TypeError, KeyError, IndexError):
        return NOT_A_JOB


def _time(value: object) -> str | None:
    return None if value is None or value in NO_TIME else value if isinstance(value, str) else repr(value)


def _clock(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Seconds since the Unix epoch (NaN for a missing or unreadable time), and which times are missing.

    Only times that could not be read are looked at for being missing: the texts lie all over the memory the
    parsed JSON held, and another pass over a million of them costs more than the test itself."""
    seconds = epoch_seconds(pd.to_datetime(pd.Series(values, dtype=object), format=TIME_FORMAT, errors="coerce"))
    unread = np.isnan(seconds)
    missing = np.zeros(len(values), dtype=bool)
    missing[unread] = pd.isna(values[unread])
    return seconds, missing


def _time_check(values: np.ndarray, missing: np.ndarray, name: str, seconds: np.ndarray) -> Check:
    """A time that is there but cannot be read (a missing one is a different reason, or a censored job)."""
    return Check(f"{name}: expected 'YYYY-MM-DD HH:MM:SS'", ~missing & np.isnan(seconds),
                 lambda i: f"{name}: expected 'YYYY-MM-DD HH:MM:SS', got {values[i]!r}")


def _element_lines(text: str) -> Callable[[np.ndarray], np.ndarray]:
    """``locate`` for a JSON array: the line where each requested element starts, found by decoding the array
    one element at a time only as far as the last row asked for (only rows named in messages are asked)."""
    decoder = json.JSONDecoder()
    between = re.compile(r"[\s,]*")

    def locate(rows: np.ndarray) -> np.ndarray:
        if len(rows) == 0:
            return np.zeros(0, dtype=int)
        wanted = int(rows.max())
        lines, pos, line = [], between.match(text, text.index("[") + 1).end(), 1
        counted = 0
        while len(lines) <= wanted:
            line += text.count("\n", counted, pos)
            counted = pos
            lines.append(line)
            pos = between.match(text, decoder.raw_decode(text, pos)[1]).end()
        return np.array(lines)[rows]

    return locate
