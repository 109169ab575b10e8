#include "support/registry.h"
#include "build_paths.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <random>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace sealrun::test {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace detail {

// Process is one helper daemon: started with posix_spawn in its own process
// group, stdin from /dev/null, stdout and stderr appended to a log file.
// When setpriv(1) is present the child also gets PR_SET_PDEATHSIG=SIGKILL,
// so a test binary that dies without unwinding leaves nothing behind (the
// signal follows the *thread* that started it: start helpers on a thread
// that outlives them). The destructor sends SIGTERM to the group, waits up
// to 5 s, then SIGKILL, and reaps.
class Process {
public:
    Process(std::vector<std::string> argv, fs::path log_file) : log_file_(std::move(log_file)) {
        static const bool have_setpriv = ::access("/usr/bin/setpriv", X_OK) == 0;
        if (have_setpriv) argv.insert(argv.begin(), {"/usr/bin/setpriv", "--pdeathsig", "KILL", "--"});
        for (const auto& a : argv) command_ += (command_.empty() ? "" : " ") + a;

        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
        posix_spawn_file_actions_addopen(&actions, 1, log_file_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
        posix_spawn_file_actions_adddup2(&actions, 1, 2);
        posix_spawn_file_actions_addclosefrom_np(&actions, 3);
        posix_spawnattr_t attr;
        posix_spawnattr_init(&attr);
        sigset_t none;
        sigemptyset(&none);
        sigset_t defaults;
        sigemptyset(&defaults);
        for (int sig : {SIGPIPE, SIGTERM, SIGINT, SIGHUP, SIGCHLD}) sigaddset(&defaults, sig);
        posix_spawnattr_setsigmask(&attr, &none);
        posix_spawnattr_setsigdefault(&attr, &defaults);
        posix_spawnattr_setpgroup(&attr, 0);
        posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
        std::vector<char*> args;
        for (auto& a : argv) args.push_back(a.data());
        args.push_back(nullptr);
        const int rc = ::posix_spawn(&pid_, args[0], &actions, &attr, args.data(), environ);
        posix_spawnattr_destroy(&attr);
        posix_spawn_file_actions_destroy(&actions);
        if (rc != 0) {
            pid_ = -1;
            throw std::runtime_error("cannot start " + command_ + ": " + std::strerror(rc));
        }
    }

    ~Process() { stop(); }
    Process(const Process&) = delete;
    Process& operator=(const Process&) = delete;

    // running reports whether the child has not exited (without reaping it).
    bool running() {
        if (pid_ <= 0 || exited_) return false;
        siginfo_t info{};
        if (::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid == pid_) {
            exited_ = true;
            exit_status_ = info.si_code == CLD_EXITED ? "exited with status " + std::to_string(info.si_status)
                                                      : "killed by signal " + std::to_string(info.si_status);
            return false;
        }
        return true;
    }

    std::string status() {
        return running() ? std::string("running") : exit_status_;
    }

    const std::string& command() const { return command_; }

    void stop() {
        if (pid_ <= 0) return;
        if (running()) {
            ::kill(-pid_, SIGTERM);
            const auto deadline = Clock::now() + std::chrono::seconds(5);
            while (running() && Clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
        // The leader is a zombie at worst (not reaped yet), so its process
        // group id cannot have been reused: this only reaches our helpers.
        ::kill(-pid_, SIGKILL);
        int status = 0;
        while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
        }
        pid_ = -1;
    }

private:
    fs::path log_file_;
    std::string command_;
    pid_t pid_ = -1;
    bool exited_ = false;
    std::string exit_status_;
};

}  // namespace detail

namespace {

std::string random_hex(std::size_t bytes) {
    static std::mt19937_64 rng{std::random_device{}()};
    static const char* digits = "0123456789abcdef";
    std::string out;
    for (std::size_t i = 0; i < bytes; ++i) {
        const auto v = static_cast<unsigned>(rng() & 0xff);
        out += digits[v >> 4];
        out += digits[v & 0xf];
    }
    return out;
}

std::string read_or_empty(const fs::path& p) {
    std::error_code ec;
    if (!fs::exists(p, ec)) return {};
    try {
        return read_file(p);
    } catch (const std::exception&) {
        return {};
    }
}

// free_port binds 127.0.0.1:0 and returns the port the kernel chose.
int free_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) throw std::runtime_error("socket failed");
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t len = sizeof addr;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
        ::close(fd);
        throw std::runtime_error("cannot bind 127.0.0.1:0");
    }
    ::close(fd);
    return ntohs(addr.sin_port);
}

