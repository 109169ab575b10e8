#pragma once
// UTF-8 (RFC 3629) read and written once: decoding shared by the terminal
// escaper (printable.cpp), the XML writer of validate's JUnit report and the
// NumPy str codec; encoding by the NumPy str codec and validate's name keys.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace sealrun::util {

// utf8_length returns the length of the well-formed multi-byte UTF-8
// sequence starting at s[i] (2 to 4 bytes; RFC 3629: no overlong forms,
// surrogates or code points above U+10FFFF) and stores its code point in
// `cp`; 0 when there is none (ASCII included: callers handle bytes < 0x80).
inline std::size_t utf8_length(std::string_view s, std::size_t i, std::uint32_t& cp) {
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

// append_utf8 appends the UTF-8 encoding of the scalar value `cp` (at most
// U+10FFFF, not a surrogate: callers check) to `out`.
inline void append_utf8(std::string& out, std::uint32_t cp) {
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xc0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xe0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
        out += static_cast<char>(0x80 | (cp & 0x3f));
    } else {
        out += static_cast<char>(0xf0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
        out += static_cast<char>(0x80 | (cp & 0x3f));
    }
}

}  // namespace sealrun::util
