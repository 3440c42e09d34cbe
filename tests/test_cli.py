"""The dcsim command: runs write every output, mistakes exit 2 with one line and write nothing."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest
from typer.testing import CliRunner

from simulator import __version__
from simulator.cli.main import app
from simulator.report import run_report as report
from simulator.report.run_report import write_outputs
from simulator.run.pipeline import simulate
from tests.conftest import ROOT, small_scenario

runner = CliRunner()

SMALL = """
name: tiny
cluster: {servers: 2}
simulation: {duration: 2h, warmup: 1h, resolution: 10s, seed: 5}
"""


@pytest.fixture
def tiny(tmp_path):
    path = tmp_path / "tiny.yaml"
    path.write_text(SMALL)
    return path


def test_run_writes_every_output_and_prints_the_table(tiny, tmp_path):
    out = tmp_path / "out"
    result = runner.invoke(app, ["run", str(tiny), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "Peak 15-min average" in result.output and "outputs in" in result.output
    for name in ("timeseries.parquet", "jobs.parquet", "metrics.json", "report.html", "scenario.yaml",
                 "facility_power.png", "occupancy.png", "power_distribution.png", "grid.parquet", "grid_import.png",
                 "cost_breakdown.png", "price_carbon.png"):
        assert (out / name).stat().st_size > 0, name
    metrics = json.loads((out / "metrics.json").read_text())
    ts = pd.read_parquet(out / "timeseries.parquet")
    assert len(ts) == 720 and metrics["peak_kw"] == pytest.approx(ts["facility_power_kw"].max())
    jobs = pd.read_parquet(out / "jobs.parquet")
    assert {"submit_s", "start_s", "end_s", "wait_s", "num_gpus", "energy_kwh", "placement"} <= set(jobs.columns)
    html = (out / "report.html").read_text()
    assert html.count("data:image/png;base64,") == 6 and "<img src=\"http" not in html  # self-contained
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temp folders left


def test_seed_option_changes_the_run(tiny, tmp_path):
    for seed in ("1", "2"):
        assert runner.invoke(app, ["run", str(tiny), "--out", str(tmp_path / seed), "--seed", seed]).exit_code == 0
    a, b = (json.loads((tmp_path / s / "metrics.json").read_text()) for s in ("1", "2"))
    assert a["seed"] == 1 and b["seed"] == 2 and a != b


def test_validate_and_version(tiny):
    result = runner.invoke(app, ["validate", str(tiny)])
    assert result.exit_code == 0 and "ok: 2 x 8 A100-80GB" in result.output
    assert runner.invoke(app, ["--version"]).output.strip() == f"dcsim {__version__}"


def test_a_bad_scenario_exits_2_with_one_line_and_no_output(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("cluster:\n  servers: many\n")
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "simulator", "run", str(bad), "--out", str(out)],
                          capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr
    assert f"{bad}:2: cluster.servers: Input should be a valid integer" in lines[0]
    assert not out.exists()


def test_a_failed_write_leaves_no_partial_output_and_keeps_the_old_one(tmp_path, monkeypatch):
    result = simulate(small_scenario())
    out = write_outputs(result, tmp_path / "run")
    before = (out / "metrics.json").read_bytes()

    def broken(*args):
        raise OSError("disk full")

    monkeypatch.setattr(report, "_plot_occupancy", broken)
    with pytest.raises(OSError, match="disk full"):
        write_outputs(result, tmp_path / "run")
    with pytest.raises(OSError, match="disk full"):
        write_outputs(result, tmp_path / "fresh")
    assert (out / "metrics.json").read_bytes() == before
    assert not (tmp_path / "fresh").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_progress_bar_appears_only_after_the_delay():
    from simulator.cli.main import LazyProgress

    quick = LazyProgress("quick", delay=60.0)
    quick(0.5)
    assert quick.progress is None
    slow = LazyProgress("slow", delay=0.0)
    slow(0.25)
    slow(1.0)
    assert slow.progress is not None and slow.progress.tasks[0].completed == 1.0
    slow.close()
