// Python objects → C++ values (the recording direction).
#include <cmath>
#include <cstring>
#include <string>

#include <sealrun/error.h>
#include <sealrun/oci/json.h>

#include "convert.h"

namespace sealrun::python {

namespace {

// JsonPath is where a value sits in the object being converted, formatted
// only when an error names it ("$.a[3]").
struct JsonPath {
    const JsonPath* parent = nullptr;
    std::string key;          // an object key, or
    py::ssize_t index = -1;   // an array index

    std::string str() const {
        std::string s = parent ? parent->str() : "$";
        if (!parent) return s;
        if (index >= 0) return s + "[" + std::to_string(index) + "]";
        return s + "." + key;
    }
};

[[noreturn]] void refuse(const JsonPath& at, const std::string& reason) {
    throw Error(Errc::invalid_input, "convert to JSON", at.str(), reason);
}

std::string type_of(const py::handle& value) { return py::str(py::type::handle_of(value).attr("__qualname__")); }

// numpy_generic returns numpy.generic when numpy is imported already (a
// numpy scalar cannot exist otherwise), else None.
py::object numpy_generic() {
    py::dict modules = py::module_::import("sys").attr("modules");
    if (!modules.contains("numpy")) return py::none();
    return modules["numpy"].attr("generic");
}

// utf8 returns the UTF-8 bytes of a str; a lone surrogate is refused.
std::string utf8(const py::handle& s, const JsonPath& at) {
    Py_ssize_t size = 0;
    const char* data = PyUnicode_AsUTF8AndSize(s.ptr(), &size);
    if (!data) {
        PyErr_Clear();
        refuse(at, "the string is not valid Unicode (it holds a lone surrogate)");
    }
    return std::string(data, static_cast<std::size_t>(size));
}

nlohmann::json convert(const py::handle& value, const JsonPath& at, std::size_t depth) {
    PyObject* o = value.ptr();
    if (o == Py_None) return nullptr;
    if (PyBool_Check(o)) return o == Py_True;
    if (PyLong_Check(o)) {
        int overflow = 0;
        const long long v = PyLong_AsLongLongAndOverflow(o, &overflow);
        if (overflow == 0) return static_cast<std::int64_t>(v);
        if (overflow < 0) refuse(at, "the integer is smaller than -2^63");
        const unsigned long long u = PyLong_AsUnsignedLongLong(o);
        if (PyErr_Occurred()) {
            PyErr_Clear();
            refuse(at, "the integer is larger than 2^64-1");
        }
        return static_cast<std::uint64_t>(u);
    }
    if (PyFloat_Check(o)) {
        const double d = PyFloat_AS_DOUBLE(o);
        if (!std::isfinite(d)) refuse(at, "NaN and infinities are not JSON");
        return d;
    }
    if (PyUnicode_Check(o)) return utf8(value, at);
    if (depth >= oci::max_json_depth)
        refuse(at, "nested deeper than " + std::to_string(oci::max_json_depth) + " levels (or it contains itself)");
    if (PyDict_Check(o)) {
        nlohmann::json out = nlohmann::json::object();
        for (auto [k, v] : py::reinterpret_borrow<py::dict>(value)) {
            if (!PyUnicode_Check(k.ptr())) refuse(at, "an object key is a " + type_of(k) + ", not a str");
            JsonPath child{.parent = &at, .key = utf8(k, at)};
            auto converted = convert(v, child, depth + 1);
            out[child.key] = std::move(converted);
        }
        return out;
    }
    if (PyList_Check(o) || PyTuple_Check(o)) {
        nlohmann::json out = nlohmann::json::array();
        const auto seq = py::reinterpret_borrow<py::sequence>(value);
        const py::ssize_t n = static_cast<py::ssize_t>(py::len(seq));
        for (py::ssize_t i = 0; i < n; ++i) out.push_back(convert(seq[i], JsonPath{.parent = &at, .index = i}, depth + 1));
        return out;
    }
    // numpy scalars (numpy.float32(0.5), numpy.int64(3), numpy.bool_(True))
    // are their item(); numpy.float64 and numpy.str_ were taken above as the
    // float and str they subclass.
    if (py::object generic = numpy_generic(); !generic.is_none() && py::isinstance(value, generic)) {
        const std::string kind = py::str(value.attr("dtype").attr("kind"));
        if (kind == "b" || kind == "i" || kind == "u" || kind == "f")
            return convert(value.attr("item")(), at, depth);
    }
    refuse(at, "a " + type_of(value) + " is not JSON (dict, list, tuple, str, int, float, bool or None)");
}

}  // namespace

nlohmann::json to_json(const py::handle& value) { return convert(value, JsonPath{}, 0); }

codecs::NdArray from_numpy(const py::handle& array) {
    py::module_ np = py::module_::import("numpy");
    if (!py::isinstance(array, np.attr("ndarray")))
        throw Error(Errc::invalid_input, "convert to NumPy array", "", "a " + type_of(array) + " is not a numpy.ndarray");
    // numpy's own rule for the header (descr, and fortran_order: F- but not
    // C-contiguous), read back by the npy codec's one rule of what it accepts.
    py::module_ format = py::module_::import("numpy.lib.format");
    py::dict header = format.attr("header_data_from_array_1_0")(array);
    py::object io = py::module_::import("io").attr("BytesIO")();
    try {
        format.attr("write_array_header_1_0")(io, header);
    } catch (const py::error_already_set& e) {
        if (!e.matches(PyExc_ValueError)) throw;  // a header past 64 KiB: version 2.0
        io = py::module_::import("io").attr("BytesIO")();
        format.attr("write_array_header_2_0")(io, header);
    }
    const std::string header_bytes = io.attr("getvalue")().cast<std::string>();
    const auto parsed = codecs::NpyCodec::header(header_bytes);
    if (!parsed.array)
        throw Error(Errc::invalid_input, "convert to NumPy array", py::str(array.attr("dtype")).cast<std::string>(),
                    "the npy codec does not decode this dtype: " + parsed.not_decoded);
    codecs::NdArray out = *parsed.array;

    const bool fortran = header["fortran_order"].cast<bool>();
    py::object contiguous = fortran ? np.attr("asfortranarray")(array) : np.attr("ascontiguousarray")(array);
    Py_buffer view;
    if (PyObject_GetBuffer(contiguous.ptr(), &view, PyBUF_ANY_CONTIGUOUS) != 0) throw py::error_already_set();
    struct Release {
        Py_buffer* v;
        ~Release() { PyBuffer_Release(v); }
    } release{&view};
    {
        // The export keeps the elements in place while they are copied.
        py::gil_scoped_release unlocked;
        out.data.assign(static_cast<const char*>(view.buf), static_cast<std::size_t>(view.len));
        out.check_size();
    }
    return out;
}

}  // namespace sealrun::python
