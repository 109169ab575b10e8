// NumPy's flexible dtypes as text: str (UCS-4), bytes and void elements to
// and from std::string, and the check that a str array holds only Unicode
// scalar values.
#include <algorithm>
#include <cstdio>

#include "sealrun/codecs/npy.h"
#include "sealrun/error.h"
#include "codecs/npy_detail.h"
#include "util/utf8.h"

namespace sealrun::codecs {

using namespace npy_detail;

namespace {

// scalar_value reports whether a UCS-4 code unit is a Unicode scalar value
// (what UTF-8 can encode): not a surrogate, not past U+10FFFF.
bool scalar_value(std::uint32_t u) noexcept { return u <= 0x10ffff && (u < 0xd800 || u > 0xdfff); }

std::uint32_t code_unit(const char* p, std::endian order) noexcept {
    const auto b = [&](int i) { return static_cast<std::uint32_t>(static_cast<unsigned char>(p[i])); };
    return order == std::endian::big ? (b(0) << 24) | (b(1) << 16) | (b(2) << 8) | b(3)
                                     : (b(3) << 24) | (b(2) << 16) | (b(1) << 8) | b(0);
}

}  // namespace

void npy_detail::check_code_units(std::string_view data, std::endian order, std::uint64_t offset) {
    for (std::size_t i = 0; i + 4 <= data.size(); i += 4) {
        const auto u = code_unit(data.data() + i, order);
        if (!scalar_value(u)) {
            char hex[16];
            std::snprintf(hex, sizeof hex, "0x%08X", u);
            bad("str code unit " + std::to_string((offset + i) / 4) + " is " + hex +
                ", not a Unicode scalar value (a surrogate or past U+10FFFF)");
        }
    }
}

namespace {

// utf8_code_points decodes UTF-8 (RFC 3629, util/utf8.h) or throws.
std::vector<std::uint32_t> utf8_code_points(std::string_view s, std::size_t index) {
    std::vector<std::uint32_t> out;
    for (std::size_t i = 0; i < s.size();) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c < 0x80) {
            out.push_back(c);
            ++i;
            continue;
        }
        std::uint32_t cp = 0;
        const auto n = util::utf8_length(s, i, cp);
        if (n == 0)
            throw Error(Errc::invalid_input, "encode", "application/vnd.numpy",
                        "str value " + std::to_string(index) + " is not UTF-8 (byte " + std::to_string(i) + ")");
        out.push_back(cp);
        i += n;
    }
    return out;
}

}  // namespace

std::vector<std::string> NdArray::strings() const {
    if (!flexible(dtype))
        throw Error(Errc::invalid_input, "read array", std::string(dtype_name(dtype)), "asked for strings");
    check_size();
    const auto item = static_cast<std::size_t>(item_size());
    std::vector<std::string> out;
    out.reserve(static_cast<std::size_t>(element_count()));
    for (std::size_t at = 0; at < data.size(); at += item) {  // check_size: item > 0
        std::string_view e(data.data() + at, item);
        std::string s;
        if (dtype == DType::str) {
            std::size_t units = item / 4;
            while (units > 0 && code_unit(e.data() + 4 * (units - 1), byte_order) == 0) --units;
            for (std::size_t k = 0; k < units; ++k) util::append_utf8(s, code_unit(e.data() + 4 * k, byte_order));
        } else if (dtype == DType::bytes) {
            const auto last = e.find_last_not_of('\0');
            s.assign(last == std::string_view::npos ? std::string_view() : e.substr(0, last + 1));
        } else {
            s.assign(e);
        }
        out.push_back(std::move(s));
    }
    return out;
}

NdArray NdArray::from_strings(std::vector<std::uint64_t> shape, std::span<const std::string> values, DType kind) {
    if (!flexible(kind))
        throw Error(Errc::invalid_input, "encode", "application/vnd.numpy",
                    "from_strings makes str, bytes or void arrays, not " + std::string(dtype_name(kind)));
    NdArray a{.dtype = kind, .byte_order = std::endian::native, .shape = std::move(shape)};
    const auto trailing_nul = [](const std::string& v, std::size_t i) {
        if (!v.empty() && v.back() == '\0')
            throw Error(Errc::invalid_input, "encode", "application/vnd.numpy",
                        "value " + std::to_string(i) + " ends in NUL, which NumPy drops: it could not be read back");
    };
    if (kind == DType::str) {
        std::vector<std::vector<std::uint32_t>> points;
        a.length = 1;
        for (std::size_t i = 0; i < values.size(); ++i) {
            trailing_nul(values[i], i);
            points.push_back(utf8_code_points(values[i], i));
            a.length = std::max<std::uint64_t>(a.length, points.back().size());
        }
        a.data.reserve(static_cast<std::size_t>(values.size() * a.length * 4));
        for (const auto& p : points) {
            for (std::uint64_t k = 0; k < a.length; ++k) {
                const std::uint32_t u = k < p.size() ? p[k] : 0;
                a.data.append(reinterpret_cast<const char*>(&u), 4);  // native order
            }
        }
    } else {
        a.length = kind == DType::bytes ? 1 : (values.empty() ? 1 : values.front().size());
        for (std::size_t i = 0; i < values.size(); ++i) {
            if (kind == DType::bytes) trailing_nul(values[i], i);
            else if (values[i].size() != a.length)
                throw Error(Errc::invalid_input, "encode", "application/vnd.numpy",
                            "void value " + std::to_string(i) + " holds " + std::to_string(values[i].size()) +
                                " bytes, value 0 " + std::to_string(a.length));
            a.length = std::max<std::uint64_t>(a.length, values[i].size());
        }
        for (const auto& v : values) {
            a.data += v;
            a.data.append(static_cast<std::size_t>(a.length - v.size()), '\0');
        }
    }
    a.check_size();
    return a;
}

}  // namespace sealrun::codecs
