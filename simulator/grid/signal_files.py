"""Grid signal files for a site: energy prices, carbon intensity, a solar shape, and time-of-use prices.

Measured signals come as hourly CSV files (see ``data/grid/SOURCE.txt``) and are returned as pandas Series on a
UTC index, so that files written in different conventions (naive UTC, local time with offsets) line up with
each other and with a scenario's clock. :func:`at_times` samples such a series at simulation times.

Readers raise :class:`simulator.common.errors.UserError` naming the file, the line (the header is line 1) and the
column, because these files are written or chosen by users; misuse by calling code raises ``ValueError``.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import numpy as np
import pandas as pd

from simulator.common.errors import UserError

PRICE_LAYOUTS = (("Datetime", "Price (USD/MWh)"), ("time", "usd_per_mwh"))
"""(time column, value column) pairs: sustain-cluster processed prices, then the generic layout."""

EIA_TIME = "timestamp"
"""Time column of the EIA fuel-mix file (dc-rl ``CISO_NG_&_avgCI.csv``)."""

CARBON_KINDS = ("direct", "LCA")
"""Electricity Maps publishes direct (combustion) and life-cycle intensity; ``kind`` picks one."""

TIME_EXAMPLE = "2023-01-01 00:00:00 (UTC) or 2023-01-01 00:00:00-06:00"


def read_price_csv(path: Path) -> pd.Series:
    """Hourly energy price (USD/MWh) on a sorted UTC index, named ``usd_per_mwh``.

    Layouts: ``Datetime,Price (USD/MWh)`` (sustain-cluster processed prices: CAISO with naive UTC times,
    ERCOT with local times carrying their UTC offset) or ``time,usd_per_mwh``. Times without an offset are
    UTC; times with one are converted. Negative prices are kept: markets clear below zero when renewable
    output is high, and that is a signal to consume. A time given twice is an error rather than a silent
    choice, since the two rows may disagree.
    """
    frame = _read_table(path, "hourly prices")
    time_col, value_col = _pick_layout(frame, path, PRICE_LAYOUTS)
    times = _parse_times(frame, time_col, path)
    values = _parse_numbers(frame, value_col, path)
    return pd.Series(values, index=times, name="usd_per_mwh").sort_index(kind="stable")


def read_carbon_csv(path: Path, kind: str = "direct") -> pd.Series:
    """Grid carbon intensity (gCO2/kWh, >= 0) on a sorted UTC index, named ``g_per_kwh``.

    Layouts:

    - Electricity Maps exports: ``Datetime (UTC)`` and ``Carbon Intensity gCO₂eq/kWh (direct)`` or ``(LCA)``,
      chosen by ``kind`` ("direct" or "LCA"); ``gCO2eq`` spelled with a plain 2 is accepted too;
    - the EIA fuel-mix file: ``timestamp`` and ``avg_CI``. Its empty cells (hours the EIA did not report) are
      filled by linear interpolation in time between the neighbouring hours, and empty cells at either end
      take the nearest value, so that a simulation never meets a hole;
    - generic: ``time,g_per_kwh``.

    The EIA and generic layouts have a single intensity column, which is returned whatever ``kind`` says.
    """
    if kind not in CARBON_KINDS:
        raise ValueError(f"kind must be one of {CARBON_KINDS}, got {kind!r}")
    layouts = (
        ("Datetime (UTC)", f"Carbon Intensity gCO₂eq/kWh ({kind})"),
        (EIA_TIME, "avg_CI"),
        ("time", "g_per_kwh"),
    )
    frame = _read_table(path, "hourly carbon intensity")
    time_col, value_col = _pick_layout(frame, path, layouts)
    times = _parse_times(frame, time_col, path)
    eia = time_col == EIA_TIME
    values = _parse_numbers(frame, value_col, path, minimum=0.0, allow_empty=eia)
    series = pd.Series(values, index=times, name="g_per_kwh").sort_index(kind="stable")
    return _fill_gaps(series, path, value_col) if eia else series


def read_solar_profile(path: Path) -> pd.Series:
    """Per-unit solar output (0..1) on a sorted UTC index, named ``solar_per_unit``.

    Read from the ``SUN`` column (MW) of the EIA fuel-mix file and divided by its maximum, this is the shape of
    CAISO-wide solar generation over the year, clouds and seasons included; multiply by a site's rated solar
    kW to get its output. Empty cells are hours the EIA did not report, not hours without sun (two of the three
    in the shipped file are late mornings), so they are interpolated in time like the carbon intensity.
    """
    frame = _read_table(path, "hourly generation by fuel")
    time_col, value_col = _pick_layout(frame, path, ((EIA_TIME, "SUN"),))
    times = _parse_times(frame, time_col, path)
    values = _parse_numbers(frame, value_col, path, minimum=0.0, allow_empty=True)
    series = _fill_gaps(pd.Series(values, index=times).sort_index(kind="stable"), path, value_col)
    peak = series.max()
    if peak <= 0:
        raise UserError(f"{path}: {value_col}: expected some solar output, every value is 0")
    return (series / peak).rename("solar_per_unit")


def at_times(series: pd.Series, times: pd.DatetimeIndex) -> np.ndarray:
    """Value of a step signal at each of ``times``: the last sample at or before each time.

    Hourly market prices are settled per hour, so a price holds until the next sample (step-hold, no
    interpolation). ``series`` has a UTC index (as the readers return); ``times`` must be tz-aware, in any time
    zone.

    Times outside the series' span (first sample to one sample spacing after the last) are mapped into a
    "typical year": the calendar year (UTC) holding most of the series' samples, keeping the UTC month, day and
    time of day, February 29 reading as February 28. So a 2023 price series serves a 2024 scenario. Weekdays
    and daylight-saving dates do not line up across years; the mapping keeps the season and the hour. A mapped
    time before the series' first sample takes the first sample.
    """
    if not isinstance(series.index, pd.DatetimeIndex) or series.index.tz is None or series.empty:
        raise ValueError("series needs a non-empty tz-aware DatetimeIndex (as the grid_signals readers return)")
    if times.tz is None:
        raise ValueError("times must be tz-aware, e.g. times.tz_localize('America/Los_Angeles')")
    index = series.index.tz_convert("UTC").as_unit("ns")
    if not index.is_monotonic_increasing:
        raise ValueError("series index must be sorted")
    utc = times.tz_convert("UTC").as_unit("ns")
    spacing = index[-1] - index[-2] if len(index) > 1 else pd.Timedelta(0)
    outside = np.asarray((utc < index[0]) | (utc >= index[-1] + spacing))
    wanted = utc.tz_localize(None).to_numpy().copy()
    if outside.any():
        year = int(pd.Series(index.year).mode().iloc[0])
        wanted[outside] = _into_year(utc[outside], year).tz_localize(None).to_numpy()
    positions = np.maximum(np.searchsorted(index.tz_localize(None).to_numpy(), wanted, side="right") - 1, 0)
    return series.to_numpy(dtype=float)[positions]


@dataclass(frozen=True)
class TimeOfUse:
    """A time-of-use energy tariff: prices by local hour of day, for sites billed on a utility tariff.

    ``periods`` are (start_hour, end_hour, usd_per_mwh) in local wall-clock hours, start inclusive, end
    exclusive, not overlapping; hours outside every period pay ``default_usd_per_mwh``. When ``weekdays_only``,
    periods apply Monday to Friday and weekends pay the default, as in most commercial tariffs. Holidays are not
    modelled.
    """

    periods: tuple[tuple[float, float, float], ...]
    default_usd_per_mwh: float
    weekdays_only: bool = True

    def __post_init__(self) -> None:
        periods = tuple(tuple(float(x) for x in period) for period in self.periods)
        for period in periods:
            if len(period) != 3:
                raise ValueError(f"each period is (start_hour, end_hour, usd_per_mwh), got {period}")
            start, end, _ = period
            if not 0 <= start < end <= 24:
                raise ValueError(f"period hours must satisfy 0 <= start < end <= 24, got {start}..{end}")
        ordered = sorted(periods)
        for before, after in pairwise(ordered):
            if after[0] < before[1]:
                raise ValueError(f"periods overlap: {before[0]}..{before[1]} and {after[0]}..{after[1]}")
        object.__setattr__(self, "periods", periods)  # lists from YAML become hashable tuples

    def prices(self, times_local: pd.DatetimeIndex) -> np.ndarray:
        """Price (USD/MWh) at each time, read from its wall clock (naive, or tz-aware in the tariff's zone)."""
        hour = times_local.hour + times_local.minute / 60 + times_local.second / 3600
        hour = np.asarray(hour, dtype=float)
        applies = np.asarray(times_local.day_of_week < 5) if self.weekdays_only else np.ones(len(hour), dtype=bool)
        out = np.full(len(hour), float(self.default_usd_per_mwh))
        for start, end, price in self.periods:
            out[applies & (hour >= start) & (hour < end)] = price
        return out


def _into_year(utc: pd.DatetimeIndex, year: int) -> pd.DatetimeIndex:
    """The same UTC month, day and time of day in ``year``; February 29 becomes February 28 in a common year."""
    day = np.where((utc.month == 2) & (utc.day == 29) & (not calendar.isleap(year)), 28, utc.day)
    dates = pd.to_datetime(pd.DataFrame({"year": year, "month": utc.month, "day": day})).dt.tz_localize("UTC")
    return pd.DatetimeIndex(dates).as_unit("ns") + (utc - utc.normalize())


def _read_table(path: Path, what: str) -> pd.DataFrame:
    """All cells as text; blank lines are dropped but keep their place, so row label ``i`` is line ``i + 2``."""
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, skip_blank_lines=False, encoding="utf-8-sig")
    except FileNotFoundError:
        raise UserError(f"{path}: file not found (expected a CSV of {what})") from None
    except pd.errors.EmptyDataError:
        raise UserError(f"{path}: empty file (expected a header line, then rows of {what})") from None
    except (OSError, UnicodeDecodeError, pd.errors.ParserError) as err:
        raise UserError(f"{path}: cannot read as CSV ({str(err).splitlines()[0]})") from None
    frame.columns = [str(name).strip() for name in frame.columns]
    frame = frame[~(frame == "").all(axis=1)]
    if frame.empty:
        raise UserError(f"{path}: no data rows (expected a header line, then rows of {what})")
    return frame


