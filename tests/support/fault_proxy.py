#!/usr/bin/python3
"""An HTTP/1.1 fault-injecting proxy for tests (python stdlib only).

Listens on 127.0.0.1 (port 0; the port is written to --port-file) and
forwards every request to --upstream HOST:PORT (plain HTTP), unchanged: the
Host header is kept, so a registry builds Location URLs that point back at
the proxy.

Client connections are kept alive: request and response bodies are framed
by Content-Length or chunked transfer-encoding (or, for responses only, by
the upstream closing the connection, after which the client connection is
closed too). Each request is forwarded on a fresh upstream connection with
`Connection: close`. `Expect: 100-continue` is answered by the proxy itself
and not forwarded.

Faults (JSON objects, from --fault or POST /_proxy/faults):
  {"kind": K, "method": M, "path": P, "times": N, ...}
    method  regex, fully matched against the request method ("" = any)
    path    regex, searched in the request target (path and query)
    times   how often the fault fires; -1 = every time
  kinds:
    "respond"         answer with "status" (default 503) instead of
                      forwarding; "retry_after": S adds `Retry-After: S`;
                      "body": TEXT is sent instead of an error document
    "drop"            reset the client connection instead of forwarding
    "delay"           wait "delay_ms" before forwarding
    "reset_response"  forward, then reset the client connection once
                      "after_bytes" bytes of the response body have been
                      sent; fires only when the body is longer than that
    "flip_byte"       forward, XOR 0x01 into the response body byte at
                      "offset"; fires only when the body is long enough
    "reset_request"   reset both connections once "after_bytes" bytes of
                      the request body have been forwarded upstream; fires
                      only when the request body is longer than that
    "redirect"        answer "status" (default 307) with a Location of
                      "location" in which "{target}" is the request target
    "relocate"        forward, then point the response's Location header
                      at the origin "location" (keeping its path and query),
                      as a registry does when uploads go to blob storage
  Hostile kinds (a registry that tries to hang or exhaust its client):
    "endless"         answer "status" (default 200) with "headers" (a list
                      of [name, value]) and a chunked body that never ends
                      ("x" bytes as fast as the client reads)
    "drip"            forward, sending the response body one byte every
                      "interval_ms" after its first "after_bytes" bytes
    "stall"           forward the response head and "after_bytes" body bytes,
                      then send nothing more
    "silent"          read the request, then never send a response head
    "endless_head"    answer a status line and header lines that never end
    "set_header"      forward, with the response header "name" set to
                      "value" (added when absent); a lying Content-Length on
                      a body is honoured: at most that many bytes are sent,
                      then the connection is closed
  Each of them holds a connection for at most "max_ms" (default 20000)
  before closing it, and lets go as soon as the client closes: the proxy
  never runs on by itself. "respond" also sends "headers".
  A fault counts as fired (and uses up one of its times) only when it
  actually takes effect.

With --basic-auth USER:PASS the proxy guards the upstream as a reverse
proxy with basic auth does: a request without exactly those credentials
gets 401 with a Basic challenge. Each request record says whether the
request carried an Authorization header.

Control endpoints (not forwarded, not counted):
  GET    /_proxy/stats   {"requests": [...], "faults": [...], totals}
  POST   /_proxy/faults  add one fault (JSON body) -> {"id": N}
  DELETE /_proxy/faults  remove every fault
  POST   /_proxy/reset   forget the request records
"""

import argparse
import base64
import json
import os
import re
import select
import socket
import struct
import sys
import threading
import time

HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "te", "upgrade", "proxy-authorization",
              "proxy-authenticate"}
MAX_HEAD = 64 * 1024


class Reset(Exception):
    """The proxy reset a connection on purpose."""


class Closed(Exception):
    """A peer closed its connection."""


