"""sealrun.copy / push / pull: the CLI's `sealrun copy` from Python.

Content sealed by the C++ library (the gd_sweep example) and by the CLI is
moved between the local store, oci: layouts, oci-archive: files and a real
docker-registry, from a scratch working directory with relative paths; the
digests must equal those the CLI prints and skopeo must read the same bytes.
"""

from __future__ import annotations

import hashlib
import os
import pathlib
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET

import pytest

import sealrun


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def skopeo_raw(*args: str) -> bytes:
    return subprocess.run(["skopeo", "inspect", "--raw", *args], check=True, capture_output=True, timeout=120).stdout


def test_copy_store_to_oci_layout_with_relative_paths(scratch, cli):
    done = sealrun.copy("gd-v1", "oci:backup:v1")
    assert isinstance(done, sealrun.CopyResult)
    printed = cli("--store", "storage", "copy", "gd-v1", "oci:backup-cli:v1", cwd=scratch).stdout.strip()
    assert done.digest == printed
    assert done.tag == "v1" and not done.chosen_tag
    assert done.media_type == "application/vnd.oci.image.index.v1+json"
    assert done.blobs_copied > 2 and done.blobs_skipped == 0 and done.bytes_copied > 0
    assert str(done) == done.digest
    raw = skopeo_raw(f"oci:{scratch / 'backup'}:v1")
    assert sha256(raw) == done.digest and len(raw) == done.size
    assert (scratch / "backup" / "index.json").is_file()
    assert not (scratch.parent / "backup").exists()

    again = sealrun.copy("gd-v1", "oci:backup:v1")
    assert again.digest == done.digest
    assert again.blobs_copied == 0 and again.blobs_skipped >= done.blobs_copied


def test_copy_to_oci_archive_is_byte_identical_to_export_and_reads_back(scratch, cli):
    done = sealrun.copy("gd-v1", "oci-archive:out/sweep.tar:v1")
    assert (scratch / "out" / "sweep.tar").is_file()
    cli("--store", "storage", "copy", "gd-v1", "oci-archive:cli.tar:v1", cwd=scratch)
    assert (scratch / "out" / "sweep.tar").read_bytes() == (scratch / "cli.tar").read_bytes()
    assert sha256(skopeo_raw(f"oci-archive:{scratch / 'out' / 'sweep.tar'}:v1")) == done.digest

    back = sealrun.copy("oci-archive:out/sweep.tar:v1", store="imported")
    assert back.digest == done.digest and back.tag == "v1"
    assert (scratch / "imported").is_dir()
    listed = cli("--store", "imported", "--json", "ls", cwd=scratch).stdout
    assert done.digest in listed and '"v1"' in listed


def test_push_and_pull_through_the_registry(scratch, registry, cli):
    remote = f"docker://{registry}/py/sweep:v1"
    pushed = sealrun.push("gd-v1", remote)
    assert pushed.tag == "v1" and pushed.blobs_copied > 2
    raw = skopeo_raw("--tls-verify=false", f"docker://{registry}/py/sweep:v1")
    assert sha256(raw) == pushed.digest

    pulled = sealrun.pull(remote, store="pulled")
    assert pulled.digest == pushed.digest and pulled.tag == "v1" and pulled.destination == "v1"
    assert sha256(skopeo_raw(f"oci:{scratch / 'pulled'}:v1")) == pushed.digest
    cli("--store", "pulled", "validate", "v1", cwd=scratch)

    # The CLI pulling the same reference prints the same digest.
    printed = cli("--store", "pulled-cli", "pull", remote, cwd=scratch).stdout.strip()
    assert printed == pulled.digest

    # By digest, without a destination: sealrun chooses NAME-HEX, as the CLI does.
    by_digest = sealrun.pull(f"docker://{registry}/py/sweep@{pushed.digest}", store="by-digest")
    hexpart = pushed.digest.split(":", 1)[1]
    assert by_digest.chosen_tag and by_digest.tag == "sweep-" + hexpart[:12]
    assert by_digest.digest == pushed.digest
    err = cli("--store", "by-digest-cli", "pull", f"docker://{registry}/py/sweep@{pushed.digest}", cwd=scratch).stderr
    assert f"tagged {by_digest.tag}" in err

    # Registry to registry, and to an oci-archive in one step.
    other = sealrun.copy(remote, f"docker://{registry}/py/other:v2")
    assert other.digest == pushed.digest and other.tag == "v2"
    sealrun.copy(f"docker://{registry}/py/other:v2", "oci-archive:from-registry.tar")
    assert sha256(skopeo_raw(f"oci-archive:{scratch / 'from-registry.tar'}:v2")) == pushed.digest


def test_a_destination_tag_naming_other_content_needs_force(scratch, cli, tmp_path):
    run = scratch / "runs" / "r0"
    run.mkdir(parents=True)
    (run / "note.txt").write_text("other content\n")
    cli("seal", "runs/r0", "--experiment", "other", "--tag", "other-v1", cwd=scratch)
    first = sealrun.copy("gd-v1", "oci:dst:v1")
    with pytest.raises(sealrun.AlreadyExists) as e:
        sealrun.copy("other-v1", "oci:dst:v1")
    assert isinstance(e.value, FileExistsError)
    cli_err = cli("copy", "other-v1", "oci:dst:v1", cwd=scratch, check=False)
    assert cli_err.returncode == 1
    assert cli_err.stderr.strip() == "sealrun: " + str(e.value)
    assert sha256(skopeo_raw(f"oci:{scratch / 'dst'}:v1")) == first.digest
    moved = sealrun.copy("other-v1", "oci:dst:v1", force=True)
    assert moved.digest != first.digest
    assert sha256(skopeo_raw(f"oci:{scratch / 'dst'}:v1")) == moved.digest


