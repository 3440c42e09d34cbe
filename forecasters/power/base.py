"""The one interface every job power model implements, so the simulator can take any of them."""

from __future__ import annotations

from abc import ABC, abstractmethod

import pandas as pd

from forecasters.power.capping import default_curve
from simulator.common.jobs import WAVE_COLUMNS


class PowerModel(ABC):
    """Predicts the per-GPU square wave of each job from its metadata, in the scikit-learn style.

    ``predict`` takes a frame with the metadata columns of :data:`simulator.common.jobs.METADATA_COLUMNS` (one row a
    job) and returns a frame with the model's targets (the four :data:`simulator.common.jobs.WAVE_COLUMNS` for a model
    the simulator uses) on the same index. Vectorised over rows: a year-long scenario has ~10^6 jobs.

    Power capping: where ``jobs`` has a ``power_limit`` column (W per GPU; NaN for none), the predicted wave is
    capped with the curve learned from the Zeus power-limit sweeps (:mod:`forecasters.power.capping`), unless
    the model itself already takes the power limit as an input (:meth:`models_power_limit`).
    """

    @abstractmethod
    def _predict_uncapped(self, jobs: pd.DataFrame) -> pd.DataFrame:
        """The model's targets per job, as if no power limit were set."""

    @abstractmethod
    def get_params(self, deep: bool = True) -> dict:
        """The model's settings, as scikit-learn estimators report them."""

    def models_power_limit(self) -> bool:
        """Whether predictions already depend on ``power_limit`` (then no capping curve is applied)."""
        return False

    def predict(self, jobs: pd.DataFrame) -> pd.DataFrame:
        waves = self._predict_uncapped(jobs)
        if "power_limit" in jobs.columns and set(WAVE_COLUMNS) <= set(waves.columns) and not self.models_power_limit():
            waves = default_curve().apply(waves, jobs["power_limit"].to_numpy(float))
        return waves

    @staticmethod
    def _frame(index: pd.Index, peak_w, peak_s, valley_w, valley_s) -> pd.DataFrame:
        return pd.DataFrame(dict(zip(WAVE_COLUMNS, (peak_w, peak_s, valley_w, valley_s), strict=True)), index=index)
