#include "module.h"

namespace sealrun::python {

void init_sealed(py::module_& m) { (void)m; }

}  // namespace sealrun::python
