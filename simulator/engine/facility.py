"""From IT power to facility power: PUE, constant or a curve of IT load and outdoor temperature."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import numpy as np

from simulator.common.errors import UserError
from simulator.config import ConstantPue, CurvePue

HOURS_PER_YEAR = 8760


def read_epw_temperature(path: Path) -> np.ndarray:
    """Hourly dry-bulb temperature (C) of an EnergyPlus weather file: 8,760 values, January 1 first.

    EPW rows follow 8 header lines; column 7 (1-based) is dry-bulb temperature, hours are 1..24 (hour ending).
    """
    try:
        lines = path.read_text(errors="replace").splitlines()
    except OSError as err:
        raise UserError(f"{path}: cannot read weather file ({err.strerror})") from None
    rows = lines[8:]
    if len(rows) < HOURS_PER_YEAR:
        raise UserError(f"{path}: expected 8 header lines and {HOURS_PER_YEAR} hourly rows (EPW), got {len(rows)} rows")
    temps = np.empty(HOURS_PER_YEAR)
    for i, row in enumerate(rows[:HOURS_PER_YEAR]):
        fields = row.split(",")
        try:
            temps[i] = float(fields[6])
        except (IndexError, ValueError):
            raise UserError(f"{path}:{i + 9}: column 7 (dry-bulb temperature): expected a number") from None
    return temps


def outdoor_temperature(hourly: np.ndarray, start: datetime, times_s: np.ndarray) -> np.ndarray:
    """Temperature at ``times_s`` seconds after ``start``, linear between hourly values, wrapping the year.

    A typical-year file has no leap day and no particular year, so only the month, day and time of ``start``
    matter; February 29 reads as February 28.
    """
    day_of_year = datetime(2001, start.month, min(start.day, 28) if start.month == 2 else start.day).timetuple().tm_yday
    hours = (day_of_year - 1) * 24 + start.hour + start.minute / 60 + start.second / 3600 + times_s / 3600
    # the value of hour-ending h describes the hour (h-1, h]; place it at its middle
    position = np.mod(hours - 0.5, HOURS_PER_YEAR)
    low = np.floor(position).astype(np.int64)
    frac = position - low
    return hourly[low] * (1 - frac) + hourly[(low + 1) % HOURS_PER_YEAR] * frac


def facility_power(
    it_w: np.ndarray,
    pue: ConstantPue | CurvePue,
    rated_it_w: float,
    temperature_c: np.ndarray | None = None,
) -> np.ndarray:
    """Facility power (W) for IT power ``it_w``; see :class:`simulator.config.CurvePue` for the curve."""
    if isinstance(pue, ConstantPue):
        return it_w * pue.value
    temp = pue.outdoor_temp_c if temperature_c is None else temperature_c
    cooling = pue.cooling_base + pue.cooling_per_degc * np.maximum(0.0, temp - pue.free_cooling_below_c)
    return it_w * (1 + cooling) + pue.fixed_fraction * rated_it_w
