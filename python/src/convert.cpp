// C++ values → Python objects (the reading direction).
#include <stdexcept>

#include "convert.h"

namespace sealrun::python {

py::object to_python(const nlohmann::json&) { throw std::logic_error("to_python: not written yet"); }

py::object to_numpy(codecs::NdArray) { throw std::logic_error("to_numpy: not written yet"); }

}  // namespace sealrun::python
