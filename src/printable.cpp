#include "sealrun/printable.h"

#include <cstdint>

namespace sealrun {

namespace {

constexpr char hex[] = "0123456789abcdef";

void escape_byte(std::string& out, unsigned char c) {
    out += "\\x";
    out += hex[c >> 4];
    out += hex[c & 15];
}

// utf8_length returns the length of the well-formed UTF-8 sequence starting
// at s[i] (2 to 4 bytes; RFC 3629: no overlong forms, surrogates or code
// points above U+10FFFF) and its code point, or 0.
std::size_t utf8_length(std::string_view s, std::size_t i, std::uint32_t& cp) {
    const auto at = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
    const unsigned char c = at(i);
    std::size_t n = 0;
    if (c >= 0xc2 && c <= 0xdf) {
        n = 2;
        cp = c & 0x1fU;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        cp = c & 0x0fU;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        cp = c & 0x07U;
    } else {
        return 0;
    }
    if (i + n > s.size()) return 0;
    for (std::size_t k = 1; k < n; ++k) {
        if ((at(i + k) & 0xc0) != 0x80) return 0;
        cp = (cp << 6) | (at(i + k) & 0x3fU);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff))) return 0;
    if (cp >= 0xd800 && cp <= 0xdfff) return 0;
    return n;
}

bool is_hidden_control(std::uint32_t cp) {
    return (cp >= 0x80 && cp <= 0x9f) || (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

}  // namespace

std::string printable(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size();) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c < 0x80) {
            if (c < 0x20 || c == 0x7f) escape_byte(out, c);
            else out += static_cast<char>(c);
            ++i;
            continue;
        }
        std::uint32_t cp = 0;
        const auto n = utf8_length(s, i, cp);
        if (n == 0) {
            escape_byte(out, c);
            ++i;
        } else if (is_hidden_control(cp)) {
            out += "\\u";
            for (int shift = 12; shift >= 0; shift -= 4) out += hex[(cp >> shift) & 15];
            i += n;
        } else {
            out.append(s.substr(i, n));
            i += n;
        }
    }
    return out;
}

}  // namespace sealrun
