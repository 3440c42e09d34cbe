"""Symbolic power model: formulas as data, exact replay of gplearn, feature selection, JSON round trip."""

from __future__ import annotations

import json
import os

import numpy as np
import pandas as pd
import pytest

from forecasters.power import symbolic
from forecasters.power.compare import baselines, compare, leave_one_out, per_group, split_811, summarize
from forecasters.power.formula import evaluate, to_infix
from forecasters.power.symbolic import (
    ALL,
    DEFAULT_MODEL,
    SymbolicPowerModel,
    _distinct,
    _function_set,
    _tokens,
    candidate_features,
    scaled_mae,
    select_features,
)
from forecasters.power.synthetic import synthetic_dataset, synthetic_waves
from simulator.common.catalog import gpu_spec
from simulator.common.errors import UserError
from simulator.common.jobs import WAVE_COLUMNS

TINY = {"population_size": 200, "generations": 5, "restarts": 1}


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_protected_functions_match_gplearn_conventions():
    zero = {"x": np.array([0.0, 2.0])}
    np.testing.assert_allclose(evaluate(["div", 1.0, "x"], zero), [1.0, 0.5])
    np.testing.assert_allclose(evaluate(["log", "x"], zero), [0.0, np.log(2.0)])
    np.testing.assert_allclose(evaluate(["inv", "x"], zero), [0.0, 0.5])
    np.testing.assert_allclose(evaluate(["sqrt", "neg", "x"], zero), [0.0, np.sqrt(2.0)])
    assert to_infix(["add", "mul", "x", 0.5, "sig", "y"]) == "((x * 0.5) + sig(y))"
    with pytest.raises(ValueError, match="left over"):
        evaluate(["x", "x"], zero)


def test_saved_tokens_replay_the_gplearn_program_exactly():
    from gplearn.genetic import SymbolicRegressor

    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 3))
    y = np.minimum(np.sin(x[:, 0]) * x[:, 1], 0.5) + 1 / (1 + np.exp(-x[:, 2]))
    assert "min" not in _function_set(published=True) and "min" in _function_set(published=False)
    regressor = SymbolicRegressor(population_size=300, generations=5, function_set=_function_set(published=False),
                                  random_state=1).fit(x, y)
    names = ["a", "b", "c"]
    tokens = _tokens(regressor._program.program, names)
    replay = evaluate(tokens, dict(zip(names, x.T, strict=True)))
    np.testing.assert_allclose(replay, regressor.predict(x), rtol=1e-12, atol=1e-12)
    assert evaluate(["max", "a", "min", "b", 0.0], {"a": np.array([-1.0, 2.0]), "b": np.array([1.0, -3.0])}
                    ).tolist() == [0.0, 2.0]


def test_linear_scaling_judges_a_program_by_its_shape_and_is_folded_into_the_formula(monkeypatch):
    rng = np.random.default_rng(5)
    y = rng.normal(size=200)
    assert scaled_mae(y, 3 * y - 2, np.ones(200)) < 1e-12
    assert scaled_mae(y, np.full(200, 7.0), np.ones(200)) == pytest.approx(np.mean(np.abs(y - y.mean())))
    frame = synthetic_dataset(300, np.random.default_rng(2), noise=0.02)
    model = SymbolicPowerModel(["valley_power_w"], group_by=None, **TINY).fit(frame)
    formula = model.formulas["valley_power_w"][ALL]
    values = frame["valley_power_w"].to_numpy()
    # the saved formula (line folded into its scaling) predicts with the error the search reported
    error = np.mean(np.abs(model.predict(frame)["valley_power_w"].to_numpy() - values)) / values.std()
    assert error == pytest.approx(formula.train_mae_scaled, rel=1e-9)
    monkeypatch.setattr(symbolic, "PUBLISHED_SETTINGS", {**symbolic.PUBLISHED_SETTINGS, **TINY})  # a small search
    published = SymbolicPowerModel(["valley_power_w"], group_by=None, published=True).fit(frame)
    assert published.formulas["valley_power_w"][ALL].target_scale == pytest.approx(values.std())  # plain MAE


