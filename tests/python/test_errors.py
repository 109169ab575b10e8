"""sealrun's exceptions: the C++ Errc as Python classes, and hostile content refused.

The hostile cases are those of the C++ suite (tests/content/hostile_layout_test.cpp,
oci_archive_test.cpp, tests/validate, tests/remote/hostile_test.cpp), built here
from a sweep sealed by the C++ library: each must be refused with the right
exception class and the C++ message (the CLI's stderr for the same input),
validate must report it as a failure, and nothing may appear at the destination.
"""

from __future__ import annotations

import hashlib
import http.server
import io
import json
import pathlib
import shutil
import tarfile
import threading
import urllib.error
import urllib.request

import pytest

import sealrun

# --- the classes ----------------------------------------------------------------------------------------------

BUILTINS = {
    sealrun.NotFound: (LookupError,),
    sealrun.FileNotFound: (sealrun.NotFound, LookupError, FileNotFoundError, OSError),
    sealrun.AlreadyExists: (FileExistsError, OSError),
    sealrun.DigestMismatch: (),
    sealrun.SizeMismatch: (),
    sealrun.TooLarge: (),
    sealrun.InvalidInput: (ValueError,),
    sealrun.Unsupported: (NotImplementedError,),
    sealrun.Unauthorized: (PermissionError, OSError),
    sealrun.Denied: (PermissionError, OSError),
    sealrun.NetworkError: (ConnectionError, OSError),
    sealrun.IOFailure: (OSError,),
    sealrun.ProtocolError: (),
}


@pytest.mark.parametrize("cls", list(BUILTINS), ids=lambda c: c.__name__)
def test_every_error_is_a_sealrun_error_and_its_builtin(cls):
    assert issubclass(cls, sealrun.Error) and issubclass(cls, Exception)
    for base in BUILTINS[cls]:
        assert issubclass(cls, base), (cls, base)
    assert cls.__name__ in sealrun.__all__
    assert cls.__doc__


def test_codes_name_the_cpp_errc():
    codes = {cls: cls.code for cls in BUILTINS if cls is not sealrun.FileNotFound}
    assert len(set(codes.values())) == len(codes)
    assert sealrun.FileNotFound.code == "not_found"
    assert codes[sealrun.DigestMismatch] == "digest_mismatch" and codes[sealrun.InvalidInput] == "invalid_input"


# --- hostile content ------------------------------------------------------------------------------------------


@pytest.fixture
def scratch(tmp_path, monkeypatch, gd_sweep):
    """A working directory with the sweep in ./storage and as ./good (oci:) and ./good.tar (oci-archive:)."""
    store, _ = gd_sweep
    shutil.copytree(store, tmp_path / "storage", symlinks=True)
    monkeypatch.chdir(tmp_path)
    sealrun.copy("gd-v1", "oci:good:v1")
    sealrun.copy("gd-v1", "oci-archive:good.tar:v1")
    return tmp_path


def blob_path(layout: pathlib.Path, digest: str) -> pathlib.Path:
    return layout / "blobs" / "sha256" / digest.split(":", 1)[1]


def graph(layout: pathlib.Path) -> tuple[str, dict, dict]:
    """(root digest, the index, its first run manifest) of the sweep in `layout`."""
    root = json.loads((layout / "index.json").read_text())["manifests"][0]["digest"]
    index = json.loads(blob_path(layout, root).read_bytes())
    run = json.loads(blob_path(layout, index["manifests"][0]["digest"]).read_bytes())
    return root, index, run


def refused(cls, cli, args, call, cwd):
    """Runs `call`, which must raise exactly `cls`; the CLI given `args` must fail with the same message."""
    with pytest.raises(sealrun.Error) as e:
        call()
    assert type(e.value) is cls, (type(e.value), str(e.value))
    p = cli(*args, cwd=cwd, check=False)
    assert p.returncode == 1
    assert p.stderr == f"sealrun: {e.value}\n"
    return e.value


def nothing_at(*paths: pathlib.Path) -> None:
    for p in paths:
        assert not p.exists(), p
        assert not [q for q in p.parent.iterdir() if q.name.startswith(p.name + ".")], p


