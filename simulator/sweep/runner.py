"""A sweep's points as Dask tasks, and their rows kept in ``results.parquet`` as they finish.

Each point is one pure task keyed by its id. A worker that dies mid-task loses no point: the scheduler hands
its tasks to the workers left (up to ``distributed.scheduler.allowed-failures`` deaths per task). Rows are
written only here, on the client, keyed by point id, so a point appears once even if a task ran twice. A point
whose run stops on a user error (:class:`UserError`: the scenario it makes cannot run) is recorded as
``failed`` with the message, since rerunning it would fail the same way; a task that raises anything else (a
bug, or a point that killed worker after worker) is not recorded, so the next run with the same output folder
retries it.
"""

from __future__ import annotations

import logging
import numbers
import os
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
from distributed import Client, LocalCluster, as_completed, get_worker

from simulator.common.atomic import replacing
from simulator.common.errors import UserError
from simulator.run.pipeline import RunResult, simulate
from simulator.sweep.spec import Point, Sweep, build_scenario

CONNECT_TIMEOUT_S = 10
"""How long to try an existing scheduler before saying it cannot be reached."""
RESULTS_FILE = "results.parquet"
ROW_KEYS = ("point_id", "design_id", "status", "error")
"""The first columns of every row; then the axis values, the seed, the metrics, wall seconds and the worker."""


@contextmanager
def dask_client(scheduler: str | None, workers: int | None) -> Iterator[Client]:
    """A Dask client: on ``scheduler`` if given, else on a new local cluster of ``workers`` single-threaded
    processes (default: one per core; a simulation holds the GIL, so processes, not threads)."""
    logging.getLogger("distributed").setLevel(logging.ERROR)  # worker churn is reported by the sweep itself
    if scheduler is not None:
        try:
            client = Client(scheduler, timeout=CONNECT_TIMEOUT_S)
        except (OSError, ValueError, TypeError) as err:
            raise UserError(f"--scheduler {scheduler}: cannot connect ({err}); expected the address a "
                            "`dask scheduler` prints, such as tcp://10.0.0.5:8786") from None
        with client:
            yield client
        return
    with (LocalCluster(n_workers=workers or os.cpu_count() or 1, threads_per_worker=1, processes=True,
                       dashboard_address=None, silence_logs=logging.ERROR) as cluster,
          Client(cluster) as client):
        yield client


def run_point(data: dict, base_dir: str) -> dict:
    """Simulate one point (on a worker) and return its row without the point's own columns.

    A pure function of its inputs apart from ``wall_s`` and ``worker``: a task that runs twice gives the same
    metrics.
    """
    began = time.perf_counter()
    try:
        row = {"status": "ok", "error": None, **metric_row(simulate(build_scenario(data, Path(base_dir))))}
    except UserError as err:
        row = {"status": "failed", "error": str(err)}
    row["wall_s"] = time.perf_counter() - began
    row["worker"] = _worker_address()
    return row


def metric_row(result: RunResult) -> dict:
    """Every scalar metric of a run, then the grid comparison per role: ``baseline_*`` (policy none),
    ``policy_*`` (the scenario's policy) and ``oracle_*`` (where it ran), each with its savings.

    Takes whatever scalar metrics the run has, so a metric added to the simulator appears in sweeps unasked.
    """
    row = {key: _plain(value) for key, value in result.metrics.items() if _is_scalar(value)}
    grid = result.grid
    if grid is None:
        return row
    policy = result.scenario.policy.label  # its column in the comparison, e.g. mpc or mpc+capping
    row["policy"] = policy
    savings = grid.savings()
    for role, name in (("baseline", "none"), ("policy", policy), ("oracle", "oracle")):
        if name in grid.metrics:
            merged = {**grid.metrics[name], **savings.get(name, {})}
            row.update({f"{role}_{key}": _plain(value) for key, value in merged.items() if _is_scalar(value)})
    return row