def _pick_layout(frame: pd.DataFrame, path: Path, layouts: tuple[tuple[str, str], ...]) -> tuple[str, str]:
    """The first (time, value) column pair the file has, by its own column names."""
    names = {_plain(name): name for name in frame.columns}
    for time_col, value_col in layouts:
        if _plain(time_col) in names and _plain(value_col) in names:
            return names[_plain(time_col)], names[_plain(value_col)]
    expected = " or ".join(f"'{t}' and '{v}'" for t, v in layouts)
    got = ", ".join(repr(name) for name in frame.columns)
    raise UserError(f"{path}:1: expected columns {expected} (got {got})")


def _plain(name: str) -> str:
    """Column name for matching: Electricity Maps writes gCO₂eq with a subscript two, other tools a plain 2."""
    return name.strip().replace("₂", "2")


def _parse_times(frame: pd.DataFrame, col: str, path: Path) -> pd.DatetimeIndex:
    """ISO times to UTC (naive ones are UTC); a bad or repeated time names its line."""
    text = frame[col]
    parsed = pd.to_datetime(text, format="ISO8601", utc=True, errors="coerce")
    if parsed.isna().any():
        label = parsed.isna().idxmax()
        raise UserError(f"{path}:{label + 2}: {col}: expected a time like {TIME_EXAMPLE} (got {text.loc[label]!r})")
    times = pd.DatetimeIndex(parsed).as_unit("ns")
    repeated = times.duplicated()
    if repeated.any():
        pos = int(np.argmax(repeated))
        first = int(np.argmax(times == times[pos]))
        line, first_line = frame.index[pos] + 2, frame.index[first] + 2
        raise UserError(f"{path}:{line}: {col}: time {times[pos]} repeats line {first_line}")
    return times


