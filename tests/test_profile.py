"""`dcsim profile` recovers a job's square wave from a real-looking power log, or says why there is none.

Logs are built from :class:`SquareWave` with known numbers, then made realistic: idle power before the job and
after it, a ramp up to the first peak, Gaussian noise (1% of the peak; up to 3% in the randomised test), 5% of
samples dropped, and the job ending mid-epoch. Tolerances: peak power within 3%; valley power within 3% (of the
peak in the randomised test, since noise scales with the peak); peak duration and period within 3%, valley
duration within 10%, or one sample interval where that is looser (1.5 in the randomised test, which has as
few as 3 epochs and short waves).
"""

from __future__ import annotations

from dataclasses import FrozenInstanceError
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from forecasters.power.power_log import read_power_log
from forecasters.power.profile import NoPeriodicPattern, WaveProfile, extract_square_wave, profile_log
from simulator.common.errors import UserError
from simulator.common.jobs import SquareWave

VIT = SquareWave(peak_power_w=291.06, peak_duration_s=182.58, valley_power_w=62.23, valley_duration_s=6.41)
BERT = SquareWave(peak_power_w=320.72, peak_duration_s=169.25, valley_power_w=67.01, valley_duration_s=5.98)
FAST = SquareWave(peak_power_w=250.0, peak_duration_s=20.0, valley_power_w=80.0, valley_duration_s=3.0)
START = datetime(2024, 5, 1, 12, 0, 0)


