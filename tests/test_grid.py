"""Grid coordination: battery physics, dispatch LP, policies against the oracle, scenario wiring and outputs."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from simulator.cli.main import app
from simulator.common.errors import ScenarioError
from simulator.config import load_scenario
from simulator.grid.battery import Battery
from simulator.grid.billing import bill
from simulator.grid.dispatch import GridInputs, run_policy
from simulator.grid.policies import make_policy
from simulator.grid.signals import GridSignals, Tariff
from simulator.run.pipeline import simulate
from tests.conftest import ROOT, small_scenario

PRICES = "US-CAL-CISO_electricity_prices_2023_processed.csv"
BATTERY = Battery(energy_kwh=400, power_kw=200, round_trip_efficiency=0.88, soc_min=0.1, soc_max=0.9)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(-500, 500), min_size=1, max_size=50), st.floats(0.1, 0.9))
def test_battery_keeps_bounds_and_conserves_energy(commands, soc):
    b = Battery(energy_kwh=100, power_kw=50, round_trip_efficiency=0.81, soc_min=0.1, soc_max=0.9, soc_initial=soc)
    stored, dt = b.e_initial, 1 / 60
    drawn = delivered = 0.0
    for cmd in commands:
        power, after = b.apply(stored, cmd, dt)
        assert b.e_min - 1e-9 <= after <= b.e_max + 1e-9
        assert abs(power) <= b.power_kw + 1e-9
        drawn += max(power, 0) * dt
        delivered += max(-power, 0) * dt
        stored = after
    # energy in at the meter = energy out / round trip ... split as sqrt each way: in * eta - out / eta = change
    assert drawn * b.eta - delivered / b.eta == pytest.approx(stored - b.e_initial, abs=1e-9)


def daily_load(days: int, seed: int = 0) -> tuple[pd.DatetimeIndex, np.ndarray]:
    """A daily cycle with a late-afternoon peak, random surges and noise, at 1-min steps."""
    n = days * 1440
    times = pd.date_range("2023-07-02", periods=n, freq="1min", tz="America/Los_Angeles")
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    load = 400 + 100 * np.sin(2 * np.pi * (t / 1440 - 0.3)) + rng.normal(0, 10, n) + (rng.random(n) < 0.01) * 150
    return times, np.convolve(load, np.ones(5) / 5, "same")


def inputs_for(days: int = 2, seed: int = 0, limit: float = np.inf, solar: float = 0.0) -> GridInputs:
    times, load = daily_load(days + 1, seed)
    hours = times.hour.to_numpy()
    price = np.where((hours >= 16) & (hours < 21), 0.10, 0.06)
    sun = solar * np.clip(np.sin(np.pi * (hours - 6) / 12), 0, None)
    day = 1440
    signals = GridSignals(times[day:], price[day:], np.full(len(load) - day, 300.0), sun[day:],
                          np.full(len(load) - day, limit), 60.0, Tariff(demand_charge_usd_per_kw=15.0))
    return GridInputs.of(signals, load[day:], history_kw=load[:day])


def perfect(inputs: GridInputs):
    return lambda t, h: inputs.load_kw[t : t + h]


def persistence(inputs: GridInputs):
    return lambda t, h: np.full(h, inputs.load_kw[t - 1] if t else inputs.history_kw[-1])


@pytest.fixture(scope="module")
def runs():
    inputs = inputs_for(seed=1, solar=80.0)
    out = {}
    for name, kind, forecast in (("none", "none", perfect), ("threshold", "threshold", perfect),
                                 ("mpc", "mpc", perfect), ("mpc_persistence", "mpc", persistence),
                                 ("oracle", "oracle", perfect)):
        frame = run_policy(make_policy(kind, threshold_kw=480.0), inputs, BATTERY, forecast(inputs))
        out[name] = (frame, bill(frame, inputs, BATTERY))
    return inputs, out


def test_power_balance_and_state_of_charge(runs):
    inputs, out = runs
    for name, (frame, _) in out.items():
        expected = np.maximum(frame["load_kw"] - frame["solar_kw"] + frame["battery_kw"], 0)
        assert np.allclose(frame["import_kw"], expected), name
        assert (frame["import_kw"] >= 0).all()
        assert frame["stored_kwh"].between(BATTERY.e_min - 1e-9, BATTERY.e_max + 1e-9).all(), name
        charge = frame["battery_kw"].clip(lower=0).sum() * inputs.dt_h
        discharge = -frame["battery_kw"].clip(upper=0).sum() * inputs.dt_h
        change = frame["stored_kwh"].iloc[-1] - BATTERY.e_initial
        assert charge * BATTERY.eta - discharge / BATTERY.eta == pytest.approx(change, abs=1e-6), name


def test_oracle_bill_is_never_above_an_online_policy(runs):
    _, out = runs
    oracle = out["oracle"][1]["total_bill_usd"]
    for name, (_, metrics) in out.items():
        assert oracle <= metrics["total_bill_usd"] + 1e-6, name


def test_mpc_gets_most_of_the_oracle_demand_savings_and_beats_threshold(runs):
    """Random surges that yesterday's profile does not show cost the MPC some of the oracle's savings here; the
    README's 80 % target is measured on peak_shaving.yaml."""
    _, out = runs
    base, oracle, mpc = (out[k][1]["demand_charge_usd"] for k in ("none", "oracle", "mpc"))
    assert (base - mpc) >= 0.7 * (base - oracle)
    assert out["mpc"][1]["total_bill_usd"] < out["threshold"][1]["total_bill_usd"]
    assert out["mpc"][1]["total_bill_usd"] < out["none"][1]["total_bill_usd"]


