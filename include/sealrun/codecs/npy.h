#pragma once
/// The NumPy codec: `.npy`, application/vnd.numpy, an n-d array
/// (NumPy "NPY format" versions 1.0, 2.0 and 3.0).

#include <bit>
#include <complex>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "sealrun/content/stream.h"

namespace sealrun::codecs {

/// DType is an array's element type; the names follow NumPy's. The last
/// three are NumPy's flexible types, whose elements take `NdArray::length`
/// units each: `str` ('U', UCS-4 code points, byte order matters), `bytes`
/// ('S', bytes; trailing NULs are not part of a value) and `void_` (plain
/// 'V', raw bytes; structured dtypes are not decoded).
enum class DType : std::uint8_t {
    bool_, int8, int16, int32, int64, uint8, uint16, uint32, uint64, float16, float32, float64, complex64, complex128,
    str, bytes, void_,
};

/// dtype_size returns the bytes one element of `t` takes; 0 for the
/// flexible types (str, bytes, void_), whose size is NdArray::item_size().
std::size_t dtype_size(DType t) noexcept;
/// dtype_name returns NumPy's name for `t`, e.g. "float64"; "str", "bytes"
/// and "void" for the flexible types (NumPy adds the size in bits).
std::string_view dtype_name(DType t) noexcept;

/// dtype_of<T> is the DType of a C++ element type (bool, the fixed-width
/// integers, float, double, std::complex<float>, std::complex<double>).
template <class T>
constexpr DType dtype_of() {
    if constexpr (std::is_same_v<T, bool>) return DType::bool_;
    else if constexpr (std::is_same_v<T, std::int8_t>) return DType::int8;
    else if constexpr (std::is_same_v<T, std::int16_t>) return DType::int16;
    else if constexpr (std::is_same_v<T, std::int32_t>) return DType::int32;
    else if constexpr (std::is_same_v<T, std::int64_t>) return DType::int64;
    else if constexpr (std::is_same_v<T, std::uint8_t>) return DType::uint8;
    else if constexpr (std::is_same_v<T, std::uint16_t>) return DType::uint16;
    else if constexpr (std::is_same_v<T, std::uint32_t>) return DType::uint32;
    else if constexpr (std::is_same_v<T, std::uint64_t>) return DType::uint64;
    else if constexpr (std::is_same_v<T, float>) return DType::float32;
    else if constexpr (std::is_same_v<T, double>) return DType::float64;
    else if constexpr (std::is_same_v<T, std::complex<float>>) return DType::complex64;
    else if constexpr (std::is_same_v<T, std::complex<double>>) return DType::complex128;
    else static_assert(!sizeof(T), "no NumPy dtype for this C++ type");
}

/// NdArray is an n-dimensional array as NumPy stores it: element type, byte
/// order, shape (empty for a 0-d array), memory order, the raw element
/// bytes and, for the flexible dtypes, the units each element takes.
struct NdArray {
    /// dtype is the element type.
    DType dtype = DType::float64;
    /// byte_order is the order of each element's bytes in `data`.
    std::endian byte_order = std::endian::little;
    /// shape holds the extent of each dimension (empty: a 0-d array).
    std::vector<std::uint64_t> shape;
    /// fortran_order says `data` is column-major (Fortran) rather than row-major.
    bool fortran_order = false;
    /// data holds the raw element bytes, exactly as the file stores them.
    std::string data;
    /// length is, for str, bytes and void_, the code points (str) or bytes
    /// one element takes (NumPy's "<U5" has length 5); 0 for the others.
    std::uint64_t length = 0;

    /// element_count returns the product of the shape (1 for a 0-d array).
    std::uint64_t element_count() const noexcept;
    /// item_size returns the bytes one element takes: dtype_size(dtype), or
    /// 4 × length for str and length for bytes and void_.
    std::uint64_t item_size() const noexcept;

    /// strings returns the elements of a str, bytes or void_ array in
    /// storage order: str elements as UTF-8 without trailing NULs, bytes
    /// elements without trailing NULs (as NumPy reads both), void_ elements
    /// as their raw bytes. Throws Error(invalid_input) for other dtypes, for
    /// data that does not match the shape, and for a str code unit that is
    /// not a Unicode scalar value (a surrogate or past U+10FFFF).
    std::vector<std::string> strings() const;

    /// from_strings builds a C-order array of `kind` str (native byte
    /// order, UTF-8 in, length the most code points of any value, at least
    /// 1, as NumPy's "<U{n}"), bytes ("|S{n}", n the longest value, at least
    /// 1) or void_ ("|V{n}", every value n bytes). Throws
    /// Error(invalid_input) when `values` does not fill `shape`, for invalid
    /// UTF-8, for a str or bytes value ending in NUL (NumPy would drop it:
    /// it could not round-trip) and for void_ values of different sizes.
    static NdArray from_strings(std::vector<std::uint64_t> shape, std::span<const std::string> values, DType kind = DType::str);

