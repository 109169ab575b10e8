#pragma once
// Test support: a real OCI registry (Debian's docker-registry, Docker
// Distribution 2.8) on 127.0.0.1, with the pieces around it that registry
// tests need: a throw-away PKI, a Docker token issuer and a fault-injecting
// HTTP proxy. No mocks: every object here runs a real process, started with
// posix_spawn, logging to a file, killed and reaped by its destructor.
//
// Typical use:
//   Registry plain;                                   // http://127.0.0.1:PORT
//   Registry basic({.mode = RegistryMode::tls_basic}); // https + htpasswd
//   Pki pki;
//   TokenIssuer issuer(pki);
//   Registry token({.mode = RegistryMode::token, .pki = &pki, .issuer = &issuer});
//   FaultProxy proxy(plain);                          // faults in front of `plain`
//   proxy.add(Fault::respond("GET", "/manifests/", 503));

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/tmpdir.h"

namespace sealrun::test {

namespace detail {
class Process;
}

// source_path returns a file of the source tree (e.g. "tests/support/x.py").
std::filesystem::path source_path(const std::string& relative);

// HttpRequest is one request made with the curl CLI (never through a proxy
// from the environment). Fields left empty are not sent.
struct HttpRequest {
    std::string url;
    std::string method = "GET";
    std::string body;                     // sent as-is (--data-binary)
    std::filesystem::path ca_file;        // --cacert
    std::string user;                     // Basic credentials when not empty
    std::string password;
    std::string bearer;                   // Authorization: Bearer ...
    std::vector<std::string> headers;     // "Name: value"
    std::vector<std::string> curl_args;   // anything else for curl
    int timeout_s = 20;
};

// HttpReply is the final response: status 0 when there was none (then
// `error` holds curl's message and exit code).
struct HttpReply {
    int status = 0;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    std::string error;
    int curl_exit = 0;
    // header returns the first header `name` (any case), or "".
    std::string header(std::string_view name) const;
};

HttpReply http(const HttpRequest& request);

// Pki is a throw-away certificate authority in its own TempDir, made with
// the openssl CLI: a CA (EC P-256, self-signed), a server certificate for
// IP:127.0.0.1 and DNS:localhost (EC P-256) and a token-signing certificate
// (RSA 2048, for RS256), both signed by the CA. Valid for 2 days.
struct Pki {
    Pki();
    Pki(const Pki&) = delete;
    Pki& operator=(const Pki&) = delete;

    TempDir dir;
    std::filesystem::path ca_cert;      // PEM
    std::filesystem::path ca_key;       // PEM
    std::filesystem::path server_cert;  // PEM, leaf only
    std::filesystem::path server_key;   // PEM
    std::filesystem::path token_cert;   // PEM, leaf only
    std::filesystem::path token_key;    // PEM, RSA
    // cert_dir holds ca.crt (a copy of ca_cert): what skopeo's
    // --dest-cert-dir / --src-cert-dir / --cert-dir expect.
    std::filesystem::path cert_dir;
};

class TokenIssuer;

enum class RegistryMode {
    plain,      // HTTP, no auth
    tls_basic,  // HTTPS (Pki server cert) + htpasswd basic auth
    token,      // HTTPS (Pki server cert) + Docker token auth
};

struct RegistryOptions {
    RegistryMode mode = RegistryMode::plain;
    // TLS modes: the PKI whose server certificate the registry serves (and,
    // in token mode, whose CA verifies tokens). nullptr: the issuer's PKI in
    // token mode, else a fresh Pki owned by the registry.
    const Pki* pki = nullptr;
    // tls_basic: the one htpasswd user; empty password = a random one.
    std::string user = "sealrun";
    std::string password;
    // token mode: the issuer whose URL is the realm (and whose PKI and
    // credentials are used unless given). token_realm, when not empty,
    // overrides the realm (e.g. a FaultProxy in front of an HTTP issuer).
    const TokenIssuer* issuer = nullptr;
    std::string token_realm;
    // token mode: serve HTTPS (false: a token-auth registry on plain HTTP).
    bool tls = true;
    std::chrono::milliseconds start_timeout{10000};
};

// Registry runs `docker-registry serve CONFIG.yml` on a free 127.0.0.1 port
// with filesystem storage in its own TempDir, deletes enabled, log level
// warn. It waits until GET /v2/ answers (200, or 401 in auth modes); on
// failure or timeout it throws std::runtime_error with its log.
class Registry {
public:
    explicit Registry(RegistryOptions options = {});
    ~Registry();
    Registry(const Registry&) = delete;
    Registry& operator=(const Registry&) = delete;