def test_threshold_policy_holds_its_level_when_the_battery_can():
    inputs = inputs_for(days=1, seed=2)
    frame = run_policy(make_policy("threshold", threshold_kw=420.0), inputs, BATTERY, perfect(inputs))
    held = frame["import_kw"] <= 420.0 + 1e-6
    # above the level while the battery had energy and power to spare: a bug
    spare = (frame["stored_kwh"] > BATTERY.e_min + 1e-6) & (frame["battery_kw"] > -BATTERY.power_kw + 1e-6)
    over = ~held & spare
    assert not over.any()
    assert not held.all()  # the battery did run out: the test exercises both branches


def test_oracle_holds_a_demand_response_limit():
    inputs = inputs_for(days=1, seed=3)
    limit = np.full(len(inputs.load_kw), np.inf)
    event = (inputs.times.hour >= 17) & (inputs.times.hour < 18)
    limit[event] = inputs.load_kw[event].max() - 150  # 150 kW less for an hour: within 200 kW and 320 kWh
    cut = replace(inputs, limit_kw=limit)
    frame = run_policy(make_policy("oracle"), cut, BATTERY, perfect(cut))
    assert bill(frame, cut, BATTERY)["minutes_over_limit"] == 0
    none = run_policy(make_policy("none"), cut, BATTERY, perfect(cut))
    assert bill(none, cut, BATTERY)["minutes_over_limit"] > 0


def grid_scenario(**policy):
    return small_scenario(
        simulation={"duration": "1d", "warmup": "1d", "resolution": "60s", "seed": 5},
        grid={"timezone": "America/Los_Angeles", "demand_charge_usd_per_kw": 20,
              "prices": {"kind": "series", "file": str(ROOT / "data/grid" / PRICES)},
              "carbon": {"file": str(ROOT / "data/grid/US-CAL-CISO_carbon_intensity_2023_hourly.csv")},
              "battery": {"energy_kwh": 20, "power_kw": 10}, "solar": {"rated_kw": 5}},
        policy={"kind": "mpc", "forecaster": "perfect", **policy},
    )


