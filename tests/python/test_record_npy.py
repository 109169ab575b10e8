"""numpy arrays saved from Python: every dtype the npy codec supports, both
byte orders, C and Fortran order, read back by load_file, by numpy itself
from the record directory, and from the sealed experiment through the CLI."""

from __future__ import annotations

import io

import numpy as np
import pytest

import sealrun

# Every dtype of the npy codec (codecs/npy.h DType), in each byte order it has.
DTYPES = ["|b1", "|i1", "|u1"] + [f"{o}{k}{n}" for o in "<>" for k, n in
                                  [("i", 2), ("i", 4), ("i", 8), ("u", 2), ("u", 4), ("u", 8), ("f", 2), ("f", 4),
                                   ("f", 8), ("c", 8), ("c", 16), ("U", 3)]] + ["|S4", "|V3"]


def sample(dtype: np.dtype, shape=(3, 4)) -> np.ndarray:
    n = int(np.prod(shape))
    kind = dtype.kind
    if kind == "b":
        flat = np.arange(n) % 3 == 0
    elif kind in "iu":
        info = np.iinfo(dtype)
        flat = np.arange(n).astype(dtype.newbyteorder("="))
        flat[0], flat[-1] = info.min, info.max
    elif kind in "fc":
        flat = np.arange(n, dtype=np.float64) * 1.5 - 4
        if kind == "c":
            flat = flat + 1j * flat[::-1]
    elif kind == "U":
        flat = np.array([f"é{i}"[: dtype.itemsize // 4] for i in range(n)])
    elif kind == "S":
        flat = np.array([f"b{i}".encode() for i in range(n)])
    else:
        flat = np.frombuffer(bytes(range(n * dtype.itemsize)), dtype=dtype)
    return np.asarray(flat, dtype=dtype).reshape(shape)


def header_of(path) -> dict:
    with open(path, "rb") as f:
        version = np.lib.format.read_magic(f)
        shape, fortran, dtype = np.lib.format._read_array_header(f, version)
    return {"shape": shape, "fortran_order": fortran, "dtype": dtype}


@pytest.fixture
def run(tmp_path):
    exp = sealrun.Experiment("npy", store=tmp_path / "storage")
    r = exp.run()
    yield r
    if not r.closed:
        r.finish()


@pytest.mark.parametrize("descr", DTYPES)
@pytest.mark.parametrize("order", ["C", "F"])
def test_every_dtype_round_trips_with_dtype_and_order(run, descr, order):
    dtype = np.dtype(descr)
    a = np.asarray(sample(dtype), order=order)
    run.save_file("a.npy", a)
    on_disk = np.load(run.local_directory("a.npy"))
    assert on_disk.dtype == dtype
    assert on_disk.shape == a.shape
    np.testing.assert_array_equal(on_disk, a)
    assert header_of(run.local_directory("a.npy"))["fortran_order"] is (order == "F")
    back = run.load_file("a.npy")
    assert isinstance(back, np.ndarray)
    assert back.dtype == dtype and back.shape == a.shape
    np.testing.assert_array_equal(back, a)
    assert back.flags.f_contiguous if order == "F" else back.flags.c_contiguous


def test_zero_dimensional_empty_and_strided_arrays(run):
    cases = {
        "scalar.npy": np.array(2.5),
        "empty.npy": np.zeros((0, 3), dtype=np.int16),
        "strided.npy": np.arange(40, dtype=np.float32).reshape(5, 8)[::2, 1::3],
        "transposed.npy": np.arange(12, dtype=">i4").reshape(3, 4).T,
        "numpy-scalar.npy": np.float32(1.25),
    }
    for name, a in cases.items():
        run.save_file(name, a)
        on_disk = np.load(run.local_directory(name))
        expected = np.asarray(a)
        assert on_disk.dtype == expected.dtype and on_disk.shape == expected.shape, name
        np.testing.assert_array_equal(on_disk, expected)
        np.testing.assert_array_equal(run.load_file(name), expected)
    # numpy.save's rule: F- but not C-contiguous is written in Fortran order
    assert header_of(run.local_directory("transposed.npy"))["fortran_order"] is True
    assert header_of(run.local_directory("strided.npy"))["fortran_order"] is False


@pytest.mark.parametrize("bad", [np.array([{"a": 1}, None], dtype=object),
                                 np.zeros(3, dtype=[("x", "<i4"), ("y", "<f8")]),
                                 np.array(["2024-01-01"], dtype="datetime64[D]")])
def test_dtypes_the_codec_does_not_take_are_invalid_input(run, bad):
    with pytest.raises(sealrun.InvalidInput):
        run.save_file("bad.npy", bad)
    assert run.load_file("bad.npy") is None


def test_arrays_sealed_from_python_read_back_from_the_store(tmp_path, cli):
    store = tmp_path / "storage"
    arrays = {f"{i}.npy": np.asarray(sample(np.dtype(d)), order="F" if i % 2 else "C") for i, d in enumerate(DTYPES)}
    with sealrun.Experiment("arrays", store=store) as exp:
        with exp.run() as r:
            for name, a in arrays.items():
                r.save_file(name, a)
    for name, a in arrays.items():
        out = tmp_path / "out.npy"
        cli("get", "arrays", "--run", "0", name, "-o", str(out), "--overwrite", store=store)
        got = np.load(io.BytesIO(out.read_bytes()))
        assert got.dtype == a.dtype, name
        np.testing.assert_array_equal(got, a)
        assert header_of(out)["fortran_order"] is bool(a.flags.f_contiguous and not a.flags.c_contiguous)
