"""sealrun.Record: machinable's Interface over the C++ Record, whose body is
the Python subclass's __call__; launched once per config, across processes."""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys
import textwrap
import threading
import time

import pytest

import sealrun


class Optimize(sealrun.Record):
    """Counts its body's runs in the file config["counter"]."""

    def __call__(self) -> None:
        counter = pathlib.Path(self.config["counter"])
        counter.write_text(str(int(counter.read_text() or "0") + 1) if counter.exists() else "1")
        self.save_file("result.json", {"loss": self.config["lr"] * 2})
        self.save_file(["plots", "curve.txt"], "down\n")

    def loss(self) -> float:
        return self.load_file("result.json")["loss"]


class Fails(sealrun.Record):
    def __call__(self) -> None:
        self.save_file("partial.json", {"done": False})
        raise ValueError("diverged")


def test_launch_runs_the_body_once_and_caches(tmp_path):
    counter = tmp_path / "count"
    rec = Optimize({"lr": 0.5, "counter": str(counter)}, store=tmp_path / "s")
    assert rec.status == "new" and rec.cached() is False
    assert rec.launch() is rec
    assert rec.cached() is True and rec.status == "finished"
    assert rec.loss() == 1.0
    assert rec.load_file("plots/curve.txt") == "down\n"
    assert rec.files() == ["plots/curve.txt", "result.json"]
    rec.launch()
    Optimize({"lr": 0.5, "counter": str(counter)}, store=tmp_path / "s").launch()
    assert counter.read_text() == "1"
    assert rec.cached(False) is False
    rec.launch()
    assert counter.read_text() == "2"
    assert rec.cached() is True
    assert rec.cached(False) is False and rec.cached(True) is True


def test_identity_follows_kind_and_config(tmp_path):
    a = Optimize({"lr": 0.5, "counter": "c"}, store=tmp_path / "s")
    b = Optimize({"counter": "c", "lr": 0.5}, store=tmp_path / "s")
    c = Optimize({"lr": 0.25, "counter": "c"}, store=tmp_path / "s")
    d = Optimize({"lr": 0.5, "counter": "c"}, store=tmp_path / "s", kind="optimize-v2")
    assert a.identity == b.identity
    assert len({a.identity, c.identity, d.identity}) == 3
    assert a.kind == "Optimize" and d.kind == "optimize-v2"
    assert a.config == {"lr": 0.5, "counter": "c"}
    assert a.local_directory() == (tmp_path / "s" / "records" / a.identity)
    assert b.local_directory("x.json") == a.local_directory() / "x.json"
    model = json.loads((a.local_directory() / "model.json").read_text())
    assert model["kind"] == "Optimize" and model["identity"] == a.identity


def test_a_body_that_raises_leaves_the_record_failed_and_propagates(tmp_path):
    rec = Fails({"x": 1}, store=tmp_path / "s")
    with pytest.raises(ValueError, match="diverged") as info:
        rec.launch()
    assert info.traceback[-1].name == "__call__"  # the body's own exception, traceback and all
    assert rec.status == "failed" and rec.cached() is False
    model = json.loads((rec.local_directory() / "model.json").read_text())
    assert model["reason"] == "ValueError: diverged"
    assert rec.load_file("partial.json") == {"done": False}
    with pytest.raises(ValueError):
        rec.launch()  # not cached: runs again


def test_sealrun_errors_inside_a_body_keep_their_class(tmp_path):
    class BadPath(sealrun.Record):
        def __call__(self) -> None:
            self.save_file("../escape.json", {})

    rec = BadPath(store=tmp_path / "s")
    with pytest.raises(sealrun.InvalidInput):
        rec.launch()
    assert rec.status == "failed"


def test_files_saved_before_materializing_are_flushed(tmp_path):
    rec = Optimize({"lr": 1, "counter": str(tmp_path / "c")}, store=tmp_path / "s")
    rec.save_file("early.json", {"a": 1})
    assert rec.load_file("early.json") == {"a": 1}
    assert not (tmp_path / "s" / "records").exists()
    rec.launch()
    assert (rec.local_directory() / "early.json").read_bytes() == b'{"a":1}'


def test_markers_are_not_persisted(tmp_path):
    rec = Optimize({"lr": 1, "counter": "c"}, store=tmp_path / "s")
    rec.mark("promising")
    assert rec.marker("promising") is True
    again = Optimize({"lr": 1, "counter": "c"}, store=tmp_path / "s")
    assert again.marker("promising") is None
    assert again.marker("promising", default=False) is False


def test_a_record_without_a_body_launches_as_nothing(tmp_path):
    class Empty(sealrun.Record):
        pass

    rec = Empty({"k": 1}, store=tmp_path / "s")
    rec.launch()
    assert rec.cached() and rec.status == "finished"
    assert "Empty" in repr(rec)


