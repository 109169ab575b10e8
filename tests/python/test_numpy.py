"""numpy arrays read back from sealed .npy attachments.

Every dtype the npy codec decodes, both byte orders, C and Fortran order, 0-d
and empty arrays: saved by numpy.save, sealed by the CLI, read with
sealrun.open(...).run(0).get_attachment(...) and compared with real numpy
(values, dtype with its byte order, shape, memory order). Plus the memory a big
array costs: one copy of the elements, not two.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys

import numpy as np
import pytest

import sealrun

RNG = np.random.default_rng(7)


def _values(dtype: np.dtype, shape: tuple[int, ...]) -> np.ndarray:
    n = int(np.prod(shape))
    kind = dtype.kind
    if kind == "b":
        flat = RNG.integers(0, 2, n).astype(bool)
    elif kind in "iu":
        info = np.iinfo(dtype)
        flat = RNG.integers(info.min, info.max, n, dtype=dtype.newbyteorder("="), endpoint=True)
    elif kind == "f":
        flat = RNG.standard_normal(n) * 1e3
        if n:
            flat[0] = -0.0
    elif kind == "c":
        flat = RNG.standard_normal(n) + 1j * RNG.standard_normal(n)
    elif kind == "U":
        flat = np.array([f"é{i}ü\U0001f600"[: dtype.itemsize // 4] for i in range(n)], dtype=dtype)
    elif kind == "S":
        flat = np.array([f"b{i}".encode()[: dtype.itemsize] for i in range(n)], dtype=dtype)
    elif kind == "V":
        flat = np.frombuffer(RNG.bytes(n * dtype.itemsize), dtype=dtype)
    else:
        raise AssertionError(dtype)
    return np.asarray(flat).astype(dtype).reshape(shape)


FIXED = ["b1", "i1", "u1", "i2", "i4", "i8", "u2", "u4", "u8", "f2", "f4", "f8", "c8", "c16", "U5", "S3", "V4"]
CASES = []
for code in FIXED:
    orders = ["<", ">"] if np.dtype(code).itemsize > 1 and code[0] not in "SV" else ["|"]
    for bo in orders:
        dt = np.dtype(code if bo == "|" else bo + code)
        CASES.append((f"{dt.str}-C-2d", dt, (3, 4), "C"))
        CASES.append((f"{dt.str}-F-2d", dt, (3, 4), "F"))
        CASES.append((f"{dt.str}-0d", dt, (), "C"))
CASES += [
    ("<f8-F-3d", np.dtype("<f8"), (2, 3, 4), "F"),
    (">i4-C-3d", np.dtype(">i4"), (2, 3, 4), "C"),
    ("<f8-1d", np.dtype("<f8"), (7,), "C"),
    ("<f8-empty", np.dtype("<f8"), (0, 3), "C"),
    ("<U2-empty-F", np.dtype("<U2"), (2, 0), "F"),
]


@pytest.fixture(scope="module")
def arrays(tmp_path_factory, cli):
    """{case id: the array numpy.save wrote}, and the experiment the CLI sealed them in."""
    root = tmp_path_factory.mktemp("npy")
    run = root / "run"
    run.mkdir()
    want = {}
    for cid, dt, shape, order in CASES:
        a = _values(dt, shape)
        a = np.asfortranarray(a) if order == "F" else np.ascontiguousarray(a)
        np.save(run / f"{cid}.npy", a)
        want[cid] = a
    # A structured dtype: sealed (the codec checks it) but not decoded.
    structured = np.zeros(3, dtype=[("x", "<i4"), ("y", "<f8")])
    structured["x"] = [1, 2, 3]
    np.save(run / "structured.npy", structured)
    want["structured"] = structured
    cli("seal", str(run), "--experiment", "arrays", "--tag", "npy", store=root / "storage")
    return want, sealrun.open("npy", store=root / "storage").run(0)


@pytest.mark.parametrize("cid", [c[0] for c in CASES])
def test_every_dtype_order_and_shape_round_trips(arrays, cid):
    want_all, run = arrays
    want = want_all[cid]
    got = run.get_attachment(f"{cid}.npy")
    assert isinstance(got, np.ndarray)
    assert got.dtype == want.dtype and got.dtype.str == want.dtype.str  # byte order included
    assert got.shape == want.shape
    assert got.tobytes(order="A") == want.tobytes(order="A")
    if want.dtype.kind != "V":
        np.testing.assert_array_equal(got, want)
    else:
        assert [bytes(x) for x in got.ravel()] == [bytes(x) for x in want.ravel()]
    if got.ndim >= 2 and got.size > 1:
        assert got.flags.f_contiguous == want.flags.f_contiguous
        assert got.flags.c_contiguous == want.flags.c_contiguous
    # A view over the decoded elements, not a copy numpy made of them; writable as numpy.load's.
    assert not got.flags.owndata and got.base is not None
    assert got.flags.writeable and got.flags.aligned


def test_array_outlives_the_views_it_came_from(tmp_path, cli):
    run_dir = tmp_path / "r"
    run_dir.mkdir()
    want = np.arange(1000, dtype="<i8").reshape(10, 100)
    np.save(run_dir / "a.npy", want)
    cli("seal", str(run_dir), "--experiment", "x", "--tag", "t", store=tmp_path / "s")
    got = sealrun.open("t", store=tmp_path / "s").run(0).get_attachment("a.npy")
    import gc

    gc.collect()  # experiment, run and location are gone; the array's base keeps the elements
    np.testing.assert_array_equal(got, want)
    got[0, 0] = 42  # the memory is the array's own
    assert got[0, 0] == 42


def test_structured_dtype_is_unsupported_but_get_blob_reads_it(arrays):
    want_all, run = arrays
    with pytest.raises(sealrun.Unsupported) as e:
        run.get_attachment("structured.npy")
    assert isinstance(e.value, NotImplementedError)
    assert "structured dtype" in str(e.value)  # the C++ codec's message
    got = np.load(io.BytesIO(run.get_blob("structured.npy")))
    np.testing.assert_array_equal(got, want_all["structured"])


def test_npy_from_the_cpp_library(gd_sweep):
    store, tag = gd_sweep
    exp = sealrun.open(tag, store=store)
    for run in exp.runs:
        if run.status != "finished":
            continue
        a = run.get_attachment("trajectory.npy")
        assert a.dtype == np.dtype("float64") and a.ndim == 2 and a.shape[1] == 2
        steps = run.parameters["steps"]
        assert a.shape[0] == steps
        # The last point is where result.json says the descent ended.
        result = run.get_json("result.json")
        assert a[-1, 0] == result["x"] and a[-1, 1] == result["y"]


_PEAK = r"""
import json, resource, sys, time
import numpy as np
import sealrun
run = sealrun.open(sys.argv[1], store=sys.argv[2]).run(0)
run.attachment_names  # the run is open before the measurement starts
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
t = time.perf_counter()
a = run.get_attachment("big.npy")
took = time.perf_counter() - t
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
ok = bool(a.dtype == np.dtype("<f8") and a.shape == (4096, 8192) and a[0, 0] == 0 and a[-1, -1] == a.size - 1)
del a
t = time.perf_counter()
b = np.load(sys.argv[3])
load = time.perf_counter() - t
print(json.dumps({"growth": after - before, "ok": ok, "seconds": took, "numpy_load_seconds": load}))
"""


def test_big_array_costs_one_copy_of_its_elements(tmp_path, cli):
    """256 MiB of float64: reading it grows the peak by about one array, not two."""
    run_dir = tmp_path / "r"
    run_dir.mkdir()
    a = np.arange(4096 * 8192, dtype="<f8").reshape(4096, 8192)
    np.save(run_dir / "big.npy", a)
    size = a.nbytes
    del a
    cli("seal", str(run_dir), "--experiment", "big", "--tag", "big", store=tmp_path / "s")
    p = subprocess.run([sys.executable, "-c", _PEAK, "big", str(tmp_path / "s"), str(run_dir / "big.npy")],
                       capture_output=True, text=True, timeout=600, check=True)
    m = json.loads(p.stdout)
    print(f"\nget_attachment of a {size >> 20} MiB .npy: peak grew {m['growth'] / size:.2f}x the array, "
          f"{m['seconds']:.3f} s (numpy.load of the file: {m['numpy_load_seconds']:.3f} s)")
    assert m["ok"]
    # Two copies (the blob and a decoded copy of it) would be 2x.
    assert m["growth"] < 1.25 * size, m
