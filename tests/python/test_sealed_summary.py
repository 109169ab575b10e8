"""SealedExperiment.summary, run_count, parent and run_parameters_df's summary
value columns: an experiment sealed by the CLI with `seal --summary`, read
from the local store and from the test registry (pushed by the CLI)."""

from __future__ import annotations

import dataclasses
import json
import pathlib

import pytest

import sealrun


def _seal(root: pathlib.Path, cli, *, values: bool = True) -> pathlib.Path:
    """Three runs: losses 0.5 and 0.25 (an integer step count in the first),
    a failed run without result.json; sealed as tag v1 in root/store."""
    runs = {
        "r0": ({"lr": 0.1, "seed": 0}, {"loss": 0.5, "metrics": {"steps": 7}}, None),
        "r1": ({"lr": 0.2, "seed": 1}, {"loss": 0.25, "metrics": {"steps": 9}}, None),
        "r2": ({"lr": 9.0, "seed": 2}, None, "diverged"),
    }
    for name, (params, result, reason) in runs.items():
        d = root / name
        d.mkdir(parents=True)
        model = {"parameters": params}
        if reason:
            model.update(status="failed", reason=reason)
        (d / "model.json").write_text(json.dumps(model))
        if result is not None:
            (d / "result.json").write_text(json.dumps(result))
    store = root / "store"
    args = ["seal", "r0", "r1", "r2", "--experiment", "sweep", "--tag", "v1"]
    if values:
        args += ["--summary", "result.json:loss", "--summary", "result.json:/metrics/steps"]
    cli(*args, cwd=root, store=store)
    return store


def test_summary_rows_without_opening_a_run(tmp_path, cli):
    store = _seal(tmp_path, cli)
    exp = sealrun.open("v1", store=store)
    assert exp.run_count == 3
    assert exp.parent is None
    s = exp.summary
    assert isinstance(s, sealrun.ExperimentSummary)
    assert s.experiment == "sweep"
    assert s.values == ["result.json:loss", "result.json:/metrics/steps"]
    assert [r.run_id for r in s.rows] == [0, 1, 2]
    r0, r1, r2 = s.rows
    assert isinstance(r0, sealrun.SummaryRow)
    assert r0.status == "finished" and r0.reason is None and r0.worker is None
    assert r0.parameters == {"lr": 0.1, "seed": 0}
    assert r0.values == {"result.json:loss": 0.5, "result.json:/metrics/steps": 7}
    assert type(r0.values["result.json:/metrics/steps"]) is int
    assert r1.values["result.json:loss"] == 0.25
    assert r2.status == "failed" and r2.reason == "diverged" and r2.values == {}
    assert s.find(2) is r2 and s.find(3) is None
    # The summary is a cache of the runs: each row names its run's manifest.
    for row in s.rows:
        run = exp.run(row.run_id)
        assert row.parameters == run.parameters
        assert row.status == run.status
    with pytest.raises(dataclasses.FrozenInstanceError):
        r0.status = "failed"


def test_run_parameters_df_has_the_summary_values_as_columns(tmp_path, cli):
    pandas = pytest.importorskip("pandas")
    store = _seal(tmp_path, cli)
    exp = sealrun.open("v1", store=store)
    df = exp.run_parameters_df()
    assert list(df.columns) == ["lr", "seed", "result.json:loss", "result.json:/metrics/steps"]
    assert list(df.index) == [0, 1, 2]
    assert df.loc[1, "result.json:loss"] == 0.25
    assert pandas.isna(df.loc[2, "result.json:loss"])
    assert str(df["result.json:/metrics/steps"].dtype) == "Int64"  # exact integers, a gap as NA
    assert df.loc[0, "result.json:/metrics/steps"] == 7
    assert pandas.isna(df.loc[2, "result.json:/metrics/steps"])
    assert df["result.json:loss"].idxmin() == 1
    assert list(exp.run_parameters_df(values=False).columns) == ["lr", "seed"]


def test_without_values_the_frame_is_the_parameters(tmp_path, cli):
    pytest.importorskip("pandas")
    store = _seal(tmp_path, cli, values=False)
    exp = sealrun.open("v1", store=store)
    assert exp.summary.values == []
    assert list(exp.run_parameters_df().columns) == ["lr", "seed"]


def test_summary_from_the_registry(tmp_path, cli, registry):
    store = _seal(tmp_path, cli)
    remote = f"docker://{registry}/summary/sweep:v1"
    cli("push", "v1", remote, store=store)
    exp = sealrun.open(remote)
    assert exp.run_count == 3
    assert [r.values.get("result.json:loss") for r in exp.summary.rows] == [0.5, 0.25, None]
    shown = json.loads(cli("show", remote, "--json", store=tmp_path / "empty").stdout)
    assert shown["summary"] is True and shown["details"] is False
    assert [r["values"] for r in shown["runs"]] == [r.values for r in exp.summary.rows]
    assert [r["digest"] for r in shown["runs"]] == [r.manifest for r in exp.summary.rows]