SCRIPT = textwrap.dedent("""
    import pathlib, sys, time
    import sealrun

    class Slow(sealrun.Record):
        def __call__(self):
            pathlib.Path(sys.argv[2], "started").touch()
            go = pathlib.Path(sys.argv[2], "go")
            deadline = time.monotonic() + 60
            while not go.exists() and time.monotonic() < deadline:
                time.sleep(0.01)
            counter = pathlib.Path(sys.argv[2], "count")
            counter.write_text(str(int(counter.read_text()) + 1) if counter.exists() else "1")

    Slow({"n": 1}, store=sys.argv[1]).launch()
""")


def wait_for_a_waiter(lock: pathlib.Path) -> None:
    """Waits until a process or thread is blocked on the flock of `lock`
    (a "->" line of /proc/locks naming its inode)."""
    deadline = time.monotonic() + 60
    while True:
        if lock.exists():
            inode = f":{lock.stat().st_ino} "
            if any("->" in line and inode in line for line in pathlib.Path("/proc/locks").read_text().splitlines()):
                return
        assert time.monotonic() < deadline, "nobody waited on " + str(lock)
        time.sleep(0.01)


class Slow(sealrun.Record):  # the script's record: same kind and config
    def __call__(self) -> None:
        raise AssertionError("the other process ran the body")


def start_slow(tmp_path, store, work) -> subprocess.Popen:
    """Starts SCRIPT (as tmp_path/slow.py) launching the record in `store`, and
    returns once its body runs (it then waits for `work`/go)."""
    work.mkdir()
    script = tmp_path / "slow.py"
    script.write_text(SCRIPT)
    proc = subprocess.Popen([sys.executable, str(script), str(store), str(work)])
    deadline = time.monotonic() + 60
    while not (work / "started").exists():
        assert proc.poll() is None and time.monotonic() < deadline
        time.sleep(0.01)
    return proc


def test_two_processes_launching_one_record_run_its_body_once(tmp_path):
    store, work = tmp_path / "s", tmp_path / "w"
    first = start_slow(tmp_path, store, work)
    second = subprocess.Popen([sys.executable, str(tmp_path / "slow.py"), str(store), str(work)])
    # The second one waits on the record's lock while the first one's body runs.
    wait_for_a_waiter(store / "records" / (Slow({"n": 1}, store=store).identity + ".lock"))
    (work / "go").touch()
    assert first.wait(60) == 0 and second.wait(60) == 0
    assert (work / "count").read_text() == "1"


def test_waiting_for_the_launch_lock_releases_the_gil(tmp_path):
    store, work = tmp_path / "s", tmp_path / "w"
    other = start_slow(tmp_path, store, work)
    rec = Slow({"n": 1}, store=store)
    waiter = threading.Thread(target=rec.launch)
    waiter.start()
    # While the waiter blocks on the lock, this thread keeps running Python
    # (it could not even see the waiter if launch() held the GIL).
    wait_for_a_waiter(store / "records" / (rec.identity + ".lock"))
    spins = 0
    stop = time.monotonic() + 0.2
    while time.monotonic() < stop:
        spins += 1
    assert waiter.is_alive()
    assert spins > 1000
    (work / "go").touch()
    waiter.join(60)
    assert not waiter.is_alive()
    assert other.wait(60) == 0
    assert rec.cached() and (work / "count").read_text() == "1"


def test_records_use_the_default_store(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    rec = Optimize({"lr": 2, "counter": str(tmp_path / "c")})
    rec.launch()
    assert rec.local_directory().is_relative_to(tmp_path / "storage" / "records")
    assert os.path.isabs(rec.local_directory())


def test_two_threads_launching_one_record_run_its_body_once(tmp_path):
    counter = tmp_path / "count"
    started, go = threading.Event(), threading.Event()

    class Gated(sealrun.Record):
        def __call__(self) -> None:
            started.set()
            assert go.wait(60)
            counter.write_text(str(int(counter.read_text()) + 1) if counter.exists() else "1")

    first = Gated({"g": 1}, store=tmp_path / "s")
    second = Gated({"g": 1}, store=tmp_path / "s")
    t1 = threading.Thread(target=first.launch)
    t1.start()
    assert started.wait(60)
    t2 = threading.Thread(target=second.launch)
    t2.start()
    wait_for_a_waiter(tmp_path / "s" / "records" / (first.identity + ".lock"))
    go.set()
    t1.join(60)
    t2.join(60)
    assert not t1.is_alive() and not t2.is_alive()
    assert counter.read_text() == "1"
    assert first.cached() and second.cached()