bool can_connect(int port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return false;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    ::close(fd);
    return ok;
}

std::string yaml_quote(const std::string& s) {
    std::string out = "\"";
    for (char c : s) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    return out + "\"";
}

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

void openssl(const std::vector<std::string>& args) {
    std::vector<std::string> argv{"openssl"};
    argv.insert(argv.end(), args.begin(), args.end());
    const auto r = run(argv);
    if (r.exit_code != 0) {
        std::string cmd;
        for (const auto& a : argv) cmd += a + " ";
        throw std::runtime_error("Pki: " + cmd + "failed:\n" + r.output);
    }
}

[[noreturn]] void startup_failed(const std::string& what, const std::string& why, const std::string& log) {
    throw std::runtime_error(what + ": " + why + "\n--- log ---\n" + log);
}

// wait_for_port_file waits until a helper has written its port to `file`.
int wait_for_port_file(detail::Process& proc, const fs::path& file, std::chrono::milliseconds timeout,
                       const std::string& what, const fs::path& log_file) {
    const auto deadline = Clock::now() + timeout;
    while (true) {
        const auto text = read_or_empty(file);
        if (!text.empty() && text.back() == '\n') return std::stoi(text);
        if (!proc.running()) startup_failed(what, "exited during startup (" + proc.status() + ")", read_or_empty(log_file));
        if (Clock::now() > deadline) startup_failed(what, "did not start within " + std::to_string(timeout.count()) + " ms", read_or_empty(log_file));
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
}

ProxyRequest proxy_request_from_json(const nlohmann::json& j) {
    ProxyRequest r;
    r.method = j.value("method", "");
    r.path = j.value("path", "");
    r.status = j.value("status", 0);
    r.request_bytes = j.value("request_bytes", std::uint64_t{0});
    r.response_bytes = j.value("response_bytes", std::uint64_t{0});
    if (j.contains("fault") && j["fault"].is_string()) r.fault = j["fault"].get<std::string>();
    r.authorization = j.value("authorization", false);
    return r;
}

nlohmann::json parse_reply_json(const HttpReply& reply, const std::string& what) {
    if (reply.status != 200)
        throw std::runtime_error(what + ": HTTP " + std::to_string(reply.status) + " " + reply.error + " " + reply.body);
    try {
        return nlohmann::json::parse(reply.body);
    } catch (const std::exception& e) {
        throw std::runtime_error(what + ": bad JSON (" + e.what() + "): " + reply.body);
    }
}

}  // namespace

fs::path source_path(const std::string& relative) { return fs::path(SEALRUN_SOURCE_DIR) / relative; }

// ---------------------------------------------------------------- http

std::string HttpReply::header(std::string_view name) const {
    const auto want = lower(name);
    for (const auto& [k, v] : headers)
        if (lower(k) == want) return v;
    return {};
}

