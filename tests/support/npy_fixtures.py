#!/usr/bin/python3
"""Real-NumPy side of tests/codecs/npy_test.cpp.

Run it with the interpreter that has NumPy (Debian's python3-numpy lives in
/usr/bin/python3; a pyenv python3 on PATH usually has none).

  npy_fixtures.py write DIR
      NumPy writes .npy files into DIR, one per dtype x byte order x layout x
      format version, plus files sealrun must refuse, and DIR/manifest.json
      describing them.  Everything in the manifest (dtype name, byte order,
      shape, fortran flag, format version, element values in storage order)
      is read back from the written files with NumPy itself.

  npy_fixtures.py check EXPECTED.json
      EXPECTED.json (written by the C++ test) lists .npy files sealrun wrote
      and what each must hold.  NumPy reads every one; the exit status is 0
      only when every array is identical in format version, dtype (byte order
      included), shape, fortran flag and every element bit for bit, the file
      holds nothing past the data, and every entry marked "must_differ" is
      rejected for the stated reason (proof the comparison can fail).

JSON value encoding, both directions: bool -> true/false, integers -> exact
JSON integers, floats -> JSON numbers (shortest round-trip form, -0.0 kept)
or the strings "nan", "inf", "-inf"; complex -> [re, im]; str ('U') ->
the string as NumPy reads it (trailing NULs dropped); bytes ('S') and void
('V') -> the element's bytes in hex (for 'S' without trailing NULs, as
NumPy reads it; for 'V' all of them).

The string dtypes are listed apart, under "strings" in the manifest, with
"kind" ('U', 'S' or 'V'), "descr" (NumPy's dtype.str) and "length" (code
points or bytes per element) instead of "dtype".
"""

import io
import json
import math
import os
import sys

import numpy as np
from numpy.lib import format as npformat

DTYPES = [
    "bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
    "float16", "float32", "float64", "complex64", "complex128",
]
VERSIONS = [(1, 0), (2, 0), (3, 0)]


# ---------------------------------------------------------------- JSON values

def float_to_json(x):
    x = float(x)
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return x


def float_from_json(v):
    if isinstance(v, bool):
        raise ValueError("bool where a float was expected")
    return float(v)  # float("nan"), float("inf"), float("-inf") included


def element_to_json(x, dtype):
    kind = dtype.kind
    if kind == "b":
        return bool(x)
    if kind in "iu":
        return int(x)
    if kind == "f":
        return float_to_json(x)
    if kind == "c":
        return [float_to_json(x.real), float_to_json(x.imag)]
    if kind == "U":
        return str(x)
    if kind == "S":
        return bytes(x).hex()
    if kind == "V":
        return x.tobytes().hex()
    raise ValueError("no JSON form for dtype %s" % dtype)


def element_from_json(v, dtype):
    kind = dtype.kind
    if kind == "b":
        if not isinstance(v, bool):
            raise ValueError("expected a JSON bool, got %r" % (v,))
        return v
    if kind in "iu":
        if isinstance(v, bool) or not isinstance(v, int):
            raise ValueError("expected a JSON integer, got %r" % (v,))
        return v
    if kind == "f":
        return float_from_json(v)
    if kind == "c":
        re, im = v
        return complex(float_from_json(re), float_from_json(im))
    if kind == "U":
        if not isinstance(v, str):
            raise ValueError("expected a JSON string, got %r" % (v,))
        return v
    if kind in "SV":
        return bytes.fromhex(v)
    raise ValueError("no JSON form for dtype %s" % dtype)


# ------------------------------------------------------------------- headers

def read_header(path):
    """Returns (version, shape, fortran_order, dtype, data_offset) as NumPy reads them."""
    with open(path, "rb") as f:
        version = npformat.read_magic(f)
        if version == (1, 0):
            shape, fortran, dtype = npformat.read_array_header_1_0(f)
        elif version == (2, 0):
            shape, fortran, dtype = npformat.read_array_header_2_0(f)
        else:
            # NumPy has no public reader for 3.0 headers; np.load uses this.
            shape, fortran, dtype = npformat._read_array_header(f, version)
        return version, shape, fortran, dtype, f.tell()


