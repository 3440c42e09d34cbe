"""The code base stays ruff-clean, its imports run one way (import-linter), and CI runs the README's test command."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT


@pytest.mark.skipif(shutil.which("ruff") is None, reason="ruff is installed with the test extras")
def test_ruff_is_clean():
    proc = subprocess.run(["ruff", "check", "."], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout


def test_imports_run_one_way():
    """The layers, forecasters-below-the-simulator and no-circle contracts of pyproject.toml all hold: an upward
    import or a circle anywhere fails here, and so in CI."""
    lint = Path(sys.executable).with_name("lint-imports")  # installed with the test extras (import-linter)
    proc = subprocess.run([str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Contracts: 3 kept, 0 broken." in proc.stdout


def test_every_room_is_in_the_layers_contract():
    """A new subpackage of simulator/ must take its place in the layers (else nothing checks its imports), and the
    README's Architecture table must name it."""
    pyproject, readme = (ROOT / "pyproject.toml").read_text(), (ROOT / "README.md").read_text()
    layers = re.search(r'type = "layers"\nlayers = \[(.*?)\]', pyproject, flags=re.S).group(1)
    listed = set(re.findall(r"simulator\.(\w+)", layers))
    rooms = {p.parent.name for p in (ROOT / "simulator").glob("*/__init__.py")}
    assert rooms == listed, f"not in the layers: {rooms - listed}; in the layers, not in simulator/: {listed - rooms}"
    architecture = readme.split("## Architecture", 1)[1].split("\n## ", 1)[0]
    assert all(f"`simulator/{room}/`" in architecture for room in rooms)


def test_ci_runs_the_readme_commands_verbatim():
    readme = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```bash\n(.*?)```", readme, flags=re.S)
    commands = [line for line in blocks[0].splitlines() if line and not line.startswith("#")]
    assert len(commands) == 2, "README opens with two commands: run the main job, run the tests"
    run, test = commands
    assert run.startswith("pip install torch==2.13.0") and run.endswith("dcsim run scenarios/peak_shaving.yaml")
    assert test.startswith("pip install torch==2.13.0") and '".[test]"' in test
    ci = (ROOT / ".ci/run").read_text().splitlines()
    assert test in ci
