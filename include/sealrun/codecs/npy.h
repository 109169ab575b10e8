#pragma once
/// The NumPy codec: `.npy`, application/vnd.numpy, an n-d array
/// (NumPy "NPY format" versions 1.0, 2.0 and 3.0).

#include <bit>
#include <complex>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace sealrun::codecs {

/// DType is an array's element type; the names follow NumPy's.
enum class DType : std::uint8_t {
    bool_, int8, int16, int32, int64, uint8, uint16, uint32, uint64, float16, float32, float64, complex64, complex128,
};

/// dtype_size returns the bytes one element of `t` takes.
std::size_t dtype_size(DType t) noexcept;
/// dtype_name returns NumPy's name for `t`, e.g. "float64".
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
/// order, shape (empty for a 0-d array), memory order and the raw element
/// bytes.
struct NdArray {
    DType dtype = DType::float64;
    std::endian byte_order = std::endian::little;
    std::vector<std::uint64_t> shape;
    bool fortran_order = false;
    std::string data;

    /// element_count returns the product of the shape (1 for a 0-d array).
    std::uint64_t element_count() const noexcept;

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
    /// throws Error(invalid_input) for complex arrays.
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
    /// exactly element_count() elements.
    void check_size() const;

private:
    void check_dtype(DType wanted) const;
    void copy_native(void* out) const;
};

/// NpyCodec reads NPY versions 1.0, 2.0 and 3.0 and writes 1.0 (2.0 when
/// the header needs it). Object arrays (pickled elements), structured and
/// string dtypes are refused with an error naming the dtype.
struct NpyCodec {
    using value_type = NdArray;
    static constexpr std::string_view media_type = "application/vnd.numpy";
    static std::string encode(const NdArray& array);
    /// decode throws Error(invalid_input) naming what is wrong, or
    /// Error(unsupported) for dtypes sealrun does not read.
    static NdArray decode(std::string_view bytes);
    /// encode_version writes a given format version: (1,0), (2,0) or (3,0).
    static std::string encode_version(const NdArray& array, int major);
};

}  // namespace sealrun::codecs