def byteorder_mark(dtype):
    """'<', '>' or '|' exactly as the .npy descr spells it."""
    return dtype.str[0]


# ---------------------------------------------------------------- write mode

def sample_values(name):
    """Twelve elements of dtype `name` that exercise its range and byte order."""
    dt = np.dtype(name)
    if dt.kind == "b":
        return np.array([True, False, False, True, True, False,
                         True, True, False, True, False, False], dtype=dt)
    if dt.kind in "iu":
        info = np.iinfo(dt)
        # distinct bytes, so a wrong byte order cannot go unnoticed
        pattern = int.from_bytes(bytes([0x12, 0x34, 0x56, 0x78, 0x9A, 0xBC, 0xDE, 0xF0][:dt.itemsize]), "big")
        if dt.kind == "i":
            vals = [info.min, info.max, 0, -1, 1, -2, pattern, -pattern, 100, -100, info.min + 1, info.max - 1]
        else:
            vals = [0, info.max, 1, 2, pattern, info.max - 1, 1 << (dt.itemsize * 8 - 1),
                    (1 << (dt.itemsize * 8 - 1)) - 1, 100, 200, 0x80, pattern >> 1]
        return np.array(vals, dtype=dt)
    if dt.kind == "f":
        return np.array(float_samples(dt), dtype=dt)
    if dt.kind == "c":
        part = np.dtype("float%d" % (dt.itemsize * 4))
        re = float_samples(part)
        im = list(reversed(re))
        return np.array([complex(r, i) for r, i in zip(re, im)], dtype=dt)
    raise ValueError(name)


def float_samples(dt):
    fi = np.finfo(dt)
    return [0.0, -0.0, 1.0, -2.5, 1.0 / 3.0, float(fi.max), -float(fi.max), float(fi.tiny),
            float(fi.smallest_subnormal), math.inf, -math.inf, math.nan]


def layouts(base):
    """(label, array) pairs: every layout the test wants NumPy to write."""
    yield "c34", base.reshape(3, 4)                                   # C order, 2-d
    yield "f34", np.asfortranarray(base.reshape(3, 4))                # Fortran order, 2-d
    yield "f232", np.asfortranarray(base.reshape(2, 3, 2))            # Fortran order, 3-d
    yield "d1", base.copy()                                           # 1-d
    yield "scalar", np.array(base[4], dtype=base.dtype)                # 0-d
    yield "empty", np.zeros((0, 3), dtype=base.dtype)                 # shape (0, 3)


def describe(path, name):
    version, shape, fortran, dtype, offset = read_header(path)
    arr = np.load(path, allow_pickle=False)
    assert arr.shape == shape and arr.dtype == dtype, path
    assert os.path.getsize(path) == offset + arr.nbytes, path
    storage = arr.ravel(order="F" if fortran else "C")  # the order of the bytes in the file
    return {
        "file": name,
        "version": version[0],
        "dtype": dtype.name,
        "byteorder": byteorder_mark(dtype),
        "shape": [int(d) for d in shape],
        "fortran": bool(fortran),
        "values": [element_to_json(x, dtype) for x in storage],
    }


def string_samples():
    """(kind, 12-element array) for 'U', 'S' and 'V': empty values, embedded
    NULs, non-ASCII and astral code points, bytes past 0x7f."""
    u = np.array(["", "a", "abc", "a\x00b", "\u00e9t\u00e9", "\U0001f600", "\uffff", "\U0010ffff",
                  "tab\tnl\n", "x" * 7, "\u4e2d\u6587", " lead"], dtype="U7")
    s = np.array([b"", b"a", b"abc", b"a\x00b", b"\xff\xfe", b"\x80", b"\x00\x00z", b"1234567",
                  b"tab\t", b" ", b"\x7f", b"end"], dtype="S7")
    v = np.array([bytes([i, 0, 255 - i, 0]) for i in range(12)], dtype="V4")
    return [("U", u), ("S", s), ("V", v)]


