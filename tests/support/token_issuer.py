#!/usr/bin/python3
"""A Docker registry token server for tests (python stdlib only).

Implements the token protocol docker-registry's `auth: token:` expects:

  GET /token?service=S&scope=repository:NAME:pull,push[&scope=...]
      with HTTP Basic credentials. Valid credentials get a token granting
      the requested scopes; anonymous requests get a token with no access
      (access: []); wrong credentials get 401.
  POST /token  (OAuth2 form: grant_type=password, username, password,
      service, scope) answers the same way; grant_type=refresh_token with
      the --refresh-token value (docker's identity token) stands for the
      user's credentials.

The token is an RS256 JWT whose header carries the signing certificate in
x5c; docker-registry verifies that chain against its rootcertbundle. Python
has no RSA, so `openssl dgst -sha256 -sign KEY` signs.

Test hooks:
  GET  /stats  -> JSON counters and the list of token requests seen
  POST /reset  -> zero the counters

The port (bound on 127.0.0.1, port 0) is written to --port-file once the
server listens.
"""

import argparse
import base64
import json
import os
import ssl
import subprocess
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def pem_to_der_b64(pem_path: str) -> str:
    text = open(pem_path, encoding="ascii").read()
    start = text.index("-----BEGIN CERTIFICATE-----") + len("-----BEGIN CERTIFICATE-----")
    end = text.index("-----END CERTIFICATE-----")
    der = base64.b64decode("".join(text[start:end].split()))
    return base64.b64encode(der).decode("ascii")  # x5c is standard base64, not base64url


def parse_scopes(values):
    """Turns scope parameters into access entries.

    Each value may hold several space-separated scopes. A scope is
    TYPE:NAME:ACTIONS; NAME may itself contain ':' (a registry host with a
    port), so TYPE is before the first ':' and ACTIONS after the last.
    """
    access = []
    for value in values:
        for scope in value.split():
            first = scope.find(":")
            last = scope.rfind(":")
            if first < 0 or last == first:
                continue
            typ, name, actions = scope[:first], scope[first + 1:last], scope[last + 1:]
            acts = [a for a in actions.split(",") if a]
            # Merge repeated scopes for the same resource.
            for entry in access:
                if entry["type"] == typ and entry["name"] == name:
                    for a in acts:
                        if a not in entry["actions"]:
                            entry["actions"].append(a)
                    break
            else:
                access.append({"type": typ, "name": name, "actions": acts})
    return access