def test_restarts_keep_the_search_with_the_lowest_training_fitness():
    frame = synthetic_dataset(300, np.random.default_rng(4), noise=0.05)

    def formula(random_state: int, restarts: int):
        model = SymbolicPowerModel(["peak_power_w"], group_by=None, random_state=random_state,
                                   **{**TINY, "restarts": restarts})
        return model.fit(frame).formulas["peak_power_w"][ALL]

    single = [formula(seed, 1) for seed in (7, 8, 9)]
    fitness = [f.train_mae_scaled for f in single]
    assert len(set(fitness)) == 3  # the seeds find different formulas, so the choice matters
    best = formula(7, 3)
    assert best.train_mae_scaled == min(fitness)
    assert best.tokens == single[int(np.argmin(fitness))].tokens


def test_a_family_formula_gets_one_name_per_input():
    frame = synthetic_dataset(300, np.random.default_rng(3), noise=0.02)
    frame = frame[frame["gpu"] == "V100"].assign(power_limit=lambda f: np.resize([150.0, 200.0, 250.0], len(f)))
    features = candidate_features(frame)
    assert np.corrcoef(features["power_limit"], features["limit_ratio"])[0, 1] > 1 - 1e-9  # one GPU: a copy
    kept = _distinct(features, ["power_limit", "limit_ratio", "log_batch_size"])
    assert kept == ["power_limit", "log_batch_size"]


def test_feature_selection_reports_both_measures():
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"signal": rng.uniform(0, 1, 500), "noise": rng.uniform(0, 1, 500), "const": 1.0})
    report = {row["feature"]: row for row in select_features(frame, frame["signal"].to_numpy() ** 2)}
    assert "const" not in report
    assert report["signal"]["selected"] and report["signal"]["pearson"] > 0.9 and report["signal"]["mutual_info"] > 1
    assert not report["noise"]["selected"] and abs(report["noise"]["pearson"]) < 0.3


def test_a_logarithmic_law_is_recovered_and_survives_a_json_round_trip(tmp_path):
    frame = synthetic_dataset(400, np.random.default_rng(2), noise=0.0)
    frame = frame[frame["model"] == "vit"].copy()
    frame["target"] = 100 + 20 * np.log(frame["batch_size"])
    model = SymbolicPowerModel(["target"], group_by=None, **TINY).fit(frame)
    predicted = model.predict(frame)["target"].to_numpy()
    assert np.mean(np.abs(predicted - frame["target"]) / frame["target"]) < 0.01
    formula = model.formulas["target"][ALL]
    assert "log_batch_size" in formula.features and "target = " in formula.readable()
    model.save(tmp_path / "m.json")
    assert (tmp_path / "m.json").stat().st_mode & 0o077 == 0o666 & ~_umask() & 0o077  # not a private temp file
    assert [p.name for p in tmp_path.iterdir()] == ["m.json"]
    document = json.loads((tmp_path / "m.json").read_text())
    assert document["formulas"]["target"][ALL]["formula"] == formula.formula  # readable text is stored
    again = SymbolicPowerModel.load(tmp_path / "m.json")
    np.testing.assert_array_equal(again.predict(frame)["target"].to_numpy(), predicted)


def test_families_get_their_own_formula_and_unknown_ones_the_general_one():
    frame = synthetic_dataset(300, np.random.default_rng(3), noise=0.02)
    model = SymbolicPowerModel(["peak_power_w"], min_group_rows=30, **TINY).fit(frame)
    groups = model.formulas["peak_power_w"]
    assert ALL in groups and {g for g in groups if g != ALL} == {m for m, n in frame["model"].value_counts().items()
                                                                 if n >= 30}
    novel = frame.head(3).assign(model="alexnet")
    np.testing.assert_allclose(model.predict(novel)["peak_power_w"], groups[ALL].predict(candidate_features(novel)))


def test_family_formulas_are_offered_the_features_selected_over_all_rows():
    frame = synthetic_dataset(300, np.random.default_rng(3), noise=0.02)
    model = SymbolicPowerModel(["peak_duration_s"], min_group_rows=30, **TINY).fit(frame)
    overall = model.formulas["peak_duration_s"][ALL].features
    features = candidate_features(frame)
    for family, formula in model.formulas["peak_duration_s"].items():
        if family != ALL:
            rows = features.loc[frame["model"] == family]
            varying = {c for c in overall if rows[c].nunique() > 1}
            # each is offered, unless it is a copy of one that is (BERT's FLOPs grow with its sequence length)
            assert varying and formula.features == _distinct(rows, formula.features), family
            assert all(_distinct(rows, [*formula.features, c]) == formula.features
                       for c in varying - set(formula.features)), family


