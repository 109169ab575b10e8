"""Views shared across threads, and the GIL released while they read.

Eight threads read every run of one experiment at once, through one shared
SealedExperiment (and the SealedRun objects taken from it), from the local
store and from the test registry; every result must equal what one thread
reads alone. A reader fetching a large attachment must let other Python
threads run meanwhile.
"""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import sealrun

THREADS = 8
RUNS = 6


@pytest.fixture(scope="module")
def many_runs(tmp_path_factory, cli, registry):
    root = tmp_path_factory.mktemp("threads")
    dirs = []
    for i in range(RUNS):
        d = root / f"r{i}"
        d.mkdir()
        (d / "model.json").write_text(json.dumps({"parameters": {"i": i, "seed": 100 + i}}))
        (d / "result.json").write_text(json.dumps({"i": i, "values": list(range(i * 10))}))
        np.save(d / "x.npy", np.random.default_rng(i).standard_normal((64, 32)))
        (d / "log.txt").write_text(f"run {i}\n" * 1000)
        dirs.append(d.name)
    store = root / "storage"
    cli("seal", *dirs, "--experiment", "threads", "--tag", "th", cwd=root, store=store)
    cli("push", "th", f"docker://{registry}/py/threads:th", store=store)
    return {"store": ("th", {"store": store}), "docker": (f"docker://{registry}/py/threads:th", {})}


def _read_all(exp: sealrun.SealedExperiment, run_id: int):
    run = exp.run(run_id)
    return (run.run_id, run.parameters, run.get_attachment("result.json"), run.get_attachment("x.npy").tobytes(),
            run.get_attachment("log.txt"), run.get_blob("x.npy"))


@pytest.mark.parametrize("transport", ["store", "docker"])
def test_eight_threads_read_one_experiment(many_runs, transport):
    location, kw = many_runs[transport]
    exp = sealrun.open(location, **kw)
    want = {i: _read_all(exp, i) for i in exp.run_ids}
    runs = exp.runs  # SealedRun objects shared by every thread too
    barrier = threading.Barrier(THREADS)

    def work(t: int):
        barrier.wait()
        got = []
        for k in range(RUNS):
            i = (t + k) % RUNS
            got.append((i, _read_all(exp, i)))
            r = runs[i]
            got.append((i, (r.run_id, r.parameters, r.get_json("result.json"), r.get_attachment("x.npy").tobytes(),
                            r.get_attachment("log.txt"), r.get_blob("x.npy"))))
        return got, exp.parameters()

    with ThreadPoolExecutor(THREADS) as pool:
        results = list(pool.map(work, range(THREADS)))
    assert len(results) == THREADS
    for got, parameters in results:
        assert len(got) == RUNS * 2
        for i, value in got:
            assert value == want[i]
        assert parameters == {"run_id": list(range(RUNS)), "i": list(range(RUNS)),
                              "seed": [100 + i for i in range(RUNS)]}


def test_reading_releases_the_gil(tmp_path, cli):
    """While one thread fetches and verifies 16 MiB, the main thread keeps running Python code."""
    d = tmp_path / "r"
    d.mkdir()
    (d / "big.bin").write_bytes(np.random.default_rng(0).bytes(16 << 20))
    cli("seal", str(d), "--experiment", "g", "--tag", "g", store=tmp_path / "s")
    run = sealrun.open("g", store=tmp_path / "s").run(0)
    run.get_blob("big.bin")  # warm the page cache
    done = threading.Event()
    span = {}

    def reader():
        span["start"] = time.perf_counter()
        for _ in range(2):
            run.get_attachment("big.bin")
        span["end"] = time.perf_counter()
        done.set()

    ticks = []
    t = threading.Thread(target=reader)
    t.start()
    while not done.is_set():
        ticks.append(time.perf_counter())
        time.sleep(0.001)
    t.join()
    inside = [x for x in ticks if span["start"] <= x <= span["end"]]
    duration = span["end"] - span["start"]
    gaps = [b - a for a, b in zip(inside, inside[1:])]
    # Holding the GIL through a read would stop the ticks for the whole of it.
    assert duration > 0.05, duration
    assert len(inside) > 10 and max(gaps) < duration / 3, (duration, max(gaps, default=None), len(inside))
