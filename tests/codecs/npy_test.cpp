// Interoperability with real NumPy (Debian's python3-numpy, /usr/bin/python3):
// sealrun must read every .npy file NumPy writes, NumPy must read every file
// sealrun writes bit for bit, and what sealrun cannot read is refused with the
// right error. tests/support/npy_fixtures.py is the NumPy side; it runs once
// per direction.
#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <complex>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <limits>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "sealrun/codecs/npy.h"
#include "sealrun/error.h"
#include "support/expect.h"
#include "support/tmpdir.h"
#include "build_paths.h"

using namespace sealrun;
using codecs::DType;
using codecs::NdArray;
using codecs::NpyCodec;
using nlohmann::json;
using namespace std::string_literals;
namespace fs = std::filesystem;

namespace {

// The interpreter with NumPy: the python3 on PATH may be one without it.
const std::string python = "/usr/bin/python3";
const std::string fixtures_script = SEALRUN_SOURCE_DIR "/tests/support/npy_fixtures.py";

constexpr std::array all_dtypes = {
    DType::bool_,  DType::int8,    DType::int16,   DType::int32,   DType::int64,     DType::uint8,      DType::uint16,
    DType::uint32, DType::uint64,  DType::float16, DType::float32, DType::float64,   DType::complex64,  DType::complex128,
};

void require_numpy() {
    const auto r = test::run({python, "-c", "import numpy"});
    INFO(r.output);
    REQUIRE_MESSAGE(r.exit_code == 0, "NumPy is required as " << python << " (apt-get install python3-numpy)");
}

// NumpyFiles is what `npy_fixtures.py write` produced: the .npy files NumPy
// wrote and its manifest. Written once, shared by the test cases below.
struct NumpyFiles {
    test::TempDir dir;
    json manifest;

