#pragma once
// The native half of the Python package (sealrun._core): each part binds
// its classes in an init_* function called by module.cpp. The pure-Python
// modules in python/sealrun/ build the public API on top.

#include <pybind11/pybind11.h>

#include <sealrun/location/location.h>

namespace sealrun::python {

namespace py = pybind11;

/// init_errors registers the translator that turns sealrun::Error into the
/// exception classes of sealrun/_errors.py (errors.cpp).
void init_errors(py::module_& m);
/// init_sealed binds open(), SealedExperiment, SealedRun (sealed.cpp).
void init_sealed(py::module_& m);
/// init_record binds Record, Experiment, Run (record.cpp).
void init_record(py::module_& m);
/// init_transfer binds copy and validate (transfer.cpp).
void init_transfer(py::module_& m);
/// init_collect binds contribute and collect (collect.cpp).
void init_collect(py::module_& m);

/// location_options builds the library's LocationOptions from the keyword
/// arguments every location-taking function has: `store` (None: the
/// default store, $SEALRUN_STORE or ./storage; str or os.PathLike),
/// `plain_http` (None: the library's default, plain HTTP only as the
/// loopback fallback), `insecure`, `ca_file` (None or a path).
LocationOptions location_options(const py::object& store, const py::object& plain_http, bool insecure,
                                 const py::object& ca_file);

/// to_path converts a str or os.PathLike to a filesystem path; TypeError otherwise.
std::filesystem::path to_path(const py::handle& value);

}  // namespace sealrun::python