def describe_strings(path, name):
    version, shape, fortran, dtype, offset = read_header(path)
    arr = np.load(path, allow_pickle=False)
    assert arr.shape == shape and arr.dtype == dtype, path
    assert os.path.getsize(path) == offset + arr.nbytes, path
    storage = arr.ravel(order="F" if fortran else "C")
    return {
        "file": name,
        "version": version[0],
        "kind": dtype.kind,
        "descr": dtype.str,
        "byteorder": byteorder_mark(dtype),
        "length": dtype.itemsize // (4 if dtype.kind == "U" else 1),
        "shape": [int(d) for d in shape],
        "fortran": bool(fortran),
        "values": [element_to_json(x, dtype) for x in storage],
    }


def write_mode(outdir):
    os.makedirs(outdir, exist_ok=True)
    arrays = []
    for name in DTYPES:
        base = sample_values(name)
        orders = ["|"] if base.dtype.itemsize == 1 else ["<", ">"]
        for order in orders:
            typed = base.astype(base.dtype.newbyteorder(order))
            for label, arr in layouts(typed):
                for version in VERSIONS:
                    fname = "%s_%s_%s_v%d.npy" % (name, {"<": "le", ">": "be", "|": "na"}[order], label, version[0])
                    path = os.path.join(outdir, fname)
                    with open(path, "wb") as f:
                        npformat.write_array(f, arr, version=version, allow_pickle=False)
                    arrays.append(describe(path, fname))
    # np.save's own choice of version, once per dtype
    for name in DTYPES:
        fname = "%s_save.npy" % name
        np.save(os.path.join(outdir, fname), sample_values(name).reshape(4, 3))
        arrays.append(describe(os.path.join(outdir, fname), fname))

    strings = []
    for kind, base in string_samples():
        orders = ["<", ">"] if kind == "U" else ["|"]
        for order in orders:
            typed = base.astype(base.dtype.newbyteorder(order)) if kind == "U" else base
            for label, arr in layouts(typed):
                for version in VERSIONS:
                    fname = "%s_%s_%s_v%d.npy" % ({"U": "str", "S": "bytes", "V": "void"}[kind],
                                                  {"<": "le", ">": "be", "|": "na"}[order], label, version[0])
                    path = os.path.join(outdir, fname)
                    with open(path, "wb") as f:
                        npformat.write_array(f, arr, version=version, allow_pickle=False)
                    strings.append(describe_strings(path, fname))
    # np.save itself, as a user calls it
    for kind, arr in [("U", np.array([["alpha", "\u03b2\u00eata"], ["", "\U0001f600!"]])),
                      ("S", np.array([b"abc", b"", b"\xff\x00z"])),
                      ("V", np.array([b"\x00\x01\x02", b"\xff\x00\x00"], dtype="V3"))]:
        fname = "%s_save.npy" % {"U": "str", "S": "bytes", "V": "void"}[kind]
        np.save(os.path.join(outdir, fname), arr)
        strings.append(describe_strings(os.path.join(outdir, fname), fname))

    refused = []

    def refuse(kind, fname, arr, pickle=False):
        path = os.path.join(outdir, fname)
        np.save(path, arr, allow_pickle=pickle)
        _, _, _, dtype, _ = read_header(path)
        refused.append({"kind": kind, "file": fname, "descr": npformat.dtype_to_descr(dtype)})

    refuse("object", "object.npy", np.array([{"a": 1}], dtype=object), pickle=True)
    refuse("structured", "structured.npy", np.zeros(2, dtype=[("a", "<i4"), ("b", "<f8")]))
    refuse("structured", "structured_nested.npy",
           np.zeros(2, dtype=[("name", "S4"), ("pos", [("x", "<f4"), ("y", ">f4")]), ("v", "<i2", (3,))]))
    refuse("other", "datetime.npy", np.array(["2020-01-01T00:00"], dtype="datetime64[ns]"))
    if np.dtype(np.longdouble).itemsize > 8:
        refuse("other", "longdouble.npy", np.array([1.5], dtype=np.longdouble))

    manifest = {"numpy": np.__version__, "arrays": arrays, "strings": strings, "refused": refused}
    with open(os.path.join(outdir, "manifest.json"), "w") as f:
        json.dump(manifest, f)
    print("wrote %d arrays and %d refusals with numpy %s" % (len(arrays), len(refused), np.__version__))
    return 0