    std::string bytes(const std::string& file) const { return test::read_file(dir / file); }
};

const NumpyFiles& numpy_files() {
    static const std::unique_ptr<NumpyFiles> files = [] {
        require_numpy();
        auto f = std::make_unique<NumpyFiles>();
        const auto r = test::run({python, fixtures_script, "write", f->dir.path().string()});
        INFO(r.output);
        REQUIRE(r.exit_code == 0);
        f->manifest = json::parse(test::read_file(f->dir / "manifest.json"));
        REQUIRE(f->manifest.at("arrays").size() > 0);
        return f;
    }();
    return *files;
}

// ---- comparing against JSON values (see npy_fixtures.py for the encoding)

double json_double(const json& v) {
    if (v.is_string()) {
        const auto s = v.get<std::string>();
        if (s == "nan") return std::numeric_limits<double>::quiet_NaN();
        if (s == "inf") return std::numeric_limits<double>::infinity();
        if (s == "-inf") return -std::numeric_limits<double>::infinity();
        FAIL("bad float in JSON: " << s);
    }
    REQUIRE(v.is_number_float());
    return v.get<double>();
}

json double_json(double d) {
    if (std::isnan(d)) return "nan";
    if (std::isinf(d)) return d > 0 ? "inf" : "-inf";
    return d;
}

// same_double: equal, with NaN equal to NaN and -0.0 different from 0.0.
bool same_double(double a, double b) {
    if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
    return a == b && std::signbit(a) == std::signbit(b);
}

template <class T>
struct is_complex : std::false_type {};
template <class T>
struct is_complex<std::complex<T>> : std::true_type {};

template <class T>
bool matches_json(T got, const json& want) {
    if constexpr (std::is_same_v<T, bool>) {
        return want.is_boolean() && got == want.get<bool>();
    } else if constexpr (std::is_integral_v<T>) {
        return want.is_number_integer() && got == want.get<T>();
    } else if constexpr (std::is_floating_point_v<T>) {
        return same_double(static_cast<double>(got), json_double(want));
    } else {
        static_assert(is_complex<T>::value);
        return want.is_array() && want.size() == 2 && same_double(static_cast<double>(got.real()), json_double(want[0])) &&
               same_double(static_cast<double>(got.imag()), json_double(want[1]));
    }
}

template <class T>
json value_json(T v) {
    if constexpr (std::is_same_v<T, bool> || std::is_integral_v<T>) return v;
    else if constexpr (std::is_floating_point_v<T>) return double_json(static_cast<double>(v));
    else return json::array({double_json(static_cast<double>(v.real())), double_json(static_cast<double>(v.imag()))});
}

template <class T>
void check_values(const NdArray& a, const json& want) {
    const auto got = a.values<T>();
    REQUIRE(got.size() == want.size());
    for (std::size_t i = 0; i < got.size(); ++i) {
        CAPTURE(i);
        CAPTURE(want[i].dump());
        CHECK(matches_json<T>(got[i], want[i]));
    }
}

// check_all_values compares every element, read as the array's own C++ type.
void check_all_values(const NdArray& a, const json& want) {
    switch (a.dtype) {
    case DType::bool_: return check_values<bool>(a, want);
    case DType::int8: return check_values<std::int8_t>(a, want);
    case DType::int16: return check_values<std::int16_t>(a, want);
    case DType::int32: return check_values<std::int32_t>(a, want);
    case DType::int64: return check_values<std::int64_t>(a, want);
    case DType::uint8: return check_values<std::uint8_t>(a, want);
    case DType::uint16: return check_values<std::uint16_t>(a, want);
    case DType::uint32: return check_values<std::uint32_t>(a, want);
    case DType::uint64: return check_values<std::uint64_t>(a, want);
    case DType::float16: {  // no C++ type: read through as_double
        const auto got = a.as_double();
        REQUIRE(got.size() == want.size());
        for (std::size_t i = 0; i < got.size(); ++i) {
            CAPTURE(i);
            CAPTURE(want[i].dump());
            CHECK(same_double(got[i], json_double(want[i])));
        }
        return;
    }
    case DType::float32: return check_values<float>(a, want);
    case DType::float64: return check_values<double>(a, want);
    case DType::complex64: return check_values<std::complex<float>>(a, want);
    case DType::complex128: return check_values<std::complex<double>>(a, want);
    case DType::str:
    case DType::bytes:
    case DType::void_: break;  // the string dtypes have tests of their own
    }
    FAIL("unknown dtype");
}

std::vector<std::uint64_t> json_shape(const json& j) { return j.get<std::vector<std::uint64_t>>(); }

// ---- building inputs by hand

// swapped returns data with every element's bytes (each complex component's
// on its own) reversed: the same values in the other byte order.
std::string swapped(std::string data, DType t) {
    const auto unit = (t == DType::complex64 || t == DType::complex128) ? codecs::dtype_size(t) / 2 : codecs::dtype_size(t);
    for (std::size_t i = 0; i + unit <= data.size(); i += unit) std::reverse(data.begin() + static_cast<std::ptrdiff_t>(i), data.begin() + static_cast<std::ptrdiff_t>(i + unit));
    return data;
}

std::endian other_endian() { return std::endian::native == std::endian::little ? std::endian::big : std::endian::little; }

// npy_file builds an NPY file around a header dict written by hand.
std::string npy_file(std::string dict, const std::string& data, int major = 1) {
    const std::size_t prefix = major == 1 ? 10 : 12;
    dict.append((prefix + dict.size() + 1 + 63) / 64 * 64 - prefix - dict.size() - 1, ' ');
    dict += '\n';
    std::string out("\x93NUMPY", 6);
    out += static_cast<char>(major);
    out += '\0';
    for (std::size_t i = 0; i < prefix - 8; ++i) out += static_cast<char>((dict.size() >> (8 * i)) & 0xff);
    return out + dict + data;
}

// Two little-endian int32 elements, 1 and 2.
const std::string two_int32_le("\x01\x00\x00\x00\x02\x00\x00\x00", 8);

// ---- sealrun -> NumPy cases

// Twelve values of T chosen by hand: extremes, signs, distinct bytes.
template <class T>
std::vector<T> sample() {
    using L = std::numeric_limits<T>;
    if constexpr (std::is_same_v<T, bool>) {
        return {false, true, true, false, true, false, false, false, true, true, false, true};
    } else if constexpr (std::is_integral_v<T> && std::is_signed_v<T>) {
        const auto pattern = static_cast<T>(0x0123456789abcdefULL >> (64 - 8 * sizeof(T)));
        return {L::min(), L::max(), 0, -1, 1, pattern, static_cast<T>(-pattern), 7, -7, static_cast<T>(L::min() + 1), static_cast<T>(L::max() - 1), 42};
    } else if constexpr (std::is_integral_v<T>) {
        const auto pattern = static_cast<T>(0xfedcba9876543210ULL >> (64 - 8 * sizeof(T)));
        return {0, L::max(), 1, pattern, static_cast<T>(L::max() - 1), static_cast<T>(T{1} << (8 * sizeof(T) - 1)), 3, 5, 7, 11, 13, 0x7f};
    } else if constexpr (std::is_floating_point_v<T>) {
        return {T(0), -T(0), T(1), T(-2.5), T(1) / T(3), L::max(), L::lowest(), L::min(), L::denorm_min(), L::infinity(), -L::infinity(), L::quiet_NaN()};
    } else {
        using R = typename T::value_type;
        const auto re = sample<R>();
        std::vector<T> out;
        for (std::size_t i = 0; i < re.size(); ++i) out.emplace_back(re[i], re[re.size() - 1 - i]);
        return out;
    }
}

// A float16 array, element bits and values chosen by hand (IEEE binary16).
struct Half {
    std::uint16_t bits;
    double value;
};
const std::vector<Half> halves = {
    {0x0000, 0.0},       {0x8000, -0.0},    {0x3c00, 1.0},          {0xc100, -2.5},
    {0x3555, 0.333251953125}, {0x7bff, 65504.0}, {0xfbff, -65504.0}, {0x0400, 0x1p-14},
    {0x0001, 0x1p-24},   {0x7c00, std::numeric_limits<double>::infinity()},
    {0xfc00, -std::numeric_limits<double>::infinity()},             {0x7e00, std::numeric_limits<double>::quiet_NaN()},
};

// Base is a 12-element C-order array in native byte order and the JSON of
// its values.
struct Base {
    NdArray array;
    json values = json::array();
};

template <class T>
Base base_of() {
    const auto vals = sample<T>();
    Base b;
    if constexpr (std::is_same_v<T, bool>) {
        std::array<bool, 12> flat{};
        std::copy(vals.begin(), vals.end(), flat.begin());
        b.array = NdArray::from_values<bool>({12}, flat);
    } else {
        b.array = NdArray::from_values<T>({12}, vals);
    }
    for (auto v : vals) b.values.push_back(value_json<T>(v));
    return b;
}

Base base_of(DType t) {
    switch (t) {
    case DType::bool_: return base_of<bool>();
    case DType::int8: return base_of<std::int8_t>();
    case DType::int16: return base_of<std::int16_t>();
    case DType::int32: return base_of<std::int32_t>();
    case DType::int64: return base_of<std::int64_t>();
    case DType::uint8: return base_of<std::uint8_t>();
    case DType::uint16: return base_of<std::uint16_t>();
    case DType::uint32: return base_of<std::uint32_t>();
    case DType::uint64: return base_of<std::uint64_t>();
    case DType::float16: {
        Base b;
        b.array.dtype = DType::float16;
        b.array.byte_order = std::endian::native;
        b.array.shape = {12};
        for (const auto& h : halves) {
            b.array.data.append(reinterpret_cast<const char*>(&h.bits), sizeof h.bits);
            b.values.push_back(double_json(h.value));
        }
        return b;
    }
    case DType::float32: return base_of<float>();
    case DType::float64: return base_of<double>();
    case DType::complex64: return base_of<std::complex<float>>();
    case DType::complex128: return base_of<std::complex<double>>();
    case DType::str:
    case DType::bytes:
    case DType::void_: break;  // the string dtypes have tests of their own
    }
    FAIL("unknown dtype");
    return {};
}

// Case is one array sealrun encodes and what NumPy must find in the file.
struct Case {
    std::string name;
    NdArray array;
    json values;      // storage order
    int version = 0;  // 0: NpyCodec::encode, which must pick 1.0
};

std::vector<Case> sealrun_cases() {
    std::vector<Case> cases;
    for (const auto t : all_dtypes) {
        const Base b = base_of(t);
        const std::string n(codecs::dtype_name(t));
        std::vector<Case> layouts;

        Case c{n + "_c34", b.array, b.values};
        c.array.shape = {3, 4};
        layouts.push_back(c);

        Case f = c;  // same storage, Fortran order: NumPy's a[i, j] = storage[i + 3 j]
        f.name = n + "_f34";
        f.array.fortran_order = true;
        layouts.push_back(f);

        if (codecs::dtype_size(t) > 1) {
            Case s = c;
            s.name = n + "_swapped_c34";
            s.array.byte_order = other_endian();
            s.array.data = swapped(c.array.data, t);
            layouts.push_back(s);

            Case sf = s;
            sf.name = n + "_swapped_f232";
            sf.array.shape = {2, 3, 2};
            sf.array.fortran_order = true;
            layouts.push_back(sf);
        }

        Case d1{n + "_d1", b.array, b.values};
        layouts.push_back(d1);

        Case scalar{n + "_scalar", b.array, json::array({b.values[5]})};
        scalar.array.shape = {};
        const auto item = codecs::dtype_size(t);
        scalar.array.data = b.array.data.substr(5 * item, item);
        layouts.push_back(scalar);

        Case empty{n + "_empty", b.array, json::array()};
        empty.array.shape = {0, 3};
        empty.array.data.clear();
        layouts.push_back(empty);

        for (const auto& l : layouts) {
            for (int v = 0; v <= 3; ++v) {
                Case x = l;
                x.version = v;
                x.name += v == 0 ? "_encode" : "_v" + std::to_string(v);
                cases.push_back(std::move(x));
            }
        }
    }
    return cases;
}

json expectation(const std::string& file, const NdArray& a, const json& values, int version) {
    const bool single = codecs::dtype_size(a.dtype) == 1;
    return {
        {"file", file},
        {"version", version == 0 ? 1 : version},
        {"dtype", std::string(codecs::dtype_name(a.dtype))},
        {"byteorder", single ? "|" : a.byte_order == std::endian::big ? ">" : "<"},
        {"shape", a.shape},
        {"fortran", a.fortran_order},
        {"values", values},
    };
}

// decode_fixture decodes a fixture numpy wrote; a throw is one failed check naming
// the error (the caller skips the file), not the end of the test case.
std::optional<NdArray> decode_fixture(const std::string& bytes) {
    try {
        return NpyCodec::decode(bytes);
    } catch (const Error& err) {
        const std::string why = std::string("decode threw: ") + err.what();
        FAIL_CHECK(why);
        return std::nullopt;
    }
}

}  // namespace

