"""sealrun.validate: `sealrun validate` from Python, report for report.

Every rendering comes from the C++ core, so Python's text, JSON and JUnit
must equal what the CLI prints for the same location; the check objects
must say what the JSON says.
"""

from __future__ import annotations

import json
import pathlib
import xml.etree.ElementTree as ET

import pytest

import sealrun


def same_as_cli(report: sealrun.ValidationReport, cli, *args: str, cwd: pathlib.Path) -> None:
    """Asserts that each rendering of `report` equals the CLI's for `validate ARGS`."""
    text = cli("validate", *args, cwd=cwd, check=False)
    assert text.returncode == (0 if report.valid else 1)
    assert report.to_text() == text.stdout
    verbose = cli("validate", *args, "--verbose", cwd=cwd, check=False)
    assert report.to_text(verbose=True) == verbose.stdout
    assert report.to_json() + "\n" == cli("validate", *args, "--format", "json", cwd=cwd, check=False).stdout
    assert report.to_junit() == cli("validate", *args, "--format", "junit", cwd=cwd, check=False).stdout


def checks_of(report: sealrun.ValidationReport) -> list[dict]:
    return [{"name": c.name, "subject": c.subject, "passed": c.passed, "warning": c.warning, "message": c.message}
            for c in report.checks]


def test_a_sealed_sweep_is_valid_in_the_store_and_every_transport(scratch, cli, registry):
    report = sealrun.validate("gd-v1")
    assert report.valid and bool(report)
    assert report.kind == "experiment" and report.reference == "gd-v1"
    assert report.digest == sealrun.copy("gd-v1", "oci:layout:gd-v1").digest
    assert report.failures == [] and len(report.checks) > 10
    assert all(isinstance(c, sealrun.Check) and c.passed for c in report.checks)
    assert {"digest", "schema", "experiment", "codec"} <= {c.name for c in report.checks}
    assert "valid" in repr(report) and "gd-v1" in repr(report)
    same_as_cli(report, cli, "gd-v1", cwd=scratch)

    parsed = json.loads(report.to_json())
    assert parsed["ok"] is True and parsed["digest"] == report.digest
    assert parsed["checks"] == checks_of(report)
    suite = ET.fromstring(report.to_junit()).find("testsuite")
    assert len(suite.findall("testcase")) == len(report.checks)

    for location in ("oci:layout:gd-v1", "oci-archive:" + str(scratch / "a.tar") + ":gd-v1",
                     f"docker://{registry}/validate/sweep:v1"):
        sealrun.copy("gd-v1", location)
        r = sealrun.validate(location)
        assert r.valid and r.kind == "experiment" and r.digest == report.digest, r.to_text()
        same_as_cli(r, cli, location, cwd=scratch)


def test_a_damaged_blob_is_a_failed_digest_check_not_an_exception(scratch, cli):
    sealrun.copy("gd-v1", "oci:bad:v1")
    root = json.loads(pathlib.Path("bad/index.json").read_text())["manifests"][0]["digest"]
    index = json.loads(pathlib.Path("bad/blobs/sha256", root.split(":")[1]).read_bytes())
    run = json.loads(pathlib.Path("bad/blobs/sha256", index["manifests"][0]["digest"].split(":")[1]).read_bytes())
    layer = pathlib.Path("bad/blobs/sha256", run["layers"][0]["digest"].split(":")[1])
    data = bytearray(layer.read_bytes())
    data[0] ^= 1
    layer.write_bytes(bytes(data))

    report = sealrun.validate("oci:bad:v1")
    assert not report.valid and not bool(report)
    assert "INVALID" in repr(report)
    failed = report.failures
    assert failed and any(c.name == "digest" and c.subject == run["layers"][0]["digest"] for c in failed)
    assert all(not c.passed for c in failed)
    assert json.loads(report.to_json())["failures"] == len(failed)
    same_as_cli(report, cli, "oci:bad:v1", cwd=scratch)


