"""sealrun.contribute and sealrun.collect against a real registry: worker
processes (this interpreter, started as subprocesses) push at once, the
collected experiment opens with every run once, re-collecting is
idempotent, and lying tags are skipped with a reason."""

import subprocess
import sys

import pytest

import sealrun

WORKER = r'''
import sys, sealrun
store, dst, worker = sys.argv[1:4]
exp = sealrun.Experiment("pysweep", store=store)
for i in range(2):
    with exp.run() as run:
        run.log_parameter("worker", worker)
        run.log_parameter("local", i)
        run.save_file("result.json", {"loss": 1.0 / (i + 1)})
for c in sealrun.contribute(exp, dst, worker=worker):
    print(c.tag)
'''


def test_workers_contribute_at_once_and_collect_assembles_them(registry, tmp_path):
    dst = f"docker://{registry}/py/collected-sweep"
    procs = [subprocess.Popen([sys.executable, "-c", WORKER, str(tmp_path / f"s{i}"), dst, f"w{i}"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for i in range(6)]
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0] * 6, outs
    assert sorted(t for o, _ in outs for t in o.split()) == sorted(
        sealrun.contribution_tag("pysweep", f"w{i}", j) for i in range(6) for j in range(2))

    first = sealrun.collect(dst, experiment="pysweep", tag="v1")
    assert first.skipped == []
    assert first.added == 12 and first.kept == 0 and first.contributions == 12
    assert [(r.worker, r.local_run_id) for r in first.runs] == [(f"w{i}", j) for i in range(6) for j in range(2)]
    exp = sealrun.open(f"{dst}:v1")
    assert exp.name == "pysweep"
    assert exp.run_ids == list(range(12))
    for r in first.runs:
        run = exp.run(r.run_id)
        assert run.parameters["worker"] == r.worker
        assert run.parameters["local"] == r.local_run_id
        assert run.get_json("result.json") == {"loss": 1.0 / (r.local_run_id + 1)}
    assert sealrun.validate(f"{dst}:v1").valid

    again = sealrun.collect(dst, experiment="pysweep", tag="v1")
    assert again.digest == first.digest
    assert again.added == 0 and again.kept == 12


def test_a_lying_tag_is_skipped_and_another_experiment_is_not_overwritten(registry, tmp_path):
    dst = f"docker://{registry}/py/hostile"
    other = sealrun.Experiment("other", store=tmp_path / "s")
    with other.run() as run:
        run.log_parameter("x", 1)
    (c,) = sealrun.contribute(other, dst, worker="w1")
    assert c.tag == "contrib.other.w1.0"
    sealrun.copy(f"{dst}@{c.digest}", f"{dst}:contrib.pysweep.w1.0")  # a tag that lies
    r = sealrun.collect(dst, experiment="pysweep", tag="v1")
    assert r.runs == []
    assert len(r.skipped) == 1 and r.skipped[0][0] == "contrib.pysweep.w1.0"
    assert 'experiment "other"' in r.skipped[0][1]
    sealrun.collect(dst, experiment="other", tag="o1")
    with pytest.raises(sealrun.AlreadyExists):
        sealrun.collect(dst, experiment="pysweep", tag="o1")
    with pytest.raises(sealrun.InvalidInput):
        sealrun.collect(f"{dst}:v1", experiment="pysweep", tag="v1")
    with pytest.raises(sealrun.InvalidInput):
        sealrun.contribute(other, dst, worker="")