HttpReply http(const HttpRequest& request) {
    TempDir tmp;
    std::vector<std::string> argv{"curl", "-sS", "--noproxy", "*", "-o", (tmp / "body").string(),
                                  "-D", (tmp / "headers").string(), "--max-time", std::to_string(request.timeout_s)};
    if (request.method == "HEAD")
        argv.push_back("--head");
    else if (request.method != "GET" || !request.body.empty())
        argv.insert(argv.end(), {"-X", request.method});
    if (!request.body.empty()) {
        write_file(tmp / "request", request.body);
        argv.insert(argv.end(), {"--data-binary", "@" + (tmp / "request").string()});
    }
    if (!request.ca_file.empty()) argv.insert(argv.end(), {"--cacert", request.ca_file.string()});
    if (!request.user.empty()) argv.insert(argv.end(), {"-u", request.user + ":" + request.password});
    if (!request.bearer.empty()) argv.insert(argv.end(), {"-H", "Authorization: Bearer " + request.bearer});
    for (const auto& h : request.headers) argv.insert(argv.end(), {"-H", h});
    argv.insert(argv.end(), request.curl_args.begin(), request.curl_args.end());
    argv.push_back(request.url);
    const auto r = run(argv);

    HttpReply reply;
    reply.curl_exit = r.exit_code;
    if (r.exit_code != 0) reply.error = "curl exit " + std::to_string(r.exit_code) + ": " + r.output;
    // The header file holds every response head (100 Continue, the final
    // one); keep the last.
    std::istringstream heads(read_or_empty(tmp / "headers"));
    std::string line;
    while (std::getline(heads, line)) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.rfind("HTTP/", 0) == 0) {
            const auto sp = line.find(' ');
            reply.status = sp == std::string::npos ? 0 : std::atoi(line.c_str() + sp + 1);
            reply.headers.clear();
        } else if (const auto colon = line.find(':'); colon != std::string::npos) {
            auto value = line.substr(colon + 1);
            value.erase(0, value.find_first_not_of(" \t"));
            reply.headers.emplace_back(line.substr(0, colon), value);
        }
    }
    reply.body = read_or_empty(tmp / "body");
    return reply;
}

// ---------------------------------------------------------------- Pki

Pki::Pki() {
    ca_cert = dir / "ca.crt";
    ca_key = dir / "ca.key";
    server_cert = dir / "server.crt";
    server_key = dir / "server.key";
    token_cert = dir / "token.crt";
    token_key = dir / "token.key";
    cert_dir = dir / "certs.d";
    const auto cnf = dir / "openssl.cnf";
    // Our own config, so the system's openssl.cnf adds nothing.
    write_file(cnf,
               "[req]\n"
               "distinguished_name = dn\n"
               "prompt = no\n"
               "[dn]\n"
               "CN = sealrun-test\n"
               "[ca]\n"
               "basicConstraints = critical,CA:TRUE\n"
               "keyUsage = critical,keyCertSign,cRLSign\n"
               "subjectKeyIdentifier = hash\n"
               "[server]\n"
               "basicConstraints = CA:FALSE\n"
               "keyUsage = critical,digitalSignature,keyEncipherment\n"
               "extendedKeyUsage = serverAuth\n"
               "subjectAltName = IP:127.0.0.1,DNS:localhost\n"
               "subjectKeyIdentifier = hash\n"
               "authorityKeyIdentifier = keyid\n"
               "[token]\n"
               "basicConstraints = CA:FALSE\n"
               "keyUsage = critical,digitalSignature\n"
               "subjectKeyIdentifier = hash\n"
               "authorityKeyIdentifier = keyid\n");
    const auto c = cnf.string();
    openssl({"req", "-x509", "-config", c, "-extensions", "ca", "-newkey", "ec", "-pkeyopt",
             "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", ca_key.string(), "-out", ca_cert.string(),
             "-days", "2", "-subj", "/CN=sealrun-test-ca"});
    openssl({"req", "-new", "-config", c, "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-keyout", server_key.string(), "-out", (dir / "server.csr").string(), "-subj", "/CN=127.0.0.1"});
    openssl({"x509", "-req", "-in", (dir / "server.csr").string(), "-CA", ca_cert.string(), "-CAkey",
             ca_key.string(), "-set_serial", "2", "-days", "2", "-extfile", c, "-extensions", "server",
             "-out", server_cert.string()});
    openssl({"req", "-new", "-config", c, "-newkey", "rsa:2048", "-nodes", "-keyout", token_key.string(), "-out",
             (dir / "token.csr").string(), "-subj", "/CN=sealrun-test-token-signer"});
    openssl({"x509", "-req", "-in", (dir / "token.csr").string(), "-CA", ca_cert.string(), "-CAkey",
             ca_key.string(), "-set_serial", "3", "-days", "2", "-extfile", c, "-extensions", "token",
             "-out", token_cert.string()});
    fs::create_directories(cert_dir);
    fs::copy_file(ca_cert, cert_dir / "ca.crt");
}

// ---------------------------------------------------------------- Registry

