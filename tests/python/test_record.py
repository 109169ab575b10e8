"""Recording from Python: sealrun.Experiment and sealrun.Run, sealed into a
real store and read back with the sealrun CLI of the build."""

from __future__ import annotations

import gc
import json
import math
import pathlib
import threading

import numpy as np
import pytest

import sealrun


def show(cli, store, *args):
    return json.loads(cli("show", *args, "--json", store=store).stdout)


def get(cli, store, *args) -> bytes:
    out = cli("get", *args, "-o", str(store.parent / "got"), "--overwrite", store=store)
    assert out.returncode == 0
    return (store.parent / "got").read_bytes()


def test_with_block_commits_under_the_name_and_the_cli_reads_it(tmp_path, cli):
    store = tmp_path / "storage"
    with sealrun.Experiment("sweep", store=store) as exp:
        exp.annotate("team", "ops")
        exp.save_file("notes.txt", "two learning rates\n")
        for lr in (0.1, 0.01):
            with exp.run() as run:
                run.log_parameter("lr", lr)
                run.log_parameter("steps", 10)
                run.log_parameter("method", "gd")
                run.log_parameter("warm", lr > 0.05)
                run.save_file("result.json", {"loss": lr * 2})
                run.save_file(["plots", "curve.jsonl"], [{"step": 0, "loss": 1.0}, {"step": 1, "loss": 0.5}])
                run.save_file("loss.npy", np.array([1.0, 0.5, lr]))
                run.save_file("log.txt", f"lr={lr}\n")
    doc = show(cli, store, "sweep")
    assert doc["kind"] == "experiment"
    assert doc["name"] == "sweep"
    assert doc["status"] == "finished"
    assert doc["run_count"] == 2
    assert doc["annotations"]["team"] == "ops"
    assert [a["name"] for a in doc["attachments"]] == ["notes.txt"]
    assert [r["status"] for r in doc["runs"]] == ["finished", "finished"]
    assert doc["runs"][1]["parameters"] == {"lr": 0.01, "steps": 10, "method": "gd", "warm": False}
    assert isinstance(doc["runs"][0]["parameters"]["steps"], int)
    run0 = show(cli, store, "sweep", "--run", "0")
    media = {a["name"]: a["media_type"] for a in run0["attachments"]}
    assert media == {"result.json": "application/json", "plots/curve.jsonl": "application/jsonl",
                     "loss.npy": "application/vnd.numpy", "log.txt": "text/plain"}
    assert json.loads(get(cli, store, "sweep", "--run", "0", "result.json")) == {"loss": 0.2}
    assert get(cli, store, "sweep", "--run", "1", "log.txt") == b"lr=0.01\n"
    assert get(cli, store, "sweep", "notes.txt") == b"two learning rates\n"
    lines = get(cli, store, "sweep", "--run", "0", "plots/curve.jsonl").decode().splitlines()
    assert [json.loads(line) for line in lines] == [{"loss": 1.0, "step": 0}, {"loss": 0.5, "step": 1}]


def test_commit_returns_the_index_digest_and_resealing_gives_the_same(tmp_path, cli):
    store = tmp_path / "storage"
    exp = sealrun.Experiment("e", store=store)
    with exp.run() as run:
        run.save_file("a.json", {"x": 1})
    digest = exp.commit("v1")
    assert digest.startswith("sha256:") and len(digest) == 71
    assert show(cli, store, "v1")["digest"] == digest
    assert exp.commit("v1") == digest
    assert exp.commit("v1-compressed", compress=True) != digest
    zipped = show(cli, store, "v1-compressed", "--run", "0")["attachments"]
    assert [a["compression"] for a in zipped] == ["zstd"]


def test_a_block_that_raises_commits_nothing(tmp_path, cli):
    store = tmp_path / "storage"
    with pytest.raises(RuntimeError, match="stop"):
        with sealrun.Experiment("never", store=store) as exp:
            with exp.run() as run:
                run.log_parameter("a", 1)
            raise RuntimeError("stop")
    assert cli("show", "never", "--json", store=store, check=False).returncode != 0
    tags = json.loads(cli("ls", "--json", store=store).stdout)
    assert [t.get("tag") for t in tags] == []


def test_runs_close_finished_failed_and_interrupted_and_the_exception_propagates(tmp_path, cli):
    store = tmp_path / "storage"
    exp = sealrun.Experiment("statuses", store=store)
    with exp.run() as ok:
        assert ok.status == "running"
    with pytest.raises(ValueError, match="diverged"):
        with exp.run() as bad:
            raise ValueError("diverged")
    with pytest.raises(KeyboardInterrupt):
        with exp.run() as stopped:
            raise KeyboardInterrupt()
    assert (ok.status, bad.status, stopped.status) == ("finished", "failed", "interrupted")
    assert [r.run_id for r in exp.runs] == [0, 1, 2]
    assert exp.runs[1] is bad
    exp.commit("statuses")
    doc = show(cli, store, "statuses")
    assert doc["status"] == "failed"
    assert [(r["status"], r["reason"]) for r in doc["runs"]] == [
        ("finished", ""), ("failed", "ValueError: diverged"), ("interrupted", "KeyboardInterrupt")]