def test_scenario_runs_baseline_policy_and_oracle_on_the_same_load():
    result = simulate(grid_scenario())
    grid = result.grid
    assert list(grid.metrics) == ["none", "mpc", "oracle"]
    loads = [f["load_kw"].to_numpy() for f in grid.frames.values()]
    assert all(np.array_equal(loads[0], other) for other in loads[1:])
    # the control-step load is the metered facility power averaged per minute
    assert np.allclose(loads[0], result.timeseries["facility_power_kw"].to_numpy())
    m = grid.metrics
    assert m["oracle"]["total_bill_usd"] <= m["mpc"]["total_bill_usd"] + 1e-6
    assert m["none"]["battery_cycles"] == 0
    assert m["none"]["carbon_t"] > 0
    assert grid.frames["none"]["solar_kw"].max() > 0
    savings = grid.savings()
    assert savings["oracle"]["share_of_oracle_bill_savings"] == pytest.approx(1.0)


def test_student_forecaster_runs_in_the_loop(tmp_path):
    from forecasters.load.series import split
    from forecasters.load.student import StudentForecaster
    from forecasters.load.training import TrainSettings
    from tests.test_forecast import synthetic_series

    train, val, _ = split(synthetic_series(3000))
    StudentForecaster(window=4, hidden=8, settings=TrainSettings(epochs=1, batches_per_epoch=5)).fit(
        train, val).save(tmp_path / "student")
    result = simulate(grid_scenario(forecaster=str(tmp_path / "student")))
    frame = result.grid.frames["mpc"]
    error = np.abs(frame["forecast_kw"] - frame["load_kw"]).mean()
    assert 0 < error < 0.2 * frame["load_kw"].mean()
    assert result.grid.metrics["mpc"]["forecast_mae_kw"] == pytest.approx(error)


def test_cli_writes_grid_outputs(tmp_path):
    path = tmp_path / "s.yaml"
    data = grid_scenario().model_dump(mode="json", exclude={"base_dir"})
    path.write_text(json.dumps(data))  # JSON is YAML
    result = CliRunner().invoke(app, ["run", str(path), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert "Share of oracle" in result.output
    out = tmp_path / "out"
    for name in ("grid.parquet", "grid_import.png", "cost_breakdown.png", "price_carbon.png"):
        assert (out / name).stat().st_size > 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert set(metrics["grid"]) == {"none", "mpc", "oracle"}
    assert "Grid coordination" in (out / "report.html").read_text()


@pytest.mark.parametrize(("text", "message"), [
    ("grid:\n  timezone: Mars/Olympus\n", "2: grid.timezone: Value error, expected an IANA time zone"),
    ("grid:\n  battery: {energy_kwh: 10, power_kw: 5, soc_initial: 0.95}\n", "2: grid.battery: Value error"),
    ("policy:\n  kind: greedy\n", "2: policy.kind"),
    ("grid:\n  prices: {kind: series, file: nowhere.csv}\n", "2: grid.prices.file: file not found"),
])
def test_bad_grid_sections_name_line_and_field(tmp_path, text, message):
    path = tmp_path / "s.yaml"
    path.write_text(text)
    with pytest.raises(ScenarioError, match=message):
        load_scenario(path)


def test_gym_environment_rewards_add_up_to_minus_the_bill():
    from gymnasium.utils.env_checker import check_env

    from simulator.run.gym_env import GridEnv

    inputs = inputs_for(days=1, seed=4)
    env = GridEnv(inputs, BATTERY, perfect(inputs))
    check_env(env, skip_render_check=True)
    for name, policy in (("idle", lambda obs: np.zeros(1, np.float32)), ("random", None)):
        obs, _ = env.reset(seed=0)
        env.action_space.seed(0)
        total, steps, done, imports, powers = 0.0, 0, False, [], []
        while not done:
            action = env.action_space.sample() if policy is None else policy(obs)
            obs, reward, done, truncated, info = env.step(action)
            assert env.observation_space.contains(obs) and not truncated
            total += reward
            steps += 1
            imports.append(info["import_kw"])
            powers.append(info["battery_kw"])
        assert steps == len(inputs.load_kw)
        frame = pd.DataFrame({"import_kw": imports, "battery_kw": powers, "load_kw": inputs.load_kw,
                              "forecast_kw": inputs.load_kw})
        assert total == pytest.approx(-bill(frame, inputs, BATTERY)["total_bill_usd"], rel=1e-9), name
