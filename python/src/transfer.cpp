#include "module.h"

namespace sealrun::python {

void init_transfer(py::module_& m) { (void)m; }

}  // namespace sealrun::python