    /// values returns the elements in storage order as T in native byte
    /// order; throws Error(invalid_input) when T is not the array's dtype
    /// or `data` does not hold exactly element_count() elements.
    template <class T>
    std::vector<T> values() const {
        check_dtype(dtype_of<T>());
        check_size();
        if constexpr (std::is_same_v<T, bool>) {
            std::vector<bool> out;  // packed: no contiguous storage to copy into
            out.reserve(data.size());
            for (char c : data) out.push_back(c != 0);
            return out;
        } else {
            std::vector<T> out(static_cast<std::size_t>(element_count()));
            copy_native(out.data());
            return out;
        }
    }

    /// as_double returns every element of a boolean, integer or float
    /// array (float16 included) converted to double, in storage order;
    /// throws Error(invalid_input) for complex, str, bytes and void arrays.
    std::vector<double> as_double() const;

    /// from_values builds a C-order array in native byte order.
    template <class T>
    static NdArray from_values(std::vector<std::uint64_t> shape, std::span<const T> values) {
        static_assert(!std::is_same_v<T, bool> || sizeof(bool) == 1);
        NdArray a{.dtype = dtype_of<T>(), .byte_order = std::endian::native, .shape = std::move(shape)};
        a.data.assign(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(T));
        a.check_size();
        return a;
    }

    friend bool operator==(const NdArray&, const NdArray&) = default;

    /// check_size throws Error(invalid_input) when `data` does not hold
    /// exactly element_count() elements, or a str array holds a code unit
    /// that is not a Unicode scalar value (see strings()).
    void check_size() const;

private:
    void check_dtype(DType wanted) const;
    void copy_native(void* out) const;
};

/// NpyHeader is what the header of an NPY file says, as NpyCodec::header()
/// reads it.
struct NpyHeader {
    /// major is the format version: 1, 2 or 3.
    int major = 1;
    /// descr is the dtype as written ("<U5"; a structured dtype's list).
    std::string descr;
    /// size is how many bytes the header takes, magic included: the data
    /// starts there.
    std::size_t size = 0;
    /// array holds the type (dtype, byte order, shape, order, length; no
    /// data) when sealrun decodes the dtype.
    std::optional<NdArray> array;
    /// not_decoded says why sealrun does not decode the elements of an
    /// acceptable file (a structured, datetime or long double dtype, …);
    /// empty when array is set.
    std::string not_decoded;
    /// data_size is how many bytes the data must hold, when the dtype's
    /// size is known (every dtype but structured ones).
    std::optional<std::uint64_t> data_size;
};

/// NpyCodec reads NPY versions 1.0, 2.0 and 3.0 and writes 1.0 (2.0 when
/// the header needs it). What it accepts is one rule, header() plus the
/// data checks of check_size(), shared by decode, encode, check (so by
/// validate()) and sealing: object arrays (pickled elements) are refused;
/// structured and other dtypes it does not decode are accepted by check
/// and refused by decode with Error(unsupported) naming the dtype.
struct NpyCodec {
    /// value_type is what decode returns: an NdArray.
    using value_type = NdArray;
    /// media_type is NumPy's registered type, application/vnd.numpy.
    static constexpr std::string_view media_type = "application/vnd.numpy";
    /// encode writes `array`; throws Error(invalid_input) for an array that
    /// decode would refuse (see check_size()).
    static std::string encode(const NdArray& array);
    /// decode throws Error(invalid_input) naming what is wrong, or
    /// Error(unsupported) for dtypes sealrun does not read.
    static NdArray decode(std::string_view bytes);
    /// encode_version writes a given format version: (1,0), (2,0) or (3,0).
    static std::string encode_version(const NdArray& array, int major);

    /// header_size returns how many bytes the header of the NPY file that
    /// starts with `prefix` (its first 12 bytes, or all of a shorter file)
    /// takes; throws Error(invalid_input) for a bad magic, version or a
    /// header longer than 16 MiB.
    static std::size_t header_size(std::string_view prefix);
    /// header reads and checks the header at the start of `bytes` (at least
    /// header_size() bytes): the one rule of what sealrun accepts as NPY.
    /// Throws Error(invalid_input) naming what is wrong: bad magic or
    /// version, a malformed dict, a missing or extra key, a bad shape, an
    /// object dtype.
    static NpyHeader header(std::string_view bytes);
    /// check reads an NPY file from `in` to its end holding bounded memory
    /// (the header, at most 16 MiB, and a buffer) and throws what decode
    /// throws for the same bytes, except for a dtype sealrun does not
    /// decode: then it returns what it could not check (the elements; the
    /// data size too for a structured dtype). Returns "" otherwise.
    static std::string check(content::ReadStream& in);
};

}  // namespace sealrun::codecs
