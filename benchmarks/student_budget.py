"""Does the student gain from distillation when it trains longer? The close call of the Philly table, measured.

    python benchmarks/student_budget.py --teacher-epochs 12 --student-epochs 4 20 40 --threads 1

The README settings give every model 4 epochs of 100 mini-batches. The teacher and the recurrent baselines
need them; the student is ~80x smaller, and its training time is almost all the teacher's inference over the
training windows, so it could train far longer at no real cost. This trains the teacher once (recording its
validation curve: the weights of its best epoch are kept), then the student with and without distillation for
each student budget, and reports the 1-, 5- and 15-step MAE on the validation and the test part. Writes
``benchmarks/results/student_budget_<data>.json``.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import replace
from pathlib import Path

from rich.console import Console
from rich.table import Table

from forecasters.load.evaluate import evaluate
from forecasters.load.pipeline import STUDENT_VARIANTS, Sizes
from forecasters.load.sequence import TeacherForecaster
from forecasters.load.student import StudentForecaster
from forecasters.load.training import TrainSettings
from simulator.common.atomic import write_text_atomic
from simulator.training_data.load_series import load_data

RESULTS = Path(__file__).resolve().parents[1] / "benchmarks" / "results"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", choices=["simulated", "philly"], default="philly")
    parser.add_argument("--teacher-epochs", type=int, default=4)
    parser.add_argument("--student-epochs", type=int, nargs="+", default=[4, 20, 40])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    data, sizes = load_data(args.data), Sizes()
    settings = TrainSettings(seed=args.seed, threads=args.threads)
    console = Console()
    with console.status(f"teacher, {args.teacher_epochs} epochs"):
        began = time.perf_counter()
        teacher = TeacherForecaster(sizes.lookback, use_known=data.has_known,
                                    settings=replace(settings, epochs=args.teacher_epochs),
                                    channels=sizes.teacher_channels, levels=sizes.teacher_levels)
        teacher.fit(data.train, data.val)
        teacher_s = time.perf_counter() - began
    models, seconds = {"teacher": teacher}, {"teacher": teacher_s}
    for epochs in args.student_epochs:
        for variant in ("student", "student_no_distillation"):
            name = f"{variant} ({epochs} epochs)"
            alpha, beta = STUDENT_VARIANTS[variant]
            with console.status(name):
                began = time.perf_counter()
                models[name] = StudentForecaster(sizes.student_window, sizes.student_hidden, use_known=data.has_known,
                                                 alpha=alpha, beta=beta, settings=replace(settings, epochs=epochs)
                                                 ).fit(data.train, data.val, teacher=teacher)
                seconds[name] = time.perf_counter() - began
    scores = {part: evaluate(models, data.train, split, timing=False)
              for part, split in (("val", data.val), ("test", data.test))}
    rows = {name: {"train_s": round(seconds[name], 1),
                   **{f"{part}_mae@{h}": float(scores[part].loc[name, f"mae@{h}"])
                      for part in scores for h in (1, 5, 15)}} for name in models}
    history = teacher.val_history
    best = 1 + min(range(len(history)), key=history.__getitem__)
    out = RESULTS / f"student_budget_{args.data}.json"
    write_text_atomic(out, json.dumps({"data": args.data, "seed": args.seed, "teacher_epochs": args.teacher_epochs,
                                       "teacher_val_history": history, "models": rows}, indent=2) + "\n")
    table = Table(title=f"{args.data}: MAE in % of rated IT power (teacher: {args.teacher_epochs} epochs, its best "
                        f"validation epoch {best} kept)")
    for column in ("model", "val @1", "test @1", "test @5", "test @15", "train s"):
        table.add_column(column, justify="left" if column == "model" else "right")
    for name, r in rows.items():
        table.add_row(name, *(f"{100 * r[k]:.4f}" for k in ("val_mae@1", "test_mae@1", "test_mae@5", "test_mae@15")),
                      f"{r['train_s']:.1f}")
    console.print(table)
    console.print(f"wrote {out}")


if __name__ == "__main__":
    main()