// ---------------------------------------------------------------- NumPy -> sealrun

TEST_CASE("npy: numpy wrote every dtype, byte order, layout and version the tests need") {
    // Guards the fixture script: if it stopped writing a case, the decode
    // tests below would pass without covering it.
    const auto& np = numpy_files();
    std::set<std::string> dtypes_le, dtypes_be, dtypes_one_byte;
    std::set<int> versions;
    bool fortran = false, c_order_2d = false, zero_d = false, empty = false, three_d = false;
    for (const auto& e : np.manifest.at("arrays")) {
        const auto bo = e.at("byteorder").get<std::string>();
        (bo == "<" ? dtypes_le : bo == ">" ? dtypes_be : dtypes_one_byte).insert(e.at("dtype").get<std::string>());
        versions.insert(e.at("version").get<int>());
        const auto shape = json_shape(e.at("shape"));
        fortran = fortran || e.at("fortran").get<bool>();
        c_order_2d = c_order_2d || (shape.size() == 2 && !e.at("fortran").get<bool>() && shape[0] > 1);
        zero_d = zero_d || shape.empty();
        empty = empty || (shape == std::vector<std::uint64_t>{0, 3});
        three_d = three_d || shape.size() == 3;
    }
    for (const auto t : all_dtypes) {
        const std::string n(codecs::dtype_name(t));
        CAPTURE(n);
        if (codecs::dtype_size(t) == 1) {
            CHECK(dtypes_one_byte.contains(n));
        } else {
            CHECK(dtypes_le.contains(n));
            CHECK(dtypes_be.contains(n));
        }
    }
    CHECK(versions == std::set<int>{1, 2, 3});
    CHECK(fortran);
    CHECK(c_order_2d);
    CHECK(zero_d);
    CHECK(empty);
    CHECK(three_d);
}

TEST_CASE("npy: decodes every array numpy writes: dtype, byte order, shape, order and values") {
    const auto& np = numpy_files();
    std::size_t decoded = 0;
    for (const auto& e : np.manifest.at("arrays")) {
        const auto file = e.at("file").get<std::string>();
        CAPTURE(file);
        const auto bytes = np.bytes(file);
        REQUIRE(bytes.size() > 8);
        CHECK(static_cast<int>(bytes[6]) == e.at("version").get<int>());  // the fixture really is that version

        const auto got = decode_fixture(bytes);
        if (!got) continue;
        const auto& a = *got;
        ++decoded;
        CHECK(codecs::dtype_name(a.dtype) == e.at("dtype").get<std::string>());
        const auto bo = e.at("byteorder").get<std::string>();
        if (bo == "<") CHECK(a.byte_order == std::endian::little);
        else if (bo == ">") CHECK(a.byte_order == std::endian::big);
        else CHECK(codecs::dtype_size(a.dtype) == 1);
        CHECK(a.shape == json_shape(e.at("shape")));
        CHECK(a.fortran_order == e.at("fortran").get<bool>());
        CHECK(a.element_count() == e.at("values").size());
        CHECK(a.data.size() == a.element_count() * codecs::dtype_size(a.dtype));
        check_all_values(a, e.at("values"));
    }
    CHECK(decoded == np.manifest.at("arrays").size());
}

TEST_CASE("npy: as_double agrees with numpy for every real dtype") {
    const auto& np = numpy_files();
    for (const auto& e : np.manifest.at("arrays")) {
        const auto file = e.at("file").get<std::string>();
        const auto dtype = e.at("dtype").get<std::string>();
        if (dtype.starts_with("complex")) continue;
        CAPTURE(file);
        const auto a = NpyCodec::decode(np.bytes(file));
        const auto got = a.as_double();
        const auto& want = e.at("values");
        REQUIRE(got.size() == want.size());
        for (std::size_t i = 0; i < got.size(); ++i) {
            CAPTURE(i);
            const auto& w = want[i];
            const double expected = w.is_boolean()            ? (w.get<bool>() ? 1.0 : 0.0)
                                    : w.is_number_unsigned() ? static_cast<double>(w.get<std::uint64_t>())
                                    : w.is_number_integer()  ? static_cast<double>(w.get<std::int64_t>())
                                                             : json_double(w);
            CHECK(same_double(got[i], expected));
        }
    }
}