def test_a_blob_whose_bytes_do_not_match_its_digest(scratch, cli):
    shutil.copytree("good", "bad")
    _, _, run = graph(scratch / "bad")
    layer = run["layers"][0]["digest"]
    data = bytearray(blob_path(scratch / "bad", layer).read_bytes())
    data[0] ^= 1  # same size, other content
    blob_path(scratch / "bad", layer).write_bytes(bytes(data))

    e = refused(sealrun.DigestMismatch, cli, ["copy", "oci:bad:v1", "oci-archive:out.tar:v1"],
                lambda: sealrun.copy("oci:bad:v1", "oci-archive:out.tar:v1"), scratch)
    assert layer in str(e) and e.code == "digest_mismatch"
    nothing_at(scratch / "out.tar")
    with pytest.raises(sealrun.DigestMismatch):
        sealrun.copy("oci:bad:v1", "oci:dst:v1")
    assert json.loads((scratch / "dst" / "index.json").read_text())["manifests"] == []  # nothing tagged
    report = sealrun.validate("oci:bad:v1")
    assert not report.valid and ("digest", layer) in {(c.name, c.subject) for c in report.failures}


def test_a_missing_blob(scratch, cli):
    shutil.copytree("good", "holed")
    _, _, run = graph(scratch / "holed")
    layer = run["layers"][0]["digest"]
    blob_path(scratch / "holed", layer).unlink()
    # The layout's blob file is missing: a NotFound that is also a FileNotFoundError.
    e = refused(sealrun.FileNotFound, cli, ["copy", "oci:holed:v1", "oci-archive:out.tar:v1"],
                lambda: sealrun.copy("oci:holed:v1", "oci-archive:out.tar:v1"), scratch)
    assert layer.split(":")[1] in str(e) and isinstance(e, sealrun.NotFound)
    nothing_at(scratch / "out.tar")
    report = sealrun.validate("oci:holed:v1")
    assert ("digest", layer) in {(c.name, c.subject) for c in report.failures}


def test_an_index_that_is_not_json(scratch, cli):
    shutil.copytree("good", "garbled")
    (scratch / "garbled" / "index.json").write_text("this is not JSON {")
    refused(sealrun.InvalidInput, cli, ["copy", "oci:garbled:v1", "oci-archive:out.tar:v1"],
            lambda: sealrun.copy("oci:garbled:v1", "oci-archive:out.tar:v1"), scratch)
    nothing_at(scratch / "out.tar")
    refused(sealrun.InvalidInput, cli, ["show", "oci:garbled:v1"], lambda: sealrun.open("oci:garbled:v1"), scratch)


@pytest.mark.parametrize("kind", ["manifest", "index"])
def test_a_manifest_or_index_over_4_mib(scratch, cli, kind):
    shutil.copytree("good", "huge")
    media_type = f"application/vnd.oci.image.{kind}.v1+json"
    doc = {"schemaVersion": 2, "mediaType": media_type, "padding": "x" * (4 << 20)}
    desc = {"mediaType": media_type, "annotations": {"org.opencontainers.image.ref.name": "v1"}}
    if kind == "index":  # typed as a sealed experiment, so open() reads it too
        doc.update(artifactType="application/vnd.sealrun.experiment.v1", manifests=[])
        desc.update(artifactType="application/vnd.sealrun.experiment.v1")
    big = json.dumps(doc).encode()
    digest = "sha256:" + hashlib.sha256(big).hexdigest()
    blob_path(scratch / "huge", digest).write_bytes(big)
    index = json.loads((scratch / "huge" / "index.json").read_text())
    index["manifests"] = [dict(desc, digest=digest, size=len(big))]
    (scratch / "huge" / "index.json").write_text(json.dumps(index))
    e = refused(sealrun.TooLarge, cli, ["copy", "oci:huge:v1", "oci-archive:out.tar:v1"],
                lambda: sealrun.copy("oci:huge:v1", "oci-archive:out.tar:v1"), scratch)
    assert digest in str(e)
    nothing_at(scratch / "out.tar")
    assert not sealrun.validate("oci:huge:v1").valid
    if kind == "index":
        refused(sealrun.TooLarge, cli, ["show", "oci:huge:v1"], lambda: sealrun.open("oci:huge:v1"), scratch)


def rewrite_tar(src: pathlib.Path, dst: pathlib.Path, extra: list[tuple[str, bytes]]) -> None:
    """Writes `dst`: every member of `src`, then the `extra` (name, bytes) members."""
    with tarfile.open(src) as tin, tarfile.open(dst, "w", format=tarfile.PAX_FORMAT) as tout:
        for m in tin.getmembers():
            tout.addfile(m, tin.extractfile(m) if m.isfile() else None)
        for name, data in extra:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tout.addfile(info, io.BytesIO(data))


