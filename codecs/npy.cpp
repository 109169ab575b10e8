#include "sealrun/codecs/npy.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>

#include "sealrun/error.h"

namespace sealrun::codecs {

namespace {

constexpr std::string_view magic = "\x93NUMPY";
constexpr std::size_t max_header = 16 * 1024 * 1024;

[[noreturn]] void bad(const std::string& why) { throw Error(Errc::invalid_input, "decode", "application/vnd.numpy", why); }

struct TypeCode {
    char kind;
    std::size_t size;
    DType dtype;
};
constexpr TypeCode type_codes[] = {
    {'b', 1, DType::bool_},   {'i', 1, DType::int8},     {'i', 2, DType::int16},     {'i', 4, DType::int32},
    {'i', 8, DType::int64},   {'u', 1, DType::uint8},    {'u', 2, DType::uint16},    {'u', 4, DType::uint32},
    {'u', 8, DType::uint64},  {'f', 2, DType::float16},  {'f', 4, DType::float32},   {'f', 8, DType::float64},
    {'c', 8, DType::complex64}, {'c', 16, DType::complex128},
};

const TypeCode& code_of(DType t) {
    for (const auto& c : type_codes)
        if (c.dtype == t) return c;
    bad("unknown dtype");
}

// The NPY header is a Python dict literal; this reads the subset NumPy
// writes: quoted strings, True/False, and tuples of integers.
struct Literal {
    enum Kind { string, boolean, tuple, list } kind;
    std::string text;
    bool flag = false;
    std::vector<std::uint64_t> ints;
};

class HeaderParser {
public:
    explicit HeaderParser(std::string_view s) : s_(s) {}

    std::map<std::string, Literal> dict() {
        std::map<std::string, Literal> out;
        expect('{');
        for (;;) {
            skip();
            if (peek() == '}') break;
            auto key = quoted();
            expect(':');
            if (!out.emplace(key, value()).second) bad("header repeats key '" + key + "'");
            skip();
            if (peek() == ',') {
                ++i_;
                continue;
            }
            skip();
            if (peek() != '}') bad("header: expected ',' or '}'");
        }
        ++i_;
        skip();
        if (i_ != s_.size()) bad("header has trailing characters");
        return out;
    }

private:
    char peek() const { return i_ < s_.size() ? s_[i_] : '\0'; }
    void skip() {
        while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\n' || s_[i_] == '\t' || s_[i_] == '\r')) ++i_;
    }
    void expect(char c) {
        skip();
        if (peek() != c) bad(std::string("header: expected '") + c + "'");
        ++i_;
    }
    std::string quoted() {
        skip();
        const char q = peek();
        if (q != '\'' && q != '"') bad("header: expected a quoted string");
        const auto end = s_.find(q, i_ + 1);
        if (end == std::string_view::npos) bad("header: unterminated string");
        std::string out(s_.substr(i_ + 1, end - i_ - 1));
        i_ = end + 1;
        return out;
    }
    Literal value() {
        skip();
        const char c = peek();
        if (c == '\'' || c == '"') return {Literal::string, quoted()};
        if (s_.substr(i_, 4) == "True") {
            i_ += 4;
            return {Literal::boolean, {}, true};
        }
        if (s_.substr(i_, 5) == "False") {
            i_ += 5;
            return {Literal::boolean, {}, false};
        }
        if (c == '[') {  // structured dtype: skipped here, refused by the caller
            int depth = 0;
            char quote = 0;
            for (; i_ < s_.size(); ++i_) {
                const char ch = s_[i_];
                if (quote != 0) {
                    if (ch == quote) quote = 0;
                } else if (ch == '\'' || ch == '"') {
                    quote = ch;
                } else if (ch == '[' || ch == '(') {
                    ++depth;
                } else if ((ch == ']' || ch == ')') && --depth == 0) {
                    ++i_;
                    return {Literal::list};
                }
            }
            bad("header: unterminated list");
        }
        if (c != '(') bad("header: unexpected value");
        ++i_;
        Literal t{Literal::tuple};
        for (;;) {
            skip();
            if (peek() == ')') break;
            const auto start = i_;
            while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9') ++i_;
            if (i_ == start) bad("header: shape must hold non-negative integers");
            const auto digits = s_.substr(start, i_ - start);
            if (digits.size() > 19) bad("header: shape dimension too large");
            t.ints.push_back(std::stoull(std::string(digits)));
            if (peek() == 'L') ++i_;  // Python 2 long
            skip();
            if (peek() == ',') ++i_;
            else if (peek() != ')') bad("header: expected ',' or ')' in shape");
        }
        ++i_;
        return t;
    }