    RegistryMode mode() const { return options_.mode; }
    // host is "127.0.0.1:PORT" (the reference prefix: HOST/repo:tag).
    std::string host() const;
    // url is "http://127.0.0.1:PORT" or "https://127.0.0.1:PORT".
    std::string url() const;
    int port() const { return port_; }
    // ca_file is the CA certificate to trust; empty in plain mode.
    std::filesystem::path ca_file() const;
    // cert_dir is a directory holding ca.crt (for skopeo); empty in plain mode.
    std::filesystem::path cert_dir() const;
    // Credentials: the htpasswd user (tls_basic), the issuer's (token),
    // empty (plain).
    const std::string& user() const { return user_; }
    const std::string& password() const { return password_; }
    // storage is the filesystem driver's root directory (blobs live under
    // docker/registry/v2/blobs/sha256/XX/DIGEST/data).
    std::filesystem::path storage() const { return dir_ / "storage"; }
    std::filesystem::path config_file() const { return dir_ / "config.yml"; }
    // log is what the registry has written to its log so far.
    std::string log() const;

private:
    void start();

    RegistryOptions options_;
    std::unique_ptr<Pki> own_pki_;
    const Pki* pki_ = nullptr;
    std::string user_;
    std::string password_;
    TempDir dir_;
    int port_ = 0;
    std::unique_ptr<detail::Process> process_;
};

struct TokenIssuerOptions {
    std::string user = "sealrun";
    std::string password;  // empty: a random one
    int expires_in = 300;  // seconds, the token's exp and the reply's expires_in
    std::string refresh_token;  // an identity token the refresh_token grant accepts; empty: none
    bool tls = true;       // serve HTTPS with the Pki's server certificate
    std::string service = "sealrun-test";
    std::string issuer = "sealrun-test-issuer";
    std::chrono::milliseconds start_timeout{10000};
};

// TokenStats is what the issuer has seen since it started (or reset_stats).
struct TokenStats {
    int requests = 0;   // token requests (GET or POST /token)
    int issued = 0;     // tokens issued to valid credentials
    int anonymous = 0;  // tokens issued without credentials (no access)
    int denied = 0;     // 401 (wrong credentials) or 400 (wrong service)
    // raw["log"] lists every token request: method, service, scopes, user,
    // result ("issued", "anonymous", "denied", "bad-service"), access.
    nlohmann::json raw;
};

// TokenIssuer runs tests/support/token_issuer.py: the Docker token protocol
// (GET /token?service=S&scope=repository:NAME:pull,push with Basic
// credentials; POST /token with an OAuth2 password grant), RS256 JWTs with
// the Pki token certificate in x5c, iss = options.issuer, aud =
// options.service. Wrong credentials get 401; no credentials get a token
// with access [].
class TokenIssuer {
public:
    explicit TokenIssuer(const Pki& pki, TokenIssuerOptions options = {});
    ~TokenIssuer();
    TokenIssuer(const TokenIssuer&) = delete;
    TokenIssuer& operator=(const TokenIssuer&) = delete;

    std::string host() const;   // "127.0.0.1:PORT"
    std::string url() const;    // "https://127.0.0.1:PORT" (http when !tls)
    std::string realm() const;  // url() + "/token"
    int port() const { return port_; }
    const Pki& pki() const { return pki_; }
    std::filesystem::path ca_file() const;  // empty when !tls
    const std::string& user() const { return user_; }
    const std::string& password() const { return password_; }
    const TokenIssuerOptions& options() const { return options_; }

    TokenStats stats() const;
    void reset_stats();
    // token fetches a token for `scopes` ("repository:x:pull,push", ...)
    // with the given credentials (anonymous when user is empty); throws
    // std::runtime_error unless the issuer answers 200.
    std::string token(const std::vector<std::string>& scopes, const std::string& user,
                      const std::string& password) const;
    std::string log() const;

private:
    const Pki& pki_;
    TokenIssuerOptions options_;
    std::string user_;
    std::string password_;
    TempDir dir_;
    int port_ = 0;
    std::unique_ptr<detail::Process> process_;
};

// Fault is one misbehaviour of a FaultProxy. `method` is a regex matched
// against the whole request method (empty: any); `path` a regex searched in
// the request target (path and query, e.g. "/blobs/sha256:"). A fault
// fires at most `times` times (-1: every time), and only counts as fired
// when it takes effect.
struct Fault {
    enum class Kind {
        respond,         // answer `status` (+ Retry-After) instead of forwarding
        drop,            // reset the connection instead of forwarding
        delay,           // wait delay_ms, then forward
        reset_response,  // reset after `bytes` response-body bytes (body must be longer)
        flip_byte,       // XOR 0x01 into response-body byte `bytes` (body must be longer)
        reset_request,   // reset after forwarding `bytes` request-body bytes (body must be longer)
        redirect,        // answer `status` (307) with Location `location` ("{target}" = request target)
        relocate,        // forward, with the response's Location moved to the origin `location`
        // Hostile kinds: each holds a connection at most `max_ms`, and lets
        // go as soon as the client closes it.
        endless,     // answer `status` (200) + `headers` with a chunked body that never ends
        drip,        // forward, the body one byte every `interval_ms` after its first `bytes`
        stall,       // forward the head and `bytes` body bytes, then send nothing more
        silent,      // read the request, never answer
        set_header,  // forward with response header `name` set to `value` (a lying
                     // Content-Length on a body: at most that many bytes, then close)
        endless_head,  // answer a status line and header lines that never end
    };
    Kind kind = Kind::respond;
    std::string method;
    std::string path;
    int times = 1;
    std::uint64_t bytes = 0;  // reset_*: bytes let through; flip_byte: offset
    int status = 503;         // respond
    int retry_after = -1;     // respond: Retry-After seconds when >= 0
    int delay_ms = 0;         // delay
    std::string location;     // redirect, relocate
    std::vector<std::pair<std::string, std::string>> headers;  // respond, endless: extra response headers
    std::optional<std::string> body;  // respond: sent instead of an error document
    std::string name;         // set_header
    std::string value;        // set_header
    int interval_ms = 500;    // drip
    int max_ms = 20000;       // hostile kinds: the longest a connection is held

