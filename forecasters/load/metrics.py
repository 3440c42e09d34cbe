"""Point-forecast errors at chosen steps ahead: MAE, RMSE, MAPE and MASE.

MASE divides the MAE by the in-sample MAE of the one-step naive forecast on the training series (Hyndman and
Koehler, 2006), so 1.0 means "as good as persistence was on the data the model learned from".
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from forecasters.load.series import LoadSeries

STEPS = (1, 5, 15)


def naive_scale(train: LoadSeries | Sequence[LoadSeries]) -> float:
    many = [train] if isinstance(train, LoadSeries) else list(train)
    return float(np.mean(np.concatenate([np.abs(np.diff(s.values)) for s in many])))


def errors(truth: np.ndarray, predicted: np.ndarray, scale: float, steps: Sequence[int] = STEPS) -> dict:
    """``{"mae@1": ..., "rmse@1": ..., "mape@1": ..., "mase@1": ..., ...}`` for (N, H) arrays; MAPE in %."""
    out = {}
    for k in steps:
        e = predicted[:, k - 1] - truth[:, k - 1]
        mae = float(np.mean(np.abs(e)))
        out[f"mae@{k}"] = mae
        out[f"rmse@{k}"] = float(np.sqrt(np.mean(e**2)))
        out[f"mape@{k}"] = float(100 * np.mean(np.abs(e) / np.abs(truth[:, k - 1])))
        out[f"mase@{k}"] = mae / scale
    return out