    std::string_view s_;
    std::size_t i_ = 0;
};

void parse_descr(const std::string& descr, NdArray& a) {
    if (descr.size() < 2) bad("dtype '" + descr + "' is not understood");
    const char order = descr[0];
    const char kind = descr[1];
    if (kind == 'O') bad("object arrays (dtype 'O') hold pickled Python objects and are refused");
    if (order != '<' && order != '>' && order != '|' && order != '=')
        bad("dtype '" + descr + "' has no byte-order mark");
    std::size_t size = 0;
    const auto digits = std::string_view(descr).substr(2);
    if (digits.empty() || digits.size() > 3 || !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }))
        throw Error(Errc::unsupported, "decode", "application/vnd.numpy", "dtype '" + descr + "' is not supported");
    size = std::stoul(std::string(digits));
    for (const auto& c : type_codes) {
        if (c.kind == kind && c.size == size) {
            a.dtype = c.dtype;
            a.byte_order = order == '>' ? std::endian::big : order == '<' ? std::endian::little : std::endian::native;
            return;
        }
    }
    throw Error(Errc::unsupported, "decode", "application/vnd.numpy", "dtype '" + descr + "' is not supported");
}

std::string descr_of(const NdArray& a) {
    const auto& c = code_of(a.dtype);
    const char order = c.size == 1 ? '|' : (a.byte_order == std::endian::big ? '>' : '<');
    return std::string(1, order) + c.kind + std::to_string(c.size);
}

std::string header_dict(const NdArray& a) {
    std::string shape = "(";
    for (std::size_t i = 0; i < a.shape.size(); ++i) {
        if (i > 0) shape += ", ";
        shape += std::to_string(a.shape[i]);
    }
    if (a.shape.size() == 1) shape += ",";
    shape += ")";
    return "{'descr': '" + descr_of(a) + "', 'fortran_order': " + (a.fortran_order ? "True" : "False") +
           ", 'shape': " + shape + ", }";
}

double half_to_double(std::uint16_t h) {
    const int exp = (h >> 10) & 0x1f;
    const int mant = h & 0x3ff;
    const double sign = (h & 0x8000) ? -1.0 : 1.0;
    if (exp == 0) return sign * std::ldexp(mant, -24);
    if (exp == 31) return mant == 0 ? sign * std::numeric_limits<double>::infinity() : std::numeric_limits<double>::quiet_NaN();
    return sign * std::ldexp(mant + 1024, exp - 25);
}

template <class T>
void append_as_double(const NdArray& a, std::vector<double>& out) {
    for (const auto& v : a.values<T>()) out.push_back(static_cast<double>(v));
}

}  // namespace

std::size_t dtype_size(DType t) noexcept {
    for (const auto& c : type_codes)
        if (c.dtype == t) return c.size;
    return 0;
}

std::string_view dtype_name(DType t) noexcept {
    switch (t) {
    case DType::bool_: return "bool";
    case DType::int8: return "int8";
    case DType::int16: return "int16";
    case DType::int32: return "int32";
    case DType::int64: return "int64";
    case DType::uint8: return "uint8";
    case DType::uint16: return "uint16";
    case DType::uint32: return "uint32";
    case DType::uint64: return "uint64";
    case DType::float16: return "float16";
    case DType::float32: return "float32";
    case DType::float64: return "float64";
    case DType::complex64: return "complex64";
    case DType::complex128: return "complex128";
    }
    return "unknown";
}

std::uint64_t NdArray::element_count() const noexcept {
    std::uint64_t n = 1;
    for (auto d : shape) {
        if (d != 0 && n > std::numeric_limits<std::uint64_t>::max() / d) return std::numeric_limits<std::uint64_t>::max();
        n *= d;
    }
    return n;
}

void NdArray::check_size() const {
    const auto n = element_count();
    const auto item = dtype_size(dtype);
    if (n > std::numeric_limits<std::uint64_t>::max() / std::max<std::size_t>(item, 1) || n * item != data.size())
        bad("shape needs " + std::to_string(n) + " elements of " + std::to_string(item) + " bytes, data holds " +
            std::to_string(data.size()) + " bytes");
}

void NdArray::check_dtype(DType wanted) const {
    if (wanted != dtype)
        throw Error(Errc::invalid_input, "read array", std::string(dtype_name(dtype)),
                    "asked for " + std::string(dtype_name(wanted)) + " elements");
}

void NdArray::copy_native(void* out) const {
    if (data.empty()) return;  // `out` may be null then: memcpy must not see it
    std::memcpy(out, data.data(), data.size());
    const auto item = dtype_size(dtype);
    if (item == 1 || byte_order == std::endian::native) return;
    // Complex numbers swap each component on its own.
    const auto unit = (dtype == DType::complex64 || dtype == DType::complex128) ? item / 2 : item;
    auto* p = static_cast<char*>(out);
    for (std::size_t i = 0; i < data.size(); i += unit) std::reverse(p + i, p + i + unit);
}

