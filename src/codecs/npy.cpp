#include "sealrun/codecs/npy.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <map>

#include "sealrun/error.h"
#include "codecs/npy_detail.h"

namespace sealrun::codecs {

namespace npy_detail {

void bad(const std::string& why) { throw Error(Errc::invalid_input, "decode", "application/vnd.numpy", why); }

bool flexible(DType t) noexcept { return t == DType::str || t == DType::bytes || t == DType::void_; }

}  // namespace npy_detail

using namespace npy_detail;

namespace {

constexpr std::string_view magic = "\x93NUMPY";
constexpr std::size_t max_header = 16 * 1024 * 1024;
// NumPy keeps an element's size in a C int: no dtype is larger.
constexpr std::uint64_t max_item_size = 0x7fffffff;

[[noreturn]] void unsupported(const std::string& why) {
    throw Error(Errc::unsupported, "decode", "application/vnd.numpy", why);
}


// The flexible dtypes: NumPy's kind letter, and bytes per unit of length.
struct FlexibleCode {
    char kind;
    std::uint64_t unit;
    DType dtype;
};
constexpr FlexibleCode flexible_codes[] = {{'U', 4, DType::str}, {'S', 1, DType::bytes}, {'V', 1, DType::void_}};

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

// short_descr is a descr fit for a message: a structured dtype's list can
// be megabytes long.
std::string short_descr(const std::string& descr) {
    return descr.size() <= 80 ? descr : descr.substr(0, 77) + "...";
}

// read_descr applies the dtype part of the rule to a descr string: it fills
// `h.array`'s dtype, byte order and length when sealrun decodes the dtype,
// else `h.not_decoded`; and `h.data_size`'s item size when known (returned;
// 0 when unknown). Throws for object arrays and descrs that are no dtype.
std::uint64_t read_descr(const std::string& descr, NpyHeader& h, NdArray& a) {
    if (descr.size() < 2) bad("dtype '" + short_descr(descr) + "' is not understood");
    const char order = descr[0];
    const char kind = descr[1];
    if (kind == 'O') bad("object arrays (dtype 'O') hold pickled Python objects and are refused");
    if (order != '<' && order != '>' && order != '|' && order != '=')
        bad("dtype '" + short_descr(descr) + "' has no byte-order mark");
    const auto endian = order == '>' ? std::endian::big : order == '<' ? std::endian::little : std::endian::native;
    // The size: digits, then for datetime64/timedelta64 a unit in brackets.
    std::size_t end = 2;
    while (end < descr.size() && descr[end] >= '0' && descr[end] <= '9') ++end;
    const auto digits = std::string_view(descr).substr(2, end - 2);
    const auto rest = std::string_view(descr).substr(end);
    const bool unit = (kind == 'M' || kind == 'm') && rest.size() > 2 && rest.front() == '[' && rest.back() == ']' &&
                      std::all_of(rest.begin() + 1, rest.end() - 1, [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; });
    if (digits.empty() || digits.size() > 10 || (!rest.empty() && !unit))
        bad("dtype '" + short_descr(descr) + "' is not understood");
    const std::uint64_t size = std::stoull(std::string(digits));
    for (const auto& c : flexible_codes) {
        if (c.kind != kind) continue;
        if (size == 0) bad("dtype '" + descr + "' has elements of no size");
        if (size > max_item_size / c.unit) bad("dtype '" + descr + "' is larger than NumPy allows");
        a.dtype = c.dtype;
        a.byte_order = endian;
        a.length = size;
        return size * c.unit;
    }
    if (size > max_item_size) bad("dtype '" + short_descr(descr) + "' is larger than NumPy allows");
    for (const auto& c : type_codes) {
        if (c.kind == kind && c.size == size) {
            a.dtype = c.dtype;
            a.byte_order = endian;
            return size;
        }
    }
    // NumPy's other kinds of a known size (long double, datetime64,
    // timedelta64): acceptable, not decoded. Any other letter is no dtype.
    if (std::string_view("biufcmM").find(kind) == std::string_view::npos)
        bad("dtype '" + short_descr(descr) + "' is not understood");
    h.not_decoded = "dtype '" + short_descr(descr) + "' is not supported";
    return size;
}

std::string descr_of(const NdArray& a) {
    for (const auto& c : flexible_codes)
        if (c.dtype == a.dtype)
            return std::string(1, c.unit == 1 ? '|' : a.byte_order == std::endian::big ? '>' : '<') + c.kind +
                   std::to_string(a.length);
    const auto& c = code_of(a.dtype);
    const char order = c.size == 1 ? '|' : (a.byte_order == std::endian::big ? '>' : '<');
    return std::string(1, order) + c.kind + std::to_string(c.size);
}

// size_message is the one wording of a data size that does not match.
std::string size_message(std::uint64_t elements, std::uint64_t item, std::uint64_t held) {
    return "shape needs " + std::to_string(elements) + " elements of " + std::to_string(item) + " bytes, data holds " +
           std::to_string(held) + " bytes";
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
    case DType::str: return "str";
    case DType::bytes: return "bytes";
    case DType::void_: return "void";
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

std::uint64_t NdArray::item_size() const noexcept {
    for (const auto& c : flexible_codes)
        if (c.dtype == dtype) return length > std::numeric_limits<std::uint64_t>::max() / c.unit ? std::numeric_limits<std::uint64_t>::max() : length * c.unit;
    return dtype_size(dtype);
}

void NdArray::check_size() const {
    const auto n = element_count();
    const auto item = item_size();
    if (flexible(dtype) && (length == 0 || item > max_item_size))
        bad("elements of " + std::to_string(item) + " bytes: a " + std::string(dtype_name(dtype)) +
            " element takes 1 to 2^31-1 bytes");
    if (!flexible(dtype) && length != 0) bad("length is only for str, bytes and void arrays");
    if (n > std::numeric_limits<std::uint64_t>::max() / std::max<std::uint64_t>(item, 1) || n * item != data.size())
        bad(size_message(n, item, data.size()));
    if (dtype == DType::str) check_code_units(data, byte_order, 0);
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
    out.reserve(static_cast<std::size_t>(std::min<std::uint64_t>(element_count(), data.size())));
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
    case DType::str:
    case DType::bytes:
    case DType::void_:
        throw Error(Errc::invalid_input, "read array", std::string(dtype_name(dtype)), "these elements are not numbers");
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
    // What is written passes the rule it is read by.
    const auto h = NpyCodec::header(out);
    if (!h.array || h.data_size != array.data.size())
        throw Error(Errc::invalid_input, "encode", "application/vnd.numpy", "the header written does not read back");
    out += array.data;
    return out;
}

std::size_t NpyCodec::header_size(std::string_view bytes) {
    if (bytes.size() < 10 || bytes.substr(0, 6) != magic) bad("not an NPY file (bad magic)");
    const int major = static_cast<unsigned char>(bytes[6]);
    if (major < 1 || major > 3) bad("unknown NPY version " + std::to_string(major));
    const std::size_t len_bytes = major == 1 ? 2 : 4;
    if (bytes.size() < 8 + len_bytes) bad("truncated header length");
    std::size_t len = 0;
    for (std::size_t i = 0; i < len_bytes; ++i) len |= std::size_t{static_cast<unsigned char>(bytes[8 + i])} << (8 * i);
    if (len > max_header) bad("header of " + std::to_string(len) + " bytes is longer than 16 MiB");
    return 8 + len_bytes + len;
}

namespace {
// check_data_size throws unless `held` bytes of data are what `h` needs.
void check_data_size(const NpyHeader& h, std::uint64_t held) {
    if (!h.data_size || *h.data_size == held) return;
    if (h.array) bad(size_message(h.array->element_count(), h.array->item_size(), held));
    bad("dtype '" + short_descr(h.descr) + "' and the shape need " + std::to_string(*h.data_size) + " bytes, data holds " +
        std::to_string(held) + " bytes");
}
}  // namespace

NpyHeader NpyCodec::header(std::string_view bytes) {
    NpyHeader h;
    h.size = header_size(bytes);
    h.major = static_cast<unsigned char>(bytes[6]);
    if (bytes.size() < h.size) bad("truncated header");
    const std::size_t start = h.major == 1 ? 10 : 12;
    const auto text = bytes.substr(start, h.size - start);
    if (h.major < 3 && std::any_of(text.begin(), text.end(), [](char c) { return static_cast<unsigned char>(c) > 127; }))
        bad("NPY 1.0/2.0 header must be ASCII");
    auto dict = parse_header_dict(text);
    for (const auto* key : {"descr", "fortran_order", "shape"})
        if (!dict.contains(key)) bad(std::string("header lacks '") + key + "'");
    if (dict.size() != 3) bad("header holds keys besides descr, fortran_order and shape");
    if (dict["descr"].kind != Literal::string && dict["descr"].kind != Literal::list) bad("descr must be a string");
    if (dict["fortran_order"].kind != Literal::boolean) bad("fortran_order must be True or False");
    if (dict["shape"].kind != Literal::tuple) bad("shape must be a tuple");
    NdArray a;
    a.fortran_order = dict["fortran_order"].flag;
    a.shape = dict["shape"].ints;
    if (dict["descr"].kind == Literal::list) {
        h.descr = dict["descr"].text;
        h.not_decoded = "structured dtype " + short_descr(h.descr) + " is not supported";
        return h;
    }
    h.descr = dict["descr"].text;
    const auto item = read_descr(h.descr, h, a);
    const auto n = a.element_count();
    if (n > std::numeric_limits<std::uint64_t>::max() / std::max<std::uint64_t>(item, 1))
        bad("shape needs more than 2^64 bytes");
    h.data_size = n * item;
    if (h.not_decoded.empty()) h.array = std::move(a);
    return h;
}

NdArray NpyCodec::decode(std::string_view bytes) {
    const auto h = header(bytes);
    const auto data = bytes.substr(h.size);
    check_data_size(h, data.size());
    if (!h.array) unsupported(h.not_decoded);
    NdArray a = *h.array;
    a.data.assign(data);
    a.check_size();
    return a;
}

std::string NpyCodec::check(content::ReadStream& in) {
    std::vector<std::byte> buf(64 * 1024);
    const auto fill = [&](std::string& into, std::size_t want) {
        while (into.size() < want) {
            const auto n = content::read_fully(in, std::span(buf).first(std::min(buf.size(), want - into.size())));
            if (n == 0) return;
            into.append(reinterpret_cast<const char*>(buf.data()), n);
        }
    };
    std::string head;
    fill(head, 12);
    const auto size = header_size(head);
    fill(head, size);
    const auto h = header(head);
    // The data: counted, and a str array's code units checked as they pass.
    std::string carry = head.substr(h.size);  // bytes read past the header; for str, a partial code unit
    std::uint64_t held = carry.size();
    const bool units = h.array && h.array->dtype == DType::str;
    std::uint64_t checked = 0;
    const auto check_units = [&] {
        const auto whole = carry.size() / 4 * 4;
        check_code_units(std::string_view(carry).substr(0, whole), h.array->byte_order, checked);
        checked += whole;
        carry.erase(0, whole);
    };
    if (units) check_units();
    else carry.clear();
    while (const auto n = in.read(buf)) {
        held += n;
        if (units) {
            carry.append(reinterpret_cast<const char*>(buf.data()), n);
            check_units();
        }
    }
    check_data_size(h, held);
    if (h.array) return {};
    return h.not_decoded + (h.data_size ? "; elements not decoded (header and data size checked)"
                                                     : "; elements not decoded (header checked, data size unknown)");
}

}  // namespace sealrun::codecs
