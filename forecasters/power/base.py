"""The one interface every job power model implements, so the simulator can take any of them."""

from __future__ import annotations

from abc import ABC, abstractmethod

import pandas as pd

from simulator.jobs import WAVE_COLUMNS


class PowerModel(ABC):
    """Predicts the per-GPU square wave of each job from its metadata, in the scikit-learn style.

    ``predict`` takes a frame with the metadata columns of :data:`simulator.jobs.METADATA_COLUMNS` (one row a
    job) and returns a frame with :data:`simulator.jobs.WAVE_COLUMNS` on the same index. Vectorised over rows
    because a year-long scenario has hundreds of thousands of jobs.
    """

    @abstractmethod
    def predict(self, jobs: pd.DataFrame) -> pd.DataFrame:
        """Square wave per job: peak and valley power (W per GPU) and durations (s)."""

    @abstractmethod
    def get_params(self, deep: bool = True) -> dict:
        """The model's settings, as scikit-learn estimators report them."""

    @staticmethod
    def _frame(index: pd.Index, peak_w, peak_s, valley_w, valley_s) -> pd.DataFrame:
        return pd.DataFrame(dict(zip(WAVE_COLUMNS, (peak_w, peak_s, valley_w, valley_s), strict=True)), index=index)
