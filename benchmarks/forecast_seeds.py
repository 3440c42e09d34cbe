"""Seed-to-seed spread of the close calls in the forecasting benchmark: student vs its no-distillation ablation
and vs the recurrent baselines, each retrained with several training seeds.

    python benchmarks/forecast_seeds.py --data philly --seeds 0 1 2 --threads 1

A gap between two models means something only if it is larger than what a different training seed moves
either of them by. Per seed this trains the teacher (the student distils from it), the student, the student
without distillation, the LSTM and the GRU with the README settings, and records the held-out 1-step and
15-step MAE. Results are written after every seed to ``benchmarks/results/forecast_seeds_<data>.json``;
models are not kept.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from forecasters.load.evaluate import evaluate
from forecasters.load.pipeline import STUDENT_VARIANTS, Sizes
from forecasters.load.sequence import RecurrentForecaster, TeacherForecaster
from forecasters.load.student import StudentForecaster
from forecasters.load.training import TrainSettings
from simulator.common.atomic import write_text_atomic
from simulator.training_data.load_series import load_data

RESULTS = Path(__file__).resolve().parents[1] / "benchmarks" / "results"


def train_seed(data, settings: TrainSettings, sizes: Sizes) -> dict:
    known = data.has_known
    teacher = TeacherForecaster(sizes.lookback, use_known=known, settings=settings, channels=sizes.teacher_channels,
                                levels=sizes.teacher_levels).fit(data.train, data.val)
    models = {"teacher": teacher}
    for name in ("student", "student_no_distillation"):
        alpha, beta = STUDENT_VARIANTS[name]
        models[name] = StudentForecaster(sizes.student_window, sizes.student_hidden, use_known=known, alpha=alpha,
                                         beta=beta, settings=settings).fit(data.train, data.val, teacher=teacher)
    for cell in ("lstm", "gru"):
        models[cell] = RecurrentForecaster(sizes.lookback, use_known=known, settings=settings, cell=cell,
                                           hidden=sizes.rnn_hidden).fit(data.train, data.val)
    table = evaluate(models, data.train, data.test, timing=False)
    return {name: {"mae@1": float(r["mae@1"]), "mae@15": float(r["mae@15"])} for name, r in table.iterrows()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", choices=["simulated", "philly"], default="philly")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    data = load_data(args.data)
    out = RESULTS / f"forecast_seeds_{args.data}.json"
    per_seed: dict[str, dict] = {}
    console = Console()
    for seed in args.seeds:
        settings = TrainSettings(seed=seed, threads=args.threads)
        with console.status(f"{args.data}: seed {seed}"):
            per_seed[str(seed)] = train_seed(data, settings, Sizes())
        names = list(next(iter(per_seed.values())))
        summary = {name: {key: {"mean": float(np.mean(v)), "std": float(np.std(v, ddof=1)) if len(v) > 1 else None}
                          for key in ("mae@1", "mae@15")
                          for v in [[s[name][key] for s in per_seed.values()]]} for name in names}
        write_text_atomic(out, json.dumps({"data": args.data, "settings": "README (4 epochs x 100 batches of 256)",
                                           "per_seed": per_seed, "summary": summary}, indent=2) + "\n")
    table = Table(title=f"{args.data}: held-out MAE in % of rated IT power over seeds {args.seeds}")
    for c in ("model", "MAE@1 mean", "MAE@1 std", "MAE@15 mean", "MAE@15 std"):
        table.add_column(c, justify="left" if c == "model" else "right")
    for name, s in summary.items():
        std1, std15 = s["mae@1"]["std"], s["mae@15"]["std"]
        table.add_row(name, f"{100 * s['mae@1']['mean']:.4f}", f"{100 * std1:.4f}" if std1 is not None else "",
                      f"{100 * s['mae@15']['mean']:.4f}", f"{100 * std15:.4f}" if std15 is not None else "")
    console.print(table)
    console.print(f"wrote {out}")


if __name__ == "__main__":
    main()