def test_a_run_closed_inside_its_block_stays_as_closed(tmp_path):
    exp = sealrun.Experiment("e", store=tmp_path / "s")
    with exp.run() as run:
        run.interrupt("stopped by the user")
    assert run.status == "interrupted"
    with pytest.raises(sealrun.InvalidInput, match="already closed"):
        run.finish()


def test_an_open_run_is_refused_at_commit(tmp_path):
    exp = sealrun.Experiment("e", store=tmp_path / "s")
    exp.run()
    with pytest.raises(sealrun.InvalidInput, match="still open"):
        exp.commit("e")


def test_the_tag_defaults_to_the_name_and_must_be_valid(tmp_path, cli):
    store = tmp_path / "storage"
    exp = sealrun.Experiment("my sweep", store=store)
    assert exp.tag == "my sweep"
    with pytest.raises(sealrun.InvalidInput):
        with exp:
            pytest.fail("the block must not run under a tag that cannot be committed")
    with pytest.raises(sealrun.InvalidInput):
        sealrun.Experiment("e", store=store, tag="bad tag")
    with sealrun.Experiment("my sweep", store=store, tag="sweep-v2") as exp:
        with exp.run():
            pass
    assert show(cli, store, "sweep-v2")["name"] == "my sweep"


def test_a_tag_naming_other_content_needs_force(tmp_path, cli):
    store = tmp_path / "storage"
    with sealrun.Experiment("e", store=store, tag="t") as first:
        with first.run() as run:
            run.log_parameter("a", 1)
    second = sealrun.Experiment("e", store=store)
    with second.run() as run:
        run.log_parameter("a", 2)
    with pytest.raises(sealrun.AlreadyExists) as info:
        second.commit("t")
    assert isinstance(info.value, FileExistsError)
    assert show(cli, store, "t")["runs"][0]["parameters"] == {"a": 1}
    second.commit("t", force=True)
    assert show(cli, store, "t")["runs"][0]["parameters"] == {"a": 2}
    with pytest.raises(sealrun.AlreadyExists):
        with sealrun.Experiment("e", store=store, tag="t") as third:
            with third.run():
                pass
    with sealrun.Experiment("e", store=store, tag="t", force=True) as fourth:
        with fourth.run() as run:
            run.log_parameter("a", 4)
    assert show(cli, store, "t")["runs"][0]["parameters"] == {"a": 4}


@pytest.mark.parametrize("path", ["../x.json", "/etc/x.json", "a/../../x.json", ["a", "/b.json"], ["..", "x.json"],
                                  "", [], "model.json"])
def test_paths_leaving_the_record_are_invalid_input(tmp_path, path):
    exp = sealrun.Experiment("e", store=tmp_path / "s")
    run = exp.run()
    with pytest.raises(sealrun.InvalidInput):
        run.save_file(path, {"a": 1})
    with pytest.raises(sealrun.InvalidInput):
        exp.save_file(path, "x")
    assert not (tmp_path / "x.json").exists()


def test_values_the_codec_does_not_take_are_invalid_input_naming_both(tmp_path):
    run = sealrun.Experiment("e", store=tmp_path / "s").run()
    with pytest.raises(sealrun.InvalidInput) as info:
        run.save_file("a.npy", {"a": 1})
    assert "a.npy" in str(info.value) and "application/vnd.numpy" in str(info.value) and "dict" in str(info.value)
    assert isinstance(info.value, ValueError)
    with pytest.raises(sealrun.InvalidInput, match="set"):
        run.save_file("a.json", {"x": {1, 2}})
    with pytest.raises(sealrun.InvalidInput, match="NaN"):
        run.save_file("a.json", {"x": math.nan})
    with pytest.raises(sealrun.InvalidInput, match="text/plain.*int"):
        run.save_file("a.txt", 5)
    with pytest.raises(sealrun.InvalidInput, match="application/jsonl"):
        run.save_file("a.jsonl", {"not": "a list"})
    with pytest.raises(sealrun.InvalidInput, match="str"):
        run.save_file("a.json", {1: "non-str key"})
    with pytest.raises(sealrun.InvalidInput):
        run.save_file("a.json", b"not json")  # bytes must decode with the name's codec
    with pytest.raises(sealrun.InvalidInput):
        run.save_file("a.json", {"x": 1}, media_type="application/json")  # a media type goes with bytes
    with pytest.raises(TypeError):
        run.save_file(5, "x")
    deep: list = []
    cur = deep
    for _ in range(2000):
        cur.append([])
        cur = cur[0]
    with pytest.raises(sealrun.InvalidInput, match="deeper"):
        run.save_file("deep.json", deep)
    loop: list = []
    loop.append(loop)
    with pytest.raises(sealrun.InvalidInput):
        run.save_file("loop.json", loop)
    assert run.load_file("a.json") is None


