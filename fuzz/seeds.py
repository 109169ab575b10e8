#!/usr/bin/python3
"""Writes the seed corpora under fuzz/corpus/ (committed; rerun only to
refresh them). Usage: /usr/bin/python3 fuzz/seeds.py LAYOUT TAG
where LAYOUT is an OCI layout holding a sealed experiment tagged TAG, e.g.
one made by `build/examples/gd_sweep /tmp/s/storage gd-sweep-v1`."""
import base64, io, json, os, re, subprocess, sys, tarfile

import numpy

here = os.path.dirname(os.path.abspath(__file__))
layout, tag = sys.argv[1], sys.argv[2]
SEP = b"\n@@@\n"


def put(target, name, data):
    d = os.path.join(here, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def blob(digest):
    alg, enc = digest.split(":")
    with open(os.path.join(layout, "blobs", alg, enc), "rb") as f:
        return f.read()


with open(os.path.join(layout, "index.json"), "rb") as f:
    layout_index = f.read()
root = next(m for m in json.loads(layout_index)["manifests"]
            if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == tag)

# The graph corpus (graph.h): documents in breadth-first order, each
# descriptor's digest and size replaced by $D<n> / $S<n>.
order, seen, queue = [], {}, [root]
while queue:
    d = queue.pop(0)
    if d["digest"] in seen:
        continue
    seen[d["digest"]] = len(order)
    order.append(d)
    if d["mediaType"].endswith("index.v1+json"):
        queue += json.loads(blob(d["digest"]))["manifests"]
    elif d["mediaType"].endswith("manifest.v1+json"):
        m = json.loads(blob(d["digest"]))
        queue += [m["config"]] + m["layers"]

desc_re = re.compile(rb'"digest":"(sha256:[0-9a-f]{64})","mediaType":"([^"]*)","size":\d+')


def template(data):
    return desc_re.sub(lambda m: b'"digest":"$D%d","mediaType":"%s","size":$S%d' % (
        seen[m.group(1).decode()], m.group(2), seen[m.group(1).decode()]), data)


docs = [template(blob(d["digest"])) for d in order]
experiment = SEP.join(docs)
put("sealed", "gd-sweep", experiment)
put("validate", "gd-sweep", experiment)
# One run alone: the index with its first run entry, that run's manifest, config and layers.
index = json.loads(blob(root["digest"]))
run0 = index["manifests"][0]
m0 = json.loads(blob(run0["digest"]))
small = [root, run0, m0["config"]] + m0["layers"]
renum = {d["digest"]: i for i, d in enumerate(small)}
index["manifests"] = [run0]
def small_template(data):
    return desc_re.sub(lambda m: b'"digest":"$D%d","mediaType":"%s","size":$S%d' % (
        renum[m.group(1).decode()], m.group(2), renum[m.group(1).decode()]), data)
one = [small_template(json.dumps(index, sort_keys=True, separators=(",", ":")).encode())] + \
      [small_template(blob(d["digest"])) for d in small[1:]]
put("sealed", "one-run", SEP.join(one))
put("validate", "one-run", SEP.join(one))

# Manifests, indexes, descriptors, JSON and digests from the same experiment.
put("manifest", "layout-index.json", layout_index)
for i, d in enumerate(order):
    data = blob(d["digest"])
    if "manifest" in d["mediaType"] or "index" in d["mediaType"]:
        put("manifest", "%s-%d.json" % (d["mediaType"].split(".")[-2].split("+")[0], i), data)
        put("json", "node-%d.json" % i, data)
    elif data.startswith(b"{"):
        put("json", "config-%d.json" % i, data)
    put("descriptor", "desc-%d.json" % i, json.dumps(d, sort_keys=True, separators=(",", ":")))
    put("digest", "digest-%d" % i, d["digest"])
    put("media_type", "type-%d" % i, d["mediaType"])
empty = {"mediaType": "application/vnd.oci.empty.v1+json", "size": 2, "data": "e30=",
         "digest": "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"}
put("descriptor", "empty-with-data.json", json.dumps(empty))
put("digest", "sha512", "sha512:" + "ab" * 64)
put("digest", "unregistered", "multihash+base58:QmRZxt2b1FVZPNqd8hsiykDL3TdBDeTSPX9Kv46HmX4Gx8")
put("media_type", "docker-list", "application/vnd.docker.distribution.manifest.list.v2+json")
put("json", "escapes.json", '{"a":"\\u00e9\\n\\ud83d\\ude00","b":[1,-2.5e-7,1e300,true,false,null],"c":{}}')

# JSON lines, zstd.
put("jsonl", "records.jsonl", '{"step":0,"loss":1.5}\n{"step":1,"loss":0.75}\r\n\n{"done":true}\n')
for name, plain, level in [("json.zst", b'{"loss":[1.5,0.75,0.375]}', "-3"), ("zeros.zst", bytes(4096), "-19"),
                          ("empty.zst", b"", "-1")]:
    put("zstd", name, subprocess.run(["zstd", "-q", "-c", level, "--no-check"], input=plain, check=True,
                                     capture_output=True).stdout)

# NumPy files, written by numpy itself.
def npy(arr, version=None):
    buf = io.BytesIO()
    if version is None:
        numpy.save(buf, arr)
    else:
        numpy.lib.format.write_array(buf, arr, version=version)
    return buf.getvalue()
put("npy", "f64-2x3.npy", npy(numpy.arange(6, dtype="<f8").reshape(2, 3)))
put("npy", "i32-be-fortran.npy", npy(numpy.asfortranarray(numpy.arange(6, dtype=">i4").reshape(2, 3))))
put("npy", "f16-v2.npy", npy(numpy.array([1.5, -2, numpy.inf], dtype="<f2"), (2, 0)))
put("npy", "c64-v3.npy", npy(numpy.array([1 + 2j], dtype="<c8"), (3, 0)))
put("npy", "bool-0d.npy", npy(numpy.array(True)))
put("npy", "u8-empty.npy", npy(numpy.zeros((0, 4), dtype="u1")))
put("npy", "str-le.npy", npy(numpy.array([["a", "\u00e9t\u00e9"], ["", "\U0001f600"]])))
put("npy", "str-be-fortran-v3.npy", npy(numpy.asfortranarray(numpy.array([["ab", "c"], ["d\x00e", "f"]], dtype=">U3")), (3, 0)))
put("npy", "str-0d.npy", npy(numpy.array("x")))
put("npy", "bytes.npy", npy(numpy.array([b"abc", b"", b"\xff\x00z"])))
put("npy", "bytes-empty-v2.npy", npy(numpy.zeros((0, 3), dtype="S4"), (2, 0)))
put("npy", "void.npy", npy(numpy.array([b"\x00\x01\x02", b"\xff\x00\x00"], dtype="V3")))
put("npy", "structured.npy", npy(numpy.zeros(2, dtype=[("a", "<i4"), ("b", "S2")])))
put("npy", "datetime.npy", npy(numpy.array(["2020-01-01"], dtype="datetime64[D]")))

# Tars: a directory layer (what TarCodec writes: pax) and a GNU one with a
# link, and an oci-archive of a small layout.
def tar(entries, fmt):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as t:
        for name, kind, data in entries:
            info = tarfile.TarInfo(name)
            if kind == "dir":
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                t.addfile(info)
            elif kind == "link":
                info.type, info.linkname = tarfile.SYMTYPE, data
                t.addfile(info)
            else:
                info.size, info.mode = len(data), 0o644
                t.addfile(info, io.BytesIO(data))
    return buf.getvalue()
put("tar", "tree-pax.tar", tar([("a", "dir", None), ("a/x.txt", "file", b"x\n"), ("a/l", "link", "x.txt")], tarfile.PAX_FORMAT))
put("tar", "tree-gnu.tar", tar([("b/" + "n" * 120, "file", b"long name"), ("c", "file", b"")], tarfile.GNU_FORMAT))
small_layout = [("oci-layout", "file", b'{"imageLayoutVersion":"1.0.0"}'), ("blobs", "dir", None),
                ("blobs/sha256", "dir", None)]
empty_digest = "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
small_layout.append(("blobs/sha256/" + empty_digest, "file", b"{}"))
small_layout.append(("index.json", "file", b'{"manifests":[],"schemaVersion":2}'))
put("oci_archive", "layout.tar", tar(small_layout, tarfile.PAX_FORMAT))
put("oci_archive", "layout-gnu.tar", tar(small_layout, tarfile.GNU_FORMAT))

# References and tags (the README's forms), challenges, Location/Link, docker config.
for i, r in enumerate(["127.0.0.1:5000/team/sweeps:v1", "ghcr.io/org/a.b_c--d/e@sha256:" + "a" * 64,
                       "[::1]:5000/x", "localhost/x:t@sha256:" + "b" * 64, "gd-sweep-v1", "v1.0_rc-2"]):
    put("reference", "ref-%d" % i, r)
put("www_authenticate", "bearer", 'Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push"')
put("www_authenticate", "two", 'Basic realm="reg", Bearer realm=https://a/t,error="invalid_token"')
put("www_authenticate", "escaped", 'Bearer realm="a\\"b", scope=x')
put("url", "relative", "http://127.0.0.1:5000/v2/a/tags/list?n=100\n@@@\n/v2/a/tags/list?last=b&n=100")
put("url", "absolute", "https://reg.example/v2/a/blobs/uploads/\n@@@\nhttps://reg.example:443/v2/a/blobs/uploads/u1?_state=x")
put("url", "dot-segments", "http://h:5000/v2/a/b/\n@@@\n../../c?x=%2F#frag")
auth = base64.b64encode(b"user:pa:ss").decode()
put("docker_config", "auths.json", json.dumps({"auths": {"reg.example:5000": {"auth": auth},
                                                         "https://reg.example": {"username": "u", "password": "p"}}}))
put("docker_config", "token.json", json.dumps({"auths": {"reg.example": {"identitytoken": "refresh"}}}))
put("docker_config", "helpers.json", json.dumps({"credHelpers": {"reg.example": "none"}, "credsStore": "desktop"}))
