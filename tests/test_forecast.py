"""Load forecasters: data windows, known load, baselines, teacher/student training, saving, ONNX, CLI."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from forecasters.load import load_forecaster
from forecasters.load.base import Windows, make_windows, windows_of
from forecasters.load.baselines import KnownLoad, NLinear, Persistence, SeasonalNaive
from forecasters.load.metrics import errors, naive_scale
from forecasters.load.pipeline import STUDENT_VARIANTS, Sizes
from forecasters.load.sequence import TeacherForecaster
from forecasters.load.series import LoadSeries, known_load, read_load_csv, split
from forecasters.load.student import StudentForecaster
from forecasters.load.training import TrainSettings
from simulator.cli.main import app
from simulator.common.errors import UserError
from simulator.run.pipeline import simulate
from simulator.training_data.load_series import philly_series
from tests.conftest import small_scenario

TINY = TrainSettings(epochs=2, batches_per_epoch=20, batch_size=64, seed=0)


def synthetic_series(n: int = 3000, seed: int = 0, known: bool = True) -> LoadSeries:
    """A daily cycle with random steps (jobs starting) and noise; the known load sees the steps one step late."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    steps = np.cumsum(rng.normal(0, 0.01, n) * (rng.random(n) < 0.05))
    values = 0.6 + 0.1 * np.sin(2 * np.pi * t / 1440) + steps + rng.normal(0, 0.003, n)
    k = np.minimum(t[:, None] + np.arange(1, 16)[None, :], n - 1)
    return LoadSeries("synthetic", pd.Timestamp("2023-07-03"), values,
                      (values[t][:, None] + 0.1 * (values[k] - values[t][:, None])) if known else None)


def test_windows_line_up_history_and_targets():
    s = synthetic_series(200)
    w = make_windows(s, lookback=10, horizon=15)
    assert len(w) == 200 - 9 - 15
    origin = 9 + 7  # the 8th window
    assert np.array_equal(w.history[7], s.values[origin - 9 : origin + 1])
    assert np.array_equal(w.target[7], s.values[origin + 1 : origin + 16])
    assert np.array_equal(w.known[7], s.known[origin])
    assert w.hour[7] == pytest.approx(origin / 60)


def test_chronological_split_does_not_overlap():
    train, val, test = split(synthetic_series(1000))
    assert (len(train), len(val), len(test)) == (700, 150, 150)
    assert train.start < val.start < test.start
    assert val.start - train.start == pd.Timedelta(minutes=700)


def test_known_load_matches_a_per_job_count():
    """Each running job counts its mean power above idle, for the part of bin i+k before its end."""
    result = simulate(small_scenario(simulation={"resolution": "60s"}))
    jobs = result.jobs
    n, dt, idle = 360, 60.0, 50.0
    known = known_load(jobs, idle, n, 15)
    ran = jobs[jobs["start_s"].notna()]
    mean_w = ((ran.peak_power_w * ran.peak_duration_s + ran.valley_power_w * ran.valley_duration_s)
              / (ran.peak_duration_s + ran.valley_duration_s))
    for i in (0, 17, 100, 250):
        tau = (i + 1) * dt
        running = (ran.start_s <= tau) & (ran.end_s > tau)
        for k in (1, 5, 15):
            b0 = (i + k) * dt
            overlap = np.clip((ran.end_s - b0) / dt, 0, 1)
            expected = float((running * ran.num_gpus * np.maximum(mean_w - idle, 0) * overlap).sum())
            assert known[i, k - 1] == pytest.approx(expected, rel=1e-9, abs=1e-6)
    assert (known >= 0).all()


def test_naive_baselines():
    s = synthetic_series(3000)
    w = make_windows(s, 1440)
    assert np.array_equal(Persistence().predict_windows(w), np.repeat(w.last[:, None], 15, axis=1))
    seasonal = SeasonalNaive().predict_windows(w)
    origin = 1439 + 3
    assert np.array_equal(seasonal[3], s.values[origin + 1 - 1440 : origin + 16 - 1440])
    assert np.array_equal(KnownLoad().predict_windows(w), w.known)


def test_nlinear_beats_persistence_on_an_autoregressive_series():
    rng = np.random.default_rng(1)
    values = np.empty(4000)
    values[:2] = 0.5
    for t in range(2, len(values)):  # mean-reverting, so the last value alone is not the best guess
        values[t] = 0.5 + 1.5 * (values[t - 1] - 0.5) - 0.6 * (values[t - 2] - 0.5) + rng.normal(0, 0.01)
    s = LoadSeries("ar", pd.Timestamp("2023-01-01"), values)
    train, val, test = split(s)
    model = NLinear(lookback=8, use_known=False).fit(train, val)
    w = make_windows(test, 8)
    scale = naive_scale(train)
    linear = errors(w.target, model.predict_windows(w), scale)
    naive = errors(w.target, Persistence().predict_windows(w), scale)
    assert linear["mae@5"] < 0.8 * naive["mae@5"]