def test_files_round_trip_through_load_file(tmp_path):
    exp = sealrun.Experiment("e", store=tmp_path / "s")
    with exp.run() as run:
        run.save_file("r.json", {"loss": 0.1, "tags": ["a", "b"], "n": None, "big": 2**64 - 1})
        run.save_file(["plots", "c.jsonl"], [{"i": 0}, {"i": 1}])
        run.save_file("notes.md", "ünïcode\n")
        run.save_file("raw.bin", b"\x00\x01\xff")
        run.save_file("weird.txt", "\udcff bytes a program printed")
        run.save_file("weights.p", {"w": [1, 2]})
        assert run.load_file("r.json") == {"loss": 0.1, "tags": ["a", "b"], "n": None, "big": 2**64 - 1}
        assert run.load_file("plots/c.jsonl") == [{"i": 0}, {"i": 1}]
        assert run.load_file(["plots", "c.jsonl"]) == [{"i": 0}, {"i": 1}]
        assert run.load_file(pathlib.PurePosixPath("notes.md")) == "ünïcode\n"
        assert run.load_file("raw.bin") == b"\x00\x01\xff"
        assert run.load_file("weird.txt") == "\udcff bytes a program printed"
        assert (run.local_directory() / "weird.txt").read_bytes() == b"\xff bytes a program printed"
        assert isinstance(run.load_file("weights.p"), bytes)
        assert run.load_file("weights.p", allow_pickle=True) == {"w": [1, 2]}
        assert run.load_file("missing.json") is None
        assert run.load_file("missing.json", default={"d": 1}) == {"d": 1}
        d = run.local_directory()
        assert isinstance(d, pathlib.Path) and d.is_dir()
        assert d.is_relative_to(tmp_path / "s" / "records")
        assert run.local_directory("plots", "c.jsonl").read_bytes() == b'{"i":0}\n{"i":1}\n'
    exp.save_file("summary.json", {"best": 0})
    assert exp.load_file("summary.json") == {"best": 0}
    assert exp.local_directory("summary.json").is_file()


def test_markers_live_in_memory_only(tmp_path):
    run = sealrun.Experiment("e", store=tmp_path / "s").run()
    run.mark("promising")
    run.mark("score", {"v": 1})
    run.mark("nothing", None)
    assert run.marker("promising") is True
    assert run.marker("score") == {"v": 1}
    assert run.marker("nothing", default=5) is None
    assert run.marker("missing") is None
    assert run.marker("missing", default=False) is False
    with pytest.raises(sealrun.InvalidInput):
        run.mark("obj", object())


def test_parameters_take_scalars_and_numpy_scalars(tmp_path, cli):
    store = tmp_path / "storage"
    exp = sealrun.Experiment("p", store=store)
    with exp.run() as run:
        run.log_parameter("i", np.int64(3))
        run.log_parameter("u", np.uint8(7))
        run.log_parameter("f", np.float32(0.5))
        run.log_parameter("b", np.bool_(True))
        run.log_parameter("s", "x")
        run.log_parameter("big", 2**63 - 1)
        run.log_parameter("s", "last write wins")
        for bad in (math.nan, math.inf, 2**63, [1], {"a": 1}, None, object()):
            with pytest.raises(sealrun.InvalidInput):
                run.log_parameter("bad", bad)
        with pytest.raises(sealrun.InvalidInput):
            run.log_parameter("", 1)
        assert run.parameters == {"i": 3, "u": 7, "f": 0.5, "b": True, "s": "last write wins", "big": 2**63 - 1}
        assert type(run.parameters["b"]) is bool and type(run.parameters["i"]) is int
    exp.commit("p")
    assert show(cli, store, "p")["runs"][0]["parameters"] == {
        "i": 3, "u": 7, "f": 0.5, "b": True, "s": "last write wins", "big": 2**63 - 1}


