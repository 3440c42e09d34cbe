"""The meter is exact: bin averages of square waves equal a phase-by-phase integration, energy is conserved."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.common.jobs import SquareWave, wave_energy
from simulator.engine import metering
from simulator.engine.metering import StepAccumulator, wave_power, window_energy


def phase_by_phase(start, end, gpus, pw, ps, vw, vs, dt, n):
    """Brute force: walk every phase of every job and spread its energy over the bins it overlaps."""
    energy = np.zeros(n)
    for s, e, g, a, b, c, d in zip(start, end, gpus, pw, ps, vw, vs, strict=True):
        t, peak = s, True
        while t < e:
            stop = min(t + (b if peak else d), e)
            watts = (a if peak else c) * g
            lo, hi = max(t, 0.0), min(stop, n * dt)
            for k in range(max(0, int(lo // dt)), min(n, math.ceil(hi / dt))):
                overlap = min(hi, (k + 1) * dt) - max(lo, k * dt)
                if overlap > 0:
                    energy[k] += watts * overlap
            t, peak = stop, not peak
    return energy / dt


def test_square_wave_energy_matches_numerical_integration():
    wave = SquareWave(291.06, 182.58, 62.23, 6.41)
    t = np.linspace(0, 1000, 2_000_001)
    numeric = np.cumsum(wave.power_at(t[:-1])) * (t[1] - t[0])
    assert math.isclose(float(wave.energy_until(1000.0)), numeric[-1], rel_tol=1e-5)
    assert wave.mean_power_w < wave.peak_power_w
    assert math.isclose(float(wave.energy_until(wave.period_s * 3)), 3 * wave.period_s * wave.mean_power_w)


def test_step_accumulator_gives_exact_bin_averages():
    acc = StepAccumulator(dt=10.0, n=5)
    acc.add(np.array([-5.0, 15.0, 32.5, 60.0]), np.array([2.0, 4.0, -1.0, 100.0]))
    # level 2 from the start, 6 from t=15, 5 from t=32.5; the step at t=60 is outside the 50-s window
    np.testing.assert_allclose(acc.levels(), [2.0, 4.0, 6.0, 5.25, 5.0])


jobs_strategy = st.lists(
    st.tuples(
        st.floats(-300, 900),  # start
        st.floats(0.5, 2000),  # duration
        st.integers(1, 16),  # GPUs
        st.floats(100, 700),  # peak W
        st.floats(0.3, 400),  # peak s
        st.floats(30, 99),  # valley W
        st.floats(0.2, 60),  # valley s
    ),
    min_size=1,
    max_size=6,
)


@settings(max_examples=60, deadline=None)
@given(jobs=jobs_strategy, dt=st.sampled_from([1.0, 7.0, 60.0]))
def test_wave_power_equals_phase_by_phase_integration(jobs, dt):
    cols = [np.array(c, dtype=float) for c in zip(*jobs, strict=True)]
    start, duration, gpus, pw, ps, vw, vs = cols
    end = start + duration
    n = 20 if dt == 60.0 else 150
    fast = wave_power(start, end, gpus, pw, ps, vw, vs, dt=dt, n=n)
    slow = phase_by_phase(start, end, gpus, pw, ps, vw, vs, dt, n)
    np.testing.assert_allclose(fast, slow, rtol=1e-9, atol=1e-6)
    # energy conservation against the closed form, whichever path each job took
    closed = window_energy(start, end, gpus, pw, ps, vw, vs, 0.0, n * dt).sum()
    assert math.isclose(fast.sum() * dt, closed, rel_tol=1e-9, abs_tol=1e-6)
    assert fast.min() >= -1e-6


def test_chunking_does_not_change_the_result(monkeypatch):
    rng = np.random.default_rng(0)
    n_jobs = 300
    start = rng.uniform(-100, 3000, n_jobs)
    end = start + rng.uniform(10, 5000, n_jobs)
    args = (start, end, rng.integers(1, 9, n_jobs).astype(float), rng.uniform(200, 400, n_jobs),
            rng.uniform(1, 300, n_jobs), rng.uniform(50, 80, n_jobs), rng.uniform(1, 20, n_jobs))
    whole = wave_power(*args, dt=5.0, n=1000)
    monkeypatch.setattr(metering, "CHUNK_ITEMS", 97)
    chunked = wave_power(*args, dt=5.0, n=1000)
    np.testing.assert_allclose(chunked, whole, rtol=1e-12, atol=1e-9)


def test_wave_energy_is_linear_in_whole_periods():
    tau = np.array([0.0, 10.0, 25.0, 50.0])
    e = wave_energy(tau, 300.0, 20.0, 60.0, 5.0)
    np.testing.assert_allclose(e, [0.0, 3000.0, 6000 + 300, 12000 + 600])
