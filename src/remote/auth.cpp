#include "remote/auth.h"

#include <cstdlib>
#include <filesystem>

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sealrun/error.h"
#include "sealrun/oci/descriptor.h"
#include "sealrun/oci/json.h"
#include "util/fs.h"

extern char** environ;

namespace sealrun::remote::detail {

namespace fs = std::filesystem;

namespace {

fs::path config_file(const std::string& override_path) {
    if (!override_path.empty()) return override_path;
    if (const char* d = std::getenv("DOCKER_CONFIG"); d != nullptr && *d != '\0') return fs::path(d) / "config.json";
    if (const char* h = std::getenv("HOME"); h != nullptr && *h != '\0') return fs::path(h) / ".docker" / "config.json";
    return {};
}

// run_helper runs `docker-credential-<name> get` with `host` on stdin and
// returns its stdout; nullopt when the helper does not know the host.
std::optional<std::string> run_helper(const std::string& name, const std::string& host) {
    const std::string prog = "docker-credential-" + name;
    int in[2], out[2];
    if (::pipe(in) != 0) throw Error(Errc::io, "run credential helper", prog, "pipe failed");
    if (::pipe(out) != 0) {
        ::close(in[0]);
        ::close(in[1]);
        throw Error(Errc::io, "run credential helper", prog, "pipe failed");
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawn_file_actions_addclose(&fa, in[1]);
    posix_spawn_file_actions_addclose(&fa, out[0]);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    const char* argv[] = {prog.c_str(), "get", nullptr};
    pid_t pid = 0;
    const int rc = ::posix_spawnp(&pid, prog.c_str(), &fa, nullptr, const_cast<char**>(argv), environ);
    posix_spawn_file_actions_destroy(&fa);
    ::close(in[0]);
    ::close(out[1]);
    if (rc != 0) {
        ::close(in[1]);
        ::close(out[0]);
        throw Error(Errc::not_found, "run credential helper", prog, "not found on PATH");
    }
    util::write_all(in[1], std::as_bytes(std::span(host.data(), host.size())), prog);
    ::close(in[1]);
    std::string result;
    char buf[4096];
    ssize_t n = 0;
    while ((n = ::read(out[0], buf, sizeof buf)) > 0 && result.size() < (1 << 20)) result.append(buf, static_cast<std::size_t>(n));
    ::close(out[0]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return std::nullopt;  // "credentials not found"
    return result;
}

std::optional<Credentials> from_helper(const std::string& name, const std::string& host) {
    auto out = run_helper(name, host);
    if (!out) return std::nullopt;
    nlohmann::json j;
    try {
        j = oci::parse_json_strict(*out, "docker-credential-" + name, 1 << 20);
    } catch (const Error&) {
        throw Error(Errc::invalid_input, "run credential helper", "docker-credential-" + name, "printed malformed JSON");
    }
    Credentials c;
    const auto user = j.value("Username", "");
    const auto secret = j.value("Secret", "");
    if (user == "<token>") c.identity_token = secret;
    else {
        c.username = user;
        c.password = secret;
    }
    return c;
}

}  // namespace

std::optional<Credentials> docker_credentials(const std::string& host, const std::string& config_path) {
    const auto path = config_file(config_path);
    if (path.empty() || !fs::exists(path)) return std::nullopt;
    const auto doc = oci::parse_json_strict(util::read_file(path, 16 << 20), path.string(), 16 << 20);
    if (!doc.is_object()) throw Error(Errc::invalid_input, "read docker config", path.string(), "not a JSON object");
    if (auto h = doc.find("credHelpers"); h != doc.end() && h->is_object() && h->contains(host))
        return from_helper(h->at(host).get<std::string>(), host);
    if (auto a = doc.find("auths"); a != doc.end() && a->is_object()) {
        for (const auto& key : {host, "https://" + host, "http://" + host}) {
            if (!a->contains(key)) continue;
            const auto& e = a->at(key);
            Credentials c;
            if (auto auth = e.find("auth"); auth != e.end() && auth->is_string() && !auth->get<std::string>().empty()) {
                const auto decoded = oci::base64_decode(auth->get<std::string>(), "docker config auth");
                const auto colon = decoded.find(':');
                if (colon == std::string::npos)
                    throw Error(Errc::invalid_input, "read docker config", path.string(), "an auth entry is not user:password");
                c.username = decoded.substr(0, colon);
                c.password = decoded.substr(colon + 1);
            } else {
                c.username = e.value("username", "");
                c.password = e.value("password", "");
            }
            c.identity_token = e.value("identitytoken", "");
            if (!c.username.empty() || !c.identity_token.empty()) return c;
        }
    }
    if (auto s = doc.find("credsStore"); s != doc.end() && s->is_string() && !s->get<std::string>().empty())
        return from_helper(s->get<std::string>(), host);
    return std::nullopt;
}

std::vector<Challenge> parse_challenges(std::string_view h) {
    std::vector<Challenge> out;
    std::size_t i = 0;
    auto skip = [&] {
        while (i < h.size() && (h[i] == ' ' || h[i] == '\t' || h[i] == ',')) ++i;
    };
    auto token = [&] {
        const auto start = i;
        while (i < h.size() && h[i] != ' ' && h[i] != '\t' && h[i] != ',' && h[i] != '=') ++i;
        std::string t(h.substr(start, i - start));
        for (auto& c : t) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        return t;
    };
    while (true) {
        skip();
        if (i >= h.size()) break;
        Challenge c{token(), {}};
        while (true) {
            skip();
            const auto save = i;
            auto key = token();
            if (key.empty() || i >= h.size() || h[i] != '=') {  // the next challenge's scheme
                i = save;
                break;
            }
            ++i;
            std::string value;
            if (i < h.size() && h[i] == '"') {
                ++i;
                while (i < h.size() && h[i] != '"') {
                    if (h[i] == '\\' && i + 1 < h.size()) ++i;
                    value += h[i++];
                }
                ++i;
            } else {
                const auto start = i;
                while (i < h.size() && h[i] != ',' && h[i] != ' ') ++i;
                value = std::string(h.substr(start, i - start));
            }
            c.params[key] = value;
            if (i >= h.size()) break;
        }
        out.push_back(std::move(c));
    }
    return out;
}

Auth::Auth(Http& http, std::string registry_origin, std::optional<Credentials> credentials)
    : http_(http), origin_(std::move(registry_origin)), credentials_(std::move(credentials)) {}

std::optional<std::string> Auth::header(const std::string& scope) {
    std::optional<Challenge> renew;
    {
        std::lock_guard lock(mu_);
        if (auto it = tokens_.find(scope); it != tokens_.end()) {
            if (std::chrono::steady_clock::now() < it->second.expires) return "Authorization: Bearer " + it->second.value;
            renew = it->second.challenge;
        }
    }
    if (renew) {
        try {
            auto fresh = fetch_token(*renew, want(*renew, scope));
            std::lock_guard lock(mu_);
            auto& slot = tokens_[scope];
            slot.value = fresh.value;
            slot.expires = fresh.expires;
            return "Authorization: Bearer " + fresh.value;
        } catch (const Error&) {
            // The request goes without; its 401 starts over from the registry's challenge.
            std::lock_guard lock(mu_);
            tokens_.erase(scope);
        }
    }
    std::lock_guard lock(mu_);
    if (use_basic_ && credentials_ && !credentials_->username.empty())
        return "Authorization: Basic " + oci::base64_encode(credentials_->username + ":" + credentials_->password);
    return std::nullopt;
}

std::string Auth::want(const Challenge& bearer, const std::string& scope) {
    if (auto s = bearer.params.find("scope"); s != bearer.params.end() && s->second != scope)
        return scope.empty() ? s->second : scope + " " + s->second;
    return scope;
}

bool Auth::on_unauthorized(const Response& response, const std::string& scope) {
    const auto header = response.header("www-authenticate");
    if (!header) return false;
    for (const auto& c : parse_challenges(*header)) {
        if (c.scheme == "basic") {
            std::lock_guard lock(mu_);
            if (!credentials_ || credentials_->username.empty() || use_basic_) return false;  // nothing new to try
            use_basic_ = true;
            return true;
        }
        if (c.scheme == "bearer") {
            auto fetched = fetch_token(c, want(c, scope));
            std::lock_guard lock(mu_);
            auto& slot = tokens_[scope];
            const bool fresh = slot.value != fetched.value;
            slot.value = std::move(fetched.value);
            slot.expires = fetched.expires;
            slot.challenge = c;
            return fresh;
        }
    }
    return false;
}

Auth::Fetched Auth::fetch_token(const Challenge& bearer, const std::string& scope) {
    const auto realm_it = bearer.params.find("realm");
    if (realm_it == bearer.params.end() || realm_it->second.empty())
        throw Error(Errc::protocol, "authenticate", origin_, "Bearer challenge without a realm");
    const auto& realm = realm_it->second;
    if (!realm.starts_with("https://") && !realm.starts_with("http://"))
        throw Error(Errc::denied, "authenticate", origin_, "token realm is not an http(s) URL");
    if (origin_.starts_with("https://") && realm.starts_with("http://"))
        throw Error(Errc::denied, "authenticate", origin_, "refusing a token realm that downgrades https to http");
    std::string query;
    auto add = [&](const char* k, const std::string& v) {
        query += (query.empty() ? "" : "&") + std::string(k) + "=" + url_escape(v);
    };
    if (auto s = bearer.params.find("service"); s != bearer.params.end()) add("service", s->second);
    for (std::size_t b = 0; b < scope.size();) {  // each scope is its own parameter
        auto e = scope.find(' ', b);
        if (e == std::string::npos) e = scope.size();
        if (e > b) add("scope", scope.substr(b, e - b));
        b = e + 1;
    }
    Request r;
    const bool identity = credentials_ && !credentials_->identity_token.empty();
    if (identity) {  // OAuth2 refresh-token grant
        add("grant_type", "refresh_token");
        add("refresh_token", credentials_->identity_token);
        add("client_id", "sealrun");
        r.method = "POST";
        r.url = realm;
        r.headers.push_back("Content-Type: application/x-www-form-urlencoded");
        r.body.bytes = query;
    } else {
        r.url = realm + (realm.find('?') == std::string::npos ? "?" : "&") + query;
        if (credentials_ && !credentials_->username.empty())
            r.headers.push_back("Authorization: Basic " +
                                oci::base64_encode(credentials_->username + ":" + credentials_->password));
    }
    const auto resp = http_.perform(r);
    const auto realm_origin = origin(realm);
    if (resp.status == 401 || resp.status == 403)
        throw Error(resp.status == 401 ? Errc::unauthorized : Errc::denied, "authenticate", realm_origin,
                    "the token service refused the credentials (HTTP " + std::to_string(resp.status) + ")");
    if (resp.status != 200)
        throw Error(Errc::protocol, "authenticate", realm_origin, "token service answered HTTP " + std::to_string(resp.status));
    nlohmann::json j;
    try {
        j = oci::parse_json_strict(resp.body, "token response", 1 << 20);
    } catch (const Error&) {
        throw Error(Errc::protocol, "authenticate", realm_origin, "token service sent malformed JSON");
    }
    std::string token = j.value("token", "");
    if (token.empty()) token = j.value("access_token", "");
    if (token.empty()) throw Error(Errc::protocol, "authenticate", realm_origin, "token response holds no token");
    const auto ttl = j.contains("expires_in") && j["expires_in"].is_number_integer() ? j["expires_in"].get<int>() : 60;
    // Renew a little early so a token does not expire mid-request.
    return {std::move(token), std::chrono::steady_clock::now() + std::chrono::seconds(std::max(ttl - 5, 1))};
}

}  // namespace sealrun::remote::detail
