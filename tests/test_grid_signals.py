"""Grid signals: the shipped price, carbon and solar files read to UTC; step-hold sampling; tariffs; demand peaks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from simulator.common.errors import UserError
from simulator.grid.billing import demand_charge_peaks
from simulator.grid.signal_files import (
    TimeOfUse,
    at_times,
    read_carbon_csv,
    read_price_csv,
    read_solar_profile,
)
from tests.conftest import ROOT

GRID = ROOT / "data" / "grid"
EIA = GRID / "CISO_NG_avgCI.csv"
EIA_GAPS = pd.DatetimeIndex(["2022-01-05 10:00", "2022-05-17 18:00", "2022-06-13 18:00"], tz="UTC")


@pytest.fixture(scope="module")
def caiso_prices() -> pd.Series:
    return read_price_csv(GRID / "US-CAL-CISO_electricity_prices_2023_processed.csv")


@pytest.fixture(scope="module")
def ercot_prices() -> pd.Series:
    return read_price_csv(GRID / "US-TEX-ERCO_electricity_prices_2023_processed.csv")


@pytest.fixture(scope="module")
def solar() -> pd.Series:
    return read_solar_profile(EIA)


def hourly(values, start="2023-01-01 00:00") -> pd.Series:
    return pd.Series(values, index=pd.date_range(start, periods=len(values), freq="h", tz="UTC"), dtype=float)


def write(tmp_path, text: str, name: str = "prices.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


# --- shipped files ------------------------------------------------------------------------------------------------


def test_caiso_prices_are_utc_sorted_and_complete(caiso_prices):
    assert len(caiso_prices) == 8784
    assert str(caiso_prices.index.tz) == "UTC"
    assert caiso_prices.index.is_monotonic_increasing
    assert caiso_prices.name == "usd_per_mwh"
    # naive times are UTC: the first row is 2022-12-31 08:00 UTC, midnight Pacific
    assert caiso_prices.index[0] == pd.Timestamp("2022-12-31 08:00", tz="UTC")
    assert caiso_prices.iloc[0] == pytest.approx(110.77982)
    assert (caiso_prices < 0).any(), "negative market prices are kept"


def test_ercot_offsets_convert_to_utc(ercot_prices):
    assert len(ercot_prices) == 8760
    assert str(ercot_prices.index.tz) == "UTC"
    assert ercot_prices.index.is_monotonic_increasing
    assert ercot_prices.index[0] == pd.Timestamp("2023-01-01 00:00-06:00") == pd.Timestamp("2023-01-01 06:00", tz="UTC")
    assert ercot_prices.iloc[0] == pytest.approx(10.42)
    assert ercot_prices.max() == pytest.approx(4191.7, abs=0.05)
    # hourly throughout in UTC, across both daylight-saving changes
    assert (np.diff(ercot_prices.index.asi8) == np.diff(ercot_prices.index.asi8)[0]).all()


def test_electricity_maps_carbon_direct_and_lca():
    path = GRID / "US-CAL-CISO_carbon_intensity_2023_hourly.csv"
    direct, lca = read_carbon_csv(path), read_carbon_csv(path, kind="LCA")
    assert len(direct) == len(lca) == 8760
    assert direct.name == "g_per_kwh" and str(direct.index.tz) == "UTC"
    assert direct.index[0] == pd.Timestamp("2023-01-01 00:00", tz="UTC")
    assert (direct >= 0).all()
    assert direct.iloc[0] == pytest.approx(238.69) and lca.iloc[0] == pytest.approx(309.75)
    assert (lca > direct).mean() > 0.99, "life-cycle intensity includes the direct emissions"


def test_eia_carbon_gaps_are_interpolated_between_neighbours():
    ci = read_carbon_csv(EIA)
    assert len(ci) == 8760 and not ci.isna().any()
    hour = pd.Timedelta(hours=1)
    for gap in EIA_GAPS:
        before, after = ci[gap - hour], ci[gap + hour]
        assert min(before, after) <= ci[gap] <= max(before, after)
        assert ci[gap] == pytest.approx((before + after) / 2)  # linear in time, one hour each side


def test_solar_profile_shape(solar):
    assert solar.name == "solar_per_unit" and str(solar.index.tz) == "UTC"
    assert solar.between(0, 1).all() and solar.max() == 1.0
    midnight = solar[solar.index.tz_convert("America/Los_Angeles").hour == 0]
    assert len(midnight) == 365
    assert (midnight == 0).mean() > 0.75
    assert midnight.max() < 0.02  # the few non-zero night values are small
    # the file's missing 2022-05-17 18:00 UTC is 11:00 local, mid-morning sun: filled from its neighbours, not 0
    assert solar[EIA_GAPS[1]] > 0.5


def test_carbon_kind_is_checked():
    with pytest.raises(ValueError, match="kind"):
        read_carbon_csv(EIA, kind="lifecycle")


# --- at_times -----------------------------------------------------------------------------------------------------


def test_at_times_holds_each_hour_and_converts_time_zones():
    series = hourly([10.0, 20.0, 30.0])
    times = pd.DatetimeIndex(["2023-01-01 00:00", "2023-01-01 00:30", "2023-01-01 01:59", "2023-01-01 02:00"], tz="UTC")
    assert at_times(series, times).tolist() == [10.0, 10.0, 20.0, 30.0]
    # 2022-12-31 17:30 in Los Angeles (UTC-8) is 2023-01-01 01:30 UTC
    local = pd.DatetimeIndex([pd.Timestamp("2022-12-31 17:30", tz="America/Los_Angeles")])
    assert at_times(series, local).tolist() == [20.0]


def test_at_times_maps_other_years_into_the_series_year(caiso_prices, ercot_prices):
    times = pd.DatetimeIndex(["2024-07-15 19:30", "2025-03-02 04:00"], tz="UTC")
    expected = [caiso_prices[pd.Timestamp(t, tz="UTC")] for t in ["2023-07-15 19:00", "2023-03-02 04:00"]]
    assert at_times(caiso_prices, times).tolist() == expected
    # CAISO's file runs to 2024-01-01 07:00 UTC: a time inside that last day is read as is, not mapped
    new_year = pd.DatetimeIndex(["2024-01-01 03:00"], tz="UTC")
    assert at_times(caiso_prices, new_year).tolist() == [pytest.approx(50.05301)]
    # a 2022 time before ERCOT's first sample maps to 2023-01-01 03:00 UTC, still before it: first sample
    early = pd.DatetimeIndex(["2022-01-01 03:00"], tz="UTC")
    assert at_times(ercot_prices, early).tolist() == [pytest.approx(10.42)]


def test_at_times_keeps_times_inside_the_span_and_reads_feb_29_as_feb_28():
    series = hourly(np.arange(24 * 365), start="2023-01-01 00:00")
    inside = pd.DatetimeIndex(["2023-12-31 23:30"], tz="UTC")  # within the last sample's hour
    assert at_times(series, inside).tolist() == [24 * 365 - 1]
    leap = pd.DatetimeIndex(["2024-02-29 05:00", "2024-03-01 05:00"], tz="UTC")
    feb28, mar1 = (31 + 27) * 24 + 5, (31 + 28) * 24 + 5
    assert at_times(series, leap).tolist() == [feb28, mar1]


def test_at_times_rejects_naive_times():
    with pytest.raises(ValueError, match="tz-aware"):
        at_times(hourly([1.0]), pd.DatetimeIndex(["2023-01-01"]))


# --- time of use --------------------------------------------------------------------------------------------------


def test_time_of_use_peak_on_weekdays_only():
    tou = TimeOfUse(periods=((16, 21, 300.0),), default_usd_per_mwh=100.0)
    wednesday = pd.date_range("2023-06-07 15:00", periods=7, freq="h", tz="America/Los_Angeles")  # 15..21
    assert tou.prices(wednesday).tolist() == [100.0, 300.0, 300.0, 300.0, 300.0, 300.0, 100.0]
    saturday = pd.date_range("2023-06-10 16:00", periods=5, freq="h", tz="America/Los_Angeles")
    assert tou.prices(saturday).tolist() == [100.0] * 5
    every_day = TimeOfUse(periods=((16, 21, 300.0),), default_usd_per_mwh=100.0, weekdays_only=False)
    assert every_day.prices(saturday).tolist() == [300.0] * 5


def test_time_of_use_uses_fractional_hours_and_validates():
    tou = TimeOfUse(periods=[[8.5, 12, 50.0]], default_usd_per_mwh=20.0, weekdays_only=False)
    times = pd.DatetimeIndex(["2023-06-10 08:29", "2023-06-10 08:30", "2023-06-10 11:59", "2023-06-10 12:00"])
    assert tou.prices(times).tolist() == [20.0, 50.0, 50.0, 20.0]
    assert hash(tou) == hash(TimeOfUse(((8.5, 12.0, 50.0),), 20.0, False))
    for bad in [((21, 16, 1.0),), ((-1, 5, 1.0),), ((20, 25, 1.0),), ((1, 5, 1.0), (4, 8, 2.0))]:
        with pytest.raises(ValueError):
            TimeOfUse(periods=bad, default_usd_per_mwh=0.0)


# --- demand charges -----------------------------------------------------------------------------------------------


def minutes(start: str, n: int, step_s: int = 60, tz: str = "UTC") -> pd.DatetimeIndex:
    return pd.date_range(start, periods=n, freq=pd.Timedelta(seconds=step_s), tz=tz)


def test_constant_import_peaks_at_the_constant():
    times = minutes("2023-03-01", 24 * 60)
    peaks = demand_charge_peaks(np.full(len(times), 500.0), times)
    assert peaks["month"].tolist() == ["2023-03"]
    assert peaks["peak_kw"].tolist() == [pytest.approx(500.0)]
    assert peaks["peak_start"].iloc[0] == times[0], "ties go to the earliest window"


def test_a_block_at_double_load_is_the_peak():
    times = minutes("2023-03-01", 31 * 24 * 60)
    kw = np.full(len(times), 100.0)
    block = (times >= pd.Timestamp("2023-03-14 13:15", tz="UTC")) & (times < pd.Timestamp("2023-03-14 13:30", tz="UTC"))
    kw[block] = 200.0
    peaks = demand_charge_peaks(kw, times)
    assert peaks["peak_kw"].tolist() == [pytest.approx(200.0)]
    assert peaks["peak_start"].iloc[0] == pd.Timestamp("2023-03-14 13:15", tz="UTC")


def test_a_five_minute_spike_counts_one_third():
    times = minutes("2023-03-01", 24 * 12, step_s=300)
    kw = np.full(len(times), 100.0)
    kw[times.get_loc(pd.Timestamp("2023-03-01 10:35", tz="UTC"))] = 160.0
    peaks = demand_charge_peaks(kw, times)
    assert peaks["peak_kw"].iloc[0] == pytest.approx(100.0 + 60.0 / 3)
    assert peaks["peak_start"].iloc[0] == pd.Timestamp("2023-03-01 10:30", tz="UTC")


def test_windows_align_to_clock_quarters_and_partial_windows_count():
    times = minutes("2023-03-01 00:10", 30)  # 00:10 .. 00:39
    kw = np.full(len(times), 100.0)
    kw[:5] = 130.0  # the partial first window 00:10..00:14 has only these samples
    peaks = demand_charge_peaks(kw, times)
    assert peaks["peak_kw"].iloc[0] == pytest.approx(130.0)
    assert peaks["peak_start"].iloc[0] == pd.Timestamp("2023-03-01 00:00", tz="UTC")


def test_months_follow_the_local_clock():
    # two local months; 2023-01-31 23:45 Los Angeles is already February in UTC
    times = minutes("2023-01-31 23:00", 120, tz="America/Los_Angeles")
    kw = np.full(len(times), 100.0)
    kw[(times.hour == 23) & (times.minute >= 45)] = 400.0
    kw[(times.hour == 0) & (times.minute < 15)] = 250.0
    peaks = demand_charge_peaks(kw, times)
    assert peaks["month"].tolist() == ["2023-01", "2023-02"]
    assert peaks["peak_kw"].tolist() == [pytest.approx(400.0), pytest.approx(250.0)]
    assert peaks["peak_start"].tolist() == [
        pd.Timestamp("2023-01-31 23:45", tz="America/Los_Angeles"),
        pd.Timestamp("2023-02-01 00:00", tz="America/Los_Angeles"),
    ]


def test_demand_peaks_reject_steps_that_do_not_divide_the_window():
    times = minutes("2023-03-01", 10, step_s=420)
    with pytest.raises(ValueError, match="divide"):
        demand_charge_peaks(np.ones(len(times)), times)


# --- bad inputs ---------------------------------------------------------------------------------------------------


def test_non_numeric_price_names_file_line_and_column(tmp_path):
    path = write(tmp_path, "Datetime,Price (USD/MWh)\n2023-01-01 00:00:00,1.5\n2023-01-01 01:00:00,abc\n")
    with pytest.raises(UserError) as err:
        read_price_csv(path)
    message = str(err.value)
    assert "prices.csv:3:" in message and "Price (USD/MWh)" in message and "'abc'" in message


def test_empty_cell_and_blank_lines_keep_line_numbers(tmp_path):
    path = write(tmp_path, "time,usd_per_mwh\n2023-01-01 00:00,1\n\n2023-01-01 02:00,\n")
    with pytest.raises(UserError, match=r"prices\.csv:4: usd_per_mwh: expected a number \(got an empty cell\)"):
        read_price_csv(path)


def test_missing_columns_name_the_expected_ones(tmp_path):
    path = write(tmp_path, "when,price\n2023-01-01 00:00,1\n")
    with pytest.raises(UserError, match=r"prices\.csv:1: expected columns 'Datetime' and 'Price \(USD/MWh\)'") as err:
        read_price_csv(path)
    assert "'time' and 'usd_per_mwh'" in str(err.value)


@pytest.mark.parametrize("text", ["", "time,usd_per_mwh\n"])
def test_empty_files_are_user_errors(tmp_path, text):
    with pytest.raises(UserError, match="prices.csv"):
        read_price_csv(write(tmp_path, text))


def test_duplicate_time_names_both_lines(tmp_path):
    # the same hour written twice, once in UTC and once with its offset
    path = write(tmp_path, "time,usd_per_mwh\n2023-01-01 06:00,1\n2023-01-01 07:00,2\n2023-01-01 00:00-06:00,3\n")
    with pytest.raises(UserError, match=r"prices\.csv:4: time: .* repeats line 2"):
        read_price_csv(path)


def test_bad_time_is_named(tmp_path):
    path = write(tmp_path, "time,usd_per_mwh\n2023-01-01 00:00,1\n2023-13-01 00:00,2\n")
    with pytest.raises(UserError, match=r"prices\.csv:3: time: expected a time"):
        read_price_csv(path)


def test_generic_layouts_with_offsets_and_negative_prices(tmp_path):
    path = write(tmp_path, "time,usd_per_mwh\n2023-01-01 01:00+01:00,-5\n2023-01-01 02:00:00,7\n2023-01-01 01:00,6\n")
    prices = read_price_csv(path)
    assert prices.index.tolist() == list(pd.date_range("2023-01-01 00:00", periods=3, freq="h", tz="UTC"))
    assert prices.tolist() == [-5.0, 6.0, 7.0]
    carbon = write(tmp_path, "time,g_per_kwh\n2023-01-01 00:00,100\n2023-01-01 01:00,-1\n", name="ci.csv")
    with pytest.raises(UserError, match=r"ci\.csv:3: g_per_kwh: expected a number >= 0"):
        read_carbon_csv(carbon)
