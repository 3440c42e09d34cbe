"""Training jobs and their square-wave power.

A data-parallel training job alternates a long compute *peak* with a short *valley* between epochs
(checkpointing, evaluation, data-loader restart). All GPUs of the job are in phase, so one wave per job,
times its GPU count, is the job's power. The wave starts with a peak at the job's start and is cut wherever
the job ends, so a job may end mid-epoch (``epochs`` is fractional).

Everything here is vectorised over jobs: the simulator never steps through epochs one event at a time.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

WAVE_COLUMNS = ("peak_power_w", "peak_duration_s", "valley_power_w", "valley_duration_s")
"""The four numbers of a square wave, per GPU; the columns every power model predicts."""

METADATA_COLUMNS = (
    "model",
    "params",
    "flops_per_sample",
    "batch_size",
    "image_size",
    "dataset_size",
    "epochs",
    "num_gpus",
    "num_workers",
    "gpu",
)
"""What is known about a job before it runs: the inputs of every power model."""


@dataclass(frozen=True)
class SquareWave:
    """One GPU's power over one job: peak then valley, repeated."""

    peak_power_w: float
    peak_duration_s: float
    valley_power_w: float
    valley_duration_s: float

    @property
    def period_s(self) -> float:
        return self.peak_duration_s + self.valley_duration_s

    @property
    def mean_power_w(self) -> float:
        return (
            self.peak_power_w * self.peak_duration_s + self.valley_power_w * self.valley_duration_s
        ) / self.period_s

    def power_at(self, t: np.ndarray | float) -> np.ndarray:
        """Power at time ``t`` seconds after the job started (peak phase includes its start)."""
        phase = np.mod(np.asarray(t, dtype=float), self.period_s)
        return np.where(phase < self.peak_duration_s, self.peak_power_w, self.valley_power_w)

    def energy_until(self, t: np.ndarray | float) -> np.ndarray:
        """Energy in joules from the job's start to ``t`` seconds after it."""
        return wave_energy(
            np.asarray(t, dtype=float),
            self.peak_power_w,
            self.peak_duration_s,
            self.valley_power_w,
            self.valley_duration_s,
        )


def wave_energy(
    tau: np.ndarray,
    peak_w: np.ndarray | float,
    peak_s: np.ndarray | float,
    valley_w: np.ndarray | float,
    valley_s: np.ndarray | float,
) -> np.ndarray:
    """Per-GPU energy (J) of square waves from their start to ``tau`` seconds in; closed form, any shape.

    The time spent in peaks up to ``tau`` is whole periods' peaks plus the part of the current period that
    is still peak; the rest of ``tau`` is valley.
    """
    tau = np.maximum(tau, 0.0)
    period = np.add(peak_s, valley_s)
    whole, phase = np.divmod(tau, period)
    peak_time = whole * peak_s + np.minimum(phase, peak_s)
    return valley_w * tau + np.subtract(peak_w, valley_w) * peak_time


def submitted_in_window(jobs: pd.DataFrame, duration_s: float) -> pd.Series:
    """The jobs whose waits a run reports: submitted in the metered window (warm-up jobs are not)."""
    return jobs["submit_s"].between(0, duration_s, inclusive="left")
