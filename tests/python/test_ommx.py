"""OMMX payloads from Python: the typed getters, the log_* methods, samplings and OMMX artifacts.

The real fixture is an artifact OMMX itself wrote (../shared/fixtures/ommx/,
see its README); every expected value is read from it independently of
sealrun: the layer's bytes with tarfile from the .ommx file, the message's
fields with ``protoc --decode`` and the project's own schema (proto/ommx).
"""

from __future__ import annotations

import hashlib
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tarfile
import textwrap

import pytest

import sealrun

SOURCE = pathlib.Path(__file__).resolve().parents[2]
FIXTURE = SOURCE.parent / "shared" / "fixtures" / "ommx" / "random_lp_instance.ommx"
PROTO = SOURCE / "proto"


@pytest.fixture(autouse=True)
def _no_ommx_package(monkeypatch):
    """The main path returns sealrun's own objects: whether or not the ommx
    package is installed here, these tests see it as not importable (the
    ommx path is tested in a subprocess with a stand-in package)."""
    monkeypatch.setitem(sys.modules, "ommx", None)
    monkeypatch.setitem(sys.modules, "ommx.v1", None)


@pytest.fixture
def lp(tmp_path) -> pathlib.Path:
    """A copy of the real OMMX artifact (the fixture is never touched in place)."""
    dest = tmp_path / "random_lp_instance.ommx"
    shutil.copyfile(FIXTURE, dest)
    return dest


def archive_layer(path: pathlib.Path) -> tuple[dict, bytes]:
    """(the layer descriptor, its bytes) of the .ommx file's one layer, read with tarfile."""
    with tarfile.open(path) as tar:
        def blob(digest: str) -> bytes:
            algorithm, hex_ = digest.split(":")
            return tar.extractfile(f"blobs/{algorithm}/{hex_}").read()

        index = json.loads(tar.extractfile("index.json").read())
        (entry,) = index["manifests"]
        manifest = json.loads(blob(entry["digest"]))
        (layer,) = manifest["layers"]
        data = blob(layer["digest"])
    assert "sha256:" + hashlib.sha256(data).hexdigest() == layer["digest"]
    return layer, data


def protoc_decode(message: str, data: bytes) -> str:
    """protoc --decode=MESSAGE with the project's schema: the text format of `data`."""
    files = [str(p.relative_to(PROTO)) for p in sorted((PROTO / "ommx").rglob("*.proto"))]
    p = subprocess.run(["protoc", f"-I{PROTO}", f"--decode={message}", *files], input=data, capture_output=True,
                       timeout=60, cwd=PROTO)
    assert p.returncode == 0, p.stderr.decode()
    return p.stdout.decode()


def top_level_blocks(text: str, field: str) -> list[str]:
    """The bodies of the top-level `field { … }` blocks of protoc's text format."""
    blocks, current = [], None
    for line in text.splitlines():
        if current is None:
            if line == f"{field} {{":
                current = []
        elif line == "}":
            blocks.append("\n".join(current))
            current = None
        else:
            current.append(line)
    return blocks


def scalar(block: str, field: str, indent: str = "  ") -> str | None:
    m = re.search(rf"^{indent}{field}: (\S+)$", block, re.M)
    return m.group(1) if m else None