# ---------------------------------------------------------------- check mode

def mismatches(path, want):
    """The list of ways the file at `path` differs from `want` (empty: identical)."""
    problems = []
    version, shape, fortran, dtype, offset = read_header(path)
    want_dtype = np.dtype(want["dtype"]).newbyteorder(want["byteorder"])
    if version != (want["version"], 0):
        problems.append("version: file has %d.%d, expected %d.0" % (version[0], version[1], want["version"]))
    if dtype != want_dtype or dtype.str != want_dtype.str:
        problems.append("dtype: file has %s, expected %s" % (dtype.str, want_dtype.str))
    if byteorder_mark(dtype) != want["byteorder"]:
        problems.append("byteorder: file has %s, expected %s" % (byteorder_mark(dtype), want["byteorder"]))
    if list(shape) != want["shape"]:
        problems.append("shape: file has %s, expected %s" % (shape, want["shape"]))
    if bool(fortran) != want["fortran"]:
        problems.append("fortran: file has %s, expected %s" % (fortran, want["fortran"]))

    arr = np.load(path, allow_pickle=False)
    if arr.shape != shape or arr.dtype != dtype:
        problems.append("load: np.load disagrees with the header")
    if fortran and arr.ndim > 1 and arr.size > 1 and not arr.flags.f_contiguous:
        problems.append("fortran: np.load did not give a Fortran-ordered array")
    size = os.path.getsize(path)
    if size != offset + arr.nbytes:
        problems.append("size: file has %d bytes, header + data make %d" % (size, offset + arr.nbytes))

    expected = np.array([element_from_json(v, want_dtype) for v in want["values"]], dtype=want_dtype)
    storage = arr.ravel(order="F" if fortran else "C")
    if storage.size != expected.size:
        problems.append("values: file holds %d elements, expected %d" % (storage.size, expected.size))
    elif storage.astype(want_dtype).tobytes() != expected.tobytes() or storage.dtype != expected.dtype:
        bad = [i for i in range(storage.size)
               if storage[i:i + 1].astype(want_dtype).tobytes() != expected[i:i + 1].tobytes()]
        problems.append("values: elements %s differ: file %s, expected %s"
                        % (bad[:5], storage[bad[:5]].tolist(), expected[bad[:5]].tolist()))
    return problems


def check_mode(expected_path):
    with open(expected_path) as f:
        spec = json.load(f)
    base = os.path.dirname(os.path.abspath(expected_path))
    failures = 0
    arrays = decoys = 0
    for want in spec["arrays"]:
        path = os.path.join(base, want["file"])
        try:
            problems = mismatches(path, want)
        except Exception as e:  # a file NumPy cannot read is a mismatch too
            problems = ["error: %s: %s" % (type(e).__name__, e)]
        reason = want.get("must_differ")
        if reason is None:
            arrays += 1
            if problems:
                failures += 1
                print("MISMATCH %s: %s" % (want["file"], "; ".join(problems)))
        else:
            decoys += 1
            if not any(p.startswith(reason + ":") for p in problems):
                failures += 1
                print("DECOY NOT CAUGHT %s: wanted a '%s' mismatch, got %s" % (want["file"], reason, problems))
    if failures or arrays == 0:
        print("FAILED: %d of %d entries" % (failures, arrays + decoys))
        return 1
    print("OK %d arrays identical, %d decoys rejected (numpy %s)" % (arrays, decoys, np.__version__))
    return 0


def main(argv):
    if len(argv) == 3 and argv[1] == "write":
        return write_mode(argv[2])
    if len(argv) == 3 and argv[1] == "check":
        return check_mode(argv[2])
    print("usage: npy_fixtures.py write DIR | check EXPECTED.json", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
