// validate(): the "names" check, attachment names that cannot be written
// out side by side on common filesystems.
#include <algorithm>
#include <cctype>
#include <cstdint>
#include <map>

#include "util/utf8.h"
#include "validate/validator.h"

namespace sealrun::validation {

namespace {

// name_key folds an attachment name so that two names that cannot be
// extracted side by side on common filesystems get the same key: ASCII
// letters are lower-cased (case-insensitive filesystems: macOS, Windows)
// and the precomposed Latin-1 letters (U+00C0..U+00FF) are decomposed into
// their base letter and combining mark (U+0300..U+036F), the way NFD
// writes them (macOS normalises names). A minimal normalisation: other
// precomposed letters and the order of several marks are not folded.
std::string name_key(std::string_view name) {
    // base letters and marks of U+00C0..U+00DF; the lower-case half is the
    // same plus 0x20. '-' marks a letter without a decomposition.
    static constexpr std::string_view bases = "AAAAAA-CEEEEIIII-NOOOOO--UUUUY--";
    static constexpr std::uint16_t marks[32] = {0x300, 0x301, 0x302, 0x303, 0x308, 0x30a, 0, 0x327, 0x300, 0x301, 0x302,
                                                0x308, 0x300, 0x301, 0x302, 0x308, 0,     0x303, 0x300, 0x301, 0x302, 0x303,
                                                0x308, 0,     0,     0x300, 0x301, 0x302, 0x308, 0x301, 0,     0};
    std::string out;
    out.reserve(name.size());
    for (std::size_t i = 0; i < name.size(); ++i) {
        const auto c = static_cast<unsigned char>(name[i]);
        if (c >= 'A' && c <= 'Z') {
            out += static_cast<char>(c + ('a' - 'A'));
            continue;
        }
        // U+00C0..U+00FF is 0xC3 0x80..0xBF in UTF-8.
        if (c == 0xc3 && i + 1 < name.size()) {
            const auto d = static_cast<unsigned char>(name[i + 1]);
            if (d >= 0x80 && d <= 0xbf) {
                const unsigned cp = 0xc0 + (d - 0x80);
                const unsigned slot = (cp - 0xc0) & 0x1f;
                char base = bases[slot];
                std::uint16_t mark = marks[slot];
                if (cp == 0xff) base = 'Y', mark = 0x308;  // ÿ (its upper-case slot is ß)
                if (base != '-') {
                    out += static_cast<char>(base + ('a' - 'A'));
                    util::append_utf8(out, mark);
                    ++i;
                    continue;
                }
            }
        }
        out += static_cast<char>(c);
    }
    return out;
}

}  // namespace

// name_problems returns why attachment `names` cannot all be written out
// side by side: names equal but for case or normalisation (name_key), a
// name that is also a folder of another ("a" beside "a/b"), and path
// components longer than the 255 bytes filesystems allow.
std::vector<std::string> name_problems(const std::vector<std::string>& names) {
    constexpr std::size_t max_component = 255;
    std::vector<std::string> out;
    std::map<std::string, std::string> by_key;  // key → first name
    for (const auto& n : names) {
        const auto k = name_key(n);
        if (const auto [it, fresh] = by_key.emplace(k, n); !fresh) {
            const bool ascii_case = std::equal(n.begin(), n.end(), it->second.begin(), it->second.end(), [](char a, char b) {
                return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
            });
            out.push_back(show(it->second) + " and " + show(n) + " differ only in " +
                          (ascii_case ? "letter case" : "Unicode normalisation (or case)") +
                          ": one overwrites the other on a case-insensitive or normalising filesystem");
        }
        for (std::size_t s = 0; s <= n.size();) {
            auto e = n.find('/', s);
            if (e == std::string::npos) e = n.size();
            if (e - s > max_component) {
                out.push_back(show(n) + ": a path component of " + std::to_string(e - s) + " bytes exceeds the " +
                              std::to_string(max_component) + " filesystems allow");
                break;
            }
            s = e + 1;
        }
    }
    for (const auto& [k, n] : by_key)
        for (auto slash = k.find('/'); slash != std::string::npos; slash = k.find('/', slash + 1))
            if (const auto it = by_key.find(k.substr(0, slash)); it != by_key.end())
                out.push_back(show(it->second) + " is a file but " + show(n) + " needs it to be a folder");
    return out;
}

}  // namespace sealrun::validation