// ---------------------------------------------------------------- sealrun -> NumPy

TEST_CASE("npy: numpy loads every array sealrun encodes, identical in dtype, byte order, shape, order and values") {
    require_numpy();
    test::TempDir dir;
    json expected = {{"arrays", json::array()}};
    const auto cases = sealrun_cases();
    for (const auto& c : cases) {
        CAPTURE(c.name);
        const auto bytes = c.version == 0 ? NpyCodec::encode(c.array) : NpyCodec::encode_version(c.array, c.version);
        test::write_file(dir / (c.name + ".npy"), bytes);
        expected["arrays"].push_back(expectation(c.name + ".npy", c.array, c.values, c.version));
        // and sealrun reads back exactly what it wrote
        CHECK(NpyCodec::decode(bytes) == c.array);
    }

    // Decoys: files whose expectation is wrong in one respect. NumPy must
    // reject each for that reason, or the comparison could not fail.
    const auto decoy = [&](const std::string& reason, const std::string& file, json want) {
        want["must_differ"] = reason;
        want["file"] = file;
        expected["arrays"].push_back(std::move(want));
    };
    const auto& int32 = *std::find_if(cases.begin(), cases.end(), [](const Case& c) { return c.name == "int32_c34_v2"; });
    const auto want = expectation("int32_c34_v2.npy", int32.array, int32.values, 2);
    {
        auto w = want;
        w["byteorder"] = ">";
        decoy("dtype", "int32_c34_v2.npy", w);
    }
    {
        auto w = want;
        w["dtype"] = "uint32";
        decoy("dtype", "int32_c34_v2.npy", w);
    }
    {
        auto w = want;
        w["fortran"] = true;
        decoy("fortran", "int32_c34_v2.npy", w);
    }
    {
        auto w = want;
        w["shape"] = {4, 3};
        decoy("shape", "int32_c34_v2.npy", w);
    }
    {
        auto w = want;
        w["version"] = 1;
        decoy("version", "int32_c34_v2.npy", w);
    }
    {
        auto w = want;
        w["values"][7] = w["values"][7].get<std::int64_t>() + 1;
        decoy("values", "int32_c34_v2.npy", w);
    }
    {
        const auto& nan = *std::find_if(cases.begin(), cases.end(), [](const Case& c) { return c.name == "float64_c34_v1"; });
        auto w = expectation("float64_c34_v1.npy", nan.array, nan.values, 1);
        w["values"][1] = 0.0;  // -0.0 in the file: values are compared bit for bit
        decoy("values", "float64_c34_v1.npy", w);
    }
    test::write_file(dir / "trailing.npy", NpyCodec::encode_version(int32.array, 2) + std::string(1, '\0'));
    decoy("size", "trailing.npy", want);

    test::write_file(dir / "expected.json", expected.dump());
    const auto r = test::run({python, fixtures_script, "check", (dir / "expected.json").string()});
    INFO(r.output);
    CHECK(r.exit_code == 0);
    CHECK(test::contains(r.output, "OK " + std::to_string(cases.size()) + " arrays identical, 8 decoys rejected"));
}

TEST_CASE("npy: encode writes version 1.0 with a 64-byte aligned header") {
    const auto a = base_of(DType::float64).array;
    for (int v = 0; v <= 3; ++v) {
        CAPTURE(v);
        const auto bytes = v == 0 ? NpyCodec::encode(a) : NpyCodec::encode_version(a, v);
        REQUIRE(bytes.size() > 12);
        CHECK(bytes.substr(0, 6) == std::string("\x93NUMPY", 6));
        CHECK(static_cast<int>(bytes[6]) == (v == 0 ? 1 : v));
        CHECK(bytes[7] == 0);
        CHECK((bytes.size() - a.data.size()) % 64 == 0);
        CHECK(bytes.substr(bytes.size() - a.data.size()) == a.data);
    }
    CHECK(test::errc_of([&] { (void)NpyCodec::encode_version(a, 4); }) == Errc::invalid_input);
    CHECK(test::errc_of([&] { (void)NpyCodec::encode_version(a, 0); }) == Errc::invalid_input);
}

// ---------------------------------------------------------------- refusals

TEST_CASE("npy: refuses numpy's object arrays, which hold pickles") {
    const auto& np = numpy_files();
    std::size_t seen = 0;
    for (const auto& r : np.manifest.at("refused")) {
        if (r.at("kind") != "object") continue;
        ++seen;
        const auto file = r.at("file").get<std::string>();
        CAPTURE(file);
        const auto bytes = np.bytes(file);
        const auto e = test::thrown([&] { (void)NpyCodec::decode(bytes); });
        CHECK(e.code == Errc::invalid_input);
        CHECK(test::contains(e.message, "object"));
        CHECK(test::contains(e.message, "pickle"));
    }
    CHECK(seen == 1);
}

TEST_CASE("npy: refuses numpy's structured and other dtypes as unsupported") {
    const auto& np = numpy_files();
    std::map<std::string, int> seen;
    for (const auto& r : np.manifest.at("refused")) {
        const auto kind = r.at("kind").get<std::string>();
        if (kind == "object") continue;
        ++seen[kind];
        const auto file = r.at("file").get<std::string>();
        CAPTURE(file);
        const auto bytes = np.bytes(file);
        const auto e = test::thrown([&] { (void)NpyCodec::decode(bytes); });
        CHECK(e.code == Errc::unsupported);
        if (kind == "structured") CHECK(test::contains(e.message, "structured"));
        else CHECK(test::contains(e.message, r.at("descr").get<std::string>()));  // names the dtype
    }
    CHECK(seen["structured"] == 2);
    CHECK(seen["string"] == 0);  // decoded since str, bytes and void are (see below)
    CHECK(seen["other"] >= 1);
}

TEST_CASE("npy: refuses every truncation of a numpy file") {
    const auto& np = numpy_files();
    for (const auto* file : {"int32_le_c34_v1.npy", "complex128_be_f34_v2.npy", "float16_be_scalar_v3.npy",
                             "uint16_le_empty_v1.npy", "bool_na_d1_v3.npy"}) {
        CAPTURE(file);
        const auto bytes = np.bytes(file);
        REQUIRE_NOTHROW((void)NpyCodec::decode(bytes));
        for (std::size_t n = 0; n < bytes.size(); ++n) {
            CAPTURE(n);
            const auto cut = bytes.substr(0, n);
            CHECK(test::errc_of([&] { (void)NpyCodec::decode(cut); }) == Errc::invalid_input);
        }
    }
}

