#pragma once
// Registry authentication: docker's credential sources, WWW-Authenticate
// challenges, Basic and Bearer (with a token cache keyed by scope).

#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "remote/http.h"
#include "sealrun/remote/credentials.h"

namespace sealrun::remote::detail {

// docker_credentials finds credentials for `host` ("name[:port]") the way
// docker does: `config_path` (or $DOCKER_CONFIG/config.json, or
// ~/.docker/config.json): credHelpers[host], then auths[host] (auth or
// username/password, identitytoken), then credsStore. Helpers run as
// `docker-credential-<name> get` with the host on stdin. Defined in
// credentials.cpp; its errors never quote the file or a helper's reply.
std::optional<Credentials> docker_credentials(const std::string& host, const std::string& config_path);

// parse_secret_json parses a document that may hold credentials (docker's
// config.json, a credential helper's reply, a token response). On a syntax
// error it throws Error(invalid_input, op, what) naming the line, column and
// byte offset only: the parser's own message quotes the bytes it last read,
// which may be a password.
nlohmann::json parse_secret_json(std::string_view text, const std::string& op, const std::string& what,
                                 std::size_t max_size);

struct Challenge {
    std::string scheme;                         // lowercased: "basic", "bearer"
    std::map<std::string, std::string> params;  // keys lowercased
};

// parse_challenges reads a WWW-Authenticate header value (RFC 9110 §11.6.1).
std::vector<Challenge> parse_challenges(std::string_view header);

// Auth authenticates the requests of one repository. Credentials go only
// to their own origin (scheme, host, port): the registry's to the registry
// (Basic, or a token realm on the registry's origin); a token realm on any
// other origin gets what docker's config.json holds for the realm's
// host[:port] (auths, credHelpers, credsStore), and nothing otherwise. A
// realm on http is refused when the registry is spoken to over https (a
// downgrade), and on a non-loopback host unless plain_http was asked for.
class Auth {
public:
    // Auth takes `registry_base`, which returns the registry's
    // "scheme://host[:port]" as connected (after any plain-HTTP fallback).
    Auth(Http& http, std::function<std::string()> registry_base, std::optional<Credentials> credentials,
         std::string docker_config, bool plain_http);

    // header returns the Authorization header value for `scope`, if one is
    // known (a cached token or Basic credentials after a Basic challenge).
    // A token past its expires_in is renewed here, from the challenge that
    // first earned it, so no request goes out with a stale token. Only for
    // requests to the registry's own origin.
    std::optional<std::string> header(const std::string& scope);

    // on_unauthorized reacts to a 401 from the registry's own origin for
    // `scope`: it learns the challenge and fetches a token; returns true
    // when retrying may now succeed.
    bool on_unauthorized(const Response& response, const std::string& scope);

    // credentials returns the registry's credentials this Auth sends
    // (nullopt: anonymous), and docker_config the config.json it reads for
    // other origins: together, the identity a request is made as.
    const std::optional<Credentials>& credentials() const { return credentials_; }
    const std::string& docker_config() const { return docker_config_; }

private:
    struct Fetched {
        std::string value;
        std::chrono::steady_clock::time_point expires;
    };
    // fetch_token asks the challenge's realm for a token covering `scope`.
    Fetched fetch_token(const Challenge& bearer, const std::string& scope);
    // want is the scope to ask for: ours plus what the challenge names.
    static std::string want(const Challenge& bearer, const std::string& scope);

    // realm_credentials returns what may be sent to `realm`: the registry's
    // credentials on its own origin, else those configured for the realm's host.
    std::optional<Credentials> realm_credentials(const std::string& realm, const std::string& realm_origin,
                                                 const std::string& own_origin);

    Http& http_;
    std::function<std::string()> registry_base_;
    std::optional<Credentials> credentials_;
    std::string docker_config_;
    bool plain_http_ = false;
    std::mutex mu_;
    std::map<std::string, std::optional<Credentials>> realm_credentials_;  // by realm host[:port]
    bool use_basic_ = false;
    struct Token {
        std::string value;
        std::chrono::steady_clock::time_point expires;
        Challenge challenge;  // where the token came from, to renew it
    };
    std::map<std::string, Token> tokens_;
};

}  // namespace sealrun::remote::detail