def test_the_real_artifact_opens_and_its_instance_is_what_protoc_reads(lp):
    layer, data = archive_layer(lp)
    text = protoc_decode("ommx.v1.Instance", data)
    art = sealrun.OmmxArtifact.open(f"oci-archive:{lp}")
    assert len(art) == art.layer_count == 1
    assert art.attachment_names == ["0"]
    assert art.attachment_media_type("0") == layer["mediaType"] == "application/org.ommx.v1.instance"
    assert art.layer_index(layer["digest"]) == 0
    assert art.layer_annotations("0") == layer["annotations"]

    instance = art.get_instance("0")
    assert isinstance(instance, sealrun.Instance)
    assert instance.version == 1 and instance.type_name == "ommx.v1.Instance"
    # Byte for byte: the re-encoded message is the layer OMMX wrote.
    assert instance.to_bytes() == data == art.get_blob("0")
    assert art.get_instance(layer["digest"]) == instance

    # sense, decision variables, constraints against protoc's reading.
    sense = re.search(r"^sense: (\w+)$", text, re.M)
    expected_sense = sense.group(1) if sense else "SENSE_UNSPECIFIED"
    assert "SENSE_" + re.sub(r"(?<!^)([A-Z])", r"_\1", instance.sense.name).upper() == expected_sense
    variables = top_level_blocks(text, "decision_variables")
    assert [v.id for v in instance.decision_variables] == [int(scalar(b, "id") or 0) for b in variables]
    for v, block in zip(instance.decision_variables, variables):
        kind = scalar(block, "kind") or "KIND_UNSPECIFIED"
        assert "KIND_" + re.sub(r"(?<!^)([A-Z])", r"_\1", v.kind.name).upper() == kind
        if v.bound is not None:
            assert v.bound.lower == float(scalar(block, "lower", "    ") or 0)
            assert v.bound.upper == float(scalar(block, "upper", "    ") or 0)
    constraints = top_level_blocks(text, "constraints")
    assert sorted(instance.constraints) == sorted(int(scalar(b, "id") or 0) for b in constraints)
    assert len(instance.constraints) == len(constraints) > 0
    for block in constraints:
        c = instance.constraints[int(scalar(block, "id") or 0)]
        equality = scalar(block, "equality") or "EQUALITY_UNSPECIFIED"
        assert "EQUALITY_" + re.sub(r"(?<!^)([A-Z])", r"_\1", c.equality.name).upper() == equality
    # A coefficient: every linear term of the objective, as protoc prints it.
    (objective,) = top_level_blocks(text, "objective")
    terms = re.findall(r"terms \{\s+(?:id: (\d+)\s+)?coefficient: (\S+)\s+\}", objective)
    assert terms, objective
    assert instance.objective.linear_terms == {int(i or 0): float(c) for i, c in terms}

    # The JSON rendering is protobuf's JSON mapping and reads back to the same bytes.
    rendered = instance.to_dict()
    assert len(rendered["decisionVariables"]) == len(variables)
    assert sealrun.Instance.from_dict(json.loads(instance.to_json())).to_bytes() == data
    assert sealrun.Instance.from_bytes(bytearray(data)) == instance


def test_an_imported_artifact_opens_from_the_store_and_a_sealrun_view_refuses_it(lp, tmp_path, cli):
    store = tmp_path / "storage"
    out = cli("import", str(lp), "--tag", "lp", store=store)
    assert out.returncode == 0
    art = sealrun.OmmxArtifact.open("lp", store=store)
    _, data = archive_layer(lp)
    assert art.get_instance("0").to_bytes() == data
    assert art.digest == sealrun.OmmxArtifact.open(f"oci-archive:{lp}").digest
    # The JSON rendering is the CLI's: `sealrun get TAG 0 --decode json`.
    printed = cli("get", "lp", "0", "--decode", "json", store=store).stdout
    assert json.loads(printed) == art.get_instance("0").to_dict()
    with pytest.raises(sealrun.InvalidInput):
        sealrun.open("lp", store=store)  # a generic OMMX artifact is no experiment
    with pytest.raises(sealrun.NotFound):
        art.get_instance("1")
    with pytest.raises(sealrun.InvalidInput):
        art.get_solution("0")  # an Instance layer is no Solution


def lp_instance(lp: pathlib.Path) -> sealrun.Instance:
    return sealrun.OmmxArtifact.open(f"oci-archive:{lp}").get_instance("0")


def solution_for(instance: sealrun.Instance) -> sealrun.Solution:
    """A solution at the all-zero state: its objective is the objective's constant term."""
    state = {v.id: 0.0 for v in instance.decision_variables}
    return sealrun.Solution.from_components(objective=instance.objective.constant_term, state=state, feasible=False,
                                            optimality=sealrun.Optimality.NotOptimal, sense=instance.sense)


def samples_for(instance: sealrun.Instance) -> sealrun.SampleSet:
    ids = [v.id for v in instance.decision_variables]
    samples = [sealrun.Sample(id=k, objective=float(3 - k) * 1.5, feasible=k % 2 == 1,
                              state=sealrun.State({i: float((i + k) % 2) for i in ids})) for k in range(4)]
    return sealrun.SampleSet.from_components(samples=samples, sense=sealrun.Sense.Minimize)


