#pragma once
// Registry authentication: docker's credential sources, WWW-Authenticate
// challenges, Basic and Bearer (with a token cache keyed by scope).

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "remote/http.h"
#include "sealrun/remote/repository.h"

namespace sealrun::remote::detail {

// docker_credentials finds credentials for `host` the way docker does:
// `config_path` (or $DOCKER_CONFIG/config.json, or ~/.docker/config.json):
// credHelpers[host], then auths[host] (auth or username/password,
// identitytoken), then credsStore. Helpers run as
// `docker-credential-<name> get` with the host on stdin.
std::optional<Credentials> docker_credentials(const std::string& host, const std::string& config_path);

struct Challenge {
    std::string scheme;                         // lowercased: "basic", "bearer"
    std::map<std::string, std::string> params;  // keys lowercased
};

// parse_challenges reads a WWW-Authenticate header value (RFC 9110 §11.6.1).
std::vector<Challenge> parse_challenges(std::string_view header);

class Auth {
public:
    Auth(Http& http, std::string registry_origin, std::optional<Credentials> credentials);

    // header returns the Authorization header value for `scope`, if one is
    // known (a cached token or Basic credentials after a Basic challenge).
    // A token past its expires_in is renewed here, from the challenge that
    // first earned it, so no request goes out with a stale token.
    std::optional<std::string> header(const std::string& scope);

    // on_unauthorized reacts to a 401 for `scope`: it learns the challenge
    // and fetches a token; returns true when retrying may now succeed.
    bool on_unauthorized(const Response& response, const std::string& scope);

private:
    struct Fetched {
        std::string value;
        std::chrono::steady_clock::time_point expires;
    };
    // fetch_token asks the challenge's realm for a token covering `scope`.
    Fetched fetch_token(const Challenge& bearer, const std::string& scope);
    // want is the scope to ask for: ours plus what the challenge names.
    static std::string want(const Challenge& bearer, const std::string& scope);

    Http& http_;
    std::string origin_;
    std::optional<Credentials> credentials_;
    std::mutex mu_;
    bool use_basic_ = false;
    struct Token {
        std::string value;
        std::chrono::steady_clock::time_point expires;
        Challenge challenge;  // where the token came from, to renew it
    };
    std::map<std::string, Token> tokens_;
};

}  // namespace sealrun::remote::detail