TEST_CASE("npy: refuses bad magic and unknown format versions") {
    const auto& np = numpy_files();
    const auto good = np.bytes("float64_le_c34_v1.npy");
    REQUIRE_NOTHROW((void)NpyCodec::decode(good));
    for (std::size_t i = 0; i < 6; ++i) {
        CAPTURE(i);
        auto bad = good;
        bad[i] = static_cast<char>(bad[i] ^ 0x20);
        const auto e = test::thrown([&] { (void)NpyCodec::decode(bad); });
        CHECK(e.code == Errc::invalid_input);
        CHECK(test::contains(e.message, "magic"));
    }
    // A 2.0 file (4-byte header length, as 3.0 has) relabelled: only the
    // version byte is wrong.
    const auto v2 = np.bytes("float64_le_c34_v2.npy");
    REQUIRE_NOTHROW((void)NpyCodec::decode(v2));
    for (const int major : {0, 4, 5, 0xff}) {
        CAPTURE(major);
        auto bad = v2;
        bad[6] = static_cast<char>(major);
        const auto e = test::thrown([&] { (void)NpyCodec::decode(bad); });
        CHECK(e.code == Errc::invalid_input);
        CHECK(test::contains(e.message, "version"));
    }
    CHECK(test::errc_of([] { (void)NpyCodec::decode("PK\x03\x04 not an npy file at all"); }) == Errc::invalid_input);
}

TEST_CASE("npy: refuses data whose size does not match the shape") {
    const auto& np = numpy_files();
    for (const auto* file : {"int64_be_c34_v1.npy", "complex64_le_scalar_v2.npy", "float32_le_empty_v3.npy"}) {
        CAPTURE(file);
        const auto bytes = np.bytes(file);
        REQUIRE_NOTHROW((void)NpyCodec::decode(bytes));
        for (const std::size_t extra : {1, 8}) {
            CAPTURE(extra);
            const auto longer = bytes + std::string(extra, '\0');
            const auto e = test::thrown([&] { (void)NpyCodec::decode(longer); });
            CHECK(e.code == Errc::invalid_input);
            CHECK(test::contains(e.message, "bytes"));
        }
    }
    // A hand-made header whose shape disagrees with the data.
    CHECK_NOTHROW((void)NpyCodec::decode(npy_file("{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }", two_int32_le)));
    CHECK(test::errc_of([] { (void)NpyCodec::decode(npy_file("{'descr': '<i4', 'fortran_order': False, 'shape': (3,), }", two_int32_le)); }) ==
          Errc::invalid_input);
    CHECK(test::errc_of([] { (void)NpyCodec::decode(npy_file("{'descr': '<i4', 'fortran_order': False, 'shape': (), }", two_int32_le)); }) ==
          Errc::invalid_input);
    CHECK(test::errc_of([] { (void)NpyCodec::decode(npy_file("{'descr': '<i8', 'fortran_order': False, 'shape': (2,), }", two_int32_le)); }) ==
          Errc::invalid_input);

    // Nor does sealrun write such an array.
    NdArray a = NdArray::from_values<std::int32_t>({2}, std::array<std::int32_t, 2>{1, 2});
    a.shape = {3};
    CHECK(test::errc_of([&] { (void)NpyCodec::encode(a); }) == Errc::invalid_input);
    CHECK(test::errc_of([&] { (void)NpyCodec::encode_version(a, 3); }) == Errc::invalid_input);
    CHECK(test::errc_of([] { (void)NdArray::from_values<double>({2, 2}, std::array<double, 3>{1, 2, 3}); }) == Errc::invalid_input);
}

TEST_CASE("npy: refuses a header missing a key") {
    const std::string descr = "'descr': '<i4'", fortran = "'fortran_order': False", shape = "'shape': (2,)";
    // With all three keys the hand-made file is fine, so each refusal below
    // is about the missing key alone.
    const auto all = npy_file("{" + descr + ", " + fortran + ", " + shape + ", }", two_int32_le);
    REQUIRE_NOTHROW((void)NpyCodec::decode(all));
    CHECK(NpyCodec::decode(all).values<std::int32_t>() == std::vector<std::int32_t>{1, 2});

    const std::map<std::string, std::string> without = {
        {"descr", "{" + fortran + ", " + shape + ", }"},
        {"fortran_order", "{" + descr + ", " + shape + ", }"},
        {"shape", "{" + descr + ", " + fortran + ", }"},
    };
    for (const auto& [key, dict] : without) {
        CAPTURE(key);
        for (const int major : {1, 2, 3}) {
            CAPTURE(major);
            const auto bytes = npy_file(dict, two_int32_le, major);
            const auto e = test::thrown([&] { (void)NpyCodec::decode(bytes); });
            CHECK(e.code == Errc::invalid_input);
            CHECK(test::contains(e.message, "'" + key + "'"));
        }
    }
    CHECK(test::errc_of([] { (void)NpyCodec::decode(npy_file("{}", "")); }) == Errc::invalid_input);
}

TEST_CASE("npy: refuses a header with a key besides the three, or non-ASCII bytes in 1.0/2.0") {
    // NumPy refuses extra keys too ("Header does not contain the correct keys").
    const auto extra = npy_file("{'descr': '<i4', 'fortran_order': False, 'shape': (2,), 'extra': True, }", two_int32_le);
    const auto e = test::thrown([&] { (void)NpyCodec::decode(extra); });
    CHECK(e.code == Errc::invalid_input);
    CHECK(test::contains(e.message, "keys"));

    for (const int major : {1, 2}) {
        CAPTURE(major);
        const auto latin = npy_file("{'descr': '<i4\xe9', 'fortran_order': False, 'shape': (2,), }", two_int32_le, major);
        const auto n = test::thrown([&] { (void)NpyCodec::decode(latin); });
        CHECK(n.code == Errc::invalid_input);
        CHECK(test::contains(n.message, "ASCII"));
    }
}

