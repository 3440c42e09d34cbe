"""A job list in dcsim's CSV format drives the simulation; bad rows are reported by file:line and column."""

from __future__ import annotations

import pytest

from simulator.common.errors import UserError
from simulator.run.pipeline import simulate
from tests.conftest import small_scenario

GOOD = """submit_s,model,num_gpus,epochs,duration_s,batch_size
0,vit,4,3,,
10,bert,8,,1200,16
20,gpt,16,,3600,
"""


def scenario_for(tmp_path, text):
    path = tmp_path / "jobs.csv"
    path.write_text(text)
    return small_scenario(workload={"kind": "trace", "path": str(path)},
                          simulation={"warmup": 0, "duration": "3h", "resolution": "10s"})


def test_trace_jobs_run_with_their_epochs_or_durations(tmp_path):
    result = simulate(scenario_for(tmp_path, GOOD))
    jobs = result.jobs.set_index("job_id")
    assert list(jobs["model"]) == ["vit", "bert", "gpt"]
    period = jobs["peak_duration_s"] + jobs["valley_duration_s"]
    assert jobs.loc[0, "duration_s"] == pytest.approx(3 * period[0])  # epochs given: duration follows
    assert jobs.loc[1, "epochs"] == pytest.approx(1200 / period[1])  # duration given: epochs follow
    assert jobs.loc[1, "batch_size"] == 16 and jobs.loc[2, "batch_size"] == 8  # missing: family reference
    assert (jobs["start_s"] == [0, 10, 20]).all()  # 28 of 32 GPUs: all fit at once
    assert result.metrics["jobs_submitted"] == 3


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("submit_s,model\n0,vit\n", "jobs.csv:1: missing column(s) num_gpus"),
        ("submit_s,model,num_gpus,epochs\n0,vit,four,1\n", "jobs.csv:2: column num_gpus: expected a number >= 0"),
        ("submit_s,model,num_gpus,epochs\n0,vit,4,1\n5,vit,-4,1\n", "jobs.csv:3: column num_gpus"),
        ("submit_s,model,num_gpus,epochs\n0,alexnet,4,1\n", "jobs.csv:2: column model: unknown family"),
        ("submit_s,model,num_gpus,epochs\n0,vit,64,1\n", "jobs.csv:2: column num_gpus: 64 GPUs exceed"),
        ("submit_s,model,num_gpus,epochs,duration_s\n0,vit,4,,\n", "jobs.csv:2: a job needs epochs or duration_s"),
        ("submit_s,model,num_gpus,epochs\n0,vit,2.5,1\n", "jobs.csv:2: column num_gpus: expected a whole number"),
        ("submit_s,model,num_gpus,epochs\n0,vit,2,0\n", "jobs.csv:2: column epochs: expected a number > 0"),
        ("", "jobs.csv: cannot read as CSV"),
    ],
)
def test_bad_rows_are_named(tmp_path, text, expected):
    with pytest.raises(UserError) as info:
        simulate(scenario_for(tmp_path, text))
    assert expected in str(info.value)