def test_a_recorded_run_reads_back_equal(lp, tmp_path):
    instance = lp_instance(lp)
    solution = solution_for(instance)
    sample_set = samples_for(instance)
    store = tmp_path / "storage"
    with sealrun.Experiment("ommx-run", store=store) as exp:
        exp.log_instance("shared/lp", instance)
        with exp.run() as run:
            run.log_instance("lp", instance)
            run.log_solution("sol-bytes", solution.to_bytes())
            run.log_sample_set("samples", sample_set)
            solve_id = run.log_solve(instance, solution, adapter="zero", adapter_options={"tries": 1})
            sampling_id = run.log_sample(instance, sample_set, adapter="flip", diagnostics={"sweeps": 2},
                                         input_name="in/lp", output_name="out/samples")
    assert (solve_id, sampling_id) == (0, 0)

    exp = sealrun.open("ommx-run", store=store)
    assert exp.get_instance("shared/lp") == instance
    (sealed,) = exp.runs
    assert sealed.get_instance("lp") == instance
    assert sealed.get_instance("lp").to_bytes() == instance.to_bytes() == archive_layer(lp)[1]
    assert sealed.attachment_media_type("lp") == "application/org.ommx.v1.instance"
    assert sealed.get_solution("sol-bytes") == solution
    assert sealed.attachment_media_type("sol-bytes") == "application/org.ommx.v1.solution"
    assert sealed.get_sample_set("samples") == sample_set

    (solve,) = sealed.solves
    assert (solve.solve_id, solve.status, solve.adapter, solve.adapter_options) == (0, "finished", "zero", {"tries": 1})
    assert sealed.get_instance(solve.input) == instance
    got = sealed.get_solution(solve.output)
    assert got == solution
    assert got.objective == instance.objective.constant_term
    assert got.state == {v.id: 0.0 for v in instance.decision_variables}
    assert (got.feasible, got.optimality, got.sense) == (False, sealrun.Optimality.NotOptimal, instance.sense)

    (sampling,) = sealed.samplings
    assert isinstance(sampling, sealrun.Sampling)
    assert (sampling.sampling_id, sampling.status, sampling.input, sampling.output) == (0, "finished", "in/lp",
                                                                                         "out/samples")
    assert (sampling.adapter, sampling.diagnostics) == ("flip", {"sweeps": 2})
    assert sealed.get_instance(sampling.input) == instance
    got = sealed.get_sample_set(sampling.output)
    assert got == sample_set
    expected = {k: float(3 - k) * 1.5 for k in range(4)}
    assert got.objectives == expected
    assert got.sample_ids() == set(expected) and got.sample_ids_list == sorted(expected)
    assert got.feasible == {k: k % 2 == 1 for k in range(4)}
    best = min((k for k in expected if k % 2 == 1), key=lambda k: (expected[k], k))
    assert got.best_feasible.id == got.best_feasible_id == best
    assert got.get(2).objective == expected[2] and got.get(2).state == sample_set.get(2).state
    with pytest.raises(sealrun.NotFound):
        got.get(99)


def test_wrong_types_are_invalid_input_and_log_nothing(lp, tmp_path):
    instance = lp_instance(lp)
    solution = solution_for(instance)
    store = tmp_path / "storage"
    exp = sealrun.Experiment("wrong", store=store)
    with exp.run() as run:
        run.save_file("notes.json", {"a": 1})
        for bad in (solution, 42, "lp", {"sense": 1}):
            with pytest.raises(sealrun.InvalidInput) as e:
                run.log_instance("lp", bad)
            assert "Instance" in str(e.value)
        with pytest.raises(sealrun.InvalidInput):
            run.log_instance("lp", b"\x0a\xff")  # a length past the end
        with pytest.raises(sealrun.InvalidInput):
            run.log_solve(instance, instance)  # the output of a solve is a Solution
        with pytest.raises(sealrun.InvalidInput):
            run.log_sample(instance, solution)  # the output of a sampling is a SampleSet
        run.log_instance("lp", instance)
    exp.commit("wrong")
    sealed = sealrun.open("wrong", store=store).run(0)
    assert sealed.attachment_names == ["lp", "notes.json"]
    assert sealed.solves == [] and sealed.samplings == []
    with pytest.raises(sealrun.InvalidInput):
        sealed.get_solution("lp")
    with pytest.raises(sealrun.InvalidInput):
        sealed.get_instance("notes.json")
    with pytest.raises(sealrun.NotFound):
        sealed.get_instance("missing")
    with pytest.raises(sealrun.InvalidInput):
        sealrun.Instance.from_bytes(b"\x0a\xff")