TEST_CASE("npy: values<T>() refuses the wrong element type") {
    const auto& np = numpy_files();
    const auto i32 = NpyCodec::decode(np.bytes("int32_le_c34_v1.npy"));
    REQUIRE(i32.dtype == DType::int32);
    CHECK_NOTHROW((void)i32.values<std::int32_t>());
    CHECK(test::errc_of([&] { (void)i32.values<std::int64_t>(); }) == Errc::invalid_input);
    CHECK(test::errc_of([&] { (void)i32.values<std::uint32_t>(); }) == Errc::invalid_input);
    CHECK(test::errc_of([&] { (void)i32.values<float>(); }) == Errc::invalid_input);
    CHECK(test::errc_of([&] { (void)i32.values<bool>(); }) == Errc::invalid_input);

    const auto f64 = NpyCodec::decode(np.bytes("float64_be_c34_v1.npy"));
    CHECK_NOTHROW((void)f64.values<double>());
    CHECK(test::errc_of([&] { (void)f64.values<float>(); }) == Errc::invalid_input);
    CHECK(test::errc_of([&] { (void)f64.values<std::complex<double>>(); }) == Errc::invalid_input);
    CHECK(test::errc_of([&] { (void)f64.values<std::int64_t>(); }) == Errc::invalid_input);

    const auto f16 = NpyCodec::decode(np.bytes("float16_le_c34_v1.npy"));
    CHECK_NOTHROW((void)f16.as_double());
    CHECK(test::errc_of([&] { (void)f16.values<std::uint16_t>(); }) == Errc::invalid_input);
    CHECK(test::errc_of([&] { (void)f16.values<float>(); }) == Errc::invalid_input);

    const auto c64 = NpyCodec::decode(np.bytes("complex64_le_c34_v1.npy"));
    CHECK_NOTHROW((void)c64.values<std::complex<float>>());
    CHECK(test::errc_of([&] { (void)c64.values<std::complex<double>>(); }) == Errc::invalid_input);
    CHECK(test::errc_of([&] { (void)c64.as_double(); }) == Errc::invalid_input);

    const auto b = NpyCodec::decode(np.bytes("bool_na_c34_v1.npy"));
    CHECK_NOTHROW((void)b.values<bool>());
    CHECK(test::errc_of([&] { (void)b.values<std::uint8_t>(); }) == Errc::invalid_input);
}

TEST_CASE("npy: values<T>() refuses data that does not match the shape") {
    // An NdArray filled in by hand must not make values() read or write past
    // its buffers.
    NdArray a = NdArray::from_values<std::int32_t>({2}, std::array<std::int32_t, 2>{1, 2});
    REQUIRE(a.values<std::int32_t>().size() == 2);
    a.data.append(64, '\x7f');
    CHECK(test::errc_of([&] { (void)a.values<std::int32_t>(); }) == Errc::invalid_input);
    CHECK(test::errc_of([&] { (void)a.as_double(); }) == Errc::invalid_input);
    a.data.resize(4);
    CHECK(test::errc_of([&] { (void)a.values<std::int32_t>(); }) == Errc::invalid_input);

    NdArray flags = NdArray::from_values<bool>({3}, std::array<bool, 3>{true, false, true});
    flags.shape = {5};
    CHECK(test::errc_of([&] { (void)flags.values<bool>(); }) == Errc::invalid_input);
}

// ---------------------------------------------------------------- str, bytes and void

namespace {

DType kind_dtype(const std::string& kind) {
    if (kind == "U") return DType::str;
    if (kind == "S") return DType::bytes;
    REQUIRE(kind == "V");
    return DType::void_;
}

std::string unhex(const std::string& hex) {
    std::string out;
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2) out += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
    return out;
}

std::string hex(const std::string& bytes) {
    static const char* digits = "0123456789abcdef";
    std::string out;
    for (const unsigned char c : bytes) {
        out += digits[c >> 4];
        out += digits[c & 15];
    }
    return out;
}

// string_values are the elements a fixture lists, as strings() returns them.
std::vector<std::string> string_values(const json& e) {
    std::vector<std::string> out;
    for (const auto& v : e.at("values")) out.push_back(e.at("kind") == "U" ? v.get<std::string>() : unhex(v.get<std::string>()));
    return out;
}

// TrickleStream hands out 1 to 3 bytes per read, so a code unit or the
// header straddles reads.
class TrickleStream final : public content::ReadStream {
public:
    explicit TrickleStream(std::string bytes) : bytes_(std::move(bytes)) {}
    std::size_t read(std::span<std::byte> buffer) override {
        const auto n = std::min({buffer.size(), bytes_.size() - pos_, std::size_t{1} + pos_ % 3});
        std::memcpy(buffer.data(), bytes_.data() + pos_, n);
        pos_ += n;
        return n;
    }

private:
    std::string bytes_;
    std::size_t pos_ = 0;
};

// check_of runs NpyCodec::check over `bytes`, whole and trickled; both
// must agree. Returns the note, or the error's code.
struct CheckOutcome {
    std::optional<Errc> error;
    std::string note;
    std::string message;
};
CheckOutcome check_of(const std::string& bytes) {
    CheckOutcome out[2];
    for (int trickle = 0; trickle < 2; ++trickle) {
        try {
            if (trickle) {
                TrickleStream in(bytes);
                out[trickle].note = NpyCodec::check(in);
            } else {
                content::BytesStream in(bytes);
                out[trickle].note = NpyCodec::check(in);
            }
        } catch (const Error& e) {
            out[trickle].error = e.code();
            out[trickle].message = e.what();
        }
    }
    CHECK(out[0].error == out[1].error);
    CHECK(out[0].note == out[1].note);
    return out[0];
}

// ucs4 is one code unit in the given byte order.
std::string ucs4(std::uint32_t u, std::endian order) {
    std::string s(4, '\0');
    for (int i = 0; i < 4; ++i) s[order == std::endian::little ? i : 3 - i] = static_cast<char>((u >> (8 * i)) & 0xff);
    return s;
}

}  // namespace

