"""sealrun.open, SealedExperiment and SealedRun: every getter, from every transport.

Content sealed by the CLI (files of every codec, a failed run, experiment-level
attachments, annotations) and by the C++ library (the gd_sweep example), read
from the local store, an oci: layout, an oci-archive: made by `sealrun export`
and the test registry (`sealrun push`), by absolute and relative locations.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import pathlib
import pickle
import tarfile

import numpy as np
import pytest

import sealrun

TAR = "application/vnd.oci.image.layer.v1.tar"
RESULT = '{"a":[1,2.5,null,true,{"b":"c"}],"u":18446744073709551615,"neg":-9223372036854775808,"big":1e300}'


def _tree_tar() -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for name, data in [("a.txt", b"A"), ("d/b.bin", b"\x00\x01")]:
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            ti.mode = 0o640
            t.addfile(ti, io.BytesIO(data))
        ti = tarfile.TarInfo("empty")
        ti.type = tarfile.DIRTYPE
        ti.mode = 0o755
        t.addfile(ti)
        ti = tarfile.TarInfo("link")
        ti.type = tarfile.SYMTYPE
        ti.linkname = "a.txt"
        t.addfile(ti)
    return buf.getvalue()


def _make_runs(root: pathlib.Path) -> dict[str, dict[str, bytes]]:
    """Two run directories and an experiment-level file; returns {dir: {name: bytes}}."""
    r0, r1 = root / "r0", root / "r1"
    (r0 / "sub").mkdir(parents=True)
    r1.mkdir()
    files0 = {
        "result.json": RESULT.encode(),
        "records.jsonl": b'{"i":0}\n{"i":1,"s":"x"}\n',
        "notes.txt": "héllo\n".encode(),
        "latin.log": b"caf\xe9\n",
        "data.bin": bytes(range(256)),
        "model.p": pickle.dumps({"x": 1, "t": (1, 2)}),
        "sub/inner.json": b'{"deep": 1}',
        "tree.tar": _tree_tar(),
    }
    buf = io.BytesIO()
    np.save(buf, np.arange(6.0).reshape(2, 3))
    files0["arr.npy"] = buf.getvalue()
    for name, data in files0.items():
        (r0 / name).write_bytes(data)
    (r0 / "model.json").write_text(json.dumps(
        {"parameters": {"lr": 0.1, "big": 2**63 - 1, "name": "a", "flag": True}}))
    files1 = {"result.json": b"[1, 2]"}
    (r1 / "result.json").write_bytes(files1["result.json"])
    (r1 / "model.json").write_text(json.dumps(
        {"parameters": {"lr": 0.5, "other": 3}, "status": "failed", "reason": "boom"}))
    (root / "summary.json").write_text('{"best": 0}')
    return {"r0": files0, "r1": files1}


@pytest.fixture(scope="module")
def sealed(tmp_path_factory, cli, registry):
    """The CLI-sealed experiment in every transport: (root, files, {transport: location}, seal output)."""
    root = tmp_path_factory.mktemp("sealed")
    files = _make_runs(root)
    store = root / "storage"
    out = json.loads(cli("seal", "r0", "r1", "--experiment", "exp", "--tag", "t", "--attach", "summary.json",
                         "--annotation", "team=opt", "--media-type", "latin.log=text/plain",
                         "--media-type", f"tree.tar={TAR}", "--json", cwd=root, store=store).stdout)
    cli("copy", "t", f"oci:{root / 'layout'}:t", store=store)
    cli("export", "t", str(root / "x.tar"), store=store)
    cli("push", "t", f"docker://{registry}/py/sealed:t", store=store)
    locations = {
        "store": ("t", {"store": store}),
        "oci": (f"oci:{root / 'layout'}:t", {}),
        "oci-archive": (f"oci-archive:{root / 'x.tar'}:t", {}),
        "docker": (f"docker://{registry}/py/sealed:t", {}),
        "docker-digest": (f"docker://{registry}/py/sealed@{out['digest']}", {}),
    }
    return root, files, locations, out


TRANSPORTS = ["store", "oci", "oci-archive", "docker", "docker-digest"]


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_every_transport_reads_the_same_experiment(sealed, transport):
    root, files, locations, out = sealed
    location, kw = locations[transport]
    exp = sealrun.open(location, **kw)
    assert isinstance(exp, sealrun.SealedExperiment)
    assert exp.digest == out["digest"]
    assert exp.location == location
    assert exp.name == "exp" and exp.status == "failed"
    assert exp.annotations["team"] == "opt"
    assert exp.annotations["vnd.sealrun.experiment.name"] == "exp"
    assert exp.run_ids == [0, 1]
    assert exp.attachment_names == ["summary.json"]
    assert exp.get_attachment("summary.json") == {"best": 0}
    runs = exp.runs
    assert [r.run_id for r in runs] == [0, 1]
    for run, d in zip(runs, ["r0", "r1"]):
        assert run.attachment_names == sorted(files[d])
        for name, data in files[d].items():
            assert run.get_blob(name) == data
    assert runs[0].get_attachment("arr.npy").tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]


def test_relative_locations_from_the_working_directory(sealed, monkeypatch):
    root, files, _, out = sealed
    monkeypatch.chdir(root)
    # A bare tag reads ./storage, the default store.
    for location in ["t", "oci:layout:t", "oci-archive:x.tar:t", out["digest"]]:
        exp = sealrun.open(location)
        assert exp.digest == out["digest"], location
        assert exp.run(0).get_blob("data.bin") == files["r0"]["data.bin"]
    assert sealrun.open("t", store="storage").digest == out["digest"]
    assert sealrun.open("t", store=pathlib.Path("storage")).digest == out["digest"]


def test_run_properties_and_parameters(sealed):
    _, _, locations, _ = sealed
    exp = sealrun.open(locations["store"][0], **locations["store"][1])
    r0, r1 = exp.run(0), exp.run(1)
    assert r0.status == "finished" and r0.reason is None
    assert r1.status == "failed" and r1.reason == "boom"
    p = r0.parameters
    assert p == {"lr": 0.1, "big": 2**63 - 1, "name": "a", "flag": True}
    assert type(p["big"]) is int and type(p["lr"]) is float and type(p["flag"]) is bool
    assert r0.solves == [] and r0.trace is None
    assert r0.digest.startswith("sha256:") and r0.digest != r1.digest
    assert repr(r0) == f"<SealedRun run_id=0 finished, 9 attachments, 0 solves, {r0.digest}>"
    assert repr(exp) == f"<SealedExperiment 'exp' failed, 2 runs, {exp.digest}>"


def test_parameters_as_columns_and_dataframe(sealed):
    _, _, locations, _ = sealed
    exp = sealrun.open(locations["oci"][0])
    assert exp.parameters() == {
        "run_id": [0, 1],
        "big": [2**63 - 1, None],
        "flag": [True, None],
        "lr": [0.1, 0.5],
        "name": ["a", None],
        "other": [None, 3],
    }
    df = exp.run_parameters_df()
    import pandas

    assert isinstance(df, pandas.DataFrame)
    assert df.index.name == "run_id" and list(df.index) == [0, 1]
    assert list(df.columns) == ["big", "flag", "lr", "name", "other"]
    assert df.loc[0, "lr"] == 0.1 and df.loc[1, "lr"] == 0.5
    assert df.loc[0, "big"] == 2**63 - 1 and df.loc[1, "other"] == 3
    assert df.loc[0, "name"] == "a" and pandas.isna(df.loc[1, "name"])


def test_run_parameters_df_without_pandas_names_it(sealed, monkeypatch):
    _, _, locations, _ = sealed
    exp = sealrun.open(locations["oci"][0])
    import sys

    monkeypatch.setitem(sys.modules, "pandas", None)  # import pandas now raises ImportError
    with pytest.raises(ImportError, match="pandas") as e:
        exp.run_parameters_df()
    assert e.value.name == "pandas" and "python3-pandas" in str(e.value)


def test_get_attachment_decodes_by_media_type(sealed):
    _, files, locations, _ = sealed
    run = sealrun.open(locations["oci-archive"][0]).run(0)
    media = {n: run.attachment_media_type(n) for n in run.attachment_names}
    assert media == {
        "arr.npy": "application/vnd.numpy", "data.bin": "application/octet-stream", "latin.log": "text/plain",
        "model.p": "application/x-python-pickle", "notes.txt": "text/plain", "records.jsonl": "application/jsonl",
        "result.json": "application/json", "sub/inner.json": "application/json", "tree.tar": TAR,
    }
    result = run.get_attachment("result.json")
    assert result == json.loads(RESULT)
    assert type(result["u"]) is int and result["u"] == 2**64 - 1  # unsigned 64-bit stays exact
    assert type(result["neg"]) is int and result["neg"] == -(2**63)
    assert type(result["a"][1]) is float and result["big"] == 1e300
    assert run.get_json("result.json") == result
    assert run.get_attachment("records.jsonl") == [{"i": 0}, {"i": 1, "s": "x"}]
    assert run.get_attachment("notes.txt") == "héllo\n"
    latin = run.get_attachment("latin.log")  # text that is not UTF-8: surrogate-escaped, bytes recoverable
    assert isinstance(latin, str) and latin.encode("utf-8", "surrogateescape") == files["r0"]["latin.log"]
    assert run.get_attachment("data.bin") == bytes(range(256))
    assert run.get_attachment("sub/inner.json") == {"deep": 1}


def test_pickle_is_bytes_unless_allowed(sealed):
    _, files, locations, _ = sealed
    run = sealrun.open(locations["store"][0], **locations["store"][1]).run(0)
    got = run.get_attachment("model.p")
    assert isinstance(got, bytes) and got == files["r0"]["model.p"]
    assert run.get_attachment("model.p", allow_pickle=True) == {"x": 1, "t": (1, 2)}


def test_directory_tree_attachment(sealed, tmp_path):
    _, _, locations, _ = sealed
    run = sealrun.open(locations["docker"][0]).run(0)
    tree = run.get_attachment("tree.tar")
    assert isinstance(tree, sealrun.DirectoryTree)
    assert dict(tree) == {"a.txt": b"A", "d/b.bin": b"\x00\x01"}
    assert list(tree) == ["a.txt", "d/b.bin"] and len(tree) == 2
    assert "a.txt" in tree and "empty" not in tree and "link" not in tree
    with pytest.raises(KeyError):
        tree["nope"]
    assert "empty" in tree.directories
    assert tree.symlinks == {"link": "a.txt"}
    assert tree.mode("a.txt") == 0o640 and tree.mode("empty") == 0o755
    assert repr(tree).startswith("<DirectoryTree 2 files")
    dest = tree.write(tmp_path / "out")
    assert dest == tmp_path / "out"
    assert (dest / "a.txt").read_bytes() == b"A" and (dest / "d" / "b.bin").read_bytes() == b"\x00\x01"
    assert (dest / "empty").is_dir() and os.readlink(dest / "link") == "a.txt"
    with pytest.raises(sealrun.AlreadyExists):
        tree.write(tmp_path / "out")
    (dest / "a.txt").write_bytes(b"changed")
    tree.write(tmp_path / "out", overwrite=True)
    assert (dest / "a.txt").read_bytes() == b"A"


class _Recording:
    """A codec that records what decode was given."""

    media_type = "application/json"
    calls: list = []

    @staticmethod
    def encode(value) -> bytes:
        return json.dumps(value).encode()

    @classmethod
    def decode(cls, data: bytes):
        cls.calls.append(data)
        return ("decoded", json.loads(data))


def test_get_with_codec(sealed):
    _, files, locations, _ = sealed
    run = sealrun.open(locations["oci"][0]).run(0)
    _Recording.calls = []
    assert run.get_with_codec(_Recording, "sub/inner.json") == ("decoded", {"deep": 1})
    assert _Recording.calls == [files["r0"]["sub/inner.json"]]
    # A stored media type other than the codec's: a ValueError before decode runs.
    _Recording.calls = []
    with pytest.raises(sealrun.InvalidInput) as e:
        run.get_with_codec(_Recording, "records.jsonl")
    assert isinstance(e.value, ValueError)
    assert "application/jsonl" in str(e.value) and "application/json" in str(e.value)
    assert _Recording.calls == []

    class Instance:
        media_type = "application/octet-stream"

        def encode(self, value):
            return value

        def decode(self, data):
            return data[::-1]

    assert run.get_with_codec(Instance(), "data.bin") == bytes(reversed(range(256)))

    class NoDecode:
        media_type = "application/json"

        @staticmethod
        def encode(value):
            return b""

    class NoMediaType:
        encode = staticmethod(lambda v: b"")
        decode = staticmethod(lambda b: b)

    for bad in (NoDecode, NoMediaType, object(), "application/json"):
        with pytest.raises(TypeError):
            run.get_with_codec(bad, "result.json")
    assert isinstance(Instance(), sealrun.AttachmentCodec) and not isinstance(NoDecode(), sealrun.AttachmentCodec)


def test_get_json_refuses_other_media_types(sealed):
    _, _, locations, _ = sealed
    run = sealrun.open(locations["oci"][0]).run(0)
    with pytest.raises(sealrun.InvalidInput, match="application/jsonl"):
        run.get_json("records.jsonl")


def test_write_attachment(sealed, tmp_path):
    _, files, locations, _ = sealed
    exp = sealrun.open(locations["oci-archive"][0])
    run = exp.run(0)
    # A file path given as str.
    p = run.write_attachment("data.bin", str(tmp_path / "data.out"))
    assert isinstance(p, pathlib.Path) and p == tmp_path / "data.out"
    assert p.read_bytes() == files["r0"]["data.bin"]
    # An existing file is kept unless overwrite.
    with pytest.raises(sealrun.AlreadyExists) as e:
        run.write_attachment("notes.txt", p)
    assert isinstance(e.value, FileExistsError)
    assert p.read_bytes() == files["r0"]["data.bin"]
    assert run.write_attachment("notes.txt", p, overwrite=True) == p
    assert p.read_bytes() == files["r0"]["notes.txt"]
    # An existing directory (a PathLike): inside it under the stored name, folders created.
    d = tmp_path / "dir"
    d.mkdir()
    q = run.write_attachment("sub/inner.json", d)
    assert q == d / "sub" / "inner.json" and q.read_bytes() == files["r0"]["sub/inner.json"]
    # Experiment-level attachments too.
    assert exp.write_attachment("summary.json", d).read_bytes() == b'{"best": 0}'
    with pytest.raises(TypeError):
        run.write_attachment("data.bin", 42)


def test_missing_things_raise_not_found(sealed, tmp_path):
    _, _, locations, _ = sealed
    exp = sealrun.open(locations["store"][0], **locations["store"][1])
    with pytest.raises(sealrun.NotFound) as e:
        exp.run(7)
    assert isinstance(e.value, LookupError)
    run = exp.run(0)
    for getter in (run.get_attachment, run.get_blob, run.get_json, run.attachment_media_type):
        with pytest.raises(sealrun.NotFound):
            getter("absent.json")
    with pytest.raises(sealrun.NotFound):
        run.write_attachment("absent.json", tmp_path)
    with pytest.raises(sealrun.NotFound):
        exp.get_attachment("result.json")  # a run's attachment, not the experiment's
    with pytest.raises(sealrun.NotFound):
        sealrun.open("no-such-tag", **locations["store"][1])


def test_open_errors(tmp_path, sealed):
    root, _, _, _ = sealed
    with pytest.raises(FileNotFoundError):
        sealrun.open("t", store=tmp_path / "no-store")
    with pytest.raises(FileNotFoundError):
        sealrun.open(f"oci-archive:{tmp_path / 'absent.tar'}:t")
    with pytest.raises(sealrun.InvalidInput):
        sealrun.open(f"oci:{root / 'layout'}")  # no tag or digest
    with pytest.raises(sealrun.InvalidInput):
        sealrun.open("http://example.com/x")
    # Not a sealed experiment: the OMMX fixture (an OMMX artifact, one image manifest).
    ommx = pathlib.Path(__file__).resolve().parents[2].parent / "shared" / "fixtures" / "ommx" / "random_lp_instance.ommx"
    with tarfile.open(ommx) as t:
        digest = json.load(t.extractfile("index.json"))["manifests"][0]["digest"]
    with pytest.raises(sealrun.InvalidInput, match="sealed experiment"):
        sealrun.open(f"oci-archive:{ommx}:{digest}")


def test_compressed_attachments_read_as_their_logical_type(tmp_path, cli):
    run_dir = tmp_path / "r"
    run_dir.mkdir()
    (run_dir / "a.json").write_text('{"k": [1, 2, 3]}' + " " * 4096)
    np.save(run_dir / "x.npy", np.arange(1000, dtype=">i4"))
    cli("seal", str(run_dir), "--experiment", "z", "--tag", "z", "--compress", store=tmp_path / "s")
    run = sealrun.open("z", store=tmp_path / "s").run(0)
    assert run.attachment_media_type("a.json") == "application/json"
    assert run.get_attachment("a.json") == {"k": [1, 2, 3]}
    x = run.get_attachment("x.npy")
    assert x.dtype == np.dtype(">i4") and x.tolist() == list(range(1000))
    assert run.write_attachment("a.json", tmp_path / "a.out").read_text().startswith('{"k": [1, 2, 3]}')


def test_content_sealed_by_the_cpp_library(gd_sweep, cli, registry):
    store, tag = gd_sweep
    cli("push", tag, f"docker://{registry}/py/gd:{tag}", store=store)
    for location, kw in [(tag, {"store": store}), (f"docker://{registry}/py/gd:{tag}", {})]:
        exp = sealrun.open(location, **kw)
        assert exp.name == "gd-sweep" and exp.status == "failed"
        assert exp.get_json("sweep.json") == {"learning_rates": [0.01, 0.03, 0.05, 0.12], "steps": 60}
        assert exp.parameters()["lr"] == [0.01, 0.03, 0.05, 0.12]
        finished = [r for r in exp.runs if r.status == "finished"]
        failed = [r for r in exp.runs if r.status == "failed"]
        assert len(finished) == 3 and len(failed) == 1
        assert failed[0].reason.startswith("diverged")
        for run in finished:
            (solve,) = run.solves
            assert isinstance(solve, sealrun.Solve)
            assert (solve.solve_id, solve.status, solve.input, solve.output, solve.adapter) == (
                0, "finished", "start.json", "result.json", "gradient-descent")
            assert solve.adapter_options == {"lr": run.parameters["lr"], "steps": 60}
            assert solve.diagnostics is None
            assert run.trace is None
            curve = run.get_attachment("curve.jsonl")
            assert [c["step"] for c in curve] == list(range(60))
            assert curve[-1]["loss"] == pytest.approx(run.get_json("result.json")["loss"])
        assert failed[0].solves == []


# Hostile and damaged archives, as the C++ suite builds them: refused with the right class.

def _members(archive: pathlib.Path) -> list[tuple[tarfile.TarInfo, bytes]]:
    with tarfile.open(archive) as t:
        return [(m, t.extractfile(m).read() if m.isfile() else b"") for m in t.getmembers()]


def _write_tar(path: pathlib.Path, members) -> None:
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as t:
        for info, data in members:
            t.addfile(info, io.BytesIO(data) if info.isfile() else None)


def _entry(name: str, data: bytes = b"x", kind=tarfile.REGTYPE, link: str = "") -> tuple[tarfile.TarInfo, bytes]:
    ti = tarfile.TarInfo(name)
    ti.type = kind
    ti.linkname = link
    ti.size = len(data) if kind == tarfile.REGTYPE else 0
    return ti, data


@pytest.mark.parametrize("what, extra", [
    ("climbing", [_entry("../escape")]),
    ("absolute", [_entry("/abs")]),
    ("symlink-blobs", [_entry("blobs", b"", tarfile.SYMTYPE, "/etc")]),
    ("index-twice", [_entry("index.json", b'{"schemaVersion":2,"manifests":[]}')]),
])
def test_hostile_archives_are_refused(sealed, tmp_path, what, extra):
    root, _, _, _ = sealed
    members = _members(root / "x.tar") + extra
    bad = tmp_path / f"{what}.tar"
    _write_tar(bad, members)
    with pytest.raises(sealrun.InvalidInput) as e:
        sealrun.open(f"oci-archive:{bad}:t")
    assert extra[0][0].name.lstrip("/") in str(e.value) or extra[0][0].name in str(e.value)
    assert not (tmp_path.parent / "escape").exists()


def test_compressed_and_non_tar_archives_are_refused(sealed, tmp_path):
    root, _, _, _ = sealed
    gz = tmp_path / "x.tar.gz"
    gz.write_bytes(gzip.compress((root / "x.tar").read_bytes()))
    with pytest.raises(sealrun.Unsupported, match="decompress"):
        sealrun.open(f"oci-archive:{gz}:t")
    text = tmp_path / "text.tar"
    text.write_bytes(b"x" * 2048)
    with pytest.raises(sealrun.InvalidInput):
        sealrun.open(f"oci-archive:{text}:t")


def test_tampered_blob_fails_verification(sealed, tmp_path, cli):
    root, files, _, out = sealed
    info = json.loads(cli("show", f"oci:{root / 'layout'}:t", "--run", "0", "--json").stdout)
    digest = next(a["digest"] for a in info["attachments"] if a["name"] == "data.bin")
    members = _members(root / "x.tar")
    name = "blobs/sha256/" + digest.split(":")[1]
    tampered = []
    for ti, data in members:
        if ti.name == name:
            data = bytes([data[0] ^ 1]) + data[1:]  # same size, other content
        tampered.append((ti, data))
    bad = tmp_path / "tampered.tar"
    _write_tar(bad, tampered)
    run = sealrun.open(f"oci-archive:{bad}:t").run(0)
    assert run.get_blob("notes.txt") == files["r0"]["notes.txt"]  # the others still read
    with pytest.raises(sealrun.DigestMismatch):
        run.get_blob("data.bin")
    with pytest.raises(sealrun.DigestMismatch):
        run.get_attachment("data.bin")
    with pytest.raises(sealrun.DigestMismatch):
        run.write_attachment("data.bin", tmp_path / "d.bin")
    assert not (tmp_path / "d.bin").exists()  # nothing unverified becomes visible


def test_hostile_tree_attachment_is_refused(tmp_path, cli):
    run_dir = tmp_path / "r"
    run_dir.mkdir()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        ti = tarfile.TarInfo("../evil")
        ti.size = 1
        t.addfile(ti, io.BytesIO(b"x"))
    (run_dir / "evil.tar").write_bytes(buf.getvalue())
    cli("seal", str(run_dir), "--experiment", "h", "--tag", "h", "--media-type", f"evil.tar={TAR}", store=tmp_path / "s")
    run = sealrun.open("h", store=tmp_path / "s").run(0)
    with pytest.raises(sealrun.InvalidInput, match=r"\.\./evil"):
        run.get_attachment("evil.tar")
    assert run.get_blob("evil.tar") == buf.getvalue()  # the bytes themselves are fine to read


def test_solves_and_trace_recorded_from_python(tmp_path):
    """Recorded with sealrun.Experiment (the C++ writer behind it), read back from the local store."""
    with sealrun.Experiment("py", store=tmp_path / "s", tag="py") as exp:
        with exp.run() as run:
            run.save_file("in.json", {"a": 1})
            run.save_file("out.json", {"b": 2})
            run.log_solve("in.json", "out.json", adapter="highs", adapter_options={"t": 1},
                          diagnostics={"iters": 5, "gap": 0.0})
            run.log_solve("in.json", status="failed", adapter="highs")
            run.save_trace({"spans": [{"name": "solve", "ms": 12}]})
        with exp.run():
            pass
    sealed_exp = sealrun.open("py", store=tmp_path / "s")
    r0, r1 = sealed_exp.runs
    assert r0.solves == [
        sealrun.Solve(solve_id=0, status="finished", input="in.json", output="out.json", adapter="highs",
                      adapter_options={"t": 1}, diagnostics={"iters": 5, "gap": 0.0}),
        sealrun.Solve(solve_id=1, status="failed", input="in.json", output=None, adapter="highs",
                      adapter_options={}, diagnostics=None),
    ]
    assert r0.trace == {"spans": [{"name": "solve", "ms": 12}]}
    assert "trace.json" not in r0.attachment_names  # the trace is not an attachment
    assert r1.trace is None and r1.solves == []


def test_a_media_type_without_codec_reads_through_get_blob_or_a_codec(tmp_path, cli):
    run_dir = tmp_path / "r"
    run_dir.mkdir()
    (run_dir / "m.csv2").write_bytes(b"a;b\n1;2\n")
    cli("seal", str(run_dir), "--experiment", "u", "--tag", "u", "--media-type", "m.csv2=application/x-sealrun-test",
        store=tmp_path / "s")
    run = sealrun.open("u", store=tmp_path / "s").run(0)
    assert run.attachment_media_type("m.csv2") == "application/x-sealrun-test"
    with pytest.raises(sealrun.Unsupported, match="get_blob"):
        run.get_attachment("m.csv2")
    assert run.get_blob("m.csv2") == b"a;b\n1;2\n"

    class Semicolons:
        media_type = "application/x-sealrun-test"

        @staticmethod
        def encode(rows) -> bytes:
            return "".join(";".join(r) + "\n" for r in rows).encode()

        @staticmethod
        def decode(data: bytes):
            return [line.split(";") for line in data.decode().splitlines()]

    assert run.get_with_codec(Semicolons, "m.csv2") == [["a", "b"], ["1", "2"]]


@pytest.mark.parametrize("transport", ["oci-archive", "docker"])
def test_a_run_outlives_the_experiment_it_came_from(sealed, transport):
    import gc

    _, files, locations, _ = sealed
    location, kw = locations[transport]
    exp = sealrun.open(location, **kw)
    run = exp.run(0)
    tree = run.get_attachment("tree.tar")
    del exp
    gc.collect()  # the run (and the tree) keep the location's target open
    assert run.get_blob("data.bin") == files["r0"]["data.bin"]
    assert run.get_attachment("tree.tar")["a.txt"] == tree["a.txt"] == b"A"