def test_strict_and_codec_allow_are_the_cli_options(tmp_path, monkeypatch, cli):
    monkeypatch.chdir(tmp_path)
    run = tmp_path / "run"
    run.mkdir()
    (run / "weights.pt").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    (run / "A.json").write_text("{}")
    (run / "a.json").write_text("[]")
    cli("seal", "run", "--experiment", "e", "--tag", "t", "--media-type", "weights.pt=application/x-torch",
        cwd=tmp_path)

    lenient = sealrun.validate("t")
    assert lenient.valid
    warned = {c.name for c in lenient.warnings}
    assert {"codec", "names"} <= warned, lenient.to_text()
    assert any("application/x-torch" in c.message for c in lenient.warnings)
    same_as_cli(lenient, cli, "t", cwd=tmp_path)

    strict = sealrun.validate("t", strict=True)
    assert not strict.valid
    assert {c.name for c in strict.failures} == warned
    assert all(c.message.startswith("strict: ") for c in strict.failures)
    same_as_cli(strict, cli, "t", "--strict", cwd=tmp_path)

    allowed = sealrun.validate("t", True, codec_allow=["application/x-torch"])
    assert {c.name for c in allowed.failures} == {"names"}
    same_as_cli(allowed, cli, "t", "--strict", "--codec-allow", "application/x-torch", cwd=tmp_path)
    assert sealrun.validate("t", codec_allow="application/*").warnings == [
        c for c in lenient.warnings if c.name != "codec"]


def test_an_unknown_reference_is_a_failed_resolve_check(scratch, cli):
    report = sealrun.validate("no-such-tag")
    assert not report.valid and report.kind == "" and report.digest == ""
    assert [c.name for c in report.failures] == ["resolve"]
    same_as_cli(report, cli, "no-such-tag", cwd=scratch)


def test_a_location_that_cannot_be_opened_raises(tmp_path, monkeypatch, cli):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(sealrun.FileNotFound) as e:
        sealrun.validate("gd-v1")  # no ./storage here
    assert isinstance(e.value, FileNotFoundError) and isinstance(e.value, LookupError)
    assert cli("validate", "gd-v1", cwd=tmp_path, check=False).stderr == f"sealrun: {e.value}\n"
    assert not (tmp_path / "storage").exists()  # a reader creates nothing
    with pytest.raises(sealrun.FileNotFound):
        sealrun.validate("oci-archive:absent.tar:v1")
    with pytest.raises(sealrun.InvalidInput):
        sealrun.validate("oci:")
    assert list(tmp_path.iterdir()) == []


def test_a_tag_naming_one_run_is_flagged_as_the_cli_does(scratch, cli):
    sealrun.copy("gd-v1", "oci:layout:v1")
    root = json.loads(pathlib.Path("layout/index.json").read_text())["manifests"][0]["digest"]
    index = json.loads(pathlib.Path("layout/blobs/sha256", root.split(":")[1]).read_bytes())
    run = index["manifests"][0]["digest"]
    sealrun.copy(f"oci:layout:{run}", "oci:lone:r0")  # what a plain skopeo copy (without --all) keeps

    report = sealrun.validate("oci:lone:r0")
    assert report.valid and report.kind == "run"
    [note] = report.warnings
    assert note.name == "experiment" and note.subject == "r0"
    assert note.message.startswith('a single sealed run (run 0) of experiment "gd-sweep", not the experiment')
    same_as_cli(report, cli, "oci:lone:r0", cwd=scratch)

    strict = sealrun.validate("oci:lone:r0", strict=True)
    assert [c.message for c in strict.failures] == ["strict: " + note.message]
    same_as_cli(strict, cli, "oci:lone:r0", "--strict", cwd=scratch)

    picked = sealrun.validate(f"oci:lone:{run}")  # named by digest: picked on purpose
    assert picked.valid and picked.warnings == []