def test_a_family_can_span_several_columns():
    frame = synthetic_dataset(300, np.random.default_rng(3), noise=0.02)
    frame["site"] = np.where(np.arange(len(frame)) % 2 == 0, "east", "west")
    model = SymbolicPowerModel(["valley_power_w"], group_by=["site", "model"], min_group_rows=20, **TINY).fit(frame)
    groups = model.formulas["valley_power_w"]
    counts = frame.groupby(["site", "model"]).size()
    assert set(groups) - {ALL} == {f"{g}|{m}" for (g, m), n in counts.items() if n >= 20}
    one = next(g for g in groups if g != ALL)
    site, family = one.split("|")
    rows = frame[(frame["site"] == site) & (frame["model"] == family)].head(3)
    np.testing.assert_allclose(model.predict(rows)["valley_power_w"], groups[one].predict(candidate_features(rows)))
    # jobs that do not say a family column get the all-rows formula; a fit without the column is an error
    unsited = rows.drop(columns="site")
    np.testing.assert_allclose(model.predict(unsited)["valley_power_w"],
                               groups[ALL].predict(candidate_features(unsited)))
    with pytest.raises(UserError, match="group_by: no column dataset"):
        SymbolicPowerModel(["valley_power_w"], group_by=["dataset", "model"], **TINY).fit(frame)


def test_the_shipped_model_loads_predicts_waves_and_honours_a_cap():
    model = SymbolicPowerModel.load(DEFAULT_MODEL)
    assert set(model.targets) == set(WAVE_COLUMNS)
    assert not model.models_power_limit()  # capping comes from the Zeus curve
    jobs = synthetic_dataset(200, np.random.default_rng(4), noise=0.0).drop(columns=list(WAVE_COLUMNS))
    free = model.predict(jobs.drop(columns="power_limit"))
    assert (free > 0).all(axis=None)
    capped = model.predict(jobs.assign(power_limit=0.5 * free["peak_power_w"]))
    assert (capped["peak_power_w"] < free["peak_power_w"]).all()
    assert (capped["peak_duration_s"] >= free["peak_duration_s"]).all()


def test_compare_scores_every_method_on_the_same_splits():
    frame = synthetic_dataset(100, np.random.default_rng(5), noise=0.02)
    results = compare(frame, ["valley_power_w"], repeats=2, sr_settings={"population_size": 50, "generations": 2})
    assert set(results["method"]) == {"SymbolicRegression", *baselines(0)}
    assert len(results) == 2 * 6 and (results["mre"] >= 0).all()
    table = summarize(results)
    assert table.index[0] == "SymbolicRegression" and ("mre", "std", "valley_power_w") in table.columns
    train, val, test = split_811(100, np.random.default_rng(0))
    assert (len(train), len(val), len(test)) == (80, 10, 10)
    assert len(set(train) | set(val) | set(test)) == 100


@pytest.mark.parametrize("kind", ["", "envelope", "roofline"])
@pytest.mark.parametrize("log", [False, True])
def test_physics_references_invert(kind, log):
    jobs = synthetic_dataset(60, np.random.default_rng(6))
    features = candidate_features(jobs)
    values = jobs["peak_power_w"].to_numpy(float) if kind != "roofline" else jobs["peak_duration_s"].to_numpy(float)
    fitted = symbolic.to_fitted(values, kind, log, features)
    assert np.allclose(symbolic.from_fitted(fitted, kind, log, features), values, rtol=1e-12)
    if kind == "":
        assert np.array_equal(fitted, np.log(values) if log else values)  # no reference: exactly as before


def _one_gpu(gpu: str, n: int, seed: int) -> pd.DataFrame:
    """Synthetic jobs of one GPU at its TDP: the analytic model's power share does not depend on the GPU."""
    jobs = synthetic_dataset(n, np.random.default_rng(seed), noise=0.01)
    jobs["gpu"] = gpu
    jobs["power_limit"] = gpu_spec(gpu).tdp_w
    return synthetic_waves(jobs.drop(columns=list(WAVE_COLUMNS)), np.random.default_rng(seed), noise=0.01)