STAND_IN = {
    # The real ommx package is not installable here (no PyPI), so the test
    # writes the least of it sealrun relies on: ommx.v1.<Type>.from_bytes and
    # to_bytes. It must never be on sys.path outside the subprocess below.
    "ommx/__init__.py": "",
    "ommx/v1/__init__.py": textwrap.dedent('''
        class _Message:
            def __init__(self, data):
                self.data = data
            @classmethod
            def from_bytes(cls, data):
                return cls(bytes(data))
            def to_bytes(self):
                return self.data
        class Instance(_Message): pass
        class ParametricInstance(_Message): pass
        class Solution(_Message): pass
        class SampleSet(_Message): pass
        '''),
}

CHILD = textwrap.dedent('''
    import json, sys
    sys.path.insert(0, sys.argv[1])
    import sealrun, ommx.v1
    art = sealrun.OmmxArtifact.open("oci-archive:" + sys.argv[2])
    inst = art.get_instance("0")
    with sealrun.Experiment("standin", store=sys.argv[3]) as exp:
        with exp.run() as run:
            run.log_instance("from-ommx", inst)       # an ommx.v1 object: its to_bytes()
            run.log_solve(inst, ommx.v1.Solution.from_bytes(sys.stdin.buffer.read()), adapter="x")
    sealed = sealrun.open("standin", store=sys.argv[3]).run(0)
    back = sealed.get_instance("from-ommx")
    sol = sealed.get_solution(sealed.solves[0].output)
    print(json.dumps({"type": type(inst).__module__ + "." + type(inst).__qualname__,
                      "bytes": inst.to_bytes().hex(), "back": type(back).__module__,
                      "back_bytes": back.to_bytes().hex(), "solution": type(sol).__module__,
                      "solution_bytes": sol.to_bytes().hex()}))
    ''')


def test_with_ommx_importable_the_getters_return_its_objects(lp, tmp_path):
    for name, text in STAND_IN.items():
        (tmp_path / "pkg" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "pkg" / name).write_text(text)
    _, data = archive_layer(lp)
    solution = solution_for(sealrun.Instance.from_bytes(data))
    env = dict(os.environ)
    p = subprocess.run([sys.executable, "-c", CHILD, str(tmp_path / "pkg"), str(lp), str(tmp_path / "storage")],
                       input=solution.to_bytes(), capture_output=True, env=env, timeout=120)
    assert p.returncode == 0, p.stderr.decode()
    out = json.loads(p.stdout)
    assert out["type"] == "ommx.v1.Instance"
    assert bytes.fromhex(out["bytes"]) == data
    assert out["back"] == "ommx.v1" and bytes.fromhex(out["back_bytes"]) == data
    assert out["solution"] == "ommx.v1" and bytes.fromhex(out["solution_bytes"]) == solution.to_bytes()
    # Without the package (this process), the same store reads back as sealrun's own objects.
    sealed = sealrun.open("standin", store=tmp_path / "storage").run(0)
    assert sealed.get_instance("from-ommx").to_bytes() == data
    assert isinstance(sealed.get_solution(sealed.solves[0].output), sealrun.Solution)


def test_payload_objects_keep_ommx_names_and_round_trip(lp):
    instance = lp_instance(lp)
    assert instance.sense in (sealrun.Instance.MINIMIZE, sealrun.Instance.MAXIMIZE)
    built = sealrun.Instance.from_components(sense=instance.sense, decision_variables=instance.decision_variables,
                                             objective=instance.objective,
                                             constraints=list(instance.constraints.values()),
                                             description=instance.description)
    assert built.decision_variables == instance.decision_variables
    assert built.constraints == instance.constraints
    assert built.objective == instance.objective
    assert sealrun.Instance.from_bytes(built.to_bytes()) == built
    import pickle

    assert pickle.loads(pickle.dumps(instance)) == instance
    with pytest.raises(sealrun.InvalidInput):
        sealrun.Instance.from_bytes(instance.to_bytes(), version=3)


def _msgpack_str(s: str) -> bytes:
    data = s.encode()
    assert len(data) < 32
    return bytes([0xA0 | len(data)]) + data