Registry::Registry(RegistryOptions options) : options_(std::move(options)) {
    switch (options_.mode) {
        case RegistryMode::plain:
            break;
        case RegistryMode::tls_basic:
            user_ = options_.user.empty() ? "sealrun" : options_.user;
            password_ = options_.password.empty() ? random_hex(12) : options_.password;
            break;
        case RegistryMode::token:
            if (options_.issuer == nullptr && options_.token_realm.empty())
                throw std::invalid_argument("Registry: token mode needs an issuer or a token_realm");
            if (options_.issuer != nullptr) {
                user_ = options_.issuer->user();
                password_ = options_.issuer->password();
            } else {
                user_ = options_.user;
                password_ = options_.password;
            }
            break;
    }
    if (options_.mode != RegistryMode::plain) {
        pki_ = options_.pki;
        if (pki_ == nullptr && options_.issuer != nullptr) pki_ = &options_.issuer->pki();
        if (pki_ == nullptr) {
            own_pki_ = std::make_unique<Pki>();
            pki_ = own_pki_.get();
        }
    }
    if (options_.mode == RegistryMode::tls_basic) {
        const auto r = run({"htpasswd", "-Bbn", user_, password_});
        if (r.exit_code != 0) throw std::runtime_error("htpasswd failed: " + r.output);
        write_file(dir_ / "htpasswd", r.output.substr(0, r.output.find('\n')) + "\n");
    }
    fs::create_directories(storage());
    // A port picked by binding :0 can be taken by someone else before the
    // registry binds it; try again with another one.
    for (int attempt = 1;; ++attempt) {
        try {
            start();
            return;
        } catch (const std::runtime_error& e) {
            process_.reset();
            if (attempt >= 3 || log().find("address already in use") == std::string::npos) throw;
        }
    }
}

Registry::~Registry() = default;

