"""The code base stays ruff-clean, and CI runs exactly the test command the README gives."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from tests.conftest import ROOT


@pytest.mark.skipif(shutil.which("ruff") is None, reason="ruff is installed with the test extras")
def test_ruff_is_clean():
    proc = subprocess.run(["ruff", "check", "."], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout


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