def write_ommx_experiment(layout: pathlib.Path, instance: sealrun.Instance, solution: sealrun.Solution,
                          sample_set: sealrun.SampleSet, alpha: float) -> None:
    """Lays out an OMMX 3 experiment as OMMX's commit does (one image manifest,
    every payload a layer, the config naming them by index, a MessagePack
    run-parameter table) in the OCI layout `layout`, tagged "exp"."""
    import struct

    blobs = layout / "blobs" / "sha256"
    blobs.mkdir(parents=True)

    def blob(media_type: str, data: bytes) -> dict:
        digest = hashlib.sha256(data).hexdigest()
        (blobs / digest).write_bytes(data)
        return {"mediaType": media_type, "digest": "sha256:" + digest, "size": len(data)}

    # {"columns": {"alpha": {"type": "float64", "values": {0: alpha}}}}
    table = (b"\x81" + _msgpack_str("columns") + b"\x81" + _msgpack_str("alpha") + b"\x82" + _msgpack_str("type") +
             _msgpack_str("float64") + _msgpack_str("values") + b"\x81\x00\xcb" + struct.pack(">d", alpha))
    layers = [blob("application/org.ommx.v1.instance", instance.to_bytes()),
              blob("application/org.ommx.v1.solution", solution.to_bytes()),
              blob("application/org.ommx.v1.sample-set", sample_set.to_bytes()),
              blob("application/org.ommx.v1.experiment.run-parameters+msgpack", table)]
    config = {"status": "finished", "attachments": {"entries": {}},
              "runs": [{"run_id": 0, "status": "finished", "attachments": {"entries": {"problem": 0}},
                        "solves": [{"solve_id": 0, "status": "finished", "input": 0, "output": 1, "adapter": "zero"}],
                        "samplings": [{"sampling_id": 0, "status": "finished", "input": 0, "output": 2,
                                       "adapter": "flip"}]}],
              "run_parameters": 3}
    manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "artifactType": "application/org.ommx.v1.experiment",
                "config": blob("application/org.ommx.v1.experiment.config+json", json.dumps(config).encode()),
                "layers": layers}
    root = blob("application/vnd.oci.image.manifest.v1+json", json.dumps(manifest).encode())
    root["annotations"] = {"org.opencontainers.image.ref.name": "exp"}
    (layout / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
    (layout / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": [root]}))


def test_an_ommx_experiment_opens_as_a_sealed_experiment(lp, tmp_path):
    instance = lp_instance(lp)
    solution = solution_for(instance)
    sample_set = samples_for(instance)
    write_ommx_experiment(tmp_path / "layout", instance, solution, sample_set, alpha=0.25)
    exp = sealrun.open(f"oci:{tmp_path / 'layout'}:exp")
    assert exp.run_ids == [0]
    run = exp.run(0)
    assert run.parameters == {"alpha": 0.25}
    assert run.get_instance("problem") == instance
    (solve,) = run.solves
    assert solve.adapter == "zero"
    assert run.get_instance(solve.input) == instance
    assert run.get_solution(solve.output) == solution
    (sampling,) = run.samplings
    assert sampling.adapter == "flip"
    assert run.get_sample_set(sampling.output) == sample_set
    with pytest.raises(sealrun.InvalidInput):
        sealrun.OmmxArtifact.open(f"oci:{tmp_path / 'layout'}:exp")  # an experiment is no generic artifact


def test_an_ommx_experiment_converts_with_nothing_lost(lp, tmp_path):
    instance = lp_instance(lp)
    solution = solution_for(instance)
    sample_set = samples_for(instance)
    write_ommx_experiment(tmp_path / "layout", instance, solution, sample_set, alpha=0.25)
    source = f"oci:{tmp_path / 'layout'}:exp"
    store = tmp_path / "storage"
    done = sealrun.convert(source, "converted", store=store)
    assert done.tag == "converted" and done.runs == 1
    converted = sealrun.open("converted", store=store)
    assert done.digest == converted.digest
    assert set(done.kept) <= set(converted.attachment_names)
    original, run = sealrun.open(source).run(0), converted.run(0)
    assert run.parameters == original.parameters
    assert run.get_instance("problem") == instance
    assert [(s.solve_id, s.adapter) for s in run.solves] == [(s.solve_id, s.adapter) for s in original.solves]
    assert run.get_solution(run.solves[0].output) == solution
    assert [(s.sampling_id, s.adapter) for s in run.samplings] == [(s.sampling_id, s.adapter)
                                                                    for s in original.samplings]
    assert run.get_sample_set(run.samplings[0].output) == sample_set
    with pytest.raises(sealrun.InvalidInput):
        sealrun.convert("converted", "again", store=store)  # a sealrun experiment needs no conversion
