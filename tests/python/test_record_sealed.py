"""Sealed from Python, read back from Python: sealrun.Experiment and Run on
one side, sealrun.open and its views on the other, through the real store
(and an oci-archive the CLI exports)."""

from __future__ import annotations

import numpy as np
import pytest

import sealrun

from test_record_npy import DTYPES, sample


@pytest.fixture
def sealed(tmp_path):
    store = tmp_path / "storage"
    arrays = {f"{i}.npy": np.asarray(sample(np.dtype(d)), order="F" if i % 2 else "C") for i, d in enumerate(DTYPES)}
    with sealrun.Experiment("py-sweep", store=store, tag="py-v1") as exp:
        exp.annotate("owner", "analysis")
        exp.save_file("summary.json", {"best_run": 0})
        with exp.run() as run:
            run.log_parameter("lr", 0.1)
            run.log_parameter("epochs", 3)
            run.log_parameter("adam", True)
            run.log_parameter("tag", "a")
            for name, a in arrays.items():
                run.save_file(name, a)
            run.save_file("in.json", {"c": [1, 2]})
            run.save_file("out.json", {"x": [1, 0]})
            run.save_file("log.txt", "done\n")
            run.save_file(["rows", "r.jsonl"], [{"i": 1}, {"i": 2}])
            run.save_file("w.bin", b"\x00raw", media_type="application/x-weights")
            run.log_solve("in.json", "out.json", adapter="highs", adapter_options={"presolve": True})
            run.save_trace({"spans": [1, 2, 3]})
        with pytest.raises(ZeroDivisionError):
            with exp.run() as run:
                run.log_parameter("lr", 0.01)
                1 / 0
        with pytest.raises(KeyboardInterrupt):
            with exp.run() as run:
                run.log_parameter("epochs", 7)
                raise KeyboardInterrupt
    return store, arrays


def test_the_experiment_reads_back_as_recorded(sealed):
    store, _ = sealed
    exp = sealrun.open("py-v1", store=store)
    assert exp.name == "py-sweep"
    assert exp.status == "failed"
    assert exp.annotations["owner"] == "analysis"
    assert exp.run_ids == [0, 1, 2]
    assert exp.attachment_names == ["summary.json"]
    assert exp.get_attachment("summary.json") == {"best_run": 0}
    assert [(r.status, r.reason) for r in exp.runs] == [
        ("finished", None), ("failed", "ZeroDivisionError: division by zero"), ("interrupted", "KeyboardInterrupt")]
    assert exp.parameters() == {"run_id": [0, 1, 2], "lr": [0.1, 0.01, None], "epochs": [3, None, 7],
                                "adam": [True, None, None], "tag": ["a", None, None]}
    df = exp.run_parameters_df()
    assert list(df.index) == [0, 1, 2]
    assert df.loc[2, "epochs"] == 7


def test_run_attachments_solves_and_trace_read_back(sealed, tmp_path):
    store, arrays = sealed
    run = sealrun.open("py-v1", store=store).run(0)
    assert run.parameters == {"lr": 0.1, "epochs": 3, "adam": True, "tag": "a"}
    assert type(run.parameters["epochs"]) is int and type(run.parameters["adam"]) is bool
    for name, a in arrays.items():
        got = run.get_attachment(name)
        assert got.dtype == a.dtype and got.shape == a.shape, name
        np.testing.assert_array_equal(got, a)
        assert bool(got.flags.f_contiguous and not got.flags.c_contiguous) == bool(a.flags.f_contiguous and not a.flags.c_contiguous)
    assert run.get_attachment("log.txt") == "done\n"
    assert run.get_attachment("rows/r.jsonl") == [{"i": 1}, {"i": 2}]
    assert run.attachment_media_type("w.bin") == "application/x-weights"
    assert run.get_blob("w.bin") == b"\x00raw"
    [solve] = run.solves
    assert (solve.solve_id, solve.status, solve.input, solve.output, solve.adapter) == (
        0, "finished", "in.json", "out.json", "highs")
    assert solve.adapter_options == {"presolve": True}
    assert run.trace == {"spans": [1, 2, 3]}
    assert sealrun.open("py-v1", store=store).run(1).trace is None


def test_an_exported_archive_reads_the_same(sealed, tmp_path, cli):
    store, arrays = sealed
    archive = tmp_path / "sweep.tar"
    cli("export", "py-v1", str(archive), store=store)
    run = sealrun.open(f"oci-archive:{archive}:py-v1").run(0)
    np.testing.assert_array_equal(run.get_attachment("0.npy"), arrays["0.npy"])
    assert run.get_json("out.json") == {"x": [1, 0]}
