"""What a GPU power cap does to a job's square wave, learned from the Zeus power-limit sweeps.

Zeus trained six workloads on A40 and V100 at every power limit from 100 W up in 25 W steps. For each
(GPU, workload, batch size) the run at the highest limit is the uncapped draw P0 and time T0; every other
run gives, at the cap ratio x = limit / P0, the power ratio P / P0 and the time ratio T / T0. Binned medians
over all of them are the curves: a cap at or above the draw changes nothing; below it, the peak draws less and
lasts longer. Zeus measured epoch averages; they stand for the peak here, which dominates an epoch. The valley,
already below any sensible cap, keeps its power and length (it cannot exceed the cap).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

from simulator.common.atomic import write_text_atomic

CURVE_FILE = Path(__file__).with_name("models") / "capping_zeus.json"
BIN_EDGES = (0.3, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 1.0, 1.05, 1.1, 1.2)
"""Cap ratios binned; a cap up to ~15 % above the average draw still clips the fluctuations above it."""
SWEEP_KEY = ["gpu", "dataset", "network", "batch_size", "optimizer"]


@dataclass(frozen=True)
class CappingCurve:
    """Power and time ratios of the capped peak against the cap ratio x = cap / uncapped peak power."""

    cap_ratio: tuple[float, ...]
    power_ratio: tuple[float, ...]
    time_ratio: tuple[float, ...]
    source: str

    @classmethod
    def fit(cls, sweeps: pd.DataFrame, source: str) -> CappingCurve:
        """Binned medians over sweeps with columns gpu, dataset, network, batch_size, optimizer, power_limit,
        average_power, time_per_epoch; forced monotone (a tighter cap never draws more or runs faster)."""
        sweeps = sweeps.reset_index(drop=True)  # rows are picked by label below; frames from several files repeat them
        top = sweeps.loc[sweeps.groupby(SWEEP_KEY)["power_limit"].idxmax(), [*SWEEP_KEY, "average_power",
                                                                               "time_per_epoch"]]
        merged = sweeps.merge(top, on=SWEEP_KEY, suffixes=("", "_uncapped"))
        x = merged["power_limit"] / merged["average_power_uncapped"]
        bins = pd.cut(x, BIN_EDGES)
        grouped = pd.DataFrame({
            "x": x,
            "power": merged["average_power"] / merged["average_power_uncapped"],
            "time": merged["time_per_epoch"] / merged["time_per_epoch_uncapped"],
        }).groupby(bins, observed=True).median()
        # the curve ends at the top edge with no effect; power only rises and time only falls as the cap loosens
        cap = np.append(grouped["x"].to_numpy(), BIN_EDGES[-1])
        power = np.maximum.accumulate(np.minimum(np.append(grouped["power"].to_numpy(), 1.0), 1.0))
        time = np.maximum.accumulate(np.maximum(np.append(grouped["time"].to_numpy(), 1.0), 1.0)[::-1])[::-1]
        return cls(tuple(cap.round(4)), tuple(power.round(4)), tuple(time.round(4)), source)

    def apply(self, waves: pd.DataFrame, limit_w: np.ndarray) -> pd.DataFrame:
        """The capped waves; rows with no limit (NaN) or a limit well above their peak are unchanged."""
        out = waves.copy()
        peak = waves["peak_power_w"].to_numpy(float)
        limit = np.asarray(limit_w, dtype=float)
        ratio = np.divide(limit, peak, out=np.full_like(peak, np.inf), where=np.isfinite(limit))
        capped = ratio < self.cap_ratio[-1]
        x = ratio[capped]
        # below the measured range the curve is held at its last point: Zeus never capped below ~0.4 of the draw
        out.loc[capped, "peak_power_w"] = peak[capped] * np.interp(x, self.cap_ratio, self.power_ratio)
        out.loc[capped, "peak_duration_s"] = waves["peak_duration_s"].to_numpy(float)[capped] * np.interp(
            x, self.cap_ratio, self.time_ratio)
        out["valley_power_w"] = np.where(np.isfinite(limit), np.minimum(waves["valley_power_w"], limit),
                                         waves["valley_power_w"])
        return out

    def save(self, path: Path) -> None:
        write_text_atomic(path, json.dumps(asdict(self), indent=2) + "\n")

    @classmethod
    def load(cls, path: Path) -> CappingCurve:
        data = json.loads(path.read_text())
        return cls(tuple(data["cap_ratio"]), tuple(data["power_ratio"]), tuple(data["time_ratio"]), data["source"])


@cache
def default_curve() -> CappingCurve:
    """The curve fitted from data/zeus that ships with the package (refit: ``dcsim power capping``)."""
    return CappingCurve.load(CURVE_FILE)