TEST_CASE("npy: decodes numpy's str (both byte orders), bytes and void arrays in every layout and version") {
    const auto& np = numpy_files();
    const auto& list = np.manifest.at("strings");
    std::set<std::string> seen;
    for (const auto& e : list) {
        const auto file = e.at("file").get<std::string>();
        CAPTURE(file);
        const auto bytes = np.bytes(file);
        const auto got = decode_fixture(bytes);
        if (!got) continue;
        const auto& a = *got;
        const auto kind = e.at("kind").get<std::string>();
        const auto bo = e.at("byteorder").get<std::string>();
        seen.insert(kind + bo + (e.at("shape").empty() ? "0d" : "") + (e.at("fortran").get<bool>() ? "F" : "") +
                    (e.at("shape").size() == 3 ? "3d" : ""));
        CHECK(a.dtype == kind_dtype(kind));
        if (bo == "<") CHECK(a.byte_order == std::endian::little);
        if (bo == ">") CHECK(a.byte_order == std::endian::big);
        CHECK(a.length == e.at("length").get<std::uint64_t>());
        CHECK(a.shape == json_shape(e.at("shape")));
        CHECK(a.fortran_order == e.at("fortran").get<bool>());
        CHECK(a.strings() == string_values(e));
        CHECK(test::errc_of([&] { (void)a.as_double(); }) == Errc::invalid_input);
        CHECK(test::errc_of([&] { (void)a.values<std::uint8_t>(); }) == Errc::invalid_input);
        // the streaming check agrees with decode
        const auto c = check_of(bytes);
        CHECK(!c.error);
        CHECK(c.note.empty());
        // and sealrun writes the same array back, byte for byte the same data
        CHECK(NpyCodec::decode(NpyCodec::encode(a)) == a);
    }
    for (const auto* want : {"U<", "U>", "S|", "V|", "U<0d", "U>F", "S|F", "V|0d", "U>F3d", "S|F3d"}) {
        CAPTURE(std::string(want));
        CHECK(seen.contains(want));
    }
    CHECK(list.size() >= 75);
}

TEST_CASE("npy: numpy loads the str, bytes and void arrays sealrun writes, identical in dtype, shape, order and values") {
    require_numpy();
    test::TempDir dir;
    json expected = {{"arrays", json::array()}};
    const std::vector<std::string> words = {"", "a", "a\0b"s, "\xc3\xa9t\xc3\xa9", "\xf0\x9f\x98\x80", "\xef\xbf\xbf",
                                            "\xf4\x8f\xbf\xbf", "tab\tnl\n", "xxxxxxx", "\xe4\xb8\xad", " lead", "end"};
    const std::vector<std::string> raw = {"", "a", "abc", "a\0b"s, "\xff\xfe", "\x80", "\0\0z"s, "1234567", "tab\t", " ", "\x7f", "end"};
    std::vector<std::string> records;
    for (int i = 0; i < 12; ++i) records.push_back(std::string{static_cast<char>(i), '\0', static_cast<char>(255 - i), '\0'});

    std::size_t count = 0;
    const auto add = [&](const std::string& name, const NdArray& a, const std::vector<std::string>& values, int version) {
        CAPTURE(name);
        const auto bytes = version == 0 ? NpyCodec::encode(a) : NpyCodec::encode_version(a, version);
        test::write_file(dir / (name + ".npy"), bytes);
        CHECK(NpyCodec::decode(bytes) == a);
        CHECK(NpyCodec::decode(bytes).strings() == values);
        const auto kind = a.dtype == DType::str ? "U" : a.dtype == DType::bytes ? "S" : "V";
        json vals = json::array();
        for (const auto& v : values) vals.push_back(a.dtype == DType::str ? json(v) : json(hex(v)));
        expected["arrays"].push_back({
            {"file", name + ".npy"},
            {"version", version == 0 ? 1 : version},
            {"dtype", kind + std::to_string(a.length)},
            {"byteorder", a.dtype != DType::str ? "|" : a.byte_order == std::endian::big ? ">" : "<"},
            {"shape", a.shape},
            {"fortran", a.fortran_order},
            {"values", vals},
        });
        ++count;
    };
    for (const auto kind : {DType::str, DType::bytes, DType::void_}) {
        const auto& values = kind == DType::str ? words : kind == DType::bytes ? raw : records;
        const std::string n(codecs::dtype_name(kind));
        const auto base = NdArray::from_strings({3, 4}, values, kind);
        CHECK(base.length == (kind == DType::str ? 7u : kind == DType::bytes ? 7u : 4u));
        for (int v = 0; v <= 3; ++v) {
            const auto sfx = "_v" + std::to_string(v);
            add(n + "_c34" + sfx, base, values, v);
            auto f = base;
            f.fortran_order = true;
            add(n + "_f34" + sfx, f, values, v);
            auto d3 = f;
            d3.shape = {2, 3, 2};
            add(n + "_f232" + sfx, d3, values, v);
            const std::vector<std::string> one = {values[4]};
            add(n + "_scalar" + sfx, NdArray::from_strings({}, one, kind), one, v);
            add(n + "_empty" + sfx, NdArray::from_strings({0, 3}, std::span<const std::string>(), kind), {}, v);
            if (kind == DType::str) {  // the other byte order: every code unit swapped
                auto s = base;
                s.byte_order = other_endian();
                s.data = swapped(base.data, DType::uint32);
                add(n + "_swapped_c34" + sfx, s, values, v);
                s.fortran_order = true;
                add(n + "_swapped_f34" + sfx, s, values, v);
            }
        }
    }
    // Decoys: one wrong value, one wrong length, one wrong byte order.
    auto decoy = expected["arrays"][0];
    decoy["values"][2] = "b";
    decoy["must_differ"] = "values";
    expected["arrays"].push_back(decoy);
    decoy = expected["arrays"][0];
    decoy["dtype"] = "U8";
    decoy["must_differ"] = "dtype";
    expected["arrays"].push_back(decoy);
    decoy = expected["arrays"][0];
    decoy["byteorder"] = std::endian::native == std::endian::little ? ">" : "<";
    decoy["must_differ"] = "dtype";
    expected["arrays"].push_back(decoy);

    test::write_file(dir / "expected.json", expected.dump());
    const auto r = test::run({python, fixtures_script, "check", (dir / "expected.json").string()});
    INFO(r.output);
    CHECK(r.exit_code == 0);
    CHECK(test::contains(r.output, "OK " + std::to_string(count) + " arrays identical, 3 decoys rejected"));
}

