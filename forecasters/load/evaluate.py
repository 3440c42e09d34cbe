"""Accuracy, size and speed of forecasters on the same held-out origins: the README's forecasting table."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from forecasters.load.base import Forecaster, Windows, windows_of
from forecasters.load.metrics import STEPS, errors, naive_scale
from forecasters.load.series import LoadSeries
from forecasters.load.student import StudentForecaster


def test_windows(models: dict[str, Forecaster], test: LoadSeries | Sequence[LoadSeries]) -> Windows:
    """Origins every model can forecast from: the longest history any of them needs."""
    lookback = max(m.lookback for m in models.values())
    horizon = max(m.horizon for m in models.values())
    return windows_of(test, lookback, horizon)


def latency_us(model: Forecaster, windows: Windows, calls: int = 2000) -> tuple[float, float]:
    """p50 and p99 wall time of one prediction for one origin, in microseconds, on the calling thread.

    One prediction is what a control loop asks for each step: the student's next value
    (:meth:`~forecasters.load.student.StudentForecaster.predict_next`), the other models' H-step forecast.
    """
    one = windows.take(np.array([0]))
    if isinstance(model, StudentForecaster):
        recent, hour = one.history[0, -model.lookback:], float(one.hour[0])
        known = None if one.known is None else float(one.known[0, 0])
        def call():
            return model.predict_next(recent, hour, known)
    else:
        def call():
            return model.predict_windows(one)
    times = np.empty(calls)
    with threadpool_limits(1), _torch_threads(1):
        for _ in range(20):
            call()
        for i in range(calls):
            t0 = time.perf_counter()
            call()
            times[i] = time.perf_counter() - t0
    return float(np.percentile(times, 50) * 1e6), float(np.percentile(times, 99) * 1e6)


@contextmanager
def _torch_threads(n: int) -> Iterator[None]:
    """Latency is measured on one core; torch, when loaded, is held to ``n`` threads too."""
    torch = sys.modules.get("torch")
    previous = torch.get_num_threads() if torch else None
    if torch:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        if torch:
            torch.set_num_threads(previous)


def evaluate(models: dict[str, Forecaster], train: LoadSeries | Sequence[LoadSeries],
             test: LoadSeries | Sequence[LoadSeries], steps: Sequence[int] = STEPS, timing: bool = True,
             ) -> pd.DataFrame:
    """One row per model: errors at ``steps``, parameters, bytes, latency (p50, p99) and batched throughput."""
    windows = test_windows(models, test)
    scale = naive_scale(train)
    rows = []
    for name, model in models.items():
        t0 = time.perf_counter()
        predicted = model.predict_windows(windows)
        batch_s = time.perf_counter() - t0
        row = {"model": name, **errors(windows.target, predicted, scale, steps),
               "parameters": model.num_parameters(), "bytes": model.size_bytes()}
        if timing:
            p50, p99 = latency_us(model, windows)
            row.update({"latency_p50_us": p50, "latency_p99_us": p99,
                        "predictions_per_s": len(windows) / batch_s})
        rows.append(row)
    return pd.DataFrame(rows).set_index("model")