def _parse_numbers(
    frame: pd.DataFrame, col: str, path: Path, minimum: float | None = None, allow_empty: bool = False
) -> np.ndarray:
    """Finite numbers (NaN for empty cells when ``allow_empty``); a bad cell names its line and column."""
    text = frame[col].str.strip()
    values = pd.to_numeric(text, errors="coerce").to_numpy(dtype=float)
    empty = (text == "").to_numpy()
    bad = ~np.isfinite(values) & ~(empty & allow_empty)
    if bad.any():
        pos = int(np.argmax(bad))
        got = "an empty cell" if empty[pos] else repr(text.iloc[pos])
        raise UserError(f"{path}:{frame.index[pos] + 2}: {col}: expected a number (got {got})")
    if minimum is not None and (values < minimum).any():
        pos = int(np.argmax(values < minimum))
        line = frame.index[pos] + 2
        raise UserError(f"{path}:{line}: {col}: expected a number >= {minimum:g} (got {text.iloc[pos]!r})")
    return values


def _fill_gaps(series: pd.Series, path: Path, col: str) -> pd.Series:
    """Empty cells filled linearly in time between neighbours; the ends take the nearest value."""
    if series.isna().all():
        raise UserError(f"{path}: {col}: every cell is empty")
    return series.interpolate(method="time", limit_direction="both")
