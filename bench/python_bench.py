#!/usr/bin/python3
"""Issue 13's speed targets for the Python package, C++ and Python side by side.

    meson setup build-bench --buildtype=release -Dtests=false && ninja -C build-bench
    /usr/bin/python3 bench/python_bench.py --build build-bench

Makes its content with BUILD/bench/sealrun-bench (make-sweep, make-npy) in a
temporary store, imports ``sealrun`` from BUILD/python, and prints two tables:

1. Opening a sealed experiment of ``--runs`` (1,000) runs and building its
   parameter table: ``sealrun-bench params`` (open_location +
   SealedExperiment::open + parameters(), timed in-process) against
   ``sealrun.open(tag, store=...)`` then ``.parameters()`` or
   ``.run_parameters_df()``, timed in-process with time.perf_counter, in
   ``--rounds`` alternating rounds; then the parts of the Python side.
   Target: at most 1.2x the C++ time.
2. Reading a ``--npy-mib`` (256) MiB float64 ``.npy`` attachment into an
   array: ``sealrun.open(...).run(0).get_attachment("a.npy")`` against
   ``numpy.load`` of the same bytes (the blob file in the store), with the
   verifying alternatives for fairness (numpy.load + hashlib SHA-256 of the
   file; one pass that reads into numpy.empty and hashes each chunk;
   ``openssl dgst -sha256``), get_blob, and the C++ side (sealrun-bench
   attachment, read-floor). "warm": median of ``--reps`` in this process
   after a warm-up; "fresh": one read per new process (median of
   ``--fresh``), with that process's peak RSS and the read's page faults.
   Target: at most 1.2x numpy.load.

Nothing is built here; it is a benchmark, not a test. Run it with Debian's
/usr/bin/python3 (numpy, pandas). ``--work DIR`` keeps (and reuses) the content.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SWEEP_TAG = "sweep"
NPY_TAG = "npy"
NPY_NAME = "a.npy"


def median(xs: list[float]) -> float:
    return statistics.median(xs)


def timed(fn, reps: int) -> tuple[float, list[float], object]:
    """Runs fn once untimed (warm-up), then reps times; returns the median,
    all times, and the last result."""
    result = fn()
    times = []
    for _ in range(reps):
        result = None
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return median(times), times, result


def load() -> str:
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def run_with_maxrss(argv: list[str]) -> tuple[float, int, str]:
    """Runs argv under /usr/bin/time; returns (peak RSS MiB, minor page
    faults of the whole process, stdout). The
    small `time` process forks the child, so the child's ru_maxrss is its
    own (a child forked straight from this process would inherit this
    process's high-water mark through exec)."""
    with tempfile.NamedTemporaryFile("r") as f:
        out = subprocess.run(["/usr/bin/time", "-f", "%M %R", "-o", f.name, *argv], check=True,
                             stdout=subprocess.PIPE, text=True).stdout
        rss, faults = f.read().split()[-2:]
        return int(rss) / 1024.0, int(faults), out


def vm_hwm_mib() -> float:
    """Peak RSS of this process (VmHWM: of its own address space since exec)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    raise RuntimeError("no VmHWM")


# ------------------------------------------------------- the npy readers


def verified_load(path: Path, threads: bool):
    """The floor of a verifying load, in Python: numpy's own header reader,
    then one pass that reads the file into a fresh numpy buffer and feeds
    every chunk to SHA-256 (threads: a second thread hashes chunk i while
    chunk i+1 is read; both release the GIL), digest checked against the
    file's name (a blob's name is its digest) before the array is returned."""
    import numpy
    from numpy.lib import format as npf

    chunk = 8 << 20
    with open(path, "rb", buffering=0) as f:
        major, _ = npf.read_magic(f)
        read_header = npf.read_array_header_1_0 if major == 1 else npf.read_array_header_2_0
        shape, fortran, dtype = read_header(f)
        offset = f.tell()
        f.seek(0)
        h = hashlib.sha256(f.read(offset))
        nbytes = int(numpy.prod(shape, dtype=numpy.int64)) * dtype.itemsize
        raw = numpy.empty(nbytes, numpy.uint8)
        mv = memoryview(raw)
        if threads:
            import queue
            import threading

            q: queue.Queue = queue.Queue(maxsize=4)

            def hasher() -> None:
                while (piece := q.get()) is not None:
                    h.update(piece)

            t = threading.Thread(target=hasher)
            t.start()
        pos = 0
        while pos < nbytes:
            n = f.readinto(mv[pos:pos + chunk])
            if not n:
                raise ValueError("short file")
            if threads:
                q.put(mv[pos:pos + n])
            else:
                h.update(mv[pos:pos + n])
            pos += n
        if threads:
            q.put(None)
            t.join()
        h.update(f.read())  # nothing, for a well-formed file; hashed all the same
    if h.hexdigest() != path.name:
        raise ValueError(f"digest mismatch: {path}")
    return raw.view(dtype).reshape(shape, order="F" if fortran else "C")


def sha256_file(path: Path) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def readers(store: Path, blob: Path) -> dict:
    """name -> zero-argument function doing one read, for in-process timing
    and for the fresh child processes."""
    import numpy
    import sealrun

    st = str(store)
    return {
        "numpy.load": lambda: numpy.load(blob),
        "numpy.load+sha256": lambda: (numpy.load(blob), sha256_file(blob))[0],
        "floor-1pass": lambda: verified_load(blob, threads=False),
        "floor-2threads": lambda: verified_load(blob, threads=True),
        "sealrun": lambda: sealrun.open(NPY_TAG, store=st).run(0).get_attachment(NPY_NAME),
        "sealrun.get_blob": lambda: sealrun.open(NPY_TAG, store=st).run(0).get_blob(NPY_NAME),
        "sha256": lambda: sha256_file(blob),
    }


# --------------------------------------------------------------- child mode
# `python_bench.py --child MODE STORE BLOB` does one read in a fresh
# interpreter (imports done first) and prints "SECONDS PEAK_RSS_MIB
# MINOR_FAULTS" (the page faults of the read alone).


def child(mode: str, build: Path, store: Path, blob: Path) -> None:
    sys.path.insert(0, str(build / "python"))
    import numpy  # noqa: F401
    import sealrun  # noqa: F401

    if mode == "baseline":
        print(f"0 {vm_hwm_mib():.1f} 0")
        return
    fn = readers(store, blob)[mode]
    f0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    t0 = time.perf_counter()
    a = fn()
    t = time.perf_counter() - t0
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - f0
    assert a is not None
    print(f"{t:.6f} {vm_hwm_mib():.1f} {faults}")


# ------------------------------------------------------------------- helpers


def bench_bin(build: Path) -> Path:
    b = build / "bench" / "sealrun-bench"
    if not b.exists():
        raise SystemExit(f"{b} missing: ninja -C {build} bench/sealrun-bench")
    return b


def run_bench(bench: Path, *args: str) -> str:
    return subprocess.run([str(bench), *args], check=True, stdout=subprocess.PIPE, text=True).stdout


def parse_median(out: str, word: str) -> list[float]:
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0] == word and parts[1] == "median":
            return [float(x) for x in parts[2:]]
    raise SystemExit(f"no '{word} median' line in:\n{out}")


def fmt_table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    line = lambda r: "| " + " | ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w) for i, (c, w) in enumerate(zip(r, widths))) + " |"
    sep = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(header), sep, *[line(r) for r in rows]])


def ms(x: float) -> str:
    return f"{x * 1000:.1f}"


def s3(x: float) -> str:
    return f"{x:.3f}"


# ---------------------------------------------------------------- the cases


def case_params(args, bench: Path, store: Path) -> None:
    import pandas
    import sealrun

    reps, st = args.reps, str(store)
    cpp: dict[str, list[float]] = {"total": [], "open": [], "table": []}
    py: dict[str, list[float]] = {k: [] for k in ("params", "df", "open", "table", "native", "dfonly", "pandas")}
    n_runs = n_cols = 0
    exp = sealrun.open(SWEEP_TAG, store=st)
    native = exp._native
    cols = exp.parameters()
    run_ids = cols["run_id"]
    data = {k: v for k, v in cols.items() if k != "run_id"}
    # Rounds alternate the two sides, so a change of machine load hits both;
    # every number below is the median over all rounds.
    for _ in range(args.rounds):
        out = run_bench(bench, "params", SWEEP_TAG, "--store", st, "--reps", str(reps + 1))
        rows = [l.split() for l in out.splitlines() if l.startswith("params ") and l.split()[1] != "median"][1:]
        for r in rows:  # the first repetition was the warm-up
            cpp["total"].append(float(r[2]))
            cpp["open"].append(float(r[3]))
            cpp["table"].append(float(r[4]))
        n_runs, n_cols = int(rows[0][5]), int(rows[0][6])
        py["params"] += timed(lambda: sealrun.open(SWEEP_TAG, store=st).parameters(), reps)[1]
        py["df"] += timed(lambda: sealrun.open(SWEEP_TAG, store=st).run_parameters_df(), reps)[1]
        # The parts: open alone; parameters(), the native table (C++ table
        # plus its conversion to Python lists) and run_parameters_df() on an
        # open experiment; pandas' own cost of the same frame.
        py["open"] += timed(lambda: sealrun.open(SWEEP_TAG, store=st), reps)[1]
        py["table"] += timed(lambda: exp.parameters(), reps)[1]
        py["native"] += timed(lambda: native.parameter_table(), reps)[1]
        py["dfonly"] += timed(lambda: exp.run_parameters_df(), reps)[1]
        py["pandas"] += timed(lambda: pandas.DataFrame(data, index=pandas.Index(run_ids, name="run_id", dtype="int64"),
                                                       columns=list(data)), reps)[1]
    cpp_total, cpp_open, cpp_table = (median(cpp[k]) for k in ("total", "open", "table"))
    py_params, py_df, py_open, py_table, py_native, py_dfonly, pd_build = (
        median(py[k]) for k in ("params", "df", "open", "table", "native", "dfonly", "pandas"))
    df = exp.run_parameters_df()

    assert len(df) == n_runs == len(run_ids), (len(df), n_runs)
    assert len(df.columns) == n_cols, (list(df.columns), n_cols)

    n = len(cpp["total"])
    print(f"\n## 1. Open a {n_runs}-run experiment and build the parameter table "
          f"({n_cols} parameters per run; median of {n} per side, {args.rounds} alternating rounds; ms)\n")
    rows = [
        ["C++ open_location + SealedExperiment::open + parameters()", ms(cpp_total), "1.00"],
        ["Python sealrun.open(tag, store=...).parameters()", ms(py_params), f"{py_params / cpp_total:.2f}"],
        ["Python sealrun.open(tag, store=...).run_parameters_df()", ms(py_df), f"{py_df / cpp_total:.2f}"],
    ]
    print(fmt_table(["work", "ms", "x C++"], rows))
    print("\nParts (medians over the same rounds):\n")
    rows = [
        ["open (location + index)", ms(cpp_open), ms(py_open)],
        ["parameters() on an open experiment", ms(cpp_table), ms(py_table)],
        ["  _core parameter_table() (C++ table + conversion to lists)", "", ms(py_native)],
        ["run_parameters_df() on an open experiment", "", ms(py_dfonly)],
        ["  pandas.DataFrame(columns, index=run_ids) alone", "", ms(pd_build)],
    ]
    print(fmt_table(["part", "C++ ms", "Python ms"], rows))
    verdict = "met" if py_df <= 1.2 * cpp_total else "MISSED"
    print(f"\ntarget: run_parameters_df() at most 1.2x C++: {verdict} ({py_df / cpp_total:.2f}x;"
          f" parameters(): {py_params / cpp_total:.2f}x)")


def case_npy(args, bench: Path, store: Path, blob: Path) -> None:
    import numpy

    reps, st = args.reps, str(store)
    mib = blob.stat().st_size / (1 << 20)
    fns = readers(store, blob)
    fns["openssl"] = lambda: subprocess.run(["openssl", "dgst", "-sha256", str(blob)], check=True,
                                            stdout=subprocess.DEVNULL)

    # Same array from every reader (checked once, untimed).
    ref = numpy.load(blob)
    for name in ("sealrun", "floor-1pass", "floor-2threads"):
        a = fns[name]()
        assert isinstance(a, numpy.ndarray), (name, type(a))
        assert a.dtype == ref.dtype and a.shape == ref.shape and numpy.array_equal(a, ref), name
        if name == "sealrun":
            own = "owns its data" if a.flags.owndata else f"is a view (base {type(a.base).__name__})"
        del a
    del ref

    warm = {}
    for name, fn in fns.items():
        warm[name] = timed(fn, reps)[0]  # the last result is dropped with the tuple
    out = run_bench(bench, "attachment", NPY_TAG, "0", NPY_NAME, "--store", st, "--reps", str(reps + 1))
    c_rows = [l.split() for l in out.splitlines() if l.startswith("attachment ") and l.split()[1] != "median"][1:]
    warm["C++ get_attachment"] = median([float(r[2]) for r in c_rows])
    warm["C++ get_blob"] = median([float(r[3]) for r in c_rows])
    out = run_bench(bench, "read-floor", NPY_TAG, "0", NPY_NAME, "--store", st, "--reps", str(reps + 1))
    f_rows = [l.split() for l in out.splitlines() if l.startswith("read-floor ") and l.split()[1] != "median"][1:]
    warm["C++ read_all"] = median([float(r[2]) for r in f_rows])
    warm["C++ reserved"] = median([float(r[3]) for r in f_rows])
    warm["C++ hugepage"] = median([float(r[4]) for r in f_rows])

    # One read in a fresh process each: the time of that read (a notebook's
    # first load) and the process's peak RSS.
    me = [sys.executable, os.path.abspath(__file__), "--build", str(args.build), "--child"]
    # args.fresh processes each, alternating the readers; medians.
    samples: dict[str, list[tuple[float, float, int]]] = {}
    for _ in range(args.fresh):
        for name in ["baseline", *[k for k in fns if k != "openssl"]]:
            out = subprocess.run([*me, name, st, str(blob)], check=True, stdout=subprocess.PIPE, text=True).stdout
            t, rss, faults = out.split()
            samples.setdefault(name, []).append((float(t), float(rss), int(faults)))
        rss_cpp, f_cpp, out = run_with_maxrss([str(bench), "attachment", NPY_TAG, "0", NPY_NAME, "--store", st,
                                               "--reps", "1"])
        r = [l.split() for l in out.splitlines() if l.startswith("attachment 0 ")][0]
        samples.setdefault("C++ get_attachment", []).append((float(r[2]), rss_cpp, f_cpp))
        samples.setdefault("C++ get_blob", []).append((float(r[3]), rss_cpp, f_cpp))
        t0 = time.perf_counter()
        rss_ossl, f_ossl, _ = run_with_maxrss(["openssl", "dgst", "-sha256", str(blob)])
        samples.setdefault("openssl", []).append((time.perf_counter() - t0, rss_ossl, f_ossl))
    fresh = {k: (median([t for t, _, _ in v]), max(m for _, m, _ in v), median([f for _, _, f in v]))
             for k, v in samples.items()}

    labels = {
        "numpy.load": "numpy.load(file)",
        "numpy.load+sha256": "numpy.load(file) + hashlib sha256(file)",
        "floor-1pass": "floor: read into numpy.empty + sha256 per chunk, one pass",
        "floor-2threads": "floor: same, hashing on a 2nd thread",
        "sealrun": "sealrun.open(...).run(0).get_attachment('a.npy')",
        "sealrun.get_blob": "sealrun.open(...).run(0).get_blob('a.npy')",
        "sha256": "hashlib sha256(file) alone",
        "openssl": "openssl dgst -sha256 file (a process)",
        "C++ get_attachment": "C++ SealedRun::get_attachment (NdArray)",
        "C++ get_blob": "C++ SealedRun::get_blob (std::string)",
        "C++ read_all": "C++ content::read_all of the verified stream (get_blob's read)",
        "C++ reserved": "C++ verified stream into a string of the known size",
        "C++ hugepage": "C++ verified stream into an MADV_HUGEPAGE mapping",
    }
    base = warm["numpy.load"]
    fbase = fresh["numpy.load"][0]
    rows = []
    for k, label in labels.items():
        if k in fresh:
            ft, frss, faults = fresh[k]
            same = k == "C++ get_blob"
            rows.append([label, s3(warm[k]), f"{warm[k] / base:.2f}", s3(ft), f"{ft / fbase:.2f}",
                         "(same)" if same else f"{frss:.0f}",
                         "(same)" if same else f"{faults:.0f}" + ("*" if k.startswith("C++") or k == "openssl" else "")])
        else:
            rows.append([label, s3(warm[k]), f"{warm[k] / base:.2f}", "", "", "", ""])
    print(f"\n## 2. Read a {mib:.0f} MiB float64 .npy into an array\n")
    print(f"warm: median of {reps} in this process after a warm-up; fresh: median of {args.fresh} reads, each"
          f" the only read of a new process (imports done), and the highest peak RSS of those processes;"
          f" page cache warm for both.\n")
    print(fmt_table(["work", "warm s", "x numpy.load", "fresh s", "x numpy.load", "peak RSS MiB", "page faults"], rows))
    print("\npage faults: minor faults of the read alone (*: of the whole process; its own start-up is"
          " about 100-200); 4 KiB pages unless a mapping is advised MADV_HUGEPAGE (numpy's arrays are).")
    print(f"\nPython baseline (import numpy and sealrun, nothing read): {fresh['baseline'][1]:.0f} MiB peak RSS;"
          f" the array is {mib:.0f} MiB. sealrun's array {own}.")
    sr = warm["sealrun"]
    verdict = "met" if sr <= 1.2 * base else "MISSED"
    print(f"target: get_attachment at most 1.2x numpy.load: {verdict} (warm {sr / base:.2f}x, fresh"
          f" {fresh['sealrun'][0] / fbase:.2f}x). Verifying floor: SHA-256 alone is {warm['sha256'] / base:.2f}x,"
          f" the best verifying load here {min(warm['floor-1pass'], warm['floor-2threads']) / base:.2f}x;"
          f" sealrun is {sr / min(warm['floor-1pass'], warm['floor-2threads']):.2f}x that floor.")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", type=Path, default=Path("build-bench"), help="build directory (release): BUILD/bench/sealrun-bench, BUILD/python")
    ap.add_argument("--reps", type=int, default=5, help="timed repetitions per number (median), after one warm-up")
    ap.add_argument("--rounds", type=int, default=3, help="alternating C++/Python rounds of case 1")
    ap.add_argument("--fresh", type=int, default=3, help="fresh processes per reader in case 2 (median)")
    ap.add_argument("--runs", type=int, default=1000, help="runs in the sweep (case 1)")
    ap.add_argument("--npy-mib", type=int, default=256, help="size of the .npy array in MiB (case 2)")
    ap.add_argument("--work", type=Path, help="directory for the content (kept; default: a temporary one, removed)")
    ap.add_argument("--only", choices=["params", "npy"], help="run one case")
    ap.add_argument("--child", nargs=3, metavar=("MODE", "STORE", "BLOB"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    args.build = args.build.resolve()

    if args.child:
        child(args.child[0], args.build, Path(args.child[1]), Path(args.child[2]))
        return

    if sys.executable != "/usr/bin/python3":
        print(f"warning: running under {sys.executable}, not Debian's /usr/bin/python3", file=sys.stderr)
    bench = bench_bin(args.build)
    sys.path.insert(0, str(args.build / "python"))
    import numpy
    import pandas
    import sealrun  # fails early when BUILD/python has no module

    work = args.work.resolve() if args.work else Path(tempfile.mkdtemp(prefix="sealrun-pybench-"))
    try:
        store = work / "store"
        if not (store / "index.json").exists() or not args.work:
            subprocess.run([str(bench), "make-sweep", str(store), SWEEP_TAG, str(args.runs)], check=True)
            subprocess.run([str(bench), "make-npy", str(store), NPY_TAG, str(args.npy_mib)], check=True)
        blob = Path(run_bench(bench, "largest-blob", str(store), NPY_TAG).split()[2])

        commit = subprocess.run(["git", "-C", str(Path(__file__).parent), "rev-parse", "--short", "HEAD"],
                                stdout=subprocess.PIPE, text=True).stdout.strip()
        print(f"# sealrun Python vs C++ (issue 13), commit {commit}, {args.build.name}")
        print(f"sealrun from {Path(sealrun.__file__).parent}")
        print(f"python {sys.version.split()[0]} ({sys.executable}), numpy {numpy.__version__}, pandas {pandas.__version__}")
        print(f"load average before: {load()}")
        if args.only in (None, "params"):
            case_params(args, bench, store)
        if args.only in (None, "npy"):
            case_npy(args, bench, store, blob)
        print(f"\nload average after: {load()}")
    finally:
        if not args.work:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