std::vector<double> NdArray::as_double() const {
    std::vector<double> out;
    out.reserve(static_cast<std::size_t>(element_count()));
    switch (dtype) {
    case DType::bool_: append_as_double<bool>(*this, out); break;
    case DType::int8: append_as_double<std::int8_t>(*this, out); break;
    case DType::int16: append_as_double<std::int16_t>(*this, out); break;
    case DType::int32: append_as_double<std::int32_t>(*this, out); break;
    case DType::int64: append_as_double<std::int64_t>(*this, out); break;
    case DType::uint8: append_as_double<std::uint8_t>(*this, out); break;
    case DType::uint16: append_as_double<std::uint16_t>(*this, out); break;
    case DType::uint32: append_as_double<std::uint32_t>(*this, out); break;
    case DType::uint64: append_as_double<std::uint64_t>(*this, out); break;
    case DType::float32: append_as_double<float>(*this, out); break;
    case DType::float64: append_as_double<double>(*this, out); break;
    case DType::float16: {
        NdArray raw = *this;
        raw.dtype = DType::uint16;
        for (auto h : raw.values<std::uint16_t>()) out.push_back(half_to_double(h));
        break;
    }
    case DType::complex64:
    case DType::complex128:
        throw Error(Errc::invalid_input, "read array", std::string(dtype_name(dtype)), "complex values have no double");
    }
    return out;
}

std::string NpyCodec::encode(const NdArray& array) {
    return encode_version(array, header_dict(array).size() + 11 < 65536 ? 1 : 2);
}

std::string NpyCodec::encode_version(const NdArray& array, int major) {
    array.check_size();
    if (major < 1 || major > 3) throw Error(Errc::invalid_input, "encode", "application/vnd.numpy", "NPY version must be 1, 2 or 3");
    auto header = header_dict(array);
    const std::size_t prefix = magic.size() + 2 + (major == 1 ? 2 : 4);
    // Pad with spaces and a final newline so the data starts 64-byte aligned.
    const std::size_t total = (prefix + header.size() + 1 + 63) / 64 * 64;
    header.append(total - prefix - header.size() - 1, ' ');
    header += '\n';
    if (major == 1 && header.size() > 65535) throw Error(Errc::invalid_input, "encode", "application/vnd.numpy", "header too long for NPY 1.0");
    std::string out(magic);
    out += static_cast<char>(major);
    out += '\0';
    const auto len = header.size();
    for (std::size_t i = 0; i < (major == 1 ? 2u : 4u); ++i) out += static_cast<char>((len >> (8 * i)) & 0xff);
    out += header;
    out += array.data;
    return out;
}

NdArray NpyCodec::decode(std::string_view bytes) {
    if (bytes.size() < 10 || bytes.substr(0, 6) != magic) bad("not an NPY file (bad magic)");
    const int major = static_cast<unsigned char>(bytes[6]);
    if (major < 1 || major > 3) bad("unknown NPY version " + std::to_string(major));
    const std::size_t len_bytes = major == 1 ? 2 : 4;
    if (bytes.size() < 8 + len_bytes) bad("truncated header length");
    std::size_t len = 0;
    for (std::size_t i = 0; i < len_bytes; ++i) len |= std::size_t{static_cast<unsigned char>(bytes[8 + i])} << (8 * i);
    const std::size_t start = 8 + len_bytes;
    if (len > max_header || bytes.size() - start < len) bad("truncated header");
    const auto header = bytes.substr(start, len);
    if (major < 3 && std::any_of(header.begin(), header.end(), [](char c) { return static_cast<unsigned char>(c) > 127; }))
        bad("NPY 1.0/2.0 header must be ASCII");
    auto dict = HeaderParser(header).dict();
    for (const auto* key : {"descr", "fortran_order", "shape"})
        if (!dict.contains(key)) bad(std::string("header lacks '") + key + "'");
    if (dict.size() != 3) bad("header holds keys besides descr, fortran_order and shape");
    NdArray a;
    if (dict["descr"].kind == Literal::list) throw Error(Errc::unsupported, "decode", "application/vnd.numpy", "structured dtypes are not supported");
    if (dict["descr"].kind != Literal::string) bad("descr must be a string");
    if (dict["fortran_order"].kind != Literal::boolean) bad("fortran_order must be True or False");
    if (dict["shape"].kind != Literal::tuple) bad("shape must be a tuple");
    parse_descr(dict["descr"].text, a);
    a.fortran_order = dict["fortran_order"].flag;
    a.shape = dict["shape"].ints;
    a.data.assign(bytes.substr(start + len));
    a.check_size();
    return a;
}

}  // namespace sealrun::codecs
