"""Shared fixtures of the Python suite (tests/python).

The suite runs against the build tree: tools/run sets PYTHONPATH to
BUILD/python and SEALRUN_BUILD to BUILD (the sealrun CLI is
BUILD/tools/sealrun, the C++ example that seals a sweep BUILD/examples/gd_sweep).
A real registry (Debian's docker-registry) is started on 127.0.0.1 once per
session; nothing stands in for one.
"""

from __future__ import annotations

import os
import pathlib
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

HERE = pathlib.Path(__file__).resolve().parent
SOURCE = HERE.parent.parent


def _build_dir() -> pathlib.Path:
    env = os.environ.get("SEALRUN_BUILD")
    if env:
        return pathlib.Path(env).resolve()
    # Running pytest by hand: the build whose python/ is on sys.path.
    import sealrun

    return pathlib.Path(sealrun.__file__).resolve().parent.parent.parent


BUILD = _build_dir()
CLI = BUILD / "tools" / "sealrun"
GD_SWEEP = BUILD / "examples" / "gd_sweep"


@pytest.fixture(scope="session")
def build_dir() -> pathlib.Path:
    """The meson build directory the module under test comes from."""
    return BUILD


def run_cli(*args: str, cwd: os.PathLike | str | None = None, store: os.PathLike | str | None = None,
            check: bool = True, input: bytes | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    """Runs the sealrun CLI of the build; returns the completed process (stdout/stderr as text)."""
    cmd = [str(CLI)]
    if store is not None:
        cmd += ["--store", str(store)]
    cmd += list(args)
    full_env = dict(os.environ)
    full_env.pop("SEALRUN_STORE", None)
    if env:
        full_env.update(env)
    p = subprocess.run(cmd, cwd=cwd, capture_output=True, input=input, env=full_env, timeout=600)
    out = subprocess.CompletedProcess(p.args, p.returncode, p.stdout.decode("utf-8", "replace"),
                                      p.stderr.decode("utf-8", "replace"))
    if check and p.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} exited {p.returncode}:\n{out.stdout}\n{out.stderr}")
    return out


@pytest.fixture(scope="session")
def cli():
    """run_cli: the sealrun command line of the build."""
    return run_cli


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def registry(tmp_path_factory) -> str:
    """HOST:PORT of a docker-registry on 127.0.0.1, plain HTTP, deletes enabled."""
    exe = shutil.which("docker-registry")
    if exe is None:
        pytest.fail("docker-registry is not installed (Debian package docker-registry)")
    d = tmp_path_factory.mktemp("registry")
    port = _free_port()
    (d / "config.yml").write_text(
        "version: 0.1\n"
        "log: {level: error, accesslog: {disabled: true}}\n"
        f"storage: {{filesystem: {{rootdirectory: {d / 'data'}}}, delete: {{enabled: true}}}}\n"
        f"http: {{addr: 127.0.0.1:{port}}}\n")
    log = open(d / "log", "wb")
    proc = subprocess.Popen([exe, "serve", str(d / "config.yml")], stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}/v2/"
    for _ in range(200):
        try:
            urllib.request.urlopen(url, timeout=1).close()
            break
        except Exception:
            time.sleep(0.05)
    else:
        proc.kill()
        pytest.fail("docker-registry did not start: " + (d / "log").read_text(errors="replace"))
    yield f"127.0.0.1:{port}"
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


@pytest.fixture(scope="session")
def gd_sweep(tmp_path_factory) -> tuple[pathlib.Path, str]:
    """(store, tag): the C++ example's learning-rate sweep, sealed by the C++ library."""
    store = tmp_path_factory.mktemp("gd") / "storage"
    subprocess.run([str(GD_SWEEP), str(store), "gd-v1"], check=True, capture_output=True, timeout=300)
    return store, "gd-v1"


@pytest.fixture
def scratch(tmp_path, monkeypatch, gd_sweep):
    """A working directory holding a copy of the sweep's store as ./storage (the default store)."""
    store, _ = gd_sweep
    shutil.copytree(store, tmp_path / "storage", symlinks=True)
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture(autouse=True)
def _no_store_from_environment(monkeypatch):
    """Tests choose their store explicitly; a user's $SEALRUN_STORE never leaks in."""
    monkeypatch.delenv("SEALRUN_STORE", raising=False)