def test_solves_and_the_trace_are_sealed(tmp_path, cli):
    store = tmp_path / "storage"
    exp = sealrun.Experiment("s", store=store)
    with exp.run() as run:
        run.save_file("in.json", {"c": [1, 2]})
        run.save_file("out.json", {"x": [0, 1]})
        assert run.log_solve("in.json", "out.json", adapter="highs", adapter_options={"time_limit": 5},
                             diagnostics={"iterations": 12}) == 0
        assert run.log_solve("in.json", status="failed") == 1
        with pytest.raises(sealrun.InvalidInput):
            run.log_solve("in.json")  # finished without an output
        run.save_trace({"spans": [{"name": "solve", "ms": 3}]})
        with pytest.raises(sealrun.AlreadyExists):
            run.save_trace({})
        run.describe("train", {"lr": 0.1})
        with pytest.raises(sealrun.InvalidInput):
            run.describe("train", [1, 2])
    with exp.run() as closed:
        pass
    with pytest.raises(sealrun.InvalidInput, match="closed"):
        closed.save_trace({})
    exp.commit("s")
    r = show(cli, store, "s", "--run", "0")
    assert r["has_trace"] is True
    assert [(s["solve_id"], s["status"], s["input"], s.get("output"), s["adapter"]) for s in r["solves"]] == [
        (0, "finished", "in.json", "out.json", "highs"), (1, "failed", "in.json", None, "")]
    assert r["solves"][0]["adapter_options"] == {"time_limit": 5}
    assert r["solves"][0]["diagnostics"] == {"iterations": 12}


def test_a_solve_naming_a_missing_attachment_is_refused_at_commit(tmp_path):
    exp = sealrun.Experiment("s", store=tmp_path / "s")
    with exp.run() as run:
        run.log_solve("nowhere.json", "out.json")
    with pytest.raises(sealrun.InvalidInput, match="nowhere.json"):
        exp.commit("s")


def test_bytes_keep_a_given_media_type(tmp_path, cli):
    store = tmp_path / "storage"
    with sealrun.Experiment("m", store=store) as exp:
        with exp.run() as run:
            run.save_file("model.onnx", b"\x08\x07onnx", media_type="application/x-onnx")
            run.save_file("anything", bytearray(b"raw"))
            with pytest.raises(sealrun.InvalidInput):
                run.save_file("x.bin", b"1", media_type="not a media type")
    attachments = {a["name"]: a for a in show(cli, store, "m", "--run", "0")["attachments"]}
    assert attachments["model.onnx"]["media_type"] == "application/x-onnx"
    assert get(cli, store, "m", "--run", "0", "model.onnx") == b"\x08\x07onnx"
    assert get(cli, store, "m", "--run", "0", "anything") == b"raw"


def test_a_run_keeps_its_experiment_alive(tmp_path, cli):
    store = tmp_path / "storage"
    exp = sealrun.Experiment("alive", store=store)
    run = exp.run()
    del exp
    gc.collect()
    run.log_parameter("a", 1)
    run.save_file("a.json", {"still": "here"})
    assert run.load_file("a.json") == {"still": "here"}
    run.finish()
    assert run.status == "finished"


def test_the_default_store_is_the_clis(tmp_path, monkeypatch, cli):
    monkeypatch.chdir(tmp_path)
    with sealrun.Experiment("d") as exp:
        with exp.run() as run:
            run.log_parameter("a", 1)
    assert exp.store == tmp_path / "storage"
    assert cli("show", "d", "--json", cwd=tmp_path).returncode == 0
    monkeypatch.setenv("SEALRUN_STORE", str(tmp_path / "elsewhere"))
    with sealrun.Experiment("d2") as exp2:
        pass
    assert exp2.store == tmp_path / "elsewhere"
    assert show(cli, tmp_path / "elsewhere", "d2")["run_count"] == 0
    monkeypatch.chdir(tmp_path / "elsewhere")  # the store was made absolute at creation
    assert exp2.commit("again") == exp2.commit("d2")


def test_runs_recorded_from_several_threads(tmp_path, cli):
    store = tmp_path / "storage"
    exp = sealrun.Experiment("threads", store=store)
    errors: list[BaseException] = []

    def work(i: int) -> None:
        try:
            with exp.run() as run:
                run.log_parameter("worker", i)
                for k in range(10):
                    run.save_file(f"part{k}.npy", np.full(1000, i, dtype=np.int32))
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    exp.commit("threads")
    doc = show(cli, store, "threads", "--runs")  # --runs: each run opened, for its attachment count
    assert sorted(r["parameters"]["worker"] for r in doc["runs"]) == [0, 1, 2, 3]
    assert all(r["attachments"] == 10 for r in doc["runs"])


def test_reprs(tmp_path):
    exp = sealrun.Experiment("r", store=tmp_path / "s")
    run = exp.run()
    assert "run_id=0" in repr(run) and "running" in repr(run)
    assert "'r'" in repr(exp)
