#pragma once
/// Credentials for a registry, and docker's credential store (config.json)
/// as `login` and `logout` change it.
///
/// Rules every function here keeps: no error message quotes a byte of a
/// credentials file or of a credential helper's reply (a parse error names
/// the file, line, column and byte offset only), and the file is replaced
/// atomically by a new file created with mode 0600 (never a temp file that
/// was readable by others, never through a symlink).

#include <filesystem>
#include <string>

namespace sealrun::remote {

/// Credentials for a registry: a user and password, or an identity token
/// (an OAuth2 refresh token). Never printed, logged or put in an Error.
struct Credentials {
    std::string username;
    std::string password;
    std::string identity_token;
    /// operator== compares every field (whether two repositories are reached
    /// as the same identity).
    bool operator==(const Credentials&) const = default;
};

/// docker_config_file returns the config.json docker reads: `override_path`
/// when not empty, else $DOCKER_CONFIG/config.json, else
/// ~/.docker/config.json. Throws Error(io) when neither DOCKER_CONFIG nor
/// HOME is set.
std::filesystem::path docker_config_file(const std::string& override_path = "");

/// store_credentials records `credentials` for `host` ("registry[:port]") in
/// docker's config.json (`auths[host].auth` = base64 "user:password", and
/// `identitytoken` when set), keeping every other key of the file. The file
/// is written to a new temp file in its directory (created 0700 if missing),
/// opened O_CREAT|O_EXCL|O_NOFOLLOW with mode 0600, fsynced and renamed over
/// config.json; the directory is fsynced. A config.json that is a symlink is
/// replaced at its target. Throws Error(invalid_input) for a malformed file
/// (without quoting it) and Error(io) when it cannot be written.
void store_credentials(const std::string& host, const Credentials& credentials,
                       const std::string& config_path = "");

/// erase_credentials removes what config.json's `auths` holds for `host`
/// (under "host", "https://host" and "http://host", the keys
/// credentials are read from), written as store_credentials does. Returns
/// false, writing nothing, when there was no such entry or no file.
bool erase_credentials(const std::string& host, const std::string& config_path = "");

}  // namespace sealrun::remote