@pytest.fixture(scope="module")
def trained():
    train, val, _ = split(synthetic_series(4000))
    teacher = TeacherForecaster(16, settings=TINY, channels=8, levels=2).fit(train, val)
    student = StudentForecaster(window=4, hidden=8, settings=TINY).fit(train, val, teacher=teacher)
    return train, val, teacher, student


def test_student_numpy_inference_matches_its_rolled_form(trained):
    train, _, _, student = trained
    w = make_windows(train, student.lookback).take(np.arange(50))
    rolled = student.roll(w, 3)
    one = [student.predict_next(w.history[i], float(w.hour[i]), float(w.known[i, 0])) for i in range(50)]
    assert np.allclose(rolled[:, 0], one, atol=1e-12)
    # rolling: step 2 is step 1 on the window shifted by the first prediction
    shifted = Windows(np.concatenate([w.history[:, 1:], rolled[:, :1]], axis=1), w.hour, w.known[:, 1:], None)
    assert np.allclose(student.roll(shifted, 1)[:, 0], rolled[:, 1], atol=1e-12)


@pytest.mark.parametrize("known", [True, False])
def test_fused_first_layer_gives_the_rolled_prediction(known):
    """predict_next folds the feature scaling into the first layer; it must agree with the plain form."""
    rng = np.random.default_rng(7)
    student = StudentForecaster(window=5, hidden=6, use_known=known)
    student.scale = 0.013
    sizes = [5 + 3 + known, 6, 6, 1]
    student.weights = [(rng.normal(size=(a, b)), rng.normal(size=b))
                       for a, b in zip(sizes[:-1], sizes[1:], strict=True)]
    history, hours = 0.5 + 0.1 * rng.random((9, 6)), rng.uniform(0, 24, 9)
    next_known = 0.5 + 0.1 * rng.random((9, 1))
    w = Windows(history, hours, next_known if known else None, None)
    one = [student.predict_next(history[i], float(hours[i]), float(next_known[i, 0]) if known else None)
           for i in range(9)]
    assert np.allclose(student.roll(w, 1)[:, 0], one, rtol=0, atol=1e-12)


def test_training_is_deterministic(trained):
    train, val, teacher, student = trained
    again = TeacherForecaster(16, settings=TINY, channels=8, levels=2).fit(train, val)
    for key, value in teacher.arrays().items():
        assert np.array_equal(value, again.arrays()[key]), key
    student_again = StudentForecaster(window=4, hidden=8, settings=TINY).fit(train, val, teacher=again)
    assert all(np.array_equal(a, b) for a, b in zip(student.arrays().values(), student_again.arrays().values(),
                                                    strict=True))
    other = StudentForecaster(window=4, hidden=8, settings=TrainSettings(**{**TINY.__dict__, "seed": 1}))
    other.fit(train, val, teacher=teacher)
    assert not np.array_equal(other.arrays()["w0"], student.arrays()["w0"])


def test_near_term_alignment_pulls_the_student_towards_the_teacher(trained):
    train, val, teacher, _ = trained
    w = make_windows(train, teacher.lookback)
    settings = TrainSettings(epochs=3, batches_per_epoch=40, batch_size=64)
    target = teacher.predict_windows(w)[:, 0]
    gaps = {}
    for alpha in (0.0, 20.0):
        student = StudentForecaster(window=4, hidden=8, alpha=alpha, beta=0.0, settings=settings)
        student.fit(train, val, teacher=teacher)
        gaps[alpha] = np.mean(np.abs(student.roll(w, 1)[:, 0] - target))  # alignment is on the next step
    assert gaps[20.0] < gaps[0.0]


def test_save_and_load_give_the_same_forecasts(trained, tmp_path):
    train, _, teacher, student = trained
    w = windows_of(train, teacher.lookback).take(np.arange(100))
    for model in (teacher, student, NLinear(16).fit(train)):
        loaded = load_forecaster(model.save(tmp_path / model.kind))
        assert np.allclose(loaded.predict_windows(w), model.predict_windows(w), atol=1e-5), model.kind
        assert loaded.num_parameters() == model.num_parameters()
    assert len(student.predict(15, train)) == 15
    with pytest.raises(ValueError):
        student.predict(16, train)


