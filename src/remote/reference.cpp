#include "sealrun/remote/reference.h"

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

bool valid_host(std::string_view h) {
    if (h.empty()) return false;
    if (h.front() == '[') return h.find(']') != std::string_view::npos;  // IPv6 literal
    for (char c : h)
        if (!(lower_alnum(c) || (c >= 'A' && c <= 'Z') || c == '.' || c == '-' || c == ':')) return false;
    return true;
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
        if (!content::is_valid_tag(r.tag)) bad(text, "bad tag \"" + r.tag + "\"");
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
    std::string host = registry;
    if (host.starts_with('[')) return host.starts_with("[::1]");
    host = host.substr(0, host.find(':'));
    return host == "localhost" || host.starts_with("127.");
}

}  // namespace sealrun::remote