TEST_CASE("npy: from_strings refuses what could not be read back the same") {
    const std::vector<std::string> trailing = {"ok", "nul\0"s};
    CHECK(test::thrown([&] { (void)NdArray::from_strings({2}, trailing, DType::str); }).message.find("NUL") != std::string::npos);
    CHECK(test::errc_of([&] { (void)NdArray::from_strings({2}, trailing, DType::bytes); }) == Errc::invalid_input);
    const std::vector<std::string> records = {"ok\0\0"s, "nul\0"s};
    CHECK(NdArray::from_strings({2}, records, DType::void_).strings() == records);  // void keeps every byte
    const std::vector<std::string> not_utf8 = {"\xff"};
    CHECK(test::thrown([&] { (void)NdArray::from_strings({1}, not_utf8, DType::str); }).message.find("UTF-8") != std::string::npos);
    const std::vector<std::string> surrogate = {"\xed\xa0\x80"};  // U+D800 spelled in UTF-8: not UTF-8
    CHECK(test::errc_of([&] { (void)NdArray::from_strings({1}, surrogate, DType::str); }) == Errc::invalid_input);
    const std::vector<std::string> ragged = {"ab", "abc"};
    CHECK(test::errc_of([&] { (void)NdArray::from_strings({2}, ragged, DType::void_); }) == Errc::invalid_input);
    CHECK(test::errc_of([&] { (void)NdArray::from_strings({3}, ragged, DType::bytes); }) == Errc::invalid_input);
    CHECK(test::errc_of([&] { (void)NdArray::from_strings({2}, ragged, DType::int8); }) == Errc::invalid_input);
    // bytes values are bytes: not UTF-8 is fine
    CHECK(NdArray::from_strings({1}, not_utf8, DType::bytes).strings() == not_utf8);
    // strings() is for str, bytes and void
    const auto i32 = NdArray::from_values<std::int32_t>({2}, std::array<std::int32_t, 2>{1, 2});
    CHECK(test::errc_of([&] { (void)i32.strings(); }) == Errc::invalid_input);
}

TEST_CASE("npy: a str array with a code unit that is not a Unicode scalar value is refused everywhere") {
    for (const auto order : {std::endian::little, std::endian::big}) {
        const std::string mark = order == std::endian::little ? "<" : ">";
        for (const std::uint32_t bad : {0xD800u, 0xDFFFu, 0x110000u, 0xFFFFFFFFu}) {
            CAPTURE(mark);
            CAPTURE(bad);
            const auto good_data = ucs4('a', order) + ucs4(0x10FFFF, order) + ucs4('b', order) + ucs4(0, order);
            const auto good = npy_file("{'descr': '" + mark + "U2', 'fortran_order': False, 'shape': (2,), }", good_data);
            REQUIRE(NpyCodec::decode(good).strings() == std::vector<std::string>{"a\xf4\x8f\xbf\xbf", "b"});
            REQUIRE(!check_of(good).error);
            const auto bad_data = ucs4('a', order) + ucs4('b', order) + ucs4('c', order) + ucs4(bad, order);
            const auto file = npy_file("{'descr': '" + mark + "U2', 'fortran_order': False, 'shape': (2,), }", bad_data);
            const auto e = test::thrown([&] { (void)NpyCodec::decode(file); });
            CHECK(e.code == Errc::invalid_input);
            CHECK(test::contains(e.message, "Unicode scalar value"));
            const auto c = check_of(file);
            CHECK(c.error == Errc::invalid_input);
            CHECK(test::contains(c.message, "Unicode scalar value"));
            // an array built by hand is not written
            NdArray a = NpyCodec::decode(good);
            a.data = bad_data;
            CHECK(test::errc_of([&] { (void)NpyCodec::encode(a); }) == Errc::invalid_input);
            CHECK(test::errc_of([&] { (void)a.strings(); }) == Errc::invalid_input);
        }
    }
}

TEST_CASE("npy: string dtypes of no size or larger than numpy allows are refused") {
    for (const auto* descr : {"<U0", "|S0", "|V0", "<U536870912", "|S2147483648", "<U99999999999"}) {
        CAPTURE(descr);
        const auto file = npy_file(std::string("{'descr': '") + descr + "', 'fortran_order': False, 'shape': (0,), }", "");
        CHECK(test::errc_of([&] { (void)NpyCodec::decode(file); }) == Errc::invalid_input);
        CHECK(check_of(file).error == Errc::invalid_input);
    }
    CHECK_NOTHROW((void)NpyCodec::decode(npy_file("{'descr': '<U536870911', 'fortran_order': False, 'shape': (0,), }", "")));
    CHECK_NOTHROW((void)NpyCodec::decode(npy_file("{'descr': '|S2147483647', 'fortran_order': False, 'shape': (0,), }", "")));
}

TEST_CASE("npy: check agrees with decode on every file numpy wrote, its truncations and its extensions") {
    const auto& np = numpy_files();
    std::vector<std::string> files;
    for (const auto* list : {"arrays", "strings", "refused"})
        for (const auto& e : np.manifest.at(list)) files.push_back(e.at("file").get<std::string>());
    std::size_t notes = 0;
    for (const auto& file : files) {
        CAPTURE(file);
        const auto bytes = np.bytes(file);
        std::optional<Errc> decoded;
        try {
            (void)NpyCodec::decode(bytes);
        } catch (const Error& e) {
            decoded = e.code();
        }
        const auto c = check_of(bytes);
        if (decoded == Errc::unsupported) {  // acceptable, not decoded: check says what it left
            CHECK(!c.error);
            CHECK(!c.note.empty());
            ++notes;
        } else {
            CHECK(c.error == decoded);
            CHECK(c.note.empty());
        }
        if ((!decoded || decoded == Errc::unsupported) && file.find("structured") == std::string::npos) {
            CHECK(check_of(bytes + "x").error == Errc::invalid_input);  // a size is known for all but structured
        }
    }
    CHECK(notes >= 3);  // two structured, datetime

    for (const auto* file : {"str_be_f34_v2.npy", "bytes_na_c34_v1.npy", "void_na_scalar_v3.npy", "str_le_empty_v1.npy"}) {
        CAPTURE(file);
        const auto bytes = np.bytes(file);
        for (std::size_t n = 0; n < bytes.size(); ++n) {
            CAPTURE(n);
            const auto cut = bytes.substr(0, n);
            CHECK(test::errc_of([&] { (void)NpyCodec::decode(cut); }) == Errc::invalid_input);
            CHECK(check_of(cut).error == Errc::invalid_input);
        }
    }
}
