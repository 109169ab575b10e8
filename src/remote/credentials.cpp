// docker's credential sources: config.json (auths, credHelpers, credsStore),
// credential helpers, and the writer `login` and `logout` use. Nothing here
// ever quotes the bytes of a credentials file or a helper's reply.
#include "sealrun/remote/credentials.h"

#include <cstdlib>
#include <random>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "remote/auth.h"
#include "remote/credential_helper.h"
#include "sealrun/error.h"
#include "sealrun/oci/descriptor.h"
#include "sealrun/oci/json.h"
#include "util/fs.h"

namespace sealrun::remote {

namespace fs = std::filesystem;

namespace {

constexpr std::size_t max_config_size = 16 << 20;
using detail::max_helper_reply;

// where_broken says where `text` stops being JSON, by position only.
std::string where_broken(std::string_view text) {
    try {
        // A callback that keeps nothing: only the position of the error matters.
        const auto kept = nlohmann::json::parse(text.begin(), text.end(),
                                                [](int, nlohmann::json::parse_event_t, nlohmann::json&) { return false; });
        (void)kept;
    } catch (const nlohmann::json::parse_error& e) {
        const auto byte = std::min<std::size_t>(e.byte, text.size());
        const auto before = text.substr(0, byte > 0 ? byte - 1 : 0);
        const auto line = 1 + std::count(before.begin(), before.end(), '\n');
        const auto nl = before.rfind('\n');
        const auto column = before.size() - (nl == std::string_view::npos ? 0 : nl + 1) + 1;
        return "at line " + std::to_string(line) + ", column " + std::to_string(column) + " (byte " +
               std::to_string(byte) + ")";
    } catch (const std::exception&) {
    }
    return "(a duplicate key or nesting too deep)";
}

// string_at returns obj[key] when it is a string, "" when absent; anything
// else is an error naming `where` and the key, never the value.
std::string string_at(const nlohmann::json& obj, const char* key, const std::string& op, const std::string& where) {
    const auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) return {};
    if (!it->is_string()) throw Error(Errc::invalid_input, op, where, std::string(key) + " is not a string");
    return it->get<std::string>();
}

std::optional<Credentials> from_helper(const std::string& name, const std::string& host) {
    auto out = detail::run_credential_helper(name, host);
    if (!out) return std::nullopt;
    const auto what = "the reply of docker-credential-" + name;
    const auto j = detail::parse_secret_json(*out, "run credential helper", what, max_helper_reply);
    if (!j.is_object()) throw Error(Errc::invalid_input, "run credential helper", what, "not a JSON object");
    Credentials c;
    const auto user = string_at(j, "Username", "run credential helper", what);
    const auto secret = string_at(j, "Secret", "run credential helper", what);
    if (user == "<token>") c.identity_token = secret;
    else {
        c.username = user;
        c.password = secret;
    }
    return c;
}

// read_config returns config.json as an object; an absent file is an empty one.
nlohmann::json read_config(const fs::path& path, const std::string& op) {
    std::error_code ec;
    if (!fs::exists(path, ec)) return nlohmann::json::object();
    auto doc = detail::parse_secret_json(util::read_file(path, max_config_size), op, path.string(), max_config_size);
    if (!doc.is_object()) throw Error(Errc::invalid_input, op, path.string(), "not a JSON object");
    return doc;
}

// auth_keys are the `auths` keys that hold credentials for `host`.
std::vector<std::string> auth_keys(const std::string& host) { return {host, "https://" + host, "http://" + host}; }

// write_config replaces `path` by `doc`: a new 0600 file (O_EXCL|O_NOFOLLOW,
// so no existing file or symlink is ever written through), fsynced, renamed
// over `path`, its directory fsynced. util::TempFile creates 0644 files,
// which must not hold a credential even for a moment.
void write_config(fs::path path, const nlohmann::json& doc, const std::string& op) {
    std::error_code ec;
    if (fs::is_symlink(path, ec)) {  // like docker: replace the link's target
        auto target = fs::canonical(path, ec);
        if (ec) throw Error(Errc::io, op, path.string(), "cannot resolve the symbolic link: " + ec.message());
        path = std::move(target);
    }
    const auto dir = util::directory_of(path);
    if (!fs::exists(dir, ec)) {
        fs::create_directories(util::directory_of(dir), ec);
        if (ec) throw Error(Errc::io, "create directory", util::directory_of(dir).string(), ec.message());
        if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) util::throw_errno("create directory", dir);
    }
    thread_local std::mt19937_64 rng{std::random_device{}()};
    util::Fd fd;
    fs::path tmp;
    for (int attempt = 0; !fd; ++attempt) {
        if (attempt == 16) throw Error(Errc::io, op, dir.string(), "no free temporary file name after 16 attempts");
        tmp = dir / (std::string(util::temp_prefix) + "config-" + std::to_string(rng()));
        fd = util::Fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
        if (!fd && errno != EEXIST && errno != ELOOP) util::throw_errno("create temporary file", tmp);
    }
    try {
        const auto text = doc.dump(1, '\t') + "\n";
        util::write_all(fd.get(), std::as_bytes(std::span(text.data(), text.size())), tmp);
        util::fsync_fd(fd.get(), tmp);
        fd.reset();
        if (::rename(tmp.c_str(), path.c_str()) != 0) util::throw_errno("rename", path);
    } catch (...) {
        fd.reset();
        ::unlink(tmp.c_str());
        throw;
    }
    util::fsync_dir(dir);
}

}  // namespace