def test_onnx_graph_computes_the_student_mlp(trained, tmp_path):
    onnx = pytest.importorskip("onnx")
    from onnx.reference import ReferenceEvaluator

    from forecasters.load.onnx_export import to_onnx

    _, _, _, student = trained
    path = to_onnx(student, tmp_path / "student.onnx")
    x = np.random.default_rng(0).normal(size=(7, student.weights[0][0].shape[0])).astype(np.float32)
    (out,) = ReferenceEvaluator(onnx.load(path)).run(None, {"features": x})
    assert np.allclose(out[:, 0], student.mlp(x.astype(np.float64)), atol=1e-5)


def test_default_student_is_at_most_a_tenth_of_the_teacher():
    import torch

    from forecasters.load.networks import TCN, StudentMLP

    sizes = Sizes()
    teacher = TCN(3 + 15, 15, sizes.teacher_channels, sizes.teacher_levels)
    student = StudentMLP(sizes.student_window + 4, sizes.student_hidden)
    shipped = sum(p.numel() for name, p in student.named_parameters() if not name.startswith("project"))
    assert shipped * 10 <= sum(p.numel() for p in teacher.parameters())
    assert isinstance(next(teacher.parameters()), torch.Tensor)
    assert set(STUDENT_VARIANTS["student_no_distillation"]) == {0.0}


def test_philly_series_is_per_unit_power():
    s = philly_series()
    assert len(s) == 105_644
    assert s.known is None
    assert s.values.min() >= 30 / 250 - 1e-12  # an idle P100 over its TDP
    assert s.values.max() <= 1.0
    nodes = pd.read_csv("data/philly/philly_node_sequence.csv")
    busy = (nodes["active"] / nodes["total"]).to_numpy()
    assert np.corrcoef(busy, s.values)[0, 1] == pytest.approx(1.0)  # power is affine in the busy fraction


@pytest.mark.parametrize(("text", "message"), [
    ("when,load_kw\n", "missing column 'time'"),
    ("time,load_kw\n2023-01-01 00:00,1\n2023-01-01 00:01,x\n2023-01-01 00:02,1\n", ":3: load_kw"),
    ("time,load_kw\n2023-01-01 00:00,1\n2023-01-01 00:01,2\n2023-01-01 00:03,1\n", ":4: time"),
])
def test_bad_load_csv_names_file_and_line(tmp_path, text, message):
    path = tmp_path / "load.csv"
    path.write_text(text)
    with pytest.raises(UserError, match=message):
        read_load_csv(path)


def test_load_csv_is_per_unit_of_capacity(tmp_path):
    path = tmp_path / "load.csv"
    times = pd.date_range("2023-01-01", periods=5, freq="5min")
    pd.DataFrame({"time": times, "load_kw": [10, 20, 30, 40, 50], "capacity_kw": 100}).to_csv(path, index=False)
    s = read_load_csv(path)
    assert s.step_s == 300
    assert np.allclose(s.values, [0.1, 0.2, 0.3, 0.4, 0.5])


def test_cli_train_eval_export(tmp_path):
    pd.DataFrame({"time": pd.date_range("2023-01-01", periods=3000, freq="1min"),
                  "load_kw": 500 + 100 * np.sin(np.arange(3000) / 200)}).to_csv(tmp_path / "l.csv", index=False)
    runner = CliRunner()
    out = tmp_path / "models"
    data = str(tmp_path / "l.csv")
    result = runner.invoke(app, ["forecast", "train", "--data", data, "--out", str(out), "--tiny", "--epochs", "1",
                                 "--batches", "3", "--no-baselines"])
    assert result.exit_code == 0, result.output
    assert {p.name for p in out.iterdir() if p.is_dir()} == {"teacher", *STUDENT_VARIANTS}
    result = runner.invoke(app, ["forecast", "eval", str(out), "--data", data, "--json", "--no-timing"])
    assert result.exit_code == 0, result.output
    rows = {r["model"]: r for r in json.loads(result.output)}
    assert set(rows) == {"teacher", *STUDENT_VARIANTS}
    assert all(r["mae@1"] > 0 and math.isfinite(r["mae@15"]) for r in rows.values())
    result = runner.invoke(app, ["forecast", "export", str(out), "--onnx"])
    assert result.exit_code == 0, result.output
    assert (out / "student" / "student.onnx").stat().st_size > 0
    result = runner.invoke(app, ["forecast", "eval", str(tmp_path), "--data", data])
    assert result.exit_code == 2
    assert "no saved forecaster" in result.output
