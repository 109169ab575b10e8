"""Nothing lost when a Python sweep dies: a real Python process recording
with checkpoints is killed (SIGKILL) or interrupted (SIGINT, which Python
turns into KeyboardInterrupt) at a run it reports on its stdout; the
checkpoint opens with sealrun.open, and Experiment.resume goes on from it.
load, fork and rename from Python."""

from __future__ import annotations

import os
import pathlib
import signal
import subprocess
import sys
import textwrap

import pytest

import sealrun

WORKER = textwrap.dedent(
    """
    import sys, sealrun
    store, tag, stop = sys.argv[1], sys.argv[2], int(sys.argv[3])
    with sealrun.Experiment("py-sweep", store=store, tag=tag, checkpoint=True) as exp:
        for i in range(50):
            with exp.run() as run:
                run.log_parameter("i", i)
                run.save_file("result.json", {"loss": 1.0 / (i + 1)})
                print("open", i, flush=True)
                if i == stop:
                    sys.stdin.read()  # the test kills or interrupts us here
    """
)


def start(store: pathlib.Path, tag: str, stop: int) -> subprocess.Popen:
    env = dict(os.environ)
    return subprocess.Popen([sys.executable, "-c", WORKER, str(store), tag, str(stop)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True, env=env)


def wait_open(proc: subprocess.Popen, run: int) -> None:
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.strip() == f"open {run}":
            return
    pytest.fail(f"the worker ended before run {run} (exit {proc.wait()})")


def test_sigkill_leaves_the_last_draft_and_resume_goes_on(tmp_path: pathlib.Path) -> None:
    store = tmp_path / "storage"
    proc = start(store, "py1", 5)
    wait_open(proc, 5)
    proc.kill()
    assert proc.wait() == -signal.SIGKILL
    cp = sealrun.open("py1.checkpoint", store=store)
    assert cp.status == "draft"
    assert cp.run_ids == [0, 1, 2, 3, 4]
    assert cp.run(3).get_json("result.json")["loss"] == pytest.approx(0.25)

    with sealrun.Experiment.resume("py1", store=store) as exp:
        assert exp.kept_run_ids == [0, 1, 2, 3, 4]
        with exp.run() as run:
            assert run.run_id == 5
            run.save_file("result.json", {"loss": 0.0})
    final = sealrun.open("py1", store=store)
    assert final.status == "finished"
    assert final.run_ids == [0, 1, 2, 3, 4, 5]
    with pytest.raises(sealrun.NotFound):
        sealrun.open("py1.checkpoint", store=store)


def test_sigint_is_an_interrupted_checkpoint_with_the_open_runs_files(tmp_path: pathlib.Path) -> None:
    store = tmp_path / "storage"
    proc = start(store, "py2", 3)
    wait_open(proc, 3)
    proc.send_signal(signal.SIGINT)
    assert proc.wait() != 0  # KeyboardInterrupt ends the worker
    cp = sealrun.open("py2.checkpoint", store=store)
    assert cp.status == "interrupted"
    assert cp.run_ids == [0, 1, 2, 3]
    assert cp.run(3).status == "interrupted"
    assert cp.run(3).get_json("result.json")["loss"] == pytest.approx(0.25)
    with pytest.raises(sealrun.NotFound):
        sealrun.Experiment.resume("never", store=store)


def test_load_fork_rename(tmp_path: pathlib.Path) -> None:
    store = tmp_path / "storage"
    with sealrun.Experiment("base", store=store, tag="base-v1") as exp:
        for i in range(3):
            with exp.run() as run:
                run.log_parameter("i", i)
    first = sealrun.open("base-v1", store=store).digest

    with sealrun.Experiment.load("base-v1", store=store) as exp:
        with exp.run() as run:
            assert run.run_id == 3
    appended = sealrun.open("base-v1", store=store)
    assert appended.run_ids == [0, 1, 2, 3]
    assert appended.digest != first

    with sealrun.Experiment.fork("base-v1", "child", store=store, new_tag="child-v1") as child:
        assert child.subject == appended.digest
        with child.run() as run:
            assert run.run_id == 4
    forked = sealrun.open("child-v1", store=store)
    assert forked.name == "child"
    assert forked.run_ids == [0, 1, 2, 3, 4]

    digest = sealrun.Experiment.rename("child-v1", "grown", new_tag="grown-v1", store=store)
    grown = sealrun.open("grown-v1", store=store)
    assert grown.digest == digest
    assert grown.name == "grown"
    assert grown.run(4).status == "finished"
