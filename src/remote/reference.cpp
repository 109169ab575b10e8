#include "sealrun/remote/reference.h"

#include <optional>
#include <utility>

#include "sealrun/content/target.h"
#include "sealrun/error.h"

namespace sealrun::remote {

namespace {

bool lower_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

// One path component: [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*
bool valid_component(std::string_view c) {
    if (c.empty() || !lower_alnum(c.front()) || !lower_alnum(c.back())) return false;
    for (std::size_t i = 0; i < c.size();) {
        if (lower_alnum(c[i])) {
            ++i;
            continue;
        }
        const auto start = i;
        while (i < c.size() && !lower_alnum(c[i])) ++i;
        const auto sep = c.substr(start, i - start);
        const bool dashes = sep.find_first_not_of('-') == std::string_view::npos;
        if (!(sep == "." || sep == "_" || sep == "__" || dashes)) return false;
    }
    return true;
}

bool alnum(char c) { return lower_alnum(c) || (c >= 'A' && c <= 'Z'); }
bool digits(std::string_view s) { return !s.empty() && s.find_first_not_of("0123456789") == std::string_view::npos; }

// split_port cuts "host[:port]" into the host and the port (empty when
// absent); nullopt when a port is there but is not 1 to 5 digits up to 65535.
std::optional<std::pair<std::string_view, std::string_view>> split_port(std::string_view h) {
    const auto close = h.starts_with('[') ? h.find(']') : 0;
    if (close == std::string_view::npos) return std::nullopt;
    const auto colon = h.find(':', close);
    if (colon == std::string_view::npos) return std::pair{h, std::string_view{}};
    const auto port = h.substr(colon + 1);
    if (!digits(port) || port.size() > 5 || std::stoul(std::string(port)) > 65535) return std::nullopt;
    return std::pair{h.substr(0, colon), port};
}

// The reference grammar's domain (distribution/reference): dot-separated
// components of [a-zA-Z0-9-] that neither start nor end with '-', or a
// bracketed IPv6 literal; then an optional ":" port.
bool valid_host(std::string_view h) {
    const auto split = split_port(h);
    if (!split || split->first.empty()) return false;
    const auto name = split->first;
    if (name.front() == '[')
        return name.size() > 2 && name.back() == ']' &&
               name.substr(1, name.size() - 2).find_first_not_of("0123456789abcdefABCDEF:") == std::string_view::npos;
    for (std::size_t s = 0; s <= name.size();) {
        auto e = name.find('.', s);
        if (e == std::string_view::npos) e = name.size();
        const auto part = name.substr(s, e - s);
        if (part.empty() || !alnum(part.front()) || !alnum(part.back())) return false;
        for (char c : part)
            if (!alnum(c) && c != '-') return false;
        s = e + 1;
    }
    return true;
}

// is_loopback_ipv4 reports whether `h` is a dotted-quad literal 127.x.y.z.
bool is_loopback_ipv4(std::string_view h) {
    int octets = 0;
    for (std::size_t s = 0; s <= h.size(); ++octets) {
        auto e = h.find('.', s);
        if (e == std::string_view::npos) e = h.size();
        const auto part = h.substr(s, e - s);
        if (!digits(part) || part.size() > 3 || std::stoi(std::string(part)) > 255) return false;
        if (octets == 0 && part != "127") return false;
        s = e + 1;
    }
    return octets == 4;
}

[[noreturn]] void bad(std::string_view text, const std::string& why) {
    throw Error(Errc::invalid_input, "parse reference", "\"" + std::string(text.substr(0, 300)) + "\"", why);
}

}  // namespace

bool is_valid_repository(std::string_view name) noexcept {
    if (name.empty() || name.size() > 255) return false;
    for (std::size_t s = 0; s <= name.size();) {
        auto e = name.find('/', s);
        if (e == std::string_view::npos) e = name.size();
        if (!valid_component(name.substr(s, e - s))) return false;
        s = e + 1;
    }
    return true;
}

Reference Reference::parse(std::string_view text) {
    Reference r;
    std::string_view rest = text;
    if (const auto at = rest.find('@'); at != std::string_view::npos) {
        try {
            r.digest = oci::Digest::parse(rest.substr(at + 1));
        } catch (const Error& e) {
            bad(text, "bad digest: " + e.reason());
        }
        rest = rest.substr(0, at);
    }
    const auto slash = rest.find('/');
    if (slash == std::string_view::npos) bad(text, "needs a registry host: host[:port]/repository[:tag|@digest]");
    r.registry = std::string(rest.substr(0, slash));
    if (!valid_host(r.registry)) bad(text, "bad registry host \"" + r.registry + "\"");
    rest = rest.substr(slash + 1);
    // A colon after the last slash starts the tag.
    const auto last_slash = rest.rfind('/');
    const auto colon = rest.find(':', last_slash == std::string_view::npos ? 0 : last_slash);
    if (colon != std::string_view::npos) {
        r.tag = std::string(rest.substr(colon + 1));
        if (!oci::is_valid_tag(r.tag)) bad(text, "bad tag \"" + r.tag + "\"");
        rest = rest.substr(0, colon);
    }
    r.repository = std::string(rest);
    if (!is_valid_repository(r.repository))
        bad(text, "bad repository \"" + r.repository + "\" (lowercase components joined by '/', '.', '_', '__' or '-')");
    return r;
}

std::string Reference::reference() const { return digest ? digest->str() : tag; }

std::string Reference::str() const {
    std::string s = registry + "/" + repository;
    if (!tag.empty()) s += ":" + tag;
    if (digest) s += "@" + digest->str();
    return s;
}

bool Reference::is_loopback() const {
    const auto split = split_port(registry);
    if (!split) return false;
    const auto host = split->first;
    return host == "localhost" || host == "[::1]" || is_loopback_ipv4(host);
}

}  // namespace sealrun::remote
