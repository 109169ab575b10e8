#pragma once
// What the NumPy codec's files share (npy.cpp: header, data and codec;
// npy_strings.cpp: the flexible dtypes as text). Internal to the codecs.

#include <bit>
#include <cstdint>
#include <map>
#include <vector>
#include <string>
#include <string_view>

#include "sealrun/codecs/npy.h"

namespace sealrun::codecs::npy_detail {

// bad throws Error(invalid_input) for bytes that are not a valid .npy.
[[noreturn]] void bad(const std::string& why);

// flexible reports whether `t` is str, bytes or void (its element size is
// its length times a unit).
bool flexible(DType t) noexcept;

// check_code_units throws unless every UCS-4 unit of `data` (a multiple of
// 4 bytes, in `order`) is a Unicode scalar value; `offset` is where `data`
// starts in the array, for the message.
void check_code_units(std::string_view data, std::endian order, std::uint64_t offset);

// Literal is one value of the NPY header, a Python dict literal: the subset
// NumPy writes (quoted strings, True/False, tuples of integers, and a
// structured dtype's list, kept as text).
struct Literal {
    enum Kind { string, boolean, tuple, list } kind;
    std::string text;
    bool flag = false;
    std::vector<std::uint64_t> ints;
};

// parse_header_dict reads the header dict (npy_header_dict.cpp); throws
// through bad() for anything else, a repeated key included.
std::map<std::string, Literal> parse_header_dict(std::string_view text);

}  // namespace sealrun::codecs::npy_detail
