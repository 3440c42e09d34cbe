"""PUE: constant, or a curve of IT load and the outdoor temperature read from a weather file."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pytest

from simulator.common.errors import UserError
from simulator.config import ConstantPue, CurvePue
from simulator.engine.facility import facility_power, outdoor_temperature, read_epw_temperature
from simulator.run.pipeline import simulate
from tests.conftest import ROOT, small_scenario

EPW = ROOT / "data/weather/USA_CA_San.Jose-Mineta.epw"


def test_epw_temperatures_are_read_and_interpolated():
    hourly = read_epw_temperature(EPW)
    assert hourly.shape == (8760,)
    assert hourly[0] == 6.1 and hourly[1] == 5.6  # first two rows of the file, column 7
    # half past midnight on January 1 is the middle of the first hour: exactly its value
    t = outdoor_temperature(hourly, datetime(2023, 1, 1), np.array([1800.0, 3600.0]))
    assert t[0] == pytest.approx(6.1) and t[1] == pytest.approx((6.1 + 5.6) / 2)
    july = outdoor_temperature(hourly, datetime(2023, 7, 15, 15), np.array([0.0]))
    january = outdoor_temperature(hourly, datetime(2023, 1, 15, 15), np.array([0.0]))
    assert july[0] > january[0]


def test_bad_weather_file_is_a_user_error(tmp_path):
    bad = tmp_path / "bad.epw"
    bad.write_text("header\n" * 8 + "2012,1,1,1,0,x,notanumber\n" * 8760)
    with pytest.raises(UserError, match=r"bad.epw:9: column 7"):
        read_epw_temperature(bad)


def test_pue_curve_rises_with_heat_and_at_light_load():
    curve = CurvePue(kind="curve", fixed_fraction=0.05, cooling_base=0.1, cooling_per_degc=0.02,
                     free_cooling_below_c=18)
    it = np.array([100.0, 100.0, 500.0])
    facility = facility_power(it, curve, rated_it_w=1000.0, temperature_c=np.array([10.0, 28.0, 10.0]))
    np.testing.assert_allclose(facility, [100 * 1.1 + 50, 100 * 1.3 + 50, 500 * 1.1 + 50])
    pue = facility / it
    assert pue[1] > pue[0] > pue[2]
    assert facility_power(it, ConstantPue(value=1.4), 1000.0) == pytest.approx(it * 1.4)


def test_weather_driven_run_reports_temperature_and_pue_above_one():
    weather = "../data/weather/USA_CA_San.Jose-Mineta.epw"
    scenario = small_scenario(facility={"pue": {"kind": "curve", "weather": weather}})
    result = simulate(scenario)
    ts = result.timeseries
    assert "outdoor_temp_c" in ts and ts["outdoor_temp_c"].between(-10, 45).all()
    assert (ts["facility_power_kw"] > ts["it_power_kw"]).all()
    assert result.metrics["pue"] > 1.08