class Results:
    """``results.parquet``: one row per point id, rewritten in one rename each time rows are added.

    Rewriting the whole file keeps it a single valid Parquet file that any reader (and a rerun) can open at any
    moment; a few thousand rows take milliseconds.
    """

    def __init__(self, path: Path):
        self.path = Path(path)
        self.rows: dict[str, dict] = {}
        if self.path.exists():
            try:
                frame = pd.read_parquet(self.path)
            except (OSError, ValueError) as err:
                raise UserError(f"{self.path}: cannot read earlier results ({err}); move the file away to "
                                "start afresh") from None
            if "point_id" not in frame.columns:
                raise UserError(f"{self.path}: not a sweep's results (no point_id column); use another --out")
            for row in frame.to_dict("records"):
                self.rows.setdefault(row["point_id"], row)

    def add(self, rows: Iterable[dict]) -> int:
        """Record rows whose point is not recorded yet (the first row of a point wins); return how many."""
        new = [row for row in rows if row["point_id"] not in self.rows]
        for row in new:
            self.rows[row["point_id"]] = row
        if new:
            with replacing(self.path) as tmp:
                _tidy(self.frame()).to_parquet(tmp, index=False)
        return len(new)

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(list(self.rows.values()))


def pending(sweep: Sweep, results: Results) -> list[Point]:
    """The sweep's points that have no row yet."""
    return [p for p in sweep.points if p.point_id not in results.rows]


def run_points(sweep: Sweep, points: list[Point], results: Results, client: Client,
               on_batch: Callable[[list[dict], int], None] | None = None) -> list[str]:
    """Run ``points`` on the Dask ``client``, recording each batch of finished points as it comes back;
    ``on_batch(rows, raised)`` hears of each batch.

    Returns one message per point whose task raised (not recorded; a rerun retries it).
    """
    base_dir = str(sweep.base_dir.resolve())
    futures = [client.submit(run_point, p.data, base_dir, key=f"dcsim-point-{p.point_id}", pure=True)
               for p in points]
    by_key = {f.key: p for f, p in zip(futures, points, strict=True)}
    errors = []
    for batch in as_completed(futures).batches():
        rows, errors_before = [], len(errors)
        for future in batch:
            point = by_key[future.key]
            if future.status == "finished":
                rows.append(_row(point, future.result()))
            else:
                reason = future.exception() if future.status == "error" else future.status
                errors.append(f"point {point.point_id} {point.values}: {type(reason).__name__}: {reason}"
                              if isinstance(reason, BaseException) else f"point {point.point_id}: {reason}")
            future.release()
        results.add(rows)
        if on_batch is not None:
            on_batch(rows, len(errors) - errors_before)
    return errors


def _row(point: Point, computed: dict) -> dict:
    row = {"point_id": point.point_id, "design_id": point.design_id, "status": computed["status"],
           "error": computed["error"], **point.values, "seed": point.seed}
    row.update((k, v) for k, v in computed.items() if k not in ROW_KEYS)
    return row


def _is_scalar(value) -> bool:
    return value is None or isinstance(value, (str, bool, numbers.Number))


def _plain(value):
    """numpy scalars as Python ones, so every row builds the same column types."""
    return value.item() if hasattr(value, "item") else value


def _tidy(frame: pd.DataFrame) -> pd.DataFrame:
    """Columns that mix types (an axis that held numbers in an earlier run and text now) as text, which
    Parquet can store; a uniform column is left as it is."""
    for column in frame.columns:
        if not pd.api.types.is_object_dtype(frame[column]):
            continue
        present = frame[column].dropna()
        if len({type(v) for v in present}) > 1:
            frame[column] = [None if pd.isna(v) else str(v) for v in frame[column]]
    return frame


def _worker_address() -> str | None:
    """The Dask worker running this task (None outside one), kept in the row to trace where a point ran."""
    try:
        return get_worker().address
    except ValueError:
        return None