def test_physics_formulas_hold_on_a_gpu_they_were_not_fitted_on():
    """Fitted on V100 jobs alone and asked about H100 jobs (TDP 300 W against 700 W): the envelope carries the
    hardware, so the physics formula transfers and the plain one, which learned V100 watts, cannot."""
    train, test = _one_gpu("V100", 300, 7), _one_gpu("H100-SXM", 200, 8)
    errors = {}
    for physics in (False, True):
        model = SymbolicPowerModel(["peak_power_w"], group_by=None, physics=physics, **TINY).fit(train)
        pred = model.predict(test)["peak_power_w"].to_numpy()
        errors[physics] = float(np.mean(np.abs(pred / test["peak_power_w"].to_numpy() - 1)))
    assert errors[True] < 0.1 < 0.3 < errors[False]


def test_physics_model_round_trips_its_reference(tmp_path):
    model = SymbolicPowerModel(["peak_power_w"], group_by=None, physics=True, **TINY).fit(_one_gpu("A40", 100, 9))
    model.save(tmp_path / "m.json")
    again = SymbolicPowerModel.load(tmp_path / "m.json")
    assert again.formulas["peak_power_w"][ALL].reference == "envelope" and again.physics
    jobs = _one_gpu("A100-80GB", 30, 10)
    assert np.allclose(again.predict(jobs), model.predict(jobs))
    assert "gpu_idle_w" in again.formulas["peak_power_w"][ALL].readable()


def test_leave_one_group_out_tests_each_group_once_on_the_others_fit():
    frame = pd.concat([_one_gpu("V100", 60, 11), _one_gpu("A40", 50, 12), _one_gpu("T4", 40, 13)],
                      ignore_index=True)
    folds = leave_one_out(frame["gpu"], np.random.default_rng(0))
    assert [name for name, *_ in folds] == ["A40", "T4", "V100"]
    for name, train, val, test in folds:
        assert set(frame["gpu"].iloc[test]) == {name} and name not in set(frame["gpu"].iloc[np.r_[train, val]])
        assert len(train) + len(val) + len(test) == len(frame) and len(val) == round(0.1 * (len(frame) - len(test)))
    results = compare(frame, ["peak_power_w"], holdout="gpu", physics=True, group_by=None,
                      sr_settings={"population_size": 50, "generations": 2})
    assert len(results) == 3 * 6 and set(results["holdout"]) == {"A40", "T4", "V100"}
    table = per_group(results)
    assert list(table.index) == ["A40", "T4", "V100"] and ("peak_power_w", "SymbolicRegression") in table.columns
    with pytest.raises(ValueError, match="holdout: no column 'rack'"):
        compare(frame, ["peak_power_w"], holdout="rack")


def test_a_physics_envelope_fitted_on_capped_jobs_is_the_cap_model():
    """Fitted on jobs under power caps, the envelope min(limit, TDP) carries the cap: the capping curve is not
    applied again, and a lower cap predicts less power."""
    jobs = synthetic_dataset(300, np.random.default_rng(14), noise=0.01)
    jobs["power_limit"] = jobs["gpu"].map(lambda g: gpu_spec(g).tdp_w) * np.random.default_rng(15).uniform(
        0.5, 1.0, len(jobs))
    jobs = synthetic_waves(jobs.drop(columns=list(WAVE_COLUMNS)), np.random.default_rng(16), noise=0.01)
    model = SymbolicPowerModel(["peak_power_w"], group_by=None, physics=True, **TINY).fit(jobs)
    assert model.models_power_limit()
    probe = jobs.head(20).copy()
    high = model.predict(probe.assign(power_limit=probe["gpu"].map(lambda g: gpu_spec(g).tdp_w)))["peak_power_w"]
    low = model.predict(probe.assign(power_limit=probe["gpu"].map(lambda g: 0.5 * gpu_spec(g).tdp_w)))["peak_power_w"]
    assert (low < high).all()
    plain = SymbolicPowerModel(["peak_power_w"], group_by=None, **TINY).fit(jobs.assign(
        power_limit=jobs["gpu"].map(lambda g: gpu_spec(g).tdp_w)))
    assert not plain.models_power_limit()  # never capped in training: caps come from the capping curve
