"""Short-term load forecasting: a TCN teacher, a point-wise MLP student distilled from it, and baselines.

Every forecaster saves to a folder (``config.json`` + ``weights.npz``); :func:`load_forecaster` reads any of
them back. The student needs only numpy; the teacher and the recurrent baselines need torch (imported where
they train or run, so that a scenario using the student runs without it).

May import :mod:`simulator.common` only (never the simulator above it; checked by import-linter).
"""

from forecasters.load.base import Forecaster, Windows, make_windows, windows_of
from forecasters.load.saved import load_forecaster
from forecasters.load.series import LoadSeries

__all__ = ["Forecaster", "LoadSeries", "Windows", "load_forecaster", "make_windows", "windows_of"]
