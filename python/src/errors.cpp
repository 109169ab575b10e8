// sealrun::Error → the exception classes of sealrun/_errors.py, one per Errc,
// carrying the C++ message and its parts.
#include <exception>

#include <sealrun/error.h>

#include "module.h"

namespace sealrun::python {

void init_errors(py::module_& m) {
    (void)m;
    py::register_exception_translator([](std::exception_ptr p) {
        try {
            if (p) std::rethrow_exception(p);
        } catch (const Error& e) {
            py::object make = py::module_::import("sealrun._errors").attr("_from_native");
            py::object exc = make(std::string(errc_name(e.code())), e.operation(), e.subject(), e.reason(),
                                  py::str(std::string(e.what())));
            PyErr_SetObject(reinterpret_cast<PyObject*>(Py_TYPE(exc.ptr())), exc.ptr());
        }
    });
}

}  // namespace sealrun::python
