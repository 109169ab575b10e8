#pragma once
// OMMX payloads in the Python package: the C++ values of
// <sealrun/codecs/ommx.h> bound as sealrun._core.OmmxInstance,
// OmmxParametricInstance, OmmxSolution and OmmxSampleSet (ommx.cpp), which
// python/sealrun/_ommx.py wraps as sealrun.Instance, … with OMMX's
// attribute names. The reading (sealed.cpp) and recording (record.cpp)
// halves share the conversion below.

#include <string>
#include <string_view>

#include <sealrun/codecs/ommx.h>

#include "module.h"

namespace sealrun::python {

/// init_ommx binds the four payload classes; called before init_sealed and
/// init_record, whose methods return and take them.
void init_ommx(py::module_& m);

/// to_payload converts what a user hands a log_* method to the payload T:
/// a sealrun payload object (or its native half) of that type, bytes-like
/// protobuf bytes of the v1 message, or any object with `to_bytes()` (an
/// `ommx.v1` object) or `to_v1_bytes()` (OMMX 3), whose bytes are decoded.
/// Throws Error(invalid_input) naming `operation` and `subject` for anything
/// else, for one of the other payload types (sealrun's or OMMX's, told by
/// the class name), and for bytes that are not the message. Decodes with
/// the GIL released.
template <class T>
T to_payload(const py::handle& value, std::string_view operation, const std::string& subject);

}  // namespace sealrun::python
