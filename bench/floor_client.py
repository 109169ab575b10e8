#!/usr/bin/python3
"""bench/floor_client.py: the floor for bench/scale.sh (issue 15).

A raw registry client that does the minimum a push or a pull of an OCI graph
needs and nothing else, so sealrun's push and pull of the same graph can be
put against it: THREADS threads (default 8), each with its own keep-alive
http.client connection, plain HTTP.

  floor_client.py push HOST REPO LAYOUT TAG [--threads N]
      pushes the graph LAYOUT's index.json names TAG (an OCI image layout:
      index.json + blobs/sha256/) to http://HOST/v2/REPO: every blob by a
      HEAD-less monolithic upload (POST /blobs/uploads/, then one PUT of the
      whole blob to the Location with ?digest=), then every manifest by one
      PUT, children before their parents (the root last, by TAG).
  floor_client.py pull HOST REPO TAG DIR [--threads N]
      GETs the root manifest by TAG, then every object it reaches, one GET
      each, level by level, writing each to DIR/blobs/sha256/HEX (no fsync,
      no digest check: the floor, not a client).

Prints one JSON line on stdout: {"op", "seconds", "requests", "objects",
"bytes", "threads"}; requests are counted on the client's side (scale.sh
also counts them in the registry's access log).
"""

import argparse
import concurrent.futures
import http.client
import json
import os
import threading
import time
import urllib.parse

MANIFEST_TYPES = {
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
}
ACCEPT = ", ".join(sorted(MANIFEST_TYPES))


class Floor:
    def __init__(self, host, threads):
        self.host = host
        self.threads = threads
        self.local = threading.local()
        self.lock = threading.Lock()
        self.requests = 0
        self.bytes = 0

    def conn(self):
        c = getattr(self.local, "conn", None)
        if c is None:
            c = http.client.HTTPConnection(self.host, timeout=120)
            self.local.conn = c
        return c

    def request(self, method, path, body=None, headers=None, expect=(200,)):
        c = self.conn()
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        data = r.read()
        with self.lock:
            self.requests += 1
            self.bytes += len(data) + (len(body) if body else 0)
        if r.status not in expect:
            raise RuntimeError(f"{method} {path}: HTTP {r.status} {data[:200]!r}")
        return r, data

    def pool(self):
        return concurrent.futures.ThreadPoolExecutor(self.threads)


def blob_path(layout, digest):
    algo, hexd = digest.split(":", 1)
    return os.path.join(layout, "blobs", algo, hexd)


def children(media_type, data):
    if media_type not in MANIFEST_TYPES:
        return []
    doc = json.loads(data)
    out = []
    if "config" in doc:
        out.append(doc["config"])
    out.extend(doc.get("layers", []))
    out.extend(doc.get("manifests", []))
    if "subject" in doc:
        pass  # a referrer's subject is not one of its children
    return out


def push(args):
    f = Floor(args.host, args.threads)
    with open(os.path.join(args.layout, "index.json"), "rb") as fh:
        index = json.load(fh)
    roots = [d for d in index["manifests"]
             if d.get("annotations", {}).get("org.opencontainers.image.ref.name") == args.tag]
    if len(roots) != 1:
        raise SystemExit(f"{args.layout} has {len(roots)} entries tagged {args.tag}")
    root = roots[0]
    # Walk the graph once (outside the timing): blobs, and manifests by depth.
    blobs, manifests, depth = {}, {}, {}
    todo = [(root, 0)]
    while todo:
        d, level = todo.pop()
        dg = d["digest"]
        if d["mediaType"] in MANIFEST_TYPES:
            if depth.get(dg, -1) >= level:
                continue
            depth[dg] = level
            with open(blob_path(args.layout, dg), "rb") as fh:
                data = fh.read()
            manifests[dg] = (d["mediaType"], data)
            todo.extend((c, level + 1) for c in children(d["mediaType"], data))
        else:
            blobs[dg] = d["size"]
    repo = args.repo

    def put_blob(dg):
        with open(blob_path(args.layout, dg), "rb") as fh:
            data = fh.read()
        r, _ = f.request("POST", f"/v2/{repo}/blobs/uploads/", body=b"", expect=(202,),
                         headers={"Content-Length": "0"})
        loc = r.getheader("Location")
        u = urllib.parse.urlsplit(loc)
        path = u.path + "?" + (u.query + "&" if u.query else "") + "digest=" + urllib.parse.quote(dg)
        f.request("PUT", path, body=data, expect=(201,),
                  headers={"Content-Type": "application/octet-stream", "Content-Length": str(len(data))})

    def put_manifest(dg):
        mt, data = manifests[dg]
        ref = args.tag if dg == root["digest"] else dg
        f.request("PUT", f"/v2/{repo}/manifests/{ref}", body=data, expect=(201,),
                  headers={"Content-Type": mt, "Content-Length": str(len(data))})

    t0 = time.monotonic()
    with f.pool() as ex:
        list(ex.map(put_blob, blobs))
        for level in sorted(set(depth.values()), reverse=True):
            list(ex.map(put_manifest, [dg for dg, lv in depth.items() if lv == level]))
    secs = time.monotonic() - t0
    print(json.dumps({"op": "push", "seconds": round(secs, 3), "requests": f.requests,
                      "objects": len(blobs) + len(manifests), "bytes": f.bytes, "threads": args.threads}))


def pull(args):
    f = Floor(args.host, args.threads)
    repo = args.repo
    os.makedirs(os.path.join(args.dir, "blobs", "sha256"), exist_ok=True)
    seen = set()

    def get(ref, is_manifest):
        if is_manifest:
            r, data = f.request("GET", f"/v2/{repo}/manifests/{ref}", headers={"Accept": ACCEPT})
            mt = r.getheader("Content-Type", "").split(";")[0].strip()
        else:
            _, data = f.request("GET", f"/v2/{repo}/blobs/{ref}", expect=(200,))
            mt = ""
        return ref, mt, data

    def store(digest, data):
        with open(blob_path(args.dir, digest), "wb") as fh:
            fh.write(data)

    t0 = time.monotonic()
    _, mt, data = get(args.tag, True)
    import hashlib
    root_digest = "sha256:" + hashlib.sha256(data).hexdigest()
    store(root_digest, data)
    seen.add(root_digest)
    level = [d for d in children(mt, data)]
    with f.pool() as ex:
        while level:
            todo = []
            for d in level:
                if d["digest"] not in seen:
                    seen.add(d["digest"])
                    todo.append(d)
            results = list(ex.map(lambda d: get(d["digest"], d["mediaType"] in MANIFEST_TYPES), todo))
            nxt = []
            for (dg, _, body), d in zip(results, todo):
                store(dg, body)
                nxt.extend(children(d["mediaType"], body))
            level = nxt
    secs = time.monotonic() - t0
    print(json.dumps({"op": "pull", "seconds": round(secs, 3), "requests": f.requests,
                      "objects": len(seen), "bytes": f.bytes, "threads": args.threads}))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("push")
    a.add_argument("host")
    a.add_argument("repo")
    a.add_argument("layout")
    a.add_argument("tag")
    a.add_argument("--threads", type=int, default=8)
    b = sub.add_parser("pull")
    b.add_argument("host")
    b.add_argument("repo")
    b.add_argument("tag")
    b.add_argument("dir")
    b.add_argument("--threads", type=int, default=8)
    args = p.parse_args()
    push(args) if args.cmd == "push" else pull(args)


if __name__ == "__main__":
    main()
