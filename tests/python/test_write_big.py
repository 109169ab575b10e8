"""write_attachment streams: a 1 GiB attachment written at bounded memory.

The file is sealed by the CLI from a sparse file with markers; a child
/usr/bin/python3 opens it and writes it out with write_attachment, and its
peak resident size (ru_maxrss) may grow by far less than the attachment.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

import sealrun

SIZE = 1 << 30
MARKS = {0: b"first", 123_456_789: b"middle", SIZE - 4: b"last"}

_CHILD = r"""
import json, os, resource, sys, time
import sealrun
store, dest = sys.argv[1:3]
exp = sealrun.open("big", store=store)
run = exp.run(0)
run.attachment_names
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
t = time.perf_counter()
path = run.write_attachment("big.bin", dest)
took = time.perf_counter() - t
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"growth": after - before, "path": str(path), "seconds": took}))
"""


def test_one_gib_attachment_written_at_bounded_memory(tmp_path, cli):
    run_dir = tmp_path / "r"
    run_dir.mkdir()
    src = run_dir / "big.bin"
    with open(src, "wb") as f:
        f.truncate(SIZE)  # holes read as zeros: fast to make, real bytes to seal
        for offset, mark in MARKS.items():
            f.seek(offset)
            f.write(mark)
    cli("seal", str(run_dir), "--experiment", "big", "--tag", "big", store=tmp_path / "s")
    src.unlink()
    out = tmp_path / "out"
    out.mkdir()
    p = subprocess.run([sys.executable, "-c", _CHILD, str(tmp_path / "s"), str(out)], capture_output=True, text=True,
                       timeout=600, check=True, env=dict(os.environ))
    m = json.loads(p.stdout)
    written = out / "big.bin"  # an existing directory: the stored name inside it
    assert m["path"] == str(written)
    print(f"\nwrite_attachment of 1 GiB: peak grew {m['growth'] / 2**20:.1f} MiB, {m['seconds']:.2f} s")
    assert m["growth"] < 64 << 20, m
    assert written.stat().st_size == SIZE
    with open(written, "rb") as f:
        for offset, mark in MARKS.items():
            f.seek(offset)
            assert f.read(len(mark)) == mark
        f.seek(SIZE // 2)
        assert f.read(4096) == bytes(4096)
    # Written again, it is refused unless overwrite.
    run = sealrun.open("big", store=tmp_path / "s").run(0)
    with pytest.raises(sealrun.AlreadyExists):
        run.write_attachment("big.bin", out)
