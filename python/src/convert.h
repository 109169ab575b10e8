#pragma once
// Conversions between the C++ core's values and Python objects, shared by
// the reading (sealed.cpp) and the recording (record.cpp) halves:
// convert.cpp goes from C++ to Python, convert_in.cpp from Python to C++.

#include <pybind11/pybind11.h>

#include <nlohmann/json.hpp>

#include <sealrun/codecs/npy.h>

namespace sealrun::python {

namespace py = pybind11;

/// to_python converts JSON to dict / list / str / int / float / bool / None.
py::object to_python(const nlohmann::json& value);
/// to_json converts a Python object built of dict (str keys), list, tuple,
/// str, int, float, bool, None and numpy scalars of kind b/i/u/f (through
/// .item()) to JSON, at most oci::max_json_depth levels deep;
/// sealrun.InvalidInput for anything else (naming the type), a NaN or an
/// infinity.
nlohmann::json to_json(const py::handle& value);

/// bytes_object copies `data` into a new bytes object, without the GIL
/// for a large copy (nothing else sees the object until it is returned).
py::bytes bytes_object(const std::string& data);

/// to_numpy returns a numpy.ndarray viewing `array` (moved in, owned by the
/// array's base object: no copy of the elements), with its dtype, byte
/// order, shape and memory order.
py::object to_numpy(codecs::NdArray array);
/// from_numpy copies a numpy.ndarray (any memory layout) into an NdArray
/// with the same dtype, byte order, shape and order (C or Fortran);
/// sealrun.InvalidInput for a dtype the npy codec does not support.
codecs::NdArray from_numpy(const py::handle& array);

}  // namespace sealrun::python
