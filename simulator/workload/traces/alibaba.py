"""Alibaba GPU traces (github.com/alibaba/clusterdata): PAI 2020 ``pai_task_table`` and the 2023 ``openb_pod_list``.

Both measure GPU shares finer than a GPU, and dcsim places whole GPUs. The rule here: **a fractional request
is rounded up to whole GPUs** (per instance for PAI, per pod for openb), ``requested_gpus`` keeps the fraction,
and the summary counts these jobs as ``fractional``. A shared GPU then draws one job's full wave, an upper bound
on its power (the co-located jobs are in the trace as jobs of their own, so a GPU shared by four 25 % tasks
is counted four times); the count says how much of the trace that touches. Neither trace has model metadata:
it is sampled from the scenario's mix.

**PAI 2020** ``pai_task_table.csv`` (cluster-trace-gpu-v2020; headerless, or with this header):
``job_name,task_name,inst_num,status,start_time,end_time,plan_cpu,plan_mem,plan_gpu,gpu_type``; times are
seconds on the trace's own clock. One task (a gang of ``inst_num`` instances) is one dcsim job.

- ``job_name`` / ``task_name`` -> ``job_name`` ("job/task")
- ``start_time`` -> ``submit_s`` and ``trace_start_s``: seconds after the earliest ``start_time`` (the table has
  no queue time, so a task is submitted when it launched)
- ``plan_gpu`` (percent of one GPU per instance) x ``inst_num`` -> ``requested_gpus``; ``num_gpus`` =
  ceil(``plan_gpu`` / 100) x ``inst_num``; empty or 0 is a CPU task, skipped and counted
- ``end_time`` - ``start_time`` -> ``duration_s``
- ``status`` Terminated / Failed -> ``trace_state`` finished / failed
- ``status`` Running (no ``end_time``) -> censored, ``duration_s`` = latest time in the file - start
- ``status`` Waiting: never ran, skipped and counted

Not used: ``plan_cpu``, ``plan_mem``, ``gpu_type`` (a dcsim cluster has one GPU type). ``pai_job_table`` adds
only the user and a per-job status to what the task table has, so it is not read.

**2023** ``openb_pod_list*.csv`` (cluster-trace-gpu-v2023, with header)
``name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,pod_phase,creation_time,deletion_time,scheduled_time``;
times are seconds from the trace start.

- ``name`` -> ``job_name``
- ``creation_time`` -> ``submit_s``: seconds after the earliest ``creation_time``
- ``scheduled_time`` -> ``trace_start_s``; empty: never ran (Pending), skipped and counted
- ``num_gpu`` x ``gpu_milli`` / 1000 -> ``requested_gpus``; ``num_gpus`` = ``num_gpu``; ``num_gpu`` 0 is a CPU
  pod, skipped and counted
- ``deletion_time`` - ``scheduled_time`` -> ``duration_s``
- ``pod_phase`` Succeeded / Failed -> ``trace_state`` finished / failed
- ``pod_phase`` Running with a ``deletion_time`` -> killed (deleted while it ran); without one -> censored,
  ``duration_s`` = latest time in the file - start

Not used: ``cpu_milli``, ``memory_mib``, ``gpu_spec``, ``qos``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from simulator.common.errors import UserError
from simulator.workload.traces.base import (
    Check,
    Parsed,
    TraceFormat,
    lookup,
    missing_columns,
    numbers,
    raw,
    read_csv_rows,
    time_span,
    value_check,
)

PAI_TASK_COLUMNS = ("job_name", "task_name", "inst_num", "status", "start_time", "end_time", "plan_cpu", "plan_mem",
                    "plan_gpu", "gpu_type")
PAI_JOB_COLUMNS = ("job_name", "inst_id", "user", "status", "start_time", "end_time")
PAI_STATES = {"Terminated": "finished", "Failed": "failed", "Running": "censored"}
OPENB_COLUMNS = ("name", "cpu_milli", "memory_mib", "num_gpu", "gpu_milli", "gpu_spec", "qos", "pod_phase",
                 "creation_time", "deletion_time", "scheduled_time")
OPENB_USED = ("name", "num_gpu", "gpu_milli", "pod_phase", "creation_time", "deletion_time", "scheduled_time")
OPENB_PHASES = {"Succeeded": "finished", "Failed": "failed", "Running": "killed"}


class AlibabaPai2020(TraceFormat):
    name = "alibaba2020"
    gpu_column = "plan_gpu"

    def parse(self, path: Path, strict: bool) -> Parsed:
        header = _first_line(path)
        fields = header.count(",") + 1
        if fields == len(PAI_JOB_COLUMNS):
            raise UserError(f"{path}:1: this looks like pai_job_table ({len(PAI_JOB_COLUMNS)} columns); dcsim reads "
                            "pai_task_table.csv, which has the GPUs")
        if fields != len(PAI_TASK_COLUMNS):
            raise UserError(f"{path}:1: expected the {len(PAI_TASK_COLUMNS)} columns of pai_task_table "
                            f"({','.join(PAI_TASK_COLUMNS)}), got {fields}")
        has_header = header.startswith("job_name,")
        frame, locate, malformed = read_csv_rows(path, strict, header=0 if has_header else None,
                                                 names=None if has_header else list(PAI_TASK_COLUMNS),
                                                 dtype={"job_name": str, "task_name": str, "status": str})
        missing_columns(path, frame, PAI_TASK_COLUMNS, "pai_task_table")
        instances = numbers(frame, "inst_num")
        plan = numbers(frame, "plan_gpu")
        start, end = numbers(frame, "start_time"), numbers(frame, "end_time")
        status = frame["status"]
        state = lookup(status, PAI_STATES)
        running = state == "censored"
        duration = end - start
        checks = [
            value_check(frame, "plan_gpu", "expected a number >= 0",
                        frame["plan_gpu"].notna().to_numpy() & ~(plan >= 0), " (percent of a GPU)"),
            Check("CPU task (no plan_gpu)", ~(plan > 0)),
            value_check(frame, "inst_num", "expected a whole number >= 1", ~((instances >= 1) & (instances % 1 == 0))),
            Check("never ran (Waiting)", (status == "Waiting").to_numpy()),
            Check("status: unknown", pd.isna(state),
                  lambda i: f"status: expected Terminated, Failed, Running or Waiting, "
                            f"got {raw(frame, 'status', i)!r}"),
            value_check(frame, "start_time", "expected seconds", np.isnan(start)),
            value_check(frame, "end_time", "expected seconds", ~running & np.isnan(end)),
            Check("end_time before start_time", ~running & (duration < 0)),
            Check("ran for 0 s", ~running & (duration == 0)),
        ]
        origin, latest = time_span(start, end)
        jobs = pd.DataFrame({
            "job_name": frame["job_name"] + "/" + frame["task_name"],
            "submit_s": start - origin,
            "num_gpus": np.ceil(plan / 100) * instances,
            "requested_gpus": plan / 100 * instances,
            "duration_s": np.where(running, latest - start, duration),
            "epochs": np.nan,
            "trace_state": state,
            "trace_start_s": start - origin,
        })
        return Parsed(jobs, locate, checks, f"earliest start_time, {origin:g} s", malformed)


class AlibabaOpenb2023(TraceFormat):
    name = "alibaba2023"
    gpu_column = "num_gpu"

    def parse(self, path: Path, strict: bool) -> Parsed:
        frame, locate, malformed = read_csv_rows(path, strict, dtype={"name": str, "pod_phase": str})
        missing_columns(path, frame, OPENB_USED, "openb_pod_list")
        gpus, milli = numbers(frame, "num_gpu"), numbers(frame, "gpu_milli")
        created, scheduled = numbers(frame, "creation_time"), numbers(frame, "scheduled_time")
        deleted = numbers(frame, "deletion_time")
        phase = frame["pod_phase"]
        state = lookup(phase, OPENB_PHASES)
        censored = (state == "killed") & frame["deletion_time"].isna().to_numpy()
        state = np.where(censored, "censored", state)
        duration = deleted - scheduled
        checks = [
            value_check(frame, "num_gpu", "expected a whole number >= 0", ~((gpus >= 0) & (gpus % 1 == 0))),
            Check("CPU pod (num_gpu 0)", gpus == 0),
            value_check(frame, "gpu_milli", "expected 1 to 1000", ~((milli > 0) & (milli <= 1000)),
                        " (thousandths of a GPU)"),
            value_check(frame, "creation_time", "expected seconds", np.isnan(created)),
            Check("never ran (Pending)", (phase == "Pending").to_numpy()),
            Check("pod_phase: unknown", pd.isna(state),
                  lambda i: f"pod_phase: expected Succeeded, Failed, Running or Pending, "
                            f"got {raw(frame, 'pod_phase', i)!r}"),
            value_check(frame, "scheduled_time", "expected seconds", np.isnan(scheduled)),
            value_check(frame, "deletion_time", "expected seconds", ~censored & np.isnan(deleted)),
            Check("deletion_time before scheduled_time", ~censored & (duration < 0)),
            Check("ran for 0 s", ~censored & (duration == 0)),
        ]
        origin, latest = time_span(created, scheduled, deleted)
        jobs = pd.DataFrame({
            "job_name": frame["name"],
            "submit_s": created - origin,
            "num_gpus": gpus,
            "requested_gpus": gpus * milli / 1000,
            "duration_s": np.where(censored, latest - scheduled, duration),
            "epochs": np.nan,
            "trace_state": state,
            "trace_start_s": scheduled - origin,
        })
        return Parsed(jobs, locate, checks, f"earliest creation_time, {origin:g} s", malformed)


def _first_line(path: Path) -> str:
    try:
        with path.open(encoding="utf-8", errors="replace") as handle:
            return handle.readline().strip()
    except FileNotFoundError:
        raise UserError(f"{path}: trace file not found") from None
    except OSError as err:
        raise UserError(f"{path}: cannot read ({err.strerror})") from None