def test_locations_are_the_cli_grammar(scratch):
    sealrun.copy("gd-v1", "oci:backup:v1")
    with pytest.raises(sealrun.InvalidInput) as e:
        sealrun.copy("oci:backup", "oci:x:y")  # a source without tag or digest
    assert isinstance(e.value, ValueError)
    assert str(e.value) == "copy oci:backup: the source needs a tag or digest"
    assert not (scratch / "x").exists()
    with pytest.raises(sealrun.InvalidInput):
        sealrun.copy("http://example.com/x:1", "oci:x:y")
    with pytest.raises(sealrun.NotFound):
        sealrun.copy("no-such-tag", "oci:x:y")
    with pytest.raises(sealrun.FileNotFound):
        sealrun.copy("gd-v1", "oci:x:y", store="no-such-store")
    # Path-like values are accepted where a path is meant.
    done = sealrun.copy("gd-v1", "oci:pl:v1", store=scratch / "storage")
    assert done.tag == "v1"
    with pytest.raises(TypeError):
        sealrun.copy("gd-v1", "oci:pl:v1", store=12)


def test_progress_callback_sees_every_copied_blob_and_can_stop_the_copy(scratch):
    events: list[tuple] = []
    done = sealrun.copy("gd-v1", "oci:p:v1", progress=lambda *a: events.append(a))
    copied = [e for e in events if e[0] == "copied"]
    assert len(copied) == done.blobs_copied
    assert copied[-1][1] == done.digest  # the root is stored last
    assert sum(e[3] for e in copied) == done.bytes_copied
    assert all(isinstance(e[1], str) and e[1].startswith("sha256:") for e in events)

    class Stop(Exception):
        pass

    def stop(event, digest, media_type, size, done_bytes):
        raise Stop(digest)

    with pytest.raises(Stop):
        sealrun.copy("gd-v1", "oci-archive:stopped.tar:v1", progress=stop)
    assert not (scratch / "stopped.tar").exists()
    assert not [p for p in scratch.iterdir() if p.name.startswith("stopped")]


def test_the_gil_is_released_while_a_copy_runs(tmp_path, monkeypatch, cli):
    monkeypatch.chdir(tmp_path)
    run = tmp_path / "runs" / "big"
    run.mkdir(parents=True)
    # Big enough that the copy (hash + write) outlasts a few switch intervals
    # even in the release build on a fast disk: 192 MiB.
    (run / "data.bin").write_bytes(os.urandom(1 << 20) * 192)
    cli("seal", "runs/big", "--experiment", "big", "--tag", "big-v1", cwd=tmp_path)

    result: dict = {}

    def work():
        start = time.perf_counter()
        result["done"] = sealrun.copy("big-v1", "oci-archive:big.tar:v1")
        result["seconds"] = time.perf_counter() - start

    t = threading.Thread(target=work)
    last = time.perf_counter()
    longest = 0.0
    t.start()
    while t.is_alive():
        now = time.perf_counter()
        longest = max(longest, now - last)
        last = now
    t.join()
    assert result["done"].bytes_copied > 192 << 20
    # Held for the whole copy, the GIL would stall this loop for about as
    # long as the copy took; released, only for a switch interval or so.
    assert result["seconds"] > 0.1
    assert longest < result["seconds"] / 2, (longest, result["seconds"])


def test_the_readme_python_section_runs_as_written(tmp_path, registry):
    readme = (pathlib.Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme.split("<!-- python -->", 1)[1].split("<!-- /python -->", 1)[0]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    env = dict(os.environ, REGISTRY=registry, PYTHONPATH=str(pathlib.Path(sealrun.__file__).resolve().parents[1]))
    env.pop("SEALRUN_STORE", None)
    p = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stdout + p.stderr
    assert p.stdout.startswith("sweep finished [0, 1]\n"), p.stdout
    assert "no-such-tag" in p.stdout.splitlines()[-1]  # the NotFound's message
    assert (tmp_path / "out" / "trajectory.npy").is_file() and (tmp_path / "sweep.tar").is_file()
    assert ET.fromstring((tmp_path / "report.xml").read_text()).tag == "testsuites"
    pulled = sealrun.validate("v1", store=tmp_path / "elsewhere")
    assert pulled.valid and pulled.digest == sealrun.validate("sweep", store=tmp_path / "storage").digest


def test_copies_and_validations_run_side_by_side_in_threads(scratch):
    results: dict[str, object] = {}

    def copy_to(name):
        results[name] = sealrun.copy("gd-v1", f"oci-archive:{name}.tar:v1").digest

    def check():
        results["report"] = sealrun.validate("gd-v1")

    threads = [threading.Thread(target=copy_to, args=(f"t{i}",)) for i in range(3)] + [threading.Thread(target=check)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    digests = {results[f"t{i}"] for i in range(3)}
    assert len(digests) == 1
    assert results["report"].valid and results["report"].digest in digests
    assert len({(scratch / f"t{i}.tar").read_bytes() for i in range(3)}) == 1