@pytest.mark.parametrize("name", ["../escape", "/abs"])
def test_a_tar_member_climbing_out_or_absolute(scratch, cli, name):
    rewrite_tar(scratch / "good.tar", scratch / "hostile.tar", [(name, b"x")])
    e = refused(sealrun.InvalidInput, cli, ["copy", "oci-archive:hostile.tar:v1", "oci:dst:v1"],
                lambda: sealrun.copy("oci-archive:hostile.tar:v1", "oci:dst:v1"), scratch)
    assert name in str(e) and "hostile.tar" in str(e)
    assert not (scratch.parent / "escape").exists() and not pathlib.Path("/abs").exists()
    with pytest.raises(sealrun.InvalidInput):
        sealrun.validate("oci-archive:hostile.tar:v1")


def test_a_truncated_archive(scratch, cli):
    with tarfile.open(scratch / "good.tar") as t:
        index_at = t.getmember("index.json").offset
    (scratch / "cut.tar").write_bytes((scratch / "good.tar").read_bytes()[:index_at])  # index.json, the last member, is lost
    e = refused(sealrun.InvalidInput, cli, ["copy", "oci-archive:cut.tar:v1", "oci:dst:v1"],
                lambda: sealrun.copy("oci-archive:cut.tar:v1", "oci:dst:v1"), scratch)
    assert "no index.json" in str(e)

    # index.json first, then the archive cut inside the largest blob: a member past the end.
    with tarfile.open(scratch / "good.tar") as t:
        members = sorted(t.getmembers(), key=lambda m: m.name != "index.json")
        largest = max(members, key=lambda m: m.size)
        with tarfile.open(scratch / "reordered.tar", "w", format=tarfile.PAX_FORMAT) as out:
            for m in members:
                out.addfile(m, t.extractfile(m) if m.isfile() else None)
    with tarfile.open(scratch / "reordered.tar") as t:
        offset = t.getmember(largest.name).offset_data
    (scratch / "cut2.tar").write_bytes((scratch / "reordered.tar").read_bytes()[: offset + largest.size // 2])
    e = refused(sealrun.InvalidInput, cli, ["copy", "oci-archive:cut2.tar:v1", "oci:dst:v1"],
                lambda: sealrun.copy("oci-archive:cut2.tar:v1", "oci:dst:v1"), scratch)
    assert largest.name in str(e)
    assert not (scratch / "dst").exists()
    with pytest.raises(sealrun.InvalidInput):
        sealrun.validate("oci-archive:cut2.tar:v1")


def test_an_archive_index_over_the_manifest_cap(scratch, cli):
    with tarfile.open(scratch / "big.tar", "w") as t:
        info = tarfile.TarInfo("index.json")
        info.size = (4 << 20) + 1
        t.addfile(info, io.BytesIO(b" " * info.size))
    refused(sealrun.TooLarge, cli, ["copy", "oci-archive:big.tar:v1", "oci:dst:v1"],
            lambda: sealrun.copy("oci-archive:big.tar:v1", "oci:dst:v1"), scratch)


def test_missing_places_are_file_not_found(scratch, cli):
    e = refused(sealrun.FileNotFound, cli, ["copy", "oci-archive:absent.tar:v1", "oci:dst:v1"],
                lambda: sealrun.copy("oci-archive:absent.tar:v1", "oci:dst:v1"), scratch)
    assert isinstance(e, FileNotFoundError) and "absent.tar" in str(e)
    refused(sealrun.FileNotFound, cli, ["copy", "oci:nowhere:v1", "oci:dst:v1"],
            lambda: sealrun.copy("oci:nowhere:v1", "oci:dst:v1"), scratch)
    e = refused(sealrun.NotFound, cli, ["copy", "oci:good:nope", "oci:dst:v1"],
                lambda: sealrun.copy("oci:good:nope", "oci:dst:v1"), scratch)
    assert not isinstance(e, FileNotFoundError)
    assert not (scratch / "nowhere").exists()


# --- a registry that serves wrong bytes -----------------------------------------------------------------------


class TamperingProxy(http.server.ThreadingHTTPServer):
    """Forwards GET and HEAD to a registry, flipping the first byte of the blob `digest` when it serves it."""

    daemon_threads = True

    def __init__(self, upstream: str, digest: str):
        self.upstream = upstream
        self.digest = digest
        super().__init__(("127.0.0.1", 0), _ProxyHandler)


class _ProxyHandler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def _forward(self, head: bool) -> None:
        req = urllib.request.Request(f"http://{self.server.upstream}{self.path}", method=self.command,
                                     headers={k: v for k, v in self.headers.items() if k.lower() != "host"})
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                status, headers, body = r.status, r.headers, (b"" if head else r.read())
        except urllib.error.HTTPError as e:
            status, headers, body = e.code, e.headers, (b"" if head else e.read())
        if body and self.path.endswith("/blobs/" + self.server.digest):
            body = bytes([body[0] ^ 1]) + body[1:]
        self.send_response(status)
        for k, v in headers.items():
            if k.lower() not in ("content-length", "transfer-encoding", "connection"):
                self.send_header(k, v)
        self.send_header("Content-Length", headers.get("Content-Length", str(len(body))) if head else str(len(body)))
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def do_GET(self):
        self._forward(False)

    def do_HEAD(self):
        self._forward(True)


def test_a_registry_serving_wrong_bytes(scratch, cli, registry):
    sealrun.push("gd-v1", f"docker://{registry}/hostile/sweep:v1")
    _, _, run = graph(scratch / "good")
    layer = run["layers"][0]["digest"]
    proxy = TamperingProxy(registry, layer)
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    try:
        remote = f"docker://127.0.0.1:{proxy.server_address[1]}/hostile/sweep:v1"
        check_wrong_bytes(scratch, cli, remote, layer)
    finally:
        proxy.shutdown()
        proxy.server_close()


def check_wrong_bytes(scratch, cli, remote, layer):
    with pytest.raises(sealrun.DigestMismatch) as e:
        sealrun.pull(remote, store="pulled", plain_http=True)
    assert str(e.value).startswith(f"verify {layer}: digest mismatch")
    p = cli("--plain-http", "--store", "pulled-cli", "pull", remote, cwd=scratch, check=False)
    assert p.returncode == 1 and p.stderr == f"sealrun: {e.value}\n"
    # Nothing is tagged at the destination; what was stored stays unreachable.
    assert [c.name for c in sealrun.validate("v1", store="pulled").failures] == ["resolve"]
    nothing_at(scratch / "out.tar")
    with pytest.raises(sealrun.DigestMismatch):
        sealrun.copy(remote, "oci-archive:out.tar:v1", plain_http=True)
    nothing_at(scratch / "out.tar")
    report = sealrun.validate(remote, plain_http=True)
    assert not report.valid and "digest" in {c.name for c in report.failures}


# --- the same content through sealrun.open and the views ------------------------------------------------------


def title_of(layer: dict) -> str:
    return layer["annotations"]["org.opencontainers.image.title"]


def test_open_and_get_blob_refuse_what_copy_refuses(scratch, cli):
    shutil.copytree("good", "bad")
    _, _, run = graph(scratch / "bad")
    layer = run["layers"][0]
    path = blob_path(scratch / "bad", layer["digest"])
    data = bytearray(path.read_bytes())
    data[0] ^= 1
    path.write_bytes(bytes(data))
    name = title_of(layer)

    exp = sealrun.open("oci:bad:v1")  # the index and the run manifests are intact
    for read in (lambda: exp.run(0).get_blob(name), lambda: exp.run(0).get_attachment(name)):
        refused(sealrun.DigestMismatch, cli, ["get", "oci:bad:v1", "--run", "0", name, "-o", "out/"], read, scratch)
    with pytest.raises(sealrun.DigestMismatch):
        exp.run(0).write_attachment(name, scratch / "written")
    nothing_at(scratch / "written", scratch / "out" / name)

    rewrite_tar(scratch / "good.tar", scratch / "hostile.tar", [("../escape", b"x")])
    refused(sealrun.InvalidInput, cli, ["show", "oci-archive:hostile.tar:v1"],
            lambda: sealrun.open("oci-archive:hostile.tar:v1"), scratch)
    refused(sealrun.FileNotFound, cli, ["show", "oci-archive:absent.tar:v1"],
            lambda: sealrun.open("oci-archive:absent.tar:v1"), scratch)
    refused(sealrun.NotFound, cli, ["show", "oci:good:nope"], lambda: sealrun.open("oci:good:nope"), scratch)
    with pytest.raises(sealrun.NotFound) as e:
        sealrun.open("oci:good:v1").run(0).get_blob("no-such-attachment")
    assert isinstance(e.value, LookupError)
