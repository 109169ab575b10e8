#include "remote/url.h"

#include <algorithm>

#include "remote/curl.h"
#include "sealrun/error.h"

namespace sealrun::remote::detail {

namespace {

// part returns one part of the URL `u` holds, "" when it has none.
std::string part(CURLU* u, CURLUPart which, unsigned flags = 0) {
    char* raw = nullptr;
    const auto rc = curl_url_get(u, which, &raw, flags);
    const CurlString owned(raw);
    return rc == CURLUE_OK && owned ? std::string(owned.get()) : std::string();
}

}  // namespace

std::string lowercase(std::string s) {
    for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

std::string resolve_url(const std::string& base, const std::string& location) {
    global_init();
    CurlUrl u(curl_url());
    if (!u || curl_url_set(u.get(), CURLUPART_URL, base.c_str(), 0) != CURLUE_OK)
        throw Error(Errc::protocol, "resolve url", base, "not a URL");
    // A relative URL set on a handle that holds one resolves against it.
    if (curl_url_set(u.get(), CURLUPART_URL, location.c_str(), 0) != CURLUE_OK)
        throw Error(Errc::protocol, "resolve url", location.substr(0, 300), "not a URL reference");
    const auto scheme = lowercase(part(u.get(), CURLUPART_SCHEME));
    if (scheme.empty()) throw Error(Errc::protocol, "resolve url", location.substr(0, 300), "has no scheme");
    if (scheme != "http" && scheme != "https")
        throw Error(Errc::protocol, "resolve url", location.substr(0, 300),
                    "leads to an unsupported scheme (only http and https are followed)");
    auto out = part(u.get(), CURLUPART_URL);
    if (out.empty()) throw Error(Errc::protocol, "resolve url", location.substr(0, 300), "cannot be resolved");
    return out;
}

std::string origin(const std::string& url) {
    global_init();
    CurlUrl u(curl_url());
    if (!u || curl_url_set(u.get(), CURLUPART_URL, url.c_str(), 0) != CURLUE_OK) return {};
    return lowercase(part(u.get(), CURLUPART_SCHEME)) + "://" + lowercase(part(u.get(), CURLUPART_HOST)) + ":" +
           part(u.get(), CURLUPART_PORT, CURLU_DEFAULT_PORT);
}

std::string url_escape(std::string_view s) {
    global_init();
    const CurlString e(curl_easy_escape(nullptr, s.data(), static_cast<int>(s.size())));
    return e ? std::string(e.get()) : std::string();
}

std::optional<std::string> next_link(std::string_view h) {
    std::size_t i = 0;
    const auto n = h.size();
    auto skip_space = [&] {
        while (i < n && (h[i] == ' ' || h[i] == '\t')) ++i;
    };
    // skip_value moves past the rest of this link-value: to its comma, outside quotes.
    auto skip_value = [&] {
        for (bool quoted = false; i < n; ++i) {
            if (quoted && h[i] == '\\') ++i;
            else if (h[i] == '"') quoted = !quoted;
            else if (!quoted && h[i] == ',') break;
        }
    };
    while (i < n) {
        while (i < n && (h[i] == ' ' || h[i] == '\t' || h[i] == ',')) ++i;
        if (i >= n) break;
        if (h[i] != '<') {  // not a link-value: skip it
            skip_value();
            continue;
        }
        const auto close = h.find('>', i + 1);
        if (close == std::string_view::npos) break;
        const auto target = h.substr(i + 1, close - i - 1);
        i = close + 1;
        bool next = false;
        while (true) {  // parameters: ; name[=value]
            skip_space();
            if (i >= n || h[i] != ';') break;
            ++i;
            skip_space();
            const auto start = i;
            while (i < n && h[i] != '=' && h[i] != ';' && h[i] != ',' && h[i] != ' ' && h[i] != '\t') ++i;
            const auto name = lowercase(std::string(h.substr(start, i - start)));
            skip_space();
            std::string value;
            if (i < n && h[i] == '=') {
                ++i;
                skip_space();
                if (i < n && h[i] == '"') {
                    for (++i; i < n && h[i] != '"'; ++i) {
                        if (h[i] == '\\' && i + 1 < n) ++i;
                        value += h[i];
                    }
                    if (i < n) ++i;  // the closing quote
                } else {
                    const auto vstart = i;
                    while (i < n && h[i] != ';' && h[i] != ',' && h[i] != ' ' && h[i] != '\t') ++i;
                    value = std::string(h.substr(vstart, i - vstart));
                }
            }
            if (name == "rel") {  // a space-separated list of relation types
                auto types = " " + lowercase(value) + " ";
                std::replace(types.begin(), types.end(), '\t', ' ');
                next = next || types.find(" next ") != std::string::npos;
            }
        }
        if (next) return std::string(target);
        skip_value();
    }
    return std::nullopt;
}

}  // namespace sealrun::remote::detail
