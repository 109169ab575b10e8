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
    import signal, sys, sealrun
    # KeyboardInterrupt on SIGINT even when the suite was started with
    # SIGINT ignored (a background job of a non-interactive shell).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    store, tag, stop = sys.argv[1], sys.argv[2], int(sys.argv[3])
    remote = sys.argv[4] if len(sys.argv) > 4 else None
    with sealrun.Experiment("py-sweep", store=store, tag=tag, checkpoint=True, checkpoint_to=remote) as exp:
        for i in range(50):
            with exp.run() as run:
                run.log_parameter("i", i)
                run.save_file("result.json", {"loss": 1.0 / (i + 1)})
                print("open", i, flush=True)
                if i == stop:
                    sys.stdin.read()  # the test kills or interrupts us here
    """
)


def start(store: pathlib.Path, tag: str, stop: int, remote: str | None = None) -> subprocess.Popen:
    env = dict(os.environ)
    extra = [remote] if remote else []
    return subprocess.Popen([sys.executable, "-c", WORKER, str(store), tag, str(stop), *extra], stdin=subprocess.PIPE,
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

    # Run 5 was open when the process died: resume takes it over from its
    # record, interrupted, with the file it saved; numbering goes on at 6.
    with sealrun.Experiment.resume("py1", store=store) as exp:
        assert exp.kept_run_ids == [0, 1, 2, 3, 4]
        left = sealrun.open("py1.checkpoint", store=store)
        assert left.run_ids == [0, 1, 2, 3, 4, 5]
        assert left.run(5).status == "interrupted"
        assert "died before closing it" in left.run(5).reason
        assert left.run(5).get_json("result.json")["loss"] == pytest.approx(1 / 6)
        with exp.run() as run:
            assert run.run_id == 6
            run.save_file("result.json", {"loss": 0.0})
    final = sealrun.open("py1", store=store)
    assert final.status == "interrupted"
    assert final.run_ids == [0, 1, 2, 3, 4, 5, 6]
    assert final.run(5).get_json("result.json")["loss"] == pytest.approx(1 / 6)
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


def test_checkpoints_to_a_registry_resume_on_an_empty_store(tmp_path: pathlib.Path, registry: str) -> None:
    remote = f"docker://{registry}/py/checkpoint-moved"
    proc = start(tmp_path / "node1", "pyr", 4, remote)
    wait_open(proc, 4)
    proc.kill()
    assert proc.wait() == -signal.SIGKILL
    pushed = sealrun.open(f"{remote}:pyr.checkpoint")
    assert pushed.status == "draft"
    assert pushed.run_ids == [0, 1, 2, 3]

    # Another node, an empty store: the checkpoint comes from the registry.
    node2 = tmp_path / "node2"
    with sealrun.Experiment.resume(f"{remote}:pyr", store=node2) as exp:
        assert exp.tag == "pyr"
        assert exp.kept_run_ids == [0, 1, 2, 3]
        with exp.run() as run:
            assert run.run_id == 4
            run.save_file("result.json", {"loss": 0.0})
        assert exp.checkpoint_error is None
    final = sealrun.open("pyr", store=node2)
    assert final.run_ids == [0, 1, 2, 3, 4]
    assert final.run(2).get_json("result.json")["loss"] == pytest.approx(1 / 3)
    assert sealrun.open(f"{remote}:pyr.checkpoint").run_ids == [0, 1, 2, 3, 4]


def test_a_registry_that_is_down_does_not_stop_the_sweep(tmp_path: pathlib.Path) -> None:
    store = tmp_path / "storage"
    with sealrun.Experiment("down", store=store, tag="down", checkpoint_to="docker://127.0.0.1:1/py/down") as exp:
        with exp.run() as run:
            run.save_file("result.json", {"loss": 1.0})
        assert exp.checkpoint_error is not None
        assert sealrun.open("down.checkpoint", store=store).run_ids == [0]
    assert sealrun.open("down", store=store).run_ids == [0]
    with pytest.raises(sealrun.InvalidInput):
        sealrun.Experiment("bad", store=store, checkpoint_to="docker://127.0.0.1:1/py/down:v1")