    static Fault respond(std::string method, std::string path, int status = 503, int times = 1);
    // throttle answers 429 with `Retry-After: retry_after_s`.
    static Fault throttle(std::string method, std::string path, int retry_after_s, int times = 1);
    static Fault drop(std::string method, std::string path, int times = 1);
    static Fault delay(std::string method, std::string path, int delay_ms, int times = 1);
    static Fault reset_response(std::string method, std::string path, std::uint64_t after_bytes, int times = 1);
    static Fault flip_byte(std::string method, std::string path, std::uint64_t offset = 0, int times = 1);
    static Fault reset_request(std::string method, std::string path, std::uint64_t after_bytes, int times = 1);
    static Fault redirect(std::string method, std::string path, std::string location, int times = 1);
    static Fault relocate(std::string method, std::string path, std::string origin, int times = 1);
    static Fault endless(std::string method, std::string path, int status = 200,
                         std::vector<std::pair<std::string, std::string>> headers = {}, int times = 1);
    static Fault drip(std::string method, std::string path, int interval_ms, std::uint64_t after_bytes = 0, int times = 1);
    static Fault stall(std::string method, std::string path, std::uint64_t after_bytes = 0, int times = 1);
    static Fault silent(std::string method, std::string path, int times = 1);
    static Fault endless_head(std::string method, std::string path, int times = 1);
    static Fault set_header(std::string method, std::string path, std::string name, std::string value, int times = 1);

    nlohmann::json to_json() const;
};

// ProxyRequest is one request the proxy saw (control requests excluded).
struct ProxyRequest {
    std::string method;
    std::string path;                // request target, with query
    int status = 0;                  // 0: no response (reset or dropped)
    std::uint64_t request_bytes = 0;   // request-body bytes forwarded upstream
    std::uint64_t response_bytes = 0;  // response-body bytes sent to the client
    std::string fault;               // kind of the fault that hit it, or empty
    bool authorization = false;      // the request carried an Authorization header
};

// ProxyStats is a snapshot of what the proxy has seen. Filters use the
// proxy's semantics: `method` regex fully matched (empty: any), `path`
// regex searched (empty: any).
struct ProxyStats {
    std::vector<ProxyRequest> requests;
    int connections = 0;  // client connections accepted
    nlohmann::json raw;   // the whole /_proxy/stats document

    std::size_t count(const std::string& method = "", const std::string& path = "") const;
    std::uint64_t request_bytes(const std::string& method = "", const std::string& path = "") const;
    std::uint64_t response_bytes(const std::string& method = "", const std::string& path = "") const;
    // fired is how often the fault `id` (from FaultProxy::add) took effect.
    int fired(int id) const;
};

struct FaultProxyOptions {
    std::vector<Fault> faults;  // installed before the first request
    std::string basic_auth;     // "user:password": requests without it get 401 + a Basic challenge
    std::chrono::milliseconds start_timeout{10000};
};

// FaultProxy runs tests/support/fault_proxy.py: an HTTP/1.1 proxy on a free
// 127.0.0.1 port forwarding to a plain-HTTP upstream (keep-alive towards
// the client, Content-Length and chunked bodies in both directions, Host
// kept so the registry's Location URLs point at the proxy).
class FaultProxy {
public:
    // upstream is "127.0.0.1:PORT" of a plain HTTP server.
    explicit FaultProxy(std::string upstream, FaultProxyOptions options = {});
    // In front of a plain-mode registry; throws std::invalid_argument for TLS modes.
    explicit FaultProxy(const Registry& registry, FaultProxyOptions options = {});
    ~FaultProxy();
    FaultProxy(const FaultProxy&) = delete;
    FaultProxy& operator=(const FaultProxy&) = delete;

    std::string host() const;  // "127.0.0.1:PORT"
    std::string url() const;   // "http://127.0.0.1:PORT"
    int port() const { return port_; }
    const std::string& upstream() const { return upstream_; }

    // add installs a fault and returns its id (for ProxyStats::fired).
    int add(const Fault& fault);
    void clear_faults();
    ProxyStats stats() const;
    // reset_stats forgets the requests seen so far (faults stay).
    void reset_stats();
    std::string log() const;

private:
    std::string upstream_;
    TempDir dir_;
    int port_ = 0;
    std::unique_ptr<detail::Process> process_;
};

}  // namespace sealrun::test