class Conn:
    """A socket with a read buffer."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = bytearray()
        self.counted = False

    def fill(self):
        data = self.sock.recv(65536)
        if not data:
            raise Closed()
        self.buf += data

    def readline(self, limit=MAX_HEAD):
        while True:
            i = self.buf.find(b"\n")
            if i >= 0:
                line = bytes(self.buf[:i + 1])
                del self.buf[:i + 1]
                return line
            if len(self.buf) > limit:
                raise ValueError("line too long")
            self.fill()

    def read_some(self, n):
        if not self.buf:
            self.fill()
        chunk = bytes(self.buf[:n])
        del self.buf[:n]
        return chunk

    def read_head(self):
        """Returns the lines of a message head (without the blank line)."""
        lines = []
        total = 0
        while True:
            line = self.readline()
            total += len(line)
            if total > MAX_HEAD:
                raise ValueError("head too large")
            if line in (b"\r\n", b"\n"):
                if not lines:  # tolerate stray CRLF between messages
                    continue
                return lines
            lines.append(line.rstrip(b"\r\n").decode("latin-1"))

    def sendall(self, data):
        self.sock.sendall(data)

    def reset(self):
        """Closes with RST instead of FIN."""
        try:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
        self.close()

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def parse_headers(lines):
    headers = []
    for line in lines:
        name, sep, value = line.partition(":")
        if not sep:
            raise ValueError("bad header line: %r" % line)
        headers.append((name.strip(), value.strip()))
    return headers


def header(headers, name):
    name = name.lower()
    for k, v in headers:
        if k.lower() == name:
            return v
    return None


def connection_tokens(headers):
    tokens = set()
    for k, v in headers:
        if k.lower() == "connection":
            tokens.update(t.strip().lower() for t in v.split(","))
    return tokens


def body_framing(headers):
    """('chunked', None), ('length', n) or (None, None)."""
    te = header(headers, "Transfer-Encoding")
    if te is not None and te.lower().split(",")[-1].strip() == "chunked":
        return "chunked", None
    cl = header(headers, "Content-Length")
    if cl is not None:
        return "length", int(cl)
    return None, None


def head_bytes(first_line, headers):
    out = [first_line]
    out += ["%s: %s" % (k, v) for k, v in headers]
    return ("\r\n".join(out) + "\r\n\r\n").encode("latin-1")


def stream_body(src, framing, length, emit):
    """Reads a body framed as described from src, handing pieces to
    emit(kind, bytes): kind "data" for body bytes, "frame" for chunked
    framing (size lines, CRLFs, trailers) that must pass unchanged.
    framing "close" reads until src closes."""
    if framing == "length":
        left = length
        while left > 0:
            chunk = src.read_some(min(left, 65536))
            left -= len(chunk)
            emit("data", chunk)
    elif framing == "chunked":
        while True:
            size_line = src.readline()
            size = int(size_line.split(b";")[0].strip() or b"0", 16)
            emit("frame", size_line)
            if size == 0:
                while True:  # trailers up to the blank line
                    line = src.readline()
                    emit("frame", line)
                    if line in (b"\r\n", b"\n"):
                        return
            left = size
            while left > 0:
                chunk = src.read_some(min(left, 65536))
                left -= len(chunk)
                emit("data", chunk)
            crlf = src.readline()
            emit("frame", crlf)
    elif framing == "close":
        while True:
            try:
                chunk = src.read_some(65536)
            except Closed:
                return
            emit("data", chunk)


def relocated(location, new_origin):
    """location (absolute or a path) moved to new_origin, path and query kept."""
    m = re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://[^/]*", location)
    rest = location[m.end():] if m else location
    return new_origin.rstrip("/") + rest


def hold(conn, seconds):
    """Keeps conn open, sending nothing, until the peer closes it or
    `seconds` pass."""
    deadline = time.monotonic() + seconds
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return
        try:
            ready, _, _ = select.select([conn.sock], [], [], min(left, 0.5))
            if ready and not conn.sock.recv(65536):
                return  # the peer closed
        except OSError:
            return


class Fault:
    KINDS = {"respond", "drop", "delay", "reset_response", "flip_byte", "reset_request", "redirect", "relocate",
             "endless", "drip", "stall", "silent", "set_header", "endless_head"}

    def __init__(self, fid, spec):
        self.id = fid
        self.kind = spec.get("kind")
        if self.kind not in self.KINDS:
            raise ValueError("unknown fault kind %r" % self.kind)
        self.method = spec.get("method") or ""
        self.path = spec.get("path") or ""
        self.method_re = re.compile(self.method or ".*")
        self.path_re = re.compile(self.path)
        self.times = int(spec.get("times", 1))
        self.status = int(spec.get("status", 503))
        self.retry_after = spec.get("retry_after")
        self.after_bytes = int(spec.get("after_bytes", 0))
        self.offset = int(spec.get("offset", 0))
        self.delay_ms = int(spec.get("delay_ms", 0))
        self.location = spec.get("location") or ""
        self.headers = [(str(k), str(v)) for k, v in spec.get("headers") or []]
        self.name = spec.get("name") or ""
        self.value = str(spec.get("value") or "")
        self.interval_ms = int(spec.get("interval_ms", 500))
        self.max_ms = int(spec.get("max_ms", 20000))
        self.body = spec.get("body")
        if self.kind == "redirect" and "status" not in spec:
            self.status = 307
        if self.kind == "endless" and "status" not in spec:
            self.status = 200
        self.fired = 0

    def matches(self, method, target):
        return (self.times < 0 or self.fired < self.times) and \
            self.method_re.fullmatch(method) is not None and self.path_re.search(target) is not None

    def to_json(self):
        return {"id": self.id, "kind": self.kind, "method": self.method, "path": self.path,
                "times": self.times, "status": self.status, "retry_after": self.retry_after,
                "after_bytes": self.after_bytes, "offset": self.offset, "delay_ms": self.delay_ms,
                "location": self.location, "headers": self.headers, "name": self.name, "value": self.value,
                "interval_ms": self.interval_ms, "max_ms": self.max_ms, "fired": self.fired}


class Proxy:
    def __init__(self, upstream, basic_auth=None):
        self.basic_auth = None
        if basic_auth:
            self.basic_auth = "Basic " + base64.b64encode(basic_auth.encode()).decode()
        host, _, port = upstream.rpartition(":")
        self.upstream = (host, int(port))
        self.lock = threading.Lock()
        self.faults = []
        self.next_id = 1
        self.requests = []
        self.connections = 0

    def add_fault(self, spec):
        with self.lock:
            fault = Fault(self.next_id, spec)
            self.next_id += 1
            self.faults.append(fault)
            return fault.id

    def candidates(self, kinds, method, target):
        with self.lock:
            return [f for f in self.faults if f.kind in kinds and f.matches(method, target)]

    def try_fire(self, fault):
        """Uses up one of the fault's times; False when none is left."""
        with self.lock:
            if fault.times >= 0 and fault.fired >= fault.times:
                return False
            fault.fired += 1
            return True

    def first_firing(self, kinds, method, target):
        for fault in self.candidates(kinds, method, target):
            if self.try_fire(fault):
                return fault
        return None

    def stats(self):
        with self.lock:
            return {
                "requests": [dict(r) for r in self.requests],
                "faults": [f.to_json() for f in self.faults],
                "connections": self.connections,
                "request_bytes": sum(r["request_bytes"] for r in self.requests),
                "response_bytes": sum(r["response_bytes"] for r in self.requests),
            }

    # -- connection handling ------------------------------------------------

    def serve_client(self, sock):
        client = Conn(sock)
        try:
            while self.serve_one(client):
                pass
        except Reset:
            pass
        except (Closed, ConnectionError, TimeoutError, OSError):
            pass
        except Exception as e:  # a bug or an unparseable message: say so, close
            sys.stderr.write("fault proxy: %s: %r\n" % (type(e).__name__, e))
        finally:
            client.close()

    def send_simple(self, client, status, reason, body, extra=(), close=False):
        headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
        headers += list(extra)
        if close:
            headers.append(("Connection", "close"))
        client.sendall(head_bytes("HTTP/1.1 %d %s" % (status, reason), headers) + body)

    def serve_one(self, client):
        """Serves one request; returns whether the connection stays open."""
        try:
            if not client.buf:
                client.fill()
        except Closed:
            return False
        if client.buf[0] == 0x16:
            # A TLS ClientHello (a client probing https first, as skopeo
            # does with --tls-verify=false): answer like Go's net/http so the
            # client falls back to plain HTTP at once instead of waiting out
            # its handshake timeout.
            client.sendall(b"HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n")
            return False
        try:
            lines = client.read_head()
        except Closed:
            return False
        parts = lines[0].split(" ")
        if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
            # Not an HTTP/1.x request line.
            self.send_simple(client, 400, "Bad Request", b'{"error":"not HTTP/1.x"}', close=True)
            return False
        method, target, version = parts
        headers = parse_headers(lines[1:])
        framing, length = body_framing(headers)
        conn_tokens = connection_tokens(headers)
        keep_alive = ("close" not in conn_tokens) and (version == "HTTP/1.1" or "keep-alive" in conn_tokens)
        expect = (header(headers, "Expect") or "").lower() == "100-continue"

        if target.startswith("/_proxy/"):
            body = self.read_whole(client, framing, length, expect)
            self.control(client, method, target, body)
            return keep_alive

        authorization = header(headers, "Authorization")
        record = {"method": method, "path": target, "status": 0, "request_bytes": 0,
                  "response_bytes": 0, "fault": None, "authorization": authorization is not None}
        with self.lock:
            self.requests.append(record)
            if not client.counted:  # connections that only talk to /_proxy/ do not count
                client.counted = True
                self.connections += 1

        # Faults decided before forwarding.
        for fault in self.candidates({"delay"}, method, target):
            if self.try_fire(fault):
                time.sleep(fault.delay_ms / 1000.0)
        if self.basic_auth is not None and authorization != self.basic_auth:
            body = json.dumps({"errors": [{"code": "UNAUTHORIZED", "message": "authentication required"}]}).encode()
            record["status"] = 401
            challenge = [("WWW-Authenticate", 'Basic realm="fault-proxy"')]
            if expect:
                self.send_simple(client, 401, "Unauthorized", body, challenge, close=True)
                return False
            self.read_whole(client, framing, length, False)
            self.send_simple(client, 401, "Unauthorized", body, challenge, close=not keep_alive)
            return keep_alive
        fault = self.first_firing({"drop", "respond", "redirect", "endless", "silent", "endless_head"}, method, target)
        if fault is not None:
            record["fault"] = fault.kind
            if fault.kind == "drop":
                client.reset()
                raise Reset()
            if fault.kind == "silent":
                self.read_whole(client, framing, length, expect)
                hold(client, fault.max_ms / 1000.0)
                client.reset()
                raise Reset()
            if fault.kind in ("endless", "endless_head"):
                self.read_whole(client, framing, length, expect)
                self.send_endless(client, fault, record, fault.kind == "endless_head")
                client.reset()
                raise Reset()
            if fault.kind == "redirect":
                record["status"] = fault.status
                self.read_whole(client, framing, length, expect)
                where = [("Location", fault.location.replace("{target}", target))]
                self.send_simple(client, fault.status, "Redirect", b"{}", where, close=not keep_alive)
                return keep_alive
            code = fault.status
            reason = {429: "Too Many Requests", 503: "Service Unavailable", 500: "Internal Server Error",
                      502: "Bad Gateway", 504: "Gateway Timeout"}.get(code, "Injected")
            err = {429: "TOOMANYREQUESTS", 503: "UNAVAILABLE"}.get(code, "UNKNOWN")
            body = json.dumps({"errors": [{"code": err, "message": "injected by fault proxy"}]}).encode()
            if fault.body is not None:
                body = str(fault.body).encode()
            extra = list(fault.headers)
            if fault.retry_after is not None:
                extra.append(("Retry-After", str(fault.retry_after)))
            record["status"] = code
            if expect:
                # The client holds its body back for a 100; answer and close.
                self.send_simple(client, code, reason, body, extra, close=True)
                return False
            self.read_whole(client, framing, length, False)
            self.send_simple(client, code, reason, body, extra, close=not keep_alive)
            return keep_alive

        # Forward the request on a fresh upstream connection.
        out_headers = [(k, v) for k, v in headers
                       if k.lower() not in HOP_BY_HOP and k.lower() != "expect"
                       and k.lower() not in conn_tokens]
        out_headers.append(("Connection", "close"))
        if expect and framing is not None:
            client.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
        try:
            up = Conn(socket.create_connection(self.upstream, timeout=120))
        except OSError as e:
            record["status"] = 502
            self.read_whole(client, framing, length, False)
            self.send_simple(client, 502, "Bad Gateway", json.dumps({"error": str(e)}).encode(), close=True)
            return False
        try:
            up.sendall(head_bytes("%s %s %s" % (method, target, version), out_headers))
            if framing is not None:
                self.forward_request_body(client, up, framing, length, method, target, record)
            return self.forward_response(client, up, method, target, record, keep_alive)
        finally:
            up.close()

    def send_endless(self, client, fault, record, in_head=False):
        """A response head, then body chunks (or, in_head, header lines
        without end) until the client gives up or fault.max_ms pass."""
        record["status"] = fault.status
        if in_head:
            client.sendall(b"HTTP/1.1 %d Endless\r\n" % fault.status)
            piece = b"".join(b"X-Pad-%d: %s\r\n" % (i, b"x" * 100) for i in range(500))
            chunk = piece
        else:
            headers = list(fault.headers) + [("Transfer-Encoding", "chunked")]
            client.sendall(head_bytes("HTTP/1.1 %d Endless" % fault.status, headers))
            piece = b"x" * 65536
            chunk = b"%x\r\n" % len(piece) + piece + b"\r\n"
        deadline = time.monotonic() + fault.max_ms / 1000.0
        client.sock.settimeout(1.0)
        try:
            while time.monotonic() < deadline:
                try:
                    client.sendall(chunk)
                except socket.timeout:
                    continue  # the client is not reading right now
                with self.lock:
                    record["response_bytes"] += len(piece)
        except OSError:
            pass  # the client went away

    def read_whole(self, client, framing, length, expect):
        if framing is None:
            return b""
        if expect:
            client.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
        data = bytearray()
        stream_body(client, framing, length, lambda kind, b: data.extend(b) if kind == "data" else None)
        return bytes(data)

    def forward_request_body(self, client, up, framing, length, method, target, record):
        resets = self.candidates({"reset_request"}, method, target)
        sent = [0]

        def emit(kind, data):
            if kind == "data" and resets:
                for fault in resets:
                    if sent[0] + len(data) > fault.after_bytes and self.try_fire(fault):
                        keep = fault.after_bytes - sent[0]
                        if keep > 0:
                            record["request_bytes"] += keep
                            up.sendall(data[:keep])
                        record["fault"] = fault.kind
                        up.reset()
                        client.reset()
                        raise Reset()
            if kind == "data":
                sent[0] += len(data)
                record["request_bytes"] += len(data)
            up.sendall(data)

        stream_body(client, framing, length, emit)

    def forward_response(self, client, up, method, target, record, keep_alive):
        while True:
            lines = up.read_head()
            status_parts = lines[0].split(" ", 2)
            status = int(status_parts[1])
            headers = parse_headers(lines[1:])
            if 100 <= status < 200 and status != 101:
                continue  # we never forwarded Expect; drop stray interim responses
            break
        record["status"] = status
        if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
            framing, length = "length", 0
        else:
            framing, length = body_framing(headers)
            if framing is None:
                framing = "close"
        up_tokens = connection_tokens(headers)
        out_headers = [(k, v) for k, v in headers
                       if k.lower() not in ("connection", "keep-alive") and k.lower() not in up_tokens]
        if framing == "close":
            keep_alive = False
        if not keep_alive:
            out_headers.append(("Connection", "close"))
        if any(k.lower() == "location" for k, _ in out_headers):
            fault = self.first_firing({"relocate"}, method, target)
            if fault is not None:
                record["fault"] = fault.kind
                out_headers = [(k, relocated(v, fault.location) if k.lower() == "location" else v)
                               for k, v in out_headers]
        claimed = None  # a lying Content-Length: the body bytes the client is promised
        fault = self.first_firing({"set_header"}, method, target)
        if fault is not None:
            record["fault"] = fault.kind
            out_headers = [(k, v) for k, v in out_headers if k.lower() != fault.name.lower()]
            out_headers.append((fault.name, fault.value))
            if fault.name.lower() == "content-length" and method != "HEAD" and framing != "close":
                claimed = int(fault.value)
                # chunked framing is dropped: the client now reads plain bytes
                out_headers = [(k, v) for k, v in out_headers if k.lower() != "transfer-encoding"]
                keep_alive = False
        client.sendall(head_bytes(lines[0], out_headers))

        resets = self.candidates({"reset_response"}, method, target)
        flips = self.candidates({"flip_byte"}, method, target)
        stall = self.first_firing({"stall"}, method, target)
        drip = self.first_firing({"drip"}, method, target)
        for f in (stall, drip):
            if f is not None:
                record["fault"] = f.kind
        if stall is not None and stall.after_bytes == 0:
            hold(client, stall.max_ms / 1000.0)
            client.reset()
            raise Reset()
        sent = [0]
        started = time.monotonic()

        def emit(kind, data):
            if claimed is not None:
                if kind != "data":
                    return  # chunk framing: the client reads a plain body now
                data = data[:max(0, claimed - sent[0])]
                if not data:
                    return
            elif kind != "data":
                client.sendall(data)
                return
            if stall is not None and sent[0] + len(data) >= stall.after_bytes:
                keep = stall.after_bytes - sent[0]
                client.sendall(data[:keep])
                record["response_bytes"] += keep
                hold(client, stall.max_ms / 1000.0)
                client.reset()
                raise Reset()
            if drip is not None and sent[0] + len(data) > drip.after_bytes:
                fast = max(0, drip.after_bytes - sent[0])
                client.sendall(data[:fast])
                sent[0] += fast
                record["response_bytes"] += fast
                for i in range(fast, len(data)):
                    if time.monotonic() - started > drip.max_ms / 1000.0:
                        client.reset()
                        raise Reset()
                    time.sleep(drip.interval_ms / 1000.0)
                    client.sendall(data[i:i + 1])
                    sent[0] += 1
                    record["response_bytes"] += 1
                return
            for fault in flips:
                pos = fault.offset - sent[0]
                if 0 <= pos < len(data) and self.try_fire(fault):
                    data = data[:pos] + bytes([data[pos] ^ 0x01]) + data[pos + 1:]
                    record["fault"] = fault.kind
            for fault in resets:
                if sent[0] + len(data) > fault.after_bytes and self.try_fire(fault):
                    keep = fault.after_bytes - sent[0]
                    if keep > 0:
                        record["response_bytes"] += keep
                        client.sendall(data[:keep])
                    record["fault"] = fault.kind
                    client.reset()
                    raise Reset()
            sent[0] += len(data)
            record["response_bytes"] += len(data)
            client.sendall(data)

        stream_body(up, framing, length, emit)
        if claimed is not None:
            client.close()  # promised more than there was, or less: the connection ends here
            raise Reset()
        return keep_alive

    def control(self, client, method, target, body):
        path = target.split("?")[0]
        try:
            if path == "/_proxy/stats" and method == "GET":
                reply = self.stats()
            elif path == "/_proxy/faults" and method == "POST":
                reply = {"id": self.add_fault(json.loads(body or b"{}"))}
            elif path == "/_proxy/faults" and method == "DELETE":
                with self.lock:
                    self.faults = []
                reply = {}
            elif path == "/_proxy/reset" and method == "POST":
                with self.lock:
                    self.requests = []
                    self.connections = 0
                reply = {}
            else:
                self.send_simple(client, 404, "Not Found", b'{"error":"no such control endpoint"}')
                return
        except (ValueError, re.error) as e:
            self.send_simple(client, 400, "Bad Request", json.dumps({"error": str(e)}).encode())
            return
        self.send_simple(client, 200, "OK", json.dumps(reply).encode())


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port-file", required=True)
    p.add_argument("--upstream", required=True, help="HOST:PORT of a plain HTTP server")
    p.add_argument("--fault", action="append", default=[], help="a fault as JSON (repeatable)")
    p.add_argument("--basic-auth", default=None, help="USER:PASS every forwarded request must carry")
    args = p.parse_args()

    proxy = Proxy(args.upstream, args.basic_auth)
    for spec in args.fault:
        proxy.add_fault(json.loads(spec))

    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(128)
    port = listener.getsockname()[1]
    tmp = args.port_file + ".tmp"
    with open(tmp, "w", encoding="ascii") as f:
        f.write("%d\n" % port)
    os.rename(tmp, args.port_file)
    sys.stderr.write("fault proxy listening on 127.0.0.1:%d -> %s\n" % (port, args.upstream))
    while True:
        sock, _ = listener.accept()
        sock.settimeout(120)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        threading.Thread(target=proxy.serve_client, args=(sock,), daemon=True).start()


if __name__ == "__main__":
    main()