class Issuer:
    def __init__(self, args):
        self.args = args
        self.x5c = [pem_to_der_b64(args.token_cert)]
        self.lock = threading.Lock()
        self.stats = self.empty_stats()

    @staticmethod
    def empty_stats():
        return {"requests": 0, "issued": 0, "anonymous": 0, "denied": 0, "other": 0, "log": []}

    def reset(self):
        with self.lock:
            self.stats = self.empty_stats()

    def sign(self, signing_input: bytes) -> bytes:
        proc = subprocess.run(
            ["openssl", "dgst", "-sha256", "-sign", self.args.token_key],
            input=signing_input, stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
        if proc.returncode != 0:
            raise RuntimeError("openssl dgst failed: " + proc.stderr.decode(errors="replace"))
        return proc.stdout

    def make_token(self, subject: str, access) -> str:
        now = int(time.time())
        header = {"alg": "RS256", "typ": "JWT", "x5c": self.x5c}
        claims = {
            "iss": self.args.issuer,
            "sub": subject,
            "aud": self.args.service,
            "exp": now + self.args.expires_in,
            "nbf": now - 10,
            "iat": now,
            "jti": uuid.uuid4().hex,
            "access": access,
        }
        signing_input = (b64url(json.dumps(header, separators=(",", ":")).encode()) + "." +
                         b64url(json.dumps(claims, separators=(",", ":")).encode())).encode("ascii")
        return signing_input.decode("ascii") + "." + b64url(self.sign(signing_input))


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 60
    server_version = "sealrun-token-issuer/1"

    def log_message(self, fmt, *args):  # to stderr, which is the log file
        sys.stderr.write("%s %s\n" % (self.log_date_time_string(), fmt % args))

    def send_json(self, code, obj, extra_headers=()):
        body = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in extra_headers:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def read_body(self) -> bytes:
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""

    def basic_credentials(self):
        auth = self.headers.get("Authorization") or ""
        if not auth.lower().startswith("basic "):
            return None
        try:
            user, _, password = base64.b64decode(auth[6:].strip()).decode("utf-8").partition(":")
        except Exception:  # malformed header: treat as wrong credentials
            return ("", "\0invalid")
        return (user, password)

    def issue(self, service, scopes, creds, grant=None):
        issuer = self.server.issuer
        args = issuer.args
        # What credentials arrived, exactly: the Authorization header as
        # sent, and whether the form carried a password or refresh token.
        entry = {"method": self.command, "service": service, "scopes": scopes,
                 "user": creds[0] if creds else None, "grant": grant,
                 "authorization": self.headers.get("Authorization"),
                 "form_secret": self.form_secret}
        with issuer.lock:
            issuer.stats["requests"] += 1
        if service and service != args.service:
            # docker-registry would reject the audience anyway; say so early.
            entry["result"] = "bad-service"
            with issuer.lock:
                issuer.stats["denied"] += 1
                issuer.stats["log"].append(entry)
            self.send_json(400, {"errors": [{"code": "DENIED", "message": "unknown service " + service}]})
            return
        if creds is None:
            access, subject, result = [], "", "anonymous"
        elif creds == (args.user, args.password):
            access, subject, result = parse_scopes(scopes), args.user, "issued"
        else:
            entry["result"] = "denied"
            with issuer.lock:
                issuer.stats["denied"] += 1
                issuer.stats["log"].append(entry)
            self.send_json(401, {"errors": [{"code": "UNAUTHORIZED", "message": "invalid credentials"}]},
                           [("WWW-Authenticate", 'Basic realm="sealrun-test-issuer"')])
            return
        token = issuer.make_token(subject, access)
        entry["result"] = result
        entry["access"] = access
        with issuer.lock:
            issuer.stats[result] += 1
            issuer.stats["log"].append(entry)
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        self.send_json(200, {"token": token, "access_token": token,
                             "expires_in": args.expires_in, "issued_at": now})

    form_secret = None  # the password or refresh token a POST carried

    def do_GET(self):
        self.form_secret = None
        url = urlsplit(self.path)
        query = parse_qs(url.query, keep_blank_values=True)
        issuer = self.server.issuer
        if url.path == "/token":
            service = (query.get("service") or [""])[0]
            self.issue(service, query.get("scope", []), self.basic_credentials())
        elif url.path == "/stats":
            with issuer.lock:
                snapshot = json.loads(json.dumps(issuer.stats))
            self.send_json(200, snapshot)
        else:
            with issuer.lock:
                issuer.stats["other"] += 1
            self.send_json(404, {"errors": [{"code": "NOT_FOUND", "message": self.path}]})

    def do_POST(self):
        url = urlsplit(self.path)
        body = self.read_body()
        issuer = self.server.issuer
        if url.path == "/reset":
            issuer.reset()
            self.send_json(200, {})
        elif url.path == "/token":
            form = parse_qs(body.decode("utf-8", errors="replace"), keep_blank_values=True)
            grant = (form.get("grant_type") or [""])[0]
            self.form_secret = ((form.get("refresh_token") or form.get("password") or [None])[0])
            if grant == "refresh_token":
                given = (form.get("refresh_token") or [""])[0]
                ok = bool(issuer.args.refresh_token) and given == issuer.args.refresh_token
                creds = (issuer.args.user, issuer.args.password) if ok else ("", "\0invalid")
                self.issue((form.get("service") or [""])[0], form.get("scope", []), creds, grant)
                return
            if grant != "password":
                with issuer.lock:
                    issuer.stats["other"] += 1
                self.send_json(400, {"error": "unsupported_grant_type"})
                return
            creds = ((form.get("username") or [""])[0], (form.get("password") or [""])[0])
            self.issue((form.get("service") or [""])[0], form.get("scope", []), creds, grant)
        else:
            with issuer.lock:
                issuer.stats["other"] += 1
            self.send_json(404, {"errors": [{"code": "NOT_FOUND", "message": self.path}]})


class Server(ThreadingHTTPServer):
    tls = None

    def finish_request(self, request, client_address):
        # The TLS handshake runs on the connection's own thread, so a client
        # that connects and stalls cannot block accept().
        if self.tls is not None:
            request.settimeout(30)
            request = self.tls.wrap_socket(request, server_side=True)
            try:
                super().finish_request(request, client_address)
            finally:
                request.close()
            return
        super().finish_request(request, client_address)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port-file", required=True)
    p.add_argument("--token-cert", required=True)
    p.add_argument("--token-key", required=True)
    p.add_argument("--tls-cert")
    p.add_argument("--tls-key")
    p.add_argument("--user", required=True)
    p.add_argument("--password", required=True)
    p.add_argument("--service", default="sealrun-test")
    p.add_argument("--issuer", default="sealrun-test-issuer")
    p.add_argument("--expires-in", type=int, default=300)
    p.add_argument("--refresh-token", default="", help="the identity token grant_type=refresh_token accepts")
    args = p.parse_args()

    server = Server(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.issuer = Issuer(args)
    if args.tls_cert:
        server.tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        server.tls.load_cert_chain(args.tls_cert, args.tls_key)
    port = server.server_address[1]
    tmp = args.port_file + ".tmp"
    with open(tmp, "w", encoding="ascii") as f:
        f.write("%d\n" % port)
    os.rename(tmp, args.port_file)
    sys.stderr.write("token issuer listening on 127.0.0.1:%d (tls=%s)\n" % (port, bool(args.tls_cert)))
    server.serve_forever()


if __name__ == "__main__":
    main()