void Registry::start() {
    port_ = free_port();
    std::ostringstream y;
    y << "version: 0.1\n"
         "log:\n"
         "  level: warn\n"
         "  formatter: text\n"
         "  accesslog:\n"
         "    disabled: true\n"
         "storage:\n"
         "  filesystem:\n"
         "    rootdirectory: " << yaml_quote(storage().string()) << "\n"
         "  delete:\n"
         "    enabled: true\n"
         "  maintenance:\n"
         "    uploadpurging:\n"
         "      enabled: false\n"
         "http:\n"
         "  addr: " << yaml_quote(host()) << "\n"
         "  secret: " << yaml_quote(random_hex(16)) << "\n"
         "  headers:\n"
         "    X-Content-Type-Options: [nosniff]\n";
    if (options_.mode != RegistryMode::plain && options_.tls) {
        y << "  tls:\n"
             "    certificate: " << yaml_quote(pki_->server_cert.string()) << "\n"
             "    key: " << yaml_quote(pki_->server_key.string()) << "\n";
    }
    y << "health:\n"
         "  storagedriver:\n"
         "    enabled: false\n";
    if (options_.mode == RegistryMode::tls_basic) {
        y << "auth:\n"
             "  htpasswd:\n"
             "    realm: \"sealrun-test\"\n"
             "    path: " << yaml_quote((dir_ / "htpasswd").string()) << "\n";
    } else if (options_.mode == RegistryMode::token) {
        const std::string realm = !options_.token_realm.empty() ? options_.token_realm : options_.issuer->realm();
        const std::string service = options_.issuer ? options_.issuer->options().service : "sealrun-test";
        const std::string issuer = options_.issuer ? options_.issuer->options().issuer : "sealrun-test-issuer";
        y << "auth:\n"
             "  token:\n"
             "    realm: " << yaml_quote(realm) << "\n"
             "    service: " << yaml_quote(service) << "\n"
             "    issuer: " << yaml_quote(issuer) << "\n"
             "    rootcertbundle: " << yaml_quote(pki_->ca_cert.string()) << "\n";
    }
    write_file(config_file(), y.str());

    const auto log_file = dir_ / "registry.log";
    std::error_code ec;
    fs::remove(log_file, ec);  // a failed attempt's log would confuse the next
    process_ = std::make_unique<detail::Process>(
        std::vector<std::string>{"/usr/bin/docker-registry", "serve", config_file().string()}, log_file);
    const auto deadline = Clock::now() + options_.start_timeout;
    const std::string what = "docker-registry on " + host();
    while (true) {
        if (!process_->running()) startup_failed(what, "exited during startup (" + process_->status() + ")", log());
        if (can_connect(port_)) {
            const auto reply = http({.url = url() + "/v2/", .ca_file = ca_file(), .timeout_s = 2});
            const bool ok = reply.status == 200 || (options_.mode != RegistryMode::plain && reply.status == 401);
            if (ok) return;
            if (reply.status != 0)
                startup_failed(what, "GET /v2/ answered " + std::to_string(reply.status) + ": " + reply.body, log());
        }
        if (Clock::now() > deadline)
            startup_failed(what, "not ready within " + std::to_string(options_.start_timeout.count()) + " ms", log());
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
}

std::string Registry::host() const { return "127.0.0.1:" + std::to_string(port_); }

std::string Registry::url() const {
    return (options_.mode == RegistryMode::plain || !options_.tls ? "http://" : "https://") + host();
}

fs::path Registry::ca_file() const { return pki_ ? pki_->ca_cert : fs::path(); }
fs::path Registry::cert_dir() const { return pki_ ? pki_->cert_dir : fs::path(); }

std::string Registry::log() const { return read_or_empty(dir_ / "registry.log"); }

// ---------------------------------------------------------------- TokenIssuer

TokenIssuer::TokenIssuer(const Pki& pki, TokenIssuerOptions options)
    : pki_(pki), options_(std::move(options)) {
    user_ = options_.user.empty() ? "sealrun" : options_.user;
    password_ = options_.password.empty() ? random_hex(12) : options_.password;
    const auto port_file = dir_ / "port";
    const auto log_file = dir_ / "issuer.log";
    std::vector<std::string> argv{"/usr/bin/python3", "-u", "-I", source_path("tests/support/token_issuer.py").string(),
                                  "--port-file", port_file.string(),
                                  "--token-cert", pki_.token_cert.string(),
                                  "--token-key", pki_.token_key.string(),
                                  "--user", user_, "--password", password_,
                                  "--service", options_.service, "--issuer", options_.issuer,
                                  "--expires-in", std::to_string(options_.expires_in)};
    if (!options_.refresh_token.empty()) argv.insert(argv.end(), {"--refresh-token", options_.refresh_token});
    if (options_.tls)
        argv.insert(argv.end(), {"--tls-cert", pki_.server_cert.string(), "--tls-key", pki_.server_key.string()});
    process_ = std::make_unique<detail::Process>(argv, log_file);
    port_ = wait_for_port_file(*process_, port_file, options_.start_timeout, "token issuer", log_file);
}

TokenIssuer::~TokenIssuer() = default;

std::string TokenIssuer::host() const { return "127.0.0.1:" + std::to_string(port_); }
std::string TokenIssuer::url() const { return (options_.tls ? "https://" : "http://") + host(); }
std::string TokenIssuer::realm() const { return url() + "/token"; }
fs::path TokenIssuer::ca_file() const { return options_.tls ? pki_.ca_cert : fs::path(); }
std::string TokenIssuer::log() const { return read_or_empty(dir_ / "issuer.log"); }

TokenStats TokenIssuer::stats() const {
    TokenStats s;
    s.raw = parse_reply_json(http({.url = url() + "/stats", .ca_file = ca_file()}), "token issuer stats");
    s.requests = s.raw.value("requests", 0);
    s.issued = s.raw.value("issued", 0);
    s.anonymous = s.raw.value("anonymous", 0);
    s.denied = s.raw.value("denied", 0);
    return s;
}

void TokenIssuer::reset_stats() {
    parse_reply_json(http({.url = url() + "/reset", .method = "POST", .ca_file = ca_file()}), "token issuer reset");
}

std::string TokenIssuer::token(const std::vector<std::string>& scopes, const std::string& user,
                               const std::string& password) const {
    std::string url = realm() + "?service=" + options_.service;
    for (const auto& s : scopes) url += "&scope=" + s;
    const auto reply = http({.url = url, .ca_file = ca_file(), .user = user, .password = password});
    const auto j = parse_reply_json(reply, "token request");
    return j.at("token").get<std::string>();
}

// ---------------------------------------------------------------- Fault

namespace {
Fault make_fault(Fault::Kind kind, std::string method, std::string path, int times) {
    Fault f;
    f.kind = kind;
    f.method = std::move(method);
    f.path = std::move(path);
    f.times = times;
    return f;
}
}  // namespace

Fault Fault::respond(std::string method, std::string path, int status, int times) {
    auto f = make_fault(Kind::respond, std::move(method), std::move(path), times);
    f.status = status;
    return f;
}

Fault Fault::throttle(std::string method, std::string path, int retry_after_s, int times) {
    auto f = make_fault(Kind::respond, std::move(method), std::move(path), times);
    f.status = 429;
    f.retry_after = retry_after_s;
    return f;
}

Fault Fault::drop(std::string method, std::string path, int times) {
    return make_fault(Kind::drop, std::move(method), std::move(path), times);
}

Fault Fault::delay(std::string method, std::string path, int delay_ms, int times) {
    auto f = make_fault(Kind::delay, std::move(method), std::move(path), times);
    f.delay_ms = delay_ms;
    return f;
}

Fault Fault::reset_response(std::string method, std::string path, std::uint64_t after_bytes, int times) {
    auto f = make_fault(Kind::reset_response, std::move(method), std::move(path), times);
    f.bytes = after_bytes;
    return f;
}

Fault Fault::flip_byte(std::string method, std::string path, std::uint64_t offset, int times) {
    auto f = make_fault(Kind::flip_byte, std::move(method), std::move(path), times);
    f.bytes = offset;
    return f;
}

Fault Fault::reset_request(std::string method, std::string path, std::uint64_t after_bytes, int times) {
    auto f = make_fault(Kind::reset_request, std::move(method), std::move(path), times);
    f.bytes = after_bytes;
    return f;
}

Fault Fault::redirect(std::string method, std::string path, std::string location, int times) {
    auto f = make_fault(Kind::redirect, std::move(method), std::move(path), times);
    f.status = 307;
    f.location = std::move(location);
    return f;
}

Fault Fault::relocate(std::string method, std::string path, std::string origin, int times) {
    auto f = make_fault(Kind::relocate, std::move(method), std::move(path), times);
    f.location = std::move(origin);
    return f;
}

Fault Fault::endless(std::string method, std::string path, int status,
                     std::vector<std::pair<std::string, std::string>> headers, int times) {
    auto f = make_fault(Kind::endless, std::move(method), std::move(path), times);
    f.status = status;
    f.headers = std::move(headers);
    return f;
}

Fault Fault::drip(std::string method, std::string path, int interval_ms, std::uint64_t after_bytes, int times) {
    auto f = make_fault(Kind::drip, std::move(method), std::move(path), times);
    f.interval_ms = interval_ms;
    f.bytes = after_bytes;
    return f;
}

Fault Fault::stall(std::string method, std::string path, std::uint64_t after_bytes, int times) {
    auto f = make_fault(Kind::stall, std::move(method), std::move(path), times);
    f.bytes = after_bytes;
    return f;
}

Fault Fault::silent(std::string method, std::string path, int times) {
    return make_fault(Kind::silent, std::move(method), std::move(path), times);
}

Fault Fault::endless_head(std::string method, std::string path, int times) {
    return make_fault(Kind::endless_head, std::move(method), std::move(path), times);
}

Fault Fault::set_header(std::string method, std::string path, std::string name, std::string value, int times) {
    auto f = make_fault(Kind::set_header, std::move(method), std::move(path), times);
    f.name = std::move(name);
    f.value = std::move(value);
    return f;
}

nlohmann::json Fault::to_json() const {
    static const char* names[] = {"respond",  "drop",     "delay",   "reset_response", "flip_byte", "reset_request",
                                  "redirect", "relocate", "endless", "drip",           "stall",     "silent",
                                  "set_header", "endless_head"};
    nlohmann::json j = {
        {"kind", names[static_cast<int>(kind)]},
        {"method", method},
        {"path", path},
        {"times", times},
        {"status", status},
        {"after_bytes", bytes},
        {"offset", bytes},
        {"delay_ms", delay_ms},
        {"location", location},
        {"headers", headers},
        {"name", name},
        {"value", value},
        {"interval_ms", interval_ms},
        {"max_ms", max_ms},
    };
    if (retry_after >= 0) j["retry_after"] = retry_after;
    if (body) j["body"] = *body;
    return j;
}

// ---------------------------------------------------------------- ProxyStats

namespace {
template <class F>
void for_matching(const std::vector<ProxyRequest>& requests, const std::string& method, const std::string& path, F f) {
    const std::regex m(method.empty() ? ".*" : method);
    const std::regex p(path.empty() ? "" : path);
    for (const auto& r : requests)
        if (std::regex_match(r.method, m) && std::regex_search(r.path, p)) f(r);
}
}  // namespace

std::size_t ProxyStats::count(const std::string& method, const std::string& path) const {
    std::size_t n = 0;
    for_matching(requests, method, path, [&](const ProxyRequest&) { ++n; });
    return n;
}

std::uint64_t ProxyStats::request_bytes(const std::string& method, const std::string& path) const {
    std::uint64_t n = 0;
    for_matching(requests, method, path, [&](const ProxyRequest& r) { n += r.request_bytes; });
    return n;
}

std::uint64_t ProxyStats::response_bytes(const std::string& method, const std::string& path) const {
    std::uint64_t n = 0;
    for_matching(requests, method, path, [&](const ProxyRequest& r) { n += r.response_bytes; });
    return n;
}

int ProxyStats::fired(int id) const {
    for (const auto& f : raw.value("faults", nlohmann::json::array()))
        if (f.value("id", -1) == id) return f.value("fired", 0);
    throw std::out_of_range("no fault with id " + std::to_string(id));
}

// ---------------------------------------------------------------- FaultProxy

FaultProxy::FaultProxy(std::string upstream, FaultProxyOptions options) : upstream_(std::move(upstream)) {
    const auto port_file = dir_ / "port";
    const auto log_file = dir_ / "proxy.log";
    std::vector<std::string> argv{"/usr/bin/python3", "-u", "-I", source_path("tests/support/fault_proxy.py").string(),
                                  "--port-file", port_file.string(), "--upstream", upstream_};
    for (const auto& f : options.faults) argv.insert(argv.end(), {"--fault", f.to_json().dump()});
    if (!options.basic_auth.empty()) argv.insert(argv.end(), {"--basic-auth", options.basic_auth});
    process_ = std::make_unique<detail::Process>(argv, log_file);
    port_ = wait_for_port_file(*process_, port_file, options.start_timeout, "fault proxy", log_file);
}

namespace {
std::string plain_upstream(const Registry& registry) {
    if (registry.mode() != RegistryMode::plain)
        throw std::invalid_argument("FaultProxy: the upstream registry must be in plain (HTTP) mode");
    return registry.host();
}
}  // namespace

FaultProxy::FaultProxy(const Registry& registry, FaultProxyOptions options)
    : FaultProxy(plain_upstream(registry), std::move(options)) {}

FaultProxy::~FaultProxy() = default;

std::string FaultProxy::host() const { return "127.0.0.1:" + std::to_string(port_); }
std::string FaultProxy::url() const { return "http://" + host(); }
std::string FaultProxy::log() const { return read_or_empty(dir_ / "proxy.log"); }

int FaultProxy::add(const Fault& fault) {
    const auto j = parse_reply_json(
        http({.url = url() + "/_proxy/faults", .method = "POST", .body = fault.to_json().dump(),
              .headers = {"Content-Type: application/json"}}),
        "fault proxy: add fault");
    return j.at("id").get<int>();
}

void FaultProxy::clear_faults() {
    parse_reply_json(http({.url = url() + "/_proxy/faults", .method = "DELETE"}), "fault proxy: clear faults");
}

ProxyStats FaultProxy::stats() const {
    ProxyStats s;
    s.raw = parse_reply_json(http({.url = url() + "/_proxy/stats"}), "fault proxy stats");
    for (const auto& r : s.raw.value("requests", nlohmann::json::array())) s.requests.push_back(proxy_request_from_json(r));
    s.connections = s.raw.value("connections", 0);
    return s;
}

void FaultProxy::reset_stats() {
    parse_reply_json(http({.url = url() + "/_proxy/reset", .method = "POST"}), "fault proxy: reset stats");
}

}  // namespace sealrun::test
