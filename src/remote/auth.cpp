#include "remote/auth.h"

#include "remote/url.h"

#include "sealrun/error.h"
#include "sealrun/oci/descriptor.h"
#include "sealrun/oci/json.h"
#include "sealrun/remote/reference.h"

namespace sealrun::remote::detail {

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
        if (c.scheme.empty()) {  // '=' where a scheme belongs: skip it, so every pass makes progress
            ++i;
            continue;
        }
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

namespace {

// realm_host returns the host[:port] of an absolute http(s) URL as written
// (lowercased, without user info): the key docker's config.json uses.
std::string realm_host(const std::string& url) {
    auto start = url.find("://");
    start = start == std::string::npos ? 0 : start + 3;
    auto host = url.substr(start, url.find_first_of("/?#", start) - start);
    if (const auto at = host.rfind('@'); at != std::string::npos) host.erase(0, at + 1);
    for (auto& c : host) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return host;
}

bool is_loopback_host(const std::string& host) {
    Reference r;
    r.registry = host;
    return r.is_loopback();
}

}  // namespace

Auth::Auth(Http& http, std::function<std::string()> registry_base, std::optional<Credentials> credentials,
           std::string docker_config, bool plain_http)
    : http_(http),
      registry_base_(std::move(registry_base)),
      credentials_(std::move(credentials)),
      docker_config_(std::move(docker_config)),
      plain_http_(plain_http) {}

std::optional<Credentials> Auth::realm_credentials(const std::string& realm, const std::string& realm_origin,
                                                   const std::string& own_origin) {
    if (realm_origin == own_origin) return credentials_;
    const auto host = realm_host(realm);
    std::lock_guard lock(mu_);
    auto it = realm_credentials_.find(host);
    if (it == realm_credentials_.end())
        it = realm_credentials_.emplace(host, docker_credentials(host, docker_config_)).first;
    return it->second;
}

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
    const auto own = origin(registry_base_());
    const auto realm_it = bearer.params.find("realm");
    if (realm_it == bearer.params.end() || realm_it->second.empty())
        throw Error(Errc::protocol, "authenticate", own, "Bearer challenge without a realm");
    const auto& realm = realm_it->second;
    if (!realm.starts_with("https://") && !realm.starts_with("http://"))
        throw Error(Errc::denied, "authenticate", own, "token realm is not an http(s) URL");
    const auto realm_origin = origin(realm);
    if (realm_origin.empty()) throw Error(Errc::denied, "authenticate", own, "token realm is not a valid URL");
    if (realm.starts_with("http://")) {
        // The registry's origin is the one connected to, so a loopback
        // registry that fell back to plain HTTP may name a loopback http realm.
        if (!own.starts_with("http://"))
            throw Error(Errc::denied, "authenticate", own, "refusing a token realm that downgrades https to http");
        if (!plain_http_ && !is_loopback_host(realm_host(realm)))
            throw Error(Errc::denied, "authenticate", own, "refusing a plain-http token realm on another host without --plain-http");
    }
    const auto credentials = realm_credentials(realm, realm_origin, own);
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
    const bool identity = credentials && !credentials->identity_token.empty();
    if (identity) {  // OAuth2 refresh-token grant
        add("grant_type", "refresh_token");
        add("refresh_token", credentials->identity_token);
        add("client_id", "sealrun");
        r.method = "POST";
        r.url = realm;
        r.headers.push_back("Content-Type: application/x-www-form-urlencoded");
        r.body.bytes = query;
    } else {
        r.url = realm + (realm.find('?') == std::string::npos ? "?" : "&") + query;
        if (credentials && !credentials->username.empty())
            r.headers.push_back("Authorization: Basic " +
                                oci::base64_encode(credentials->username + ":" + credentials->password));
    }
    const auto resp = http_.perform(r);
    if (resp.status == 401 || resp.status == 403)
        throw Error(resp.status == 401 ? Errc::unauthorized : Errc::denied, "authenticate", realm_origin,
                    "the token service refused the credentials (HTTP " + std::to_string(resp.status) + ")");
    if (resp.status != 200)
        throw Error(Errc::protocol, "authenticate", realm_origin, "token service answered HTTP " + std::to_string(resp.status));
    nlohmann::json j;
    try {
        j = parse_secret_json(resp.body, "authenticate", realm_origin, 1 << 20);
    } catch (const Error& e) {
        throw Error(Errc::protocol, "authenticate", realm_origin, "token service sent " + e.reason());
    }
    auto text = [&](const char* key) {
        const auto it = j.is_object() ? j.find(key) : j.end();
        return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
    };
    std::string token = text("token");
    if (token.empty()) token = text("access_token");
    if (token.empty()) throw Error(Errc::protocol, "authenticate", realm_origin, "token response holds no token");
    const auto ttl = j.contains("expires_in") && j["expires_in"].is_number_integer() ? j["expires_in"].get<int>() : 60;
    // Renew a little early so a token does not expire mid-request.
    return {std::move(token), std::chrono::steady_clock::now() + std::chrono::seconds(std::max(ttl - 5, 1))};
}

}  // namespace sealrun::remote::detail
