"""The analyst's story end to end, as a new user types it in a notebook.

A small learning-rate sweep is recorded with sealrun.Experiment from a scratch
directory with relative paths (numpy arrays, dicts, lists of dicts, text,
bytes, a pickle, a directory tree, a solve, a trace, a failed run and one
interrupted by KeyboardInterrupt), committed, pushed to the test registry,
copied to an oci: layout and an oci-archive:, pulled into another store, and
read back with sealrun.open from every transport: parameters, the DataFrame,
every getter, user codecs, write_attachment, validate, the errors a user runs
into (wrong tag, missing store, a corrupted blob), reprs, help texts, and
threads sharing one view.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import hashlib
import io
import json
import os
import pathlib
import pickle
import pydoc
import shutil
import tarfile

import numpy as np
import pytest

import sealrun

TAR = "application/vnd.oci.image.layer.v1.tar"
LRS = (0.1, 0.01, 0.001)


@contextlib.contextmanager
def _cwd(path: pathlib.Path):
    old = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(old)


def _tree() -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        ti = tarfile.TarInfo("ckpt/weights.bin")
        ti.size = 3
        t.addfile(ti, io.BytesIO(b"\x01\x02\x03"))
    return buf.getvalue()


def _loss(lr: float) -> np.ndarray:
    return np.linspace(1.0, 0.0, 5) * lr


def _fortran() -> np.ndarray:
    return np.asfortranarray(np.arange(6, dtype=">i4").reshape(2, 3))


@pytest.fixture(scope="module")
def story(tmp_path_factory, registry):
    """The sweep recorded from a scratch directory with relative paths and moved everywhere.

    Returns a dict: the scratch dir, the commit digest, the locations (each
    with the store it needs, relative to the scratch dir) and the registry.
    """
    work = tmp_path_factory.mktemp("notebook")
    with _cwd(work):
        with sealrun.Experiment("sweep", store="storage") as exp:
            exp.annotate("owner", "analyst")
            exp.save_file("summary.json", {"best_lr": 0.1})
            for i, lr in enumerate(LRS):
                with exp.run() as run:
                    run.log_parameter("lr", lr)
                    run.log_parameter("seed", np.int64(i))
                    run.log_parameter("optimizer", "sgd")
                    run.save_file("loss.npy", _loss(lr))
                    run.save_file("weights.npy", _fortran())
                    run.save_file("metrics.json", {"final": lr / 2, "hist": [1, 2]})
                    run.save_file("events.jsonl", [{"step": 0}, {"step": 1, "msg": "ok"}])
                    run.save_file("log.txt", f"lr={lr}\n")
                    run.save_file("raw.bin", b"\x00\x01\xff")
                    run.save_file(["plots", "curve.json"], [1, 2, 3])
                    run.save_file("model.p", {"w": (1, 2)})
                    run.save_file("ckpt.tar", _tree(), media_type=TAR)
                    run.save_file("problem.json", {"c": [1, 2]})
                    run.save_file("solution.json", {"x": [0, 1]})
                    run.log_solve("problem.json", "solution.json", adapter="highs",
                                  adapter_options={"time_limit": 10}, diagnostics={"iterations": 3})
                    run.save_trace({"spans": [{"name": "solve"}]})
            with pytest.raises(ValueError):
                with exp.run() as run:
                    run.log_parameter("lr", 1.0)
                    raise ValueError("diverged")
            with pytest.raises(KeyboardInterrupt):
                with exp.run() as run:
                    run.log_parameter("lr", 2.0)
                    run.log_parameter("note", "stopped by hand")
                    raise KeyboardInterrupt
        digest = exp.commit()  # committing the same content again: the same digest
        repo = f"docker://{registry}/story/sweep"
        pushed = sealrun.push("sweep", f"{repo}:v1", store="storage")
        layout = sealrun.copy("sweep", "oci:layout:v1", store="storage")
        archive = sealrun.copy("sweep", "oci-archive:sweep.tar:v1", store="storage")
        pulled = sealrun.pull(f"{repo}:v1", store="elsewhere/storage")
    return {
        "work": work,
        "digest": digest,
        "repo": repo,
        "results": (pushed, layout, archive, pulled),
        "locations": {
            "store": ("sweep", {"store": "storage"}),
            "oci": ("oci:layout:v1", {}),
            "oci-archive": ("oci-archive:sweep.tar:v1", {}),
            "registry": (f"{repo}:v1", {}),
            "registry-digest": (f"{repo}@{digest}", {}),
            "pulled": ("v1", {"store": "elsewhere/storage"}),
        },
    }


@pytest.fixture
def here(story, monkeypatch) -> pathlib.Path:
    """The scratch directory as the current directory (relative locations work)."""
    monkeypatch.chdir(story["work"])
    return story["work"]


def _open(story, transport: str) -> sealrun.SealedExperiment:
    loc, kw = story["locations"][transport]
    return sealrun.open(loc, **kw)


TRANSPORTS = ["store", "oci", "oci-archive", "registry", "registry-digest", "pulled"]


def test_commit_push_copy_pull_report_the_one_digest(story):
    assert story["digest"].startswith("sha256:") and len(story["digest"]) == 71
    for r in story["results"]:
        assert isinstance(r, sealrun.CopyResult)
        assert r.digest == story["digest"] == str(r)
        assert r.media_type == "application/vnd.oci.image.index.v1+json"
    pushed, layout, archive, pulled = story["results"]
    assert pushed.tag == layout.tag == archive.tag == pulled.tag == "v1"
    assert pushed.blobs_copied > 10 and pushed.bytes_copied > 0
    assert pulled.destination == "v1"


def test_pushing_again_copies_nothing(story, here):
    again = sealrun.push("sweep", f"{story['repo']}:v1", store="storage")
    assert again.digest == story["digest"]
    assert again.blobs_copied == 0 and again.bytes_copied == 0 and again.blobs_skipped >= 1


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_open_in_every_transport(story, here, transport):
    e = _open(story, transport)
    assert isinstance(e, sealrun.SealedExperiment)
    assert e.name == "sweep"
    assert e.digest == story["digest"]
    assert e.status == "failed"  # a run failed
    assert e.run_ids == [0, 1, 2, 3, 4]
    assert e.annotations["owner"] == "analyst"
    assert e.annotations["vnd.sealrun.experiment.name"] == "sweep"
    assert e.attachment_names == ["summary.json"]
    assert e.get_attachment("summary.json") == {"best_lr": 0.1}
    assert [r.run_id for r in e.runs] == [0, 1, 2, 3, 4]
    assert [r.status for r in e.runs] == ["finished"] * 3 + ["failed", "interrupted"]
    run = e.run(1)
    np.testing.assert_array_equal(run.get_attachment("loss.npy"), _loss(0.01))
    assert run.get_attachment("metrics.json") == {"final": 0.005, "hist": [1, 2]}
    assert repr(e) == f"<SealedExperiment 'sweep' failed, 5 runs, {story['digest']}>"


def test_parameters_as_columns_and_dataframe(story, here):
    e = _open(story, "store")
    p = e.parameters()
    assert p == {
        "run_id": [0, 1, 2, 3, 4],
        "lr": [0.1, 0.01, 0.001, 1.0, 2.0],
        "note": [None, None, None, None, "stopped by hand"],
        "optimizer": ["sgd", "sgd", "sgd", None, None],
        "seed": [0, 1, 2, None, None],
    }
    assert all(type(s) is int for s in p["seed"][:3])
    df = e.run_parameters_df()
    assert df.index.name == "run_id" and list(df.index) == [0, 1, 2, 3, 4]
    assert list(df.columns) == ["lr", "note", "optimizer", "seed"]
    assert df.loc[1, "lr"] == 0.01 and df.loc[4, "note"] == "stopped by hand"
    best = df["lr"][df["optimizer"] == "sgd"].idxmax()
    assert best == 0


def test_runs_closed_finished_failed_interrupted(story, here):
    e = _open(story, "registry")
    finished, failed, interrupted = e.run(0), e.run(3), e.run(4)
    assert (finished.status, finished.reason) == ("finished", None)
    assert (failed.status, failed.reason) == ("failed", "ValueError: diverged")
    assert (interrupted.status, interrupted.reason) == ("interrupted", "KeyboardInterrupt")
    assert failed.parameters == {"lr": 1.0}
    assert interrupted.parameters == {"lr": 2.0, "note": "stopped by hand"}
    assert failed.attachment_names == [] and failed.solves == [] and failed.trace is None
    assert finished.parameters == {"lr": 0.1, "seed": 0, "optimizer": "sgd"}
    assert repr(finished).startswith("<SealedRun run_id=0 finished, 11 attachments, 1 solve, sha256:")
    assert repr(failed).startswith("<SealedRun run_id=3 failed, 0 attachments, 0 solves, sha256:")


@pytest.mark.parametrize("transport", ["store", "oci-archive", "registry"])
def test_get_attachment_of_every_kind(story, here, transport):
    run = _open(story, transport).run(0)
    assert run.attachment_names == sorted([
        "ckpt.tar", "events.jsonl", "log.txt", "loss.npy", "metrics.json", "model.p", "plots/curve.json",
        "problem.json", "raw.bin", "solution.json", "weights.npy"])
    media = {n: run.attachment_media_type(n) for n in run.attachment_names}
    assert media["loss.npy"] == "application/vnd.numpy"
    assert media["metrics.json"] == "application/json"
    assert media["events.jsonl"] == "application/jsonl"
    assert media["log.txt"] == "text/plain"
    assert media["raw.bin"] == "application/octet-stream"
    assert media["model.p"] == "application/x-python-pickle"
    assert media["ckpt.tar"] == TAR

    loss = run.get_attachment("loss.npy")
    assert isinstance(loss, np.ndarray) and loss.dtype == np.float64 and loss.shape == (5,)
    np.testing.assert_array_equal(loss, _loss(0.1))
    w = run.get_attachment("weights.npy")
    assert w.dtype.str == ">i4" and w.flags.f_contiguous and not w.flags.c_contiguous
    np.testing.assert_array_equal(w, _fortran())
    assert run.get_attachment("metrics.json") == {"final": 0.05, "hist": [1, 2]}
    assert run.get_json("metrics.json") == {"final": 0.05, "hist": [1, 2]}
    assert run.get_attachment("events.jsonl") == [{"step": 0}, {"step": 1, "msg": "ok"}]
    assert run.get_attachment("log.txt") == "lr=0.1\n"
    assert run.get_attachment("raw.bin") == b"\x00\x01\xff"
    assert run.get_attachment("plots/curve.json") == [1, 2, 3]
    pickled = run.get_attachment("model.p")
    assert isinstance(pickled, bytes) and pickle.loads(pickled) == {"w": (1, 2)}
    assert run.get_attachment("model.p", allow_pickle=True) == {"w": (1, 2)}
    tree = run.get_attachment("ckpt.tar")
    assert isinstance(tree, sealrun.DirectoryTree)
    assert dict(tree) == {"ckpt/weights.bin": b"\x01\x02\x03"}
    assert repr(tree) == "<DirectoryTree 1 file, 0 directories, 0 symlinks>"
    assert all(isinstance(run.get_blob(name), bytes) for name in run.attachment_names)
    assert json.loads(run.get_blob("metrics.json")) == {"final": 0.05, "hist": [1, 2]}
    assert np.load(io.BytesIO(run.get_blob("loss.npy"))).tolist() == _loss(0.1).tolist()


def test_solves_and_trace(story, here):
    run = _open(story, "oci").run(2)
    [solve] = run.solves
    assert isinstance(solve, sealrun.Solve)
    assert (solve.solve_id, solve.status, solve.input, solve.output) == (0, "finished", "problem.json", "solution.json")
    assert solve.adapter == "highs" and solve.adapter_options == {"time_limit": 10}
    assert solve.diagnostics == {"iterations": 3}
    assert run.get_attachment(solve.output) == {"x": [0, 1]}
    assert run.trace == {"spans": [{"name": "solve"}]}


class JsonCodec:
    """A user codec of the stored type: static encode, counting class decode."""

    media_type = "application/json"
    decoded = 0

    @staticmethod
    def encode(value) -> bytes:
        return json.dumps(value).encode()

    @classmethod
    def decode(cls, data: bytes):
        cls.decoded += 1
        return ("decoded", json.loads(data))


class TextCodec:
    media_type = "text/plain"
    decoded = 0

    @staticmethod
    def encode(value) -> bytes:
        return value.encode()

    @classmethod
    def decode(cls, data: bytes):
        cls.decoded += 1
        return data.decode()


def test_get_with_codec_user_class(story, here):
    run = _open(story, "store").run(0)
    JsonCodec.decoded = TextCodec.decoded = 0
    assert run.get_with_codec(JsonCodec, "metrics.json") == ("decoded", {"final": 0.05, "hist": [1, 2]})
    assert run.get_with_codec(JsonCodec(), "metrics.json")[1]["hist"] == [1, 2]
    assert JsonCodec.decoded == 2
    assert run.get_with_codec(TextCodec, "log.txt") == "lr=0.1\n"
    assert TextCodec.decoded == 1
    # The wrong media type: refused before decode runs, as a ValueError.
    for name in ("metrics.json", "loss.npy", "raw.bin"):
        with pytest.raises(sealrun.InvalidInput) as exc:
            run.get_with_codec(TextCodec, name)
        assert isinstance(exc.value, ValueError)
        assert "text/plain" in str(exc.value) and name in str(exc.value)
    assert TextCodec.decoded == 1
    with pytest.raises(sealrun.NotFound):
        run.get_with_codec(JsonCodec, "missing.json")
    assert JsonCodec.decoded == 2

    class NoDecode:
        media_type = "application/json"

        @staticmethod
        def encode(value) -> bytes:
            return b""

    for not_a_codec in (NoDecode, object, "application/json", None):
        with pytest.raises(TypeError):
            run.get_with_codec(not_a_codec, "metrics.json")


def test_write_attachment_into_dir_file_and_existing_file(story, here, tmp_path):
    run = _open(story, "oci-archive").run(0)
    out = tmp_path / "out"
    out.mkdir()
    # An existing directory: under the stored name, its folders created.
    p = run.write_attachment("plots/curve.json", out)
    assert p == out / "plots" / "curve.json" and isinstance(p, pathlib.Path)
    assert json.loads(p.read_text()) == [1, 2, 3]
    # A str naming a new file, relative to the current directory.
    rel = os.path.relpath(tmp_path / "loss_copy.npy", here)
    q = run.write_attachment("loss.npy", rel)
    assert isinstance(q, pathlib.Path)
    np.testing.assert_array_equal(np.load(tmp_path / "loss_copy.npy"), _loss(0.1))
    # An existing file: kept unless overwrite.
    target = tmp_path / "existing.npy"
    target.write_bytes(b"mine")
    with pytest.raises(sealrun.AlreadyExists) as exc:
        run.write_attachment("loss.npy", target)
    assert isinstance(exc.value, FileExistsError)
    assert target.read_bytes() == b"mine"
    assert run.write_attachment("loss.npy", target, overwrite=True) == target
    np.testing.assert_array_equal(np.load(target), _loss(0.1))
    # A directory tree attachment written as a tree, and as its tar.
    tree_dir = run.get_attachment("ckpt.tar").write(tmp_path / "tree")
    assert (pathlib.Path(tree_dir) / "ckpt" / "weights.bin").read_bytes() == b"\x01\x02\x03"
    assert tarfile.open(run.write_attachment("ckpt.tar", tmp_path / "ckpt.tar")).getnames() == ["ckpt/weights.bin"]
    with pytest.raises(sealrun.NotFound):
        run.write_attachment("missing", tmp_path / "m")
    assert not (tmp_path / "m").exists()


def test_validate_report(story, here):
    report = sealrun.validate("sweep", store="storage")
    assert isinstance(report, sealrun.ValidationReport)
    assert report.valid and bool(report) and report.failures == []
    assert report.kind == "experiment" and report.digest == story["digest"]
    assert len(report.checks) > 20 and all(isinstance(c, sealrun.Check) for c in report.checks)
    junit = report.to_junit()
    assert junit.startswith("<?xml") and "<testsuite" in junit
    assert json.loads(report.to_json())
    assert sealrun.validate("sweep", True, store="storage").valid
    assert sealrun.validate(f"{story['repo']}:v1").valid
    missing = sealrun.validate("nope", store="storage")
    assert not missing.valid and [c.name for c in missing.failures] == ["resolve"]
    assert "nope" in missing.failures[0].message
    assert "INVALID" in repr(missing)


def test_errors_a_user_runs_into(story, here):
    with pytest.raises(sealrun.NotFound) as exc:
        sealrun.open("sweeep", store="storage")
    assert isinstance(exc.value, LookupError) and "sweeep" in str(exc.value)
    with pytest.raises(sealrun.FileNotFound) as exc:
        sealrun.open("sweep", store="no-such-store")
    assert isinstance(exc.value, FileNotFoundError) and isinstance(exc.value, sealrun.NotFound)
    with pytest.raises(FileNotFoundError):
        sealrun.open("oci-archive:missing.tar:v1")
    with pytest.raises(FileNotFoundError):
        sealrun.open("oci:missing-layout:v1")
    with pytest.raises(sealrun.NotFound):
        sealrun.open("oci:layout:v2")
    with pytest.raises(sealrun.NotFound):
        sealrun.open(f"{story['repo']}:v2")
    with pytest.raises(sealrun.InvalidInput) as exc:
        sealrun.open("oci-archive:sweep.tar")  # no tag
    assert isinstance(exc.value, ValueError)
    with pytest.raises(TypeError):
        sealrun.open(5)
    with pytest.raises(TypeError):
        sealrun.open("sweep", "storage")  # store is keyword-only
    e = sealrun.open("sweep", store="storage")
    with pytest.raises(AttributeError):
        e.name = "renamed"  # views are read-only
    run = e.run(0)
    with pytest.raises(sealrun.NotFound) as exc:
        run.get_attachment("loss.npz")
    assert "loss.npz" in str(exc.value)
    with pytest.raises(sealrun.NotFound):
        run.attachment_media_type("loss.npz")
    with pytest.raises(sealrun.NotFound):
        run.get_blob("loss.npz")
    with pytest.raises(sealrun.InvalidInput):
        run.get_json("loss.npy")
    # Recording: a tag that names other content, and a name that is no tag.
    other = sealrun.Experiment("sweep", store="storage")
    with other.run() as r:
        r.log_parameter("lr", 9.0)
    with pytest.raises(sealrun.AlreadyExists) as exc:
        other.commit()
    assert story["digest"] in str(exc.value)
    assert sealrun.open("sweep", store="storage").digest == story["digest"]
    with pytest.raises(sealrun.InvalidInput):
        with sealrun.Experiment("my sweep", store="storage"):
            pytest.fail("the block ran for a name that is no tag")
    with pytest.raises(sealrun.NetworkError) as exc:
        sealrun.open("docker://127.0.0.1:1/story/sweep:v1")
    assert isinstance(exc.value, ConnectionError)


def test_corrupted_blob_is_a_digest_mismatch(story, here, tmp_path):
    store = tmp_path / "storage"
    shutil.copytree(here / "storage", store)
    good = sealrun.open("sweep", store=store).run(0)
    blob = store / "blobs" / "sha256" / hashlib.sha256(good.get_blob("metrics.json")).hexdigest()
    npy = store / "blobs" / "sha256" / hashlib.sha256(good.get_blob("loss.npy")).hexdigest()
    for path in (blob, npy):
        data = bytearray(path.read_bytes())
        data[-2] ^= 0x01
        path.chmod(0o644)
        path.write_bytes(bytes(data))
    run = sealrun.open("sweep", store=store).run(0)
    JsonCodec.decoded = 0
    for read in (lambda: run.get_attachment("metrics.json"), lambda: run.get_blob("metrics.json"),
                 lambda: run.get_json("metrics.json"), lambda: run.get_with_codec(JsonCodec, "metrics.json"),
                 lambda: run.get_attachment("loss.npy")):
        with pytest.raises(sealrun.DigestMismatch):
            read()
    assert JsonCodec.decoded == 0
    with pytest.raises(sealrun.DigestMismatch):
        run.write_attachment("loss.npy", tmp_path / "bad.npy")
    assert not (tmp_path / "bad.npy").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name != "storage"] == []
    assert run.get_attachment("log.txt") == "lr=0.1\n"  # the rest still reads
    report = sealrun.validate("sweep", store=store)
    assert not report.valid
    failed = sorted(c.message for c in report.failures)
    assert len(failed) == 2 and '"loss.npy"' in failed[0] + failed[1] and '"metrics.json"' in failed[0] + failed[1]
    with pytest.raises(sealrun.DigestMismatch):
        sealrun.copy("sweep", f"oci:{tmp_path / 'copy'}:v1", store=store)


def test_threads_share_one_view(story, here):
    for transport in ("store", "registry"):
        e = _open(story, transport)
        expected = {(r.run_id, n): r.get_blob(n) for r in e.runs for n in r.attachment_names}

        def work(i: int) -> int:
            for j in range(4):
                run = e.run((i + j) % 3)
                for name in run.attachment_names:
                    assert run.get_blob(name) == expected[(run.run_id, name)]
                    run.get_attachment(name)
                np.testing.assert_array_equal(run.get_attachment("loss.npy"), _loss(LRS[run.run_id]))
                assert e.parameters()["run_id"] == [0, 1, 2, 3, 4]
                assert run.solves[0].adapter == "highs"
            return i

        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            assert sorted(pool.map(work, range(8))) == list(range(8))


def test_help_and_docstrings(story, here):
    for name in sealrun.__all__:
        obj = getattr(sealrun, name)
        assert (obj.__doc__ or "").strip(), name
    for cls in (sealrun.SealedExperiment, sealrun.SealedRun):
        for member in ("attachment_names", "attachment_media_type", "get_attachment", "get_blob", "get_json",
                       "get_with_codec", "write_attachment"):
            assert (getattr(cls, member).__doc__ or "").strip(), f"{cls.__name__}.{member}"
    for member in ("name", "status", "annotations", "run_ids", "runs", "run", "parameters", "run_parameters_df"):
        assert (getattr(sealrun.SealedExperiment, member).__doc__ or "").strip(), member
    for member in ("run_id", "status", "reason", "parameters", "solves", "trace"):
        assert (getattr(sealrun.SealedRun, member).__doc__ or "").strip(), member
    text = pydoc.render_doc(sealrun.SealedRun, renderer=pydoc.plaintext)
    assert "Immutable view of a closed Run" in text and "get_with_codec" in text
    assert "decode is not" in " ".join(
        pydoc.render_doc(sealrun.SealedRun.get_with_codec, renderer=pydoc.plaintext).split()).replace("``", "")
    text = pydoc.render_doc(sealrun.open, renderer=pydoc.plaintext)
    for transport in ("oci:", "oci-archive:", "docker://"):
        assert transport in text
    assert "run_id" in pydoc.render_doc(sealrun.SealedExperiment.run_parameters_df, renderer=pydoc.plaintext)


def test_recording_reprs_and_live_state(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    exp = sealrun.Experiment("live", store="storage")
    assert exp.store == tmp_path / "storage" and exp.tag == "live"
    assert repr(exp) == f"<sealrun.Experiment 'live' runs=0 store='{tmp_path / 'storage'}'>"
    with exp.run() as run:
        assert repr(run) == "<sealrun.Run run_id=0 status='running'>"
        run.log_parameter("lr", np.float32(0.5))
        run.save_file("a.npy", np.float64(3.0))
        assert run.load_file("a.npy").shape == ()
        assert run.load_file("missing.json", default="d") == "d"
        run.mark("promising")
        assert run.marker("promising") is True and run.marker("other", default=False) is False
        assert run.local_directory().is_dir()
        with pytest.raises(sealrun.InvalidInput):
            run.save_file("../escape.json", {})
        with pytest.raises(sealrun.InvalidInput):
            run.save_file("x.npy", [1, 2, 3])
        with pytest.raises(sealrun.InvalidInput):
            run.log_parameter("bad", float("nan"))
    assert run.status == "finished" and run.closed
    assert repr(run) == "<sealrun.Run run_id=0 status='finished'>"
    open_run = exp.run()
    with pytest.raises(sealrun.InvalidInput) as exc:
        exp.commit()
    assert "run 1" in str(exc.value)
    open_run.interrupt("stopped")
    digest = exp.commit()
    e = sealrun.open("live", store="storage")
    assert e.digest == digest and e.status == "interrupted"
    assert e.run(0).parameters == {"lr": 0.5}
    assert e.run(1).reason == "stopped"



def test_missing_run_is_not_a_missing_file(story, here):
    # A run id the experiment lacks is a NotFound (a LookupError), not an
    # OSError about a file: `except FileNotFoundError` around a file read must
    # not swallow it, and the class must not depend on what the cwd holds.
    e = _open(story, "store")
    with pytest.raises(sealrun.NotFound) as exc:
        e.run(99)
    assert not isinstance(exc.value, FileNotFoundError), type(exc.value).__mro__
    (here / "run 99").write_text("a file named like the subject")
    try:
        with pytest.raises(sealrun.NotFound) as exc:
            e.run(99)
        assert not isinstance(exc.value, FileNotFoundError)
    finally:
        (here / "run 99").unlink()


def test_typo_in_transport_is_invalid_input(story, here):
    # "oci-achive:..." and a registry reference without docker:// can never be
    # tags (a tag has no ':' or '/'); "no such tag or digest in storage" sent
    # the user looking in the wrong place.
    for typo in ("oci-achive:sweep.tar:v1", story["repo"].removeprefix("docker://") + ":v1"):
        with pytest.raises(sealrun.InvalidInput) as exc:
            sealrun.open(typo, store="storage")
        assert typo.split(":")[0] in str(exc.value)
        assert "neither a tag or digest" in str(exc.value)


def test_dataframe_keeps_integer_parameters_exact(tmp_path):
    # An integer parameter missing from one run must not become float64:
    # seeds and ids past 2^53 would silently change.
    with sealrun.Experiment("ints", store=tmp_path / "s") as exp:
        with exp.run() as run:
            run.log_parameter("seed", 2**62 + 1)
            run.log_parameter("flag", True)
            run.log_parameter("mixed", 2**60 + 1)
        with exp.run() as run:
            run.log_parameter("lr", 0.5)
            run.log_parameter("mixed", 0.25)
    e = sealrun.open("ints", store=tmp_path / "s")
    assert e.parameters()["seed"] == [2**62 + 1, None]
    df = e.run_parameters_df()
    assert int(df.loc[0, "seed"]) == 2**62 + 1
    assert str(df["seed"].dtype) == "Int64" and df["seed"].isna().tolist() == [False, True]
    assert str(df["flag"].dtype) == "boolean" and bool(df.loc[0, "flag"]) is True
    assert df.loc[0, "mixed"] == 2**60 + 1 and df.loc[1, "mixed"] == 0.25
    assert df["lr"].dtype == np.float64


def test_view_opened_by_relative_location_survives_chdir(story, here, monkeypatch, tmp_path):
    # Experiment makes its store absolute so a later os.chdir() does not split
    # a record; a view opened by a relative location keeps reading after a
    # notebook's %cd too.
    views = [sealrun.open("sweep", store="storage"), sealrun.open("oci:layout:v1"),
             sealrun.open("oci-archive:sweep.tar:v1")]
    monkeypatch.chdir(tmp_path)
    for e in views:
        assert e.run(1).get_attachment("metrics.json") == {"final": 0.005, "hist": [1, 2]}, e.location
    # Messages still name the path as the user typed it.
    with pytest.raises(sealrun.NotFound) as exc:
        sealrun.open("oci:layout:nope")
    assert "no such tag or digest" in str(exc.value) or "not an OCI layout" in str(exc.value)
    assert str(tmp_path) not in str(exc.value)


def test_write_attachment_creates_missing_folders(story, here, tmp_path):
    # As `sealrun get -o out/new/x`: the folders above the destination are made.
    run = _open(story, "store").run(0)
    dest = tmp_path / "no" / "such" / "loss.npy"
    assert run.write_attachment("loss.npy", dest) == dest
    assert np.array_equal(np.load(dest), run.get_attachment("loss.npy"))


def test_closed_run_refuses_writes(tmp_path):
    # After its with block a run is closed: what it holds is what is sealed,
    # so late parameters, files and solves are refused, never silently dropped.
    exp = sealrun.Experiment("late", store=tmp_path / "s")
    with exp.run() as run:
        run.log_parameter("lr", 0.1)
        run.save_file("in.json", {})
    for late in (lambda: run.log_parameter("late", 1), lambda: run.save_file("late.json", {"x": 1}),
                 lambda: run.log_solve("in.json", "in.json")):
        with pytest.raises(sealrun.InvalidInput) as exc:
            late()
        assert "is closed as finished" in str(exc.value)
    exp.commit()
    sealed = sealrun.open("late", store=tmp_path / "s").run(0)
    assert sealed.parameters == {"lr": 0.1} and sealed.attachment_names == ["in.json"]


def test_local_directory_create(tmp_path):
    # machinable's local_directory("plots", create=True) is a directory one
    # can save a figure into; without create the path is only named.
    exp = sealrun.Experiment("dirs", store=tmp_path / "s")
    with exp.run() as run:
        assert not run.local_directory("later").exists()
        plots = run.local_directory("plots", create=True)
        assert plots.is_dir() and plots.parent == run.local_directory()
        (plots / "curve.png").write_bytes(b"png")
    exp.commit()
    assert "plots/curve.png" in sealrun.open("dirs", store=tmp_path / "s").run(0).attachment_names