namespace detail {

nlohmann::json parse_secret_json(std::string_view text, const std::string& op, const std::string& what,
                                 std::size_t max_size) {
    try {
        return oci::parse_json_strict(text, what, max_size);
    } catch (const Error& e) {
        if (e.code() == Errc::too_large) throw Error(Errc::too_large, op, what, "larger than " + std::to_string(max_size) + " bytes");
        throw Error(Errc::invalid_input, op, what, "malformed JSON " + where_broken(text));
    }
}

std::optional<Credentials> docker_credentials(const std::string& host, const std::string& config_path) {
    fs::path path;
    try {
        path = docker_config_file(config_path);
    } catch (const Error&) {
        return std::nullopt;  // no HOME, no DOCKER_CONFIG: no stored credentials
    }
    const auto op = "read docker config";
    const auto doc = read_config(path, op);
    if (auto h = doc.find("credHelpers"); h != doc.end() && h->is_object() && h->contains(host)) {
        if (!h->at(host).is_string()) throw Error(Errc::invalid_input, op, path.string(), "credHelpers." + host + " is not a string");
        return from_helper(h->at(host).get<std::string>(), host);
    }
    if (auto a = doc.find("auths"); a != doc.end() && a->is_object()) {
        for (const auto& key : auth_keys(host)) {
            if (!a->contains(key)) continue;
            const auto& e = a->at(key);
            const auto where = path.string() + ": auths." + key;
            if (!e.is_object()) throw Error(Errc::invalid_input, op, where, "not a JSON object");
            Credentials c;
            if (const auto auth = string_at(e, "auth", op, where); !auth.empty()) {
                std::string decoded;
                try {
                    decoded = oci::base64_decode(auth, "auth");
                } catch (const Error&) {
                    throw Error(Errc::invalid_input, op, where, "auth is not valid base64");
                }
                const auto colon = decoded.find(':');
                if (colon == std::string::npos) throw Error(Errc::invalid_input, op, where, "auth is not user:password");
                c.username = decoded.substr(0, colon);
                c.password = decoded.substr(colon + 1);
            } else {
                c.username = string_at(e, "username", op, where);
                c.password = string_at(e, "password", op, where);
            }
            c.identity_token = string_at(e, "identitytoken", op, where);
            if (!c.username.empty() || !c.identity_token.empty()) return c;
        }
    }
    if (auto s = doc.find("credsStore"); s != doc.end() && s->is_string() && !s->get<std::string>().empty())
        return from_helper(s->get<std::string>(), host);
    return std::nullopt;
}

}  // namespace detail

fs::path docker_config_file(const std::string& override_path) {
    if (!override_path.empty()) return override_path;
    if (const char* d = std::getenv("DOCKER_CONFIG"); d != nullptr && *d != '\0') return fs::path(d) / "config.json";
    if (const char* h = std::getenv("HOME"); h != nullptr && *h != '\0') return fs::path(h) / ".docker" / "config.json";
    throw Error(Errc::io, "find docker config", "", "neither DOCKER_CONFIG nor HOME is set");
}

void store_credentials(const std::string& host, const Credentials& credentials, const std::string& config_path) {
    const auto path = docker_config_file(config_path);
    const auto op = "store credentials";
    auto doc = read_config(path, op);
    auto& auths = doc["auths"];
    if (auths.is_null()) auths = nlohmann::json::object();
    if (!auths.is_object()) throw Error(Errc::invalid_input, op, path.string(), "auths is not a JSON object");
    for (const auto& key : auth_keys(host)) auths.erase(key);  // one entry, the one written now
    nlohmann::json entry = nlohmann::json::object();
    if (!credentials.username.empty())
        entry["auth"] = oci::base64_encode(credentials.username + ":" + credentials.password);
    if (!credentials.identity_token.empty()) entry["identitytoken"] = credentials.identity_token;
    auths[host] = std::move(entry);
    write_config(path, doc, op);
}

bool erase_credentials(const std::string& host, const std::string& config_path) {
    const auto path = docker_config_file(config_path);
    const auto op = "erase credentials";
    auto doc = read_config(path, op);
    const auto auths = doc.find("auths");
    if (auths == doc.end() || !auths->is_object()) return false;
    std::size_t erased = 0;
    for (const auto& key : auth_keys(host)) erased += auths->erase(key);
    if (erased == 0) return false;
    write_config(path, doc, op);
    return true;
}

}  // namespace sealrun::remote
