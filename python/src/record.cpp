#include "module.h"

namespace sealrun::python {

void init_record(py::module_& m) { (void)m; }

}  // namespace sealrun::python