def job_log(wave: SquareWave, dt: float, epochs: float, seed: int, *, noise: float = 0.01, drop: float = 0.05,
            idle_w: float = 55.0, idle_head_s: float = 60.0, ramp_s: float = 40.0, idle_tail_s: float = 90.0,
            jitter: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Idle, a linear ramp from idle to the peak, ``epochs`` periods of ``wave``, idle; sampled every ``dt``
    (jittered by up to ``jitter`` intervals), noise ``noise`` x peak, a ``drop`` share of samples lost."""
    rng = np.random.default_rng(seed)
    job_start = idle_head_s + ramp_s
    job_end = job_start + epochs * wave.period_s
    t = np.arange(0.0, job_end + idle_tail_s, dt)
    t = np.sort(t + rng.uniform(-jitter, jitter, t.size) * dt)
    p = np.full(t.size, idle_w)
    ramp = (t >= idle_head_s) & (t < job_start)
    p[ramp] = idle_w + (wave.peak_power_w - idle_w) * (t[ramp] - idle_head_s) / ramp_s
    job = (t >= job_start) & (t < job_end)
    p[job] = wave.power_at(t[job] - job_start)
    p += rng.normal(0.0, noise * wave.peak_power_w, t.size)
    keep = rng.random(t.size) >= drop
    return t[keep], p[keep]


def write_nvidia_smi(path: Path, logs: dict[int, tuple[np.ndarray, np.ndarray]],
                     unreadable: dict[int, str] | None = None) -> Path:
    """As ``nvidia-smi --query-gpu=timestamp,index,power.draw --format=csv -lms 100`` writes it, GPUs
    interleaved in time order; ``unreadable`` replaces every 50th reading of a GPU with that text."""
    rows = []
    for index, (t, p) in logs.items():
        for k, (seconds, watts) in enumerate(zip(t, p, strict=True)):
            value = unreadable[index] if unreadable and index in unreadable and k % 50 == 7 else f"{watts:.2f} W"
            rows.append((seconds, index, value))
    rows.sort()
    lines = ["timestamp, index, power.draw [W]"]
    lines += [f"{(START + timedelta(seconds=s)).strftime('%Y/%m/%d %H:%M:%S.%f')[:-3]}, {i}, {v}" for s, i, v in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


def write_plain(path: Path, t: np.ndarray, p: np.ndarray, *, iso: bool = False) -> Path:
    """``time,power`` CSV, time in seconds or as ISO timestamps in UTC."""
    if iso:
        times = [(START + timedelta(seconds=float(s))).isoformat(timespec="milliseconds") + "Z" for s in t]
    else:
        times = [f"{s:.3f}" for s in t]
    path.write_text("time,power\n" + "".join(f"{s},{w:.2f}\n" for s, w in zip(times, p, strict=True)))
    return path


def assert_recovers(profile: WaveProfile, wave: SquareWave, dt: float, *, valley_power_scale: float | None = None,
                    intervals: float = 1.0):
    """The tolerances of the module docstring. ``valley_power_scale`` measures the valley power error against
    another power (the peak); ``intervals`` is the slack in sample intervals that durations also get."""
    slack = intervals * dt
    assert profile.peak_power_w == pytest.approx(wave.peak_power_w, rel=0.03)
    assert abs(profile.valley_power_w - wave.valley_power_w) <= 0.03 * (valley_power_scale or wave.valley_power_w)
    assert abs(profile.peak_duration_s - wave.peak_duration_s) <= max(0.03 * wave.peak_duration_s, slack)
    assert abs(profile.valley_duration_s - wave.valley_duration_s) <= max(0.1 * wave.valley_duration_s, slack)
    assert abs(profile.period_s - wave.period_s) <= max(0.03 * wave.period_s, slack)


def test_nvidia_smi_log_gives_each_gpu_its_own_wave(tmp_path):
    logs = {0: job_log(VIT, 0.1, 6.5, seed=1), 1: job_log(BERT, 0.1, 6.7, seed=2, idle_head_s=20.0)}
    path = write_nvidia_smi(tmp_path / "log.csv", logs, unreadable={0: "[N/A]", 1: "[Not Supported]"})
    profiles = profile_log(path)
    assert list(profiles) == ["0", "1"]
    assert_recovers(profiles["0"], VIT, 0.1)
    assert_recovers(profiles["1"], BERT, 0.1)
    assert profiles["0"].epochs == profiles["1"].epochs == 5  # periods between the valleys of 6 whole epochs
    assert 0 < profiles["0"].valley_power_std_w < 5 and 0 < profiles["0"].peak_duration_std_s < 1


def test_unreadable_readings_are_skipped_and_counted(tmp_path):
    logs = {0: job_log(FAST, 0.5, 4, seed=3), 1: job_log(FAST, 0.5, 4, seed=4)}
    path = write_nvidia_smi(tmp_path / "log.csv", logs, unreadable={1: "[N/A]"})
    log = read_power_log(path)
    readings = logs[1][0].size
    assert log.skipped == {"0": 0, "1": len(range(7, readings, 50))}
    assert log["1"][0].size == readings - log.skipped["1"]
    assert min(log["0"][0][0], log["1"][0][0]) == 0.0  # one clock for all GPUs, from the first sample


@pytest.mark.parametrize(("wave", "dt", "iso"), [(FAST, 0.5, False), (BERT, 1.0, True), (VIT, 0.25, False)])
def test_plain_csv_with_irregular_sampling(tmp_path, wave, dt, iso):
    t, p = job_log(wave, dt, 7.4, seed=5, jitter=0.3)
    path = write_plain(tmp_path / "log.csv", t + 1000.0, p, iso=iso)
    log = read_power_log(path)
    assert list(log) == ["0"] and log["0"][0][0] == 0.0
    assert_recovers(profile_log(path)["0"], wave, dt)


def test_a_gap_in_the_log_loses_only_the_epochs_it_touches():
    t, p = job_log(VIT, 0.5, 9.5, seed=6)
    missing = (t > 700) & (t < 760)  # a whole minute inside the fourth peak
    profile = extract_square_wave(t[~missing], p[~missing])
    assert_recovers(profile, VIT, 0.5)
    assert profile.epochs == 7  # the 8 periods between the valleys of 9 whole epochs, less the one broken


def test_a_stall_inside_a_peak_is_not_taken_for_an_epoch():
    t, p = job_log(VIT, 0.5, 10.5, seed=7)
    p[(t > 900) & (t < 903)] = 80.0  # a data-loader stall
    assert_recovers(extract_square_wave(t, p), VIT, 0.5)


@settings(max_examples=25, deadline=None)
@given(
    peak_w=st.floats(150, 400),
    valley_ratio=st.floats(0.05, 0.8),
    peak_s=st.floats(10, 200),
    valley_s=st.floats(2, 30),
    dt=st.sampled_from([0.1, 0.2, 0.5, 1.0]),
    epochs=st.floats(5, 9),
    noise=st.floats(0, 0.03),
    ramp_s=st.floats(1, 60),
    idle_head_s=st.floats(0, 120),
    seed=st.integers(0, 2**32 - 1),
)
def test_any_wave_is_recovered(peak_w, valley_ratio, peak_s, valley_s, dt, epochs, noise, ramp_s, idle_head_s, seed):
    """Noise scales with the peak, so the valley power error does too; with as few as 3 epochs and 5% of
    samples dropped (a dropped edge sample widens that edge to two intervals), durations get 1.5 intervals."""
    valley_s = max(valley_s, 6 * dt)  # at least 6 samples per valley, as in a 6-s valley logged every second
    wave = SquareWave(peak_w, max(peak_s, valley_s), valley_ratio * peak_w, valley_s)
    t, p = job_log(wave, dt, epochs, seed, noise=noise, ramp_s=ramp_s, idle_head_s=idle_head_s, jitter=0.2)
    assert_recovers(extract_square_wave(t, p), wave, dt, valley_power_scale=peak_w, intervals=1.5)


def flat(t):
    return np.full(t.size, 250.0)


def noise(t):
    return 250.0 + np.random.default_rng(8).normal(0.0, 5.0, t.size)


def step(t):
    return np.where(t < 300, 60.0, 290.0) + np.random.default_rng(9).normal(0.0, 3.0, t.size)


def sine(t):
    return 200.0 + 100.0 * np.sin(2 * np.pi * t / 100.0)


def spikes(t):
    p = np.full(t.size, 60.0)
    p[::50] = 290.0
    return p


def fewer_than_two_periods(t):
    return VIT.power_at(t) + np.random.default_rng(10).normal(0.0, 3.0, t.size)


@pytest.mark.parametrize(
    ("power", "found"),
    [
        (flat, "power stays at 250.0 W"),
        (noise, "not clearly apart"),
        (step, "from t=300 s to 548 s the two power levels"),
        (spikes, "power stays near 60.0 W apart from spikes shorter than 3 samples"),
        (sine, "of the time between its levels"),
        (fewer_than_two_periods, "found 1 complete peak+valley period(s); need at least 2"),
    ],
)
def test_no_pattern_is_refused_not_invented(power, found):
    t = np.arange(0.0, 2.9 * VIT.period_s, 0.5)
    with pytest.raises(NoPeriodicPattern) as info:
        extract_square_wave(t, power(t), source="run.csv: GPU 0")
    message = str(info.value)
    assert message.startswith("run.csv: GPU 0: no periodic peak/valley pattern: ") and found in message
    assert "\n" not in message


def test_irregular_periods_are_reported_not_refused():
    """Two clean levels with exponentially distributed stretches: a two-level log, so a profile, whose spreads
    say how irregular it is (the old rule refused any log with under 75 % of periods near the median)."""
    lengths = np.random.default_rng(11).exponential(30.0, 40) + 3.0
    edges = np.cumsum(lengths)
    t = np.arange(0.0, edges[-1], 0.5)
    p = np.tile([290.0, 60.0], 20)[np.searchsorted(edges, t)]
    profile = extract_square_wave(t, p)
    valleys = lengths[1::2][:-1]  # every valley but the last, which the log ends in
    assert profile.valley_duration.count == profile.epochs + 1 >= 15
    assert profile.valley_duration.median == pytest.approx(np.median(valleys), abs=1.0)
    assert profile.valley_duration.spread > 10.0  # exponential stretches: a spread of the order of their mean
    assert profile.peak_power.median == pytest.approx(290.0) and profile.valley_power.median == pytest.approx(60.0)


def test_the_gpu_without_a_pattern_is_named(tmp_path):
    t, p = job_log(FAST, 0.5, 6, seed=12)
    path = write_nvidia_smi(tmp_path / "log.csv", {0: (t, p), 1: (t, np.full(t.size, 58.0))})
    with pytest.raises(NoPeriodicPattern, match=r"log\.csv: GPU 1: no periodic peak/valley pattern"):
        profile_log(path)


def test_rows_are_sorted_and_duplicates_dropped(tmp_path):
    path = tmp_path / "log.csv"
    path.write_text("time,power\n3,30\n1,10\n2,20\n1,99\n")
    t, p = read_power_log(path)["0"]
    assert t.tolist() == [0.0, 1.0, 2.0] and p.tolist() == [10.0, 20.0, 30.0]


def test_profile_is_frozen_and_flattens():
    profile = extract_square_wave(*job_log(FAST, 0.5, 6, seed=13))
    assert set(profile.to_dict()) >= {"peak_power_w", "peak_duration_s", "valley_power_w", "valley_duration_s",
                                      "peak_power_std_w", "valley_duration_std_s", "period_s", "epochs"}
    with pytest.raises(FrozenInstanceError):
        profile.epochs = 0  # type: ignore[misc]


NVIDIA_OK = "timestamp, index, power.draw [W]\n2024/05/01 12:00:00.100, 0, 245.12 W\n"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "log.csv: empty file"),
        ("\n  \n", "log.csv: empty file"),
        ("when,watts\n1,2\n", "log.csv:1: no time column (expected one of time_seconds, "),
        ("time,load\n1,2\n", "log.csv:1: no power column (expected one of power.draw, "),
        ("time,power.draw.average,power.draw.instant\n1,2,3\n",
         "log.csv:1: several power columns (power.draw.average, power.draw.instant); name the one to read with "
         "--power-col"),
        ("timestamp, index, power.draw [W]\n", "log.csv: no samples after the header"),
        (NVIDIA_OK + "2024/05/01 12:00:00.200, 0, abc\n",
         "log.csv:3: column power.draw: expected a number of watts such as '245.1 W', got 'abc'"),
        (NVIDIA_OK + "2024/05/01 12:00:00.200, 0, -3 W\n", "log.csv:3: column power.draw: expected a number of watts"),
        (NVIDIA_OK + "2024/05/01 12:00:00.200, 0, nan W\n", "log.csv:3: column power.draw: expected a number of watts"),
        (NVIDIA_OK + "\n2024/05/01 12:00:00.200, gpu0, 245 W\n", "log.csv:4: column index: expected a GPU index"),
        (NVIDIA_OK + "yesterday, 0, 245 W\n", "log.csv:3: column timestamp: expected a timestamp such as"),
        (NVIDIA_OK + "2024/13/01 12:00:00.200, 0, 245 W\n", "log.csv:3: column timestamp: expected a timestamp"),
        (NVIDIA_OK + "2024/05/01 12:00:00.200, 0\n", "log.csv:3: expected 3 comma-separated fields"),
        ("timestamp, index, power.draw [W]\n2024/05/01 12:00:00.100, 0, [N/A]\n",
         "log.csv: no power readings: all 1 were '[N/A]'"),
        ("time,power\n0,100\n1,x\n", "log.csv:3: column power: expected a number of watts such as '245.1 W', got 'x'"),
        ("time,power\n0,100\n2024-05-01T12:00:00,100\n", "log.csv:3: column time: expected seconds as a number"),
        ("time,power\n2024-05-01T12:00:00,100\n5,100\n", "log.csv:3: column time: expected a timestamp"),
        ("time,power\n0,100,7\n", "log.csv:2: expected 2 comma-separated fields (time,power), got 3"),
    ],
)
def test_bad_logs_are_named_by_file_line_and_column(tmp_path, text, expected):
    path = tmp_path / "log.csv"
    path.write_text(text)
    with pytest.raises(UserError) as info:
        read_power_log(path)
    assert expected in str(info.value) and "\n" not in str(info.value)


@settings(max_examples=60, deadline=None)
@given(header=st.sampled_from(["timestamp, index, power.draw [W]", "time,power"]),
       body=st.lists(st.sampled_from([*"0123456789.,:/ -TWZ[]\n", "nan", "[N/A]", " W", "2024/05/01 12:00:00.1"]),
                     max_size=60).map("".join))
def test_any_text_gives_samples_or_a_one_line_user_error(tmp_path_factory, header, body):
    path = tmp_path_factory.mktemp("fuzz") / "log.csv"
    path.write_text(f"{header}\n{body}")
    try:
        profile_log(path)
    except UserError as err:
        assert "\n" not in str(err)


def test_a_missing_log_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="missing.csv: cannot read power log"):
        read_power_log(tmp_path / "missing.csv")


def test_timestamps_with_zones_and_units_are_understood(tmp_path):
    path = tmp_path / "log.csv"
    path.write_text("time,power\n2024-05-01T12:00:00.5+02:00,100 W\n2024-05-01T10:00:01Z,110\n")
    t, p = read_power_log(path)["0"]
    assert t.tolist() == [0.0, 0.5] and p.tolist() == [100.0, 110.0]


def epochs_log(peaks_s: list[float], valleys_s: list[float], dt: float, seed: int, *, peak_w: float = 300.0,
               valley_w: float = 90.0, idle_w: float = 55.0, noise: float = 0.01, drop: float = 0.05,
               jitter: float = 0.2, ramp_s: float = 30.0) -> tuple[np.ndarray, np.ndarray]:
    """Idle, a ramp, then the given peaks and valleys in turn (a final peak closes the last valley), idle."""
    rng = np.random.default_rng(seed)
    lengths = np.ravel(np.column_stack([peaks_s, valleys_s]))
    job_start = 60.0 + ramp_s
    edges = job_start + np.concatenate([[0.0], np.cumsum(lengths)])
    job_end = edges[-1] + peaks_s[0]
    t = np.arange(0.0, job_end + 60.0, dt)
    t = np.sort(t + rng.uniform(-jitter, jitter, t.size) * dt)
    p = np.full(t.size, idle_w)
    ramp = (t >= 60.0) & (t < job_start)
    p[ramp] = idle_w + (peak_w - idle_w) * (t[ramp] - 60.0) / ramp_s
    job = (t >= job_start) & (t < job_end)
    segment = np.searchsorted(edges, t[job], side="right") - 1
    p[job] = np.where(segment % 2 == 0, peak_w, valley_w)
    p += rng.normal(0.0, noise * peak_w, t.size)
    keep = rng.random(t.size) >= drop
    return t[keep], p[keep]


def test_sync_dips_and_checkpoints_are_two_valley_kinds():
    """Short synchronisation dips with a long checkpoint every fourth epoch (the log the old rule refused for
    irregular periods): two kinds with their shares, and a wave whose valley keeps the log's epoch rate."""
    rng = np.random.default_rng(20)
    peaks = list(120.0 + rng.normal(0, 2.0, 16))
    valleys = [60.0 if k % 4 == 3 else 5.0 + rng.normal(0, 0.3) for k in range(16)]
    t, p = epochs_log(peaks, valleys, 0.5, seed=21)
    profile = extract_square_wave(t, p)
    short, long = profile.valley_kinds
    assert (short.name, long.name) == ("short", "long")
    assert short.duration_s.median == pytest.approx(5.0, abs=0.75)
    assert long.duration_s.median == pytest.approx(60.0, abs=1.0)
    assert short.duration_s.count + long.duration_s.count == profile.valley_duration.count == len(valleys)
    assert long.share == pytest.approx(sum(v > 30 for v in valleys) / len(valleys))
    # one wave per job keeps the mean period of the log, not that of the short epochs alone
    assert profile.period_s == pytest.approx(np.mean(peaks) + np.mean(valleys), rel=0.05)
    assert profile.valley_duration_s == pytest.approx(np.mean(valleys), rel=0.1)


def test_regular_valleys_are_one_kind():
    profile = extract_square_wave(*job_log(VIT, 0.5, 8.5, seed=22))
    assert profile.valley_kinds == ()
    # the whole peaks lie between valleys; the first and last peak of a log never count (ramp, cut-off)
    assert profile.peak_duration.count == profile.epochs and profile.valley_duration.count == profile.epochs + 1


@pytest.mark.parametrize(("dt", "peak_s", "valley_s"), [(0.05, 20.0, 3.0), (0.5, 60.0, 6.0), (2.0, 300.0, 30.0),
                                                         (10.0, 900.0, 90.0)])
def test_sample_periods_from_50_ms_to_10_s(dt, peak_s, valley_s):
    wave = SquareWave(300.0, peak_s, 90.0, valley_s)
    t, p = job_log(wave, dt, 6.5, seed=23, jitter=0.2, ramp_s=5 * dt, idle_head_s=20 * dt, idle_tail_s=20 * dt)
    assert_recovers(extract_square_wave(t, p), wave, dt, intervals=1.5)


def write_csv(path: Path, header: str, rows: list[str]) -> Path:
    path.write_text(header + "\n" + "\n".join(rows) + "\n")
    return path


def stamp(seconds: float, fmt: str = "%Y-%m-%d %H:%M:%S.%f") -> str:
    return (START + timedelta(seconds=float(seconds))).strftime(fmt)


def test_a_node_log_of_summed_gpus_with_datetime_and_seconds(tmp_path):
    """The header of the log issue 20 was refused on: one column for four GPUs in phase, two time columns."""
    t, p = job_log(FAST, 0.5, 7.3, seed=24)
    total = 4 * p
    rows = [f"{stamp(s)},{w:.1f},{s:.3f}" for s, w in zip(t, total, strict=True)]
    path = write_csv(tmp_path / "node.csv", "datetime,power_watts,time_seconds", rows)
    profile = profile_log(path)["0"]
    assert_recovers(profile, SquareWave(4 * FAST.peak_power_w, FAST.peak_duration_s, 4 * FAST.valley_power_w,
                                        FAST.valley_duration_s), 0.5)


def test_dcgm_fields_with_quoted_model_names(tmp_path):
    logs = {0: job_log(FAST, 1.0, 6.2, seed=25), 1: job_log(BERT, 1.0, 6.2, seed=26)}
    rows = sorted((s, gpu, w) for gpu, (t, p) in logs.items() for s, w in zip(t, p, strict=True))
    lines = [f'{stamp(s, "%Y-%m-%dT%H:%M:%S.%fZ")},{g},GPU-{g}abc,"NVIDIA A100-SXM4-80GB",{w:.3f}' for s, g, w in rows]
    path = write_csv(tmp_path / "dcgm.csv", "timestamp,gpu,UUID,modelName,DCGM_FI_DEV_POWER_USAGE", lines)
    profiles = profile_log(path)
    assert list(profiles) == ["0", "1"]
    assert_recovers(profiles["0"], FAST, 1.0)
    assert_recovers(profiles["1"], BERT, 1.0)


def test_nvidia_smi_without_units(tmp_path):
    t, p = job_log(VIT, 0.2, 6.4, seed=27)
    rows = [f"{stamp(s, '%Y/%m/%d %H:%M:%S.%f')[:-3]}, 0, {w:.2f}" for s, w in zip(t, p, strict=True)]
    path = write_csv(tmp_path / "nounits.csv", "timestamp, index, power.draw [W]", rows)
    assert_recovers(profile_log(path)["0"], VIT, 0.2)


def test_one_column_per_gpu_in_milliseconds(tmp_path):
    t, p0 = job_log(FAST, 0.5, 6.5, seed=28, drop=0.0)
    _, p1 = job_log(FAST, 0.5, 6.5, seed=29, drop=0.0)
    rows = [f"{1000 * s:.0f},{a:.1f},{'' if k % 40 == 5 else f'{b:.1f}'}"
            for k, (s, a, b) in enumerate(zip(t, p0, p1, strict=True))]
    path = write_csv(tmp_path / "wide.csv", "elapsed_ms,gpu0_power_w,gpu1_power_w", rows)
    log = read_power_log(path)
    assert list(log) == ["0", "1"] and log.skipped["1"] == len(range(5, t.size, 40))
    for profile in profile_log(path).values():
        assert_recovers(profile, FAST, 0.5)


def test_ambiguous_columns_are_picked_by_name(tmp_path):
    t, p = job_log(FAST, 0.5, 6.5, seed=30)
    rows = [f"{s:.2f},{s + 5:.2f},{w + 3:.1f},{w:.1f}" for s, w in zip(t, p, strict=True)]
    path = write_csv(tmp_path / "two.csv", "time,elapsed,power.draw.average,power.draw.instant", rows)
    with pytest.raises(UserError, match="several power columns .* --power-col"):
        read_power_log(path)
    samples = read_power_log(path, time_col="time", power_col="power.draw.instant")["0"]
    assert samples[1][:3].tolist() == pytest.approx(p[:3].round(1).tolist())
    with pytest.raises(UserError, match="--power-col watts: no such column"):
        read_power_log(path, power_col="watts")
    assert_recovers(profile_log(path, power_col=["power.draw.instant"])["0"], FAST, 0.5)


def test_profile_command_reads_any_layout_and_shows_the_kinds(tmp_path):
    from typer.testing import CliRunner

    from simulator.cli.main import app

    rng = np.random.default_rng(31)
    valleys = [60.0 if k % 3 == 2 else 5.0 + rng.normal(0, 0.3) for k in range(12)]
    t, p = epochs_log([100.0] * 12, valleys, 0.5, seed=32)
    rows = [f"{s:.2f},{w:.1f},{w + 1:.1f}" for s, w in zip(t, p, strict=True)]
    path = write_csv(tmp_path / "log.csv", "time,power.draw.average,power.draw.instant", rows)
    result = CliRunner().invoke(app, ["profile", str(path), "--power-col", "power.draw.instant"],
                                env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "short valleys" in result.output and "long valleys" in result.output
    failed = CliRunner().invoke(app, ["profile", str(path)])
    assert failed.exit_code == 2 and "--power-col" in failed.output
