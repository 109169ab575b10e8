// sealrun._core: the extension module the package is built on.
#include "module.h"
#include "ommx.h"

#include <pybind11/stl.h>

namespace sealrun::python {

std::filesystem::path to_path(const py::handle& value) {
    const auto fspath = py::module_::import("os").attr("fspath");
    py::object p = fspath(value);  // TypeError for anything but str, bytes and os.PathLike
    if (py::isinstance<py::bytes>(p)) return std::filesystem::path(p.cast<std::string>());
    return std::filesystem::path(p.cast<std::string>());
}

LocationOptions location_options(const py::object& store, const py::object& plain_http, bool insecure,
                                 const py::object& ca_file) {
    LocationOptions o;
    if (!store.is_none()) o.store = to_path(store);
    if (!plain_http.is_none()) o.remote.plain_http = plain_http.cast<bool>();
    o.remote.insecure = insecure;
    if (!ca_file.is_none()) o.remote.ca_file = to_path(ca_file).string();
    return o;
}

}  // namespace sealrun::python

PYBIND11_MODULE(_core, m) {
    m.doc() = "The native core of sealrun; use the sealrun package, not this module.";
    sealrun::python::init_errors(m);
    sealrun::python::init_ommx(m);  // before the views and runs that return and take its classes
    sealrun::python::init_sealed(m);
    sealrun::python::init_record(m);
    sealrun::python::init_transfer(m);
    sealrun::python::init_collect(m);
}
