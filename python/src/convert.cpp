// C++ values → Python objects (the reading direction).
#include <bit>
#include <cstring>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include <pybind11/numpy.h>

#include "convert.h"

namespace sealrun::python {

// bytes_object copies `data` into a new bytes object; a large copy (and the
// page faults of fresh memory) runs without the GIL: the object is not
// visible to any other thread until it is returned.
py::bytes bytes_object(const std::string& data) {
    PyObject* b = PyBytes_FromStringAndSize(nullptr, static_cast<py::ssize_t>(data.size()));
    if (!b) throw py::error_already_set();
    auto out = py::reinterpret_steal<py::bytes>(b);
    if (data.size() < (std::size_t{1} << 20)) {
        std::memcpy(PyBytes_AS_STRING(b), data.data(), data.size());
    } else {
        py::gil_scoped_release unlocked;
        std::memcpy(PyBytes_AS_STRING(b), data.data(), data.size());
    }
    return out;
}

py::object to_python(const nlohmann::json& value) {
    using T = nlohmann::json::value_t;
    switch (value.type()) {
    case T::null:
    case T::discarded:
        return py::none();
    case T::boolean:
        return py::bool_(value.get<bool>());
    case T::number_integer:
        return py::int_(value.get<std::int64_t>());
    case T::number_unsigned:
        return py::int_(value.get<std::uint64_t>());
    case T::number_float:
        return py::float_(value.get<double>());
    case T::string:
        return py::str(value.get_ref<const std::string&>());
    case T::binary: {
        const auto& b = value.get_binary();
        return py::bytes(reinterpret_cast<const char*>(b.data()), b.size());
    }
    case T::array: {
        py::list out(value.size());
        std::size_t i = 0;
        for (const auto& v : value) out[i++] = to_python(v);
        return out;
    }
    case T::object: {
        py::dict out;
        for (const auto& [k, v] : value.items()) out[py::str(k)] = to_python(v);
        return out;
    }
    }
    return py::none();
}

namespace {

// numpy_dtype returns the numpy dtype of `a`'s elements: NumPy's name for
// the type (codecs::dtype_name, the codec's own table), sized for the
// flexible types, in `a`'s byte order.
py::dtype numpy_dtype(const codecs::NdArray& a) {
    using codecs::DType;
    const auto numpy = py::module_::import("numpy");
    py::object kind;
    switch (a.dtype) {
    case DType::str: kind = numpy.attr("str_"); break;
    case DType::bytes: kind = numpy.attr("bytes_"); break;
    case DType::void_: kind = numpy.attr("void"); break;
    default: break;
    }
    py::dtype dt = kind ? py::dtype::from_args(py::make_tuple(kind, a.length))
                        : py::dtype(std::string(codecs::dtype_name(a.dtype)));
    // Single-byte and void elements have no byte order ('|'); numpy ignores it for them.
    const char order = a.byte_order == std::endian::little ? '<' : '>';
    if (a.dtype != DType::void_) dt = dt.attr("newbyteorder")(std::string(1, order)).cast<py::dtype>();
    return dt;
}

}  // namespace

py::object to_numpy(codecs::NdArray array) {
    // The elements stay where the decode put them: the array moves into a
    // heap object a capsule owns, and numpy's array is a view whose base is
    // that capsule (freed with the last view). Taken after the move, the
    // data pointer is stable (a short string's bytes live inside the object).
    py::dtype dt = numpy_dtype(array);
    auto* owned = new codecs::NdArray(std::move(array));
    py::capsule base(owned, [](void* p) { delete static_cast<codecs::NdArray*>(p); });
    const auto item = static_cast<py::ssize_t>(owned->item_size());
    const auto ndim = owned->shape.size();
    std::vector<py::ssize_t> shape(ndim), strides(ndim);
    for (std::size_t i = 0; i < ndim; ++i) shape[i] = static_cast<py::ssize_t>(owned->shape[i]);
    py::ssize_t stride = item;
    if (owned->fortran_order) {
        for (std::size_t i = 0; i < ndim; ++i) {
            strides[i] = stride;
            stride *= shape[i];
        }
    } else {
        for (std::size_t i = ndim; i-- > 0;) {
            strides[i] = stride;
            stride *= shape[i];
        }
    }
    return py::array(dt, std::move(shape), std::move(strides), owned->data.data(), base);
}

}  // namespace sealrun::python
