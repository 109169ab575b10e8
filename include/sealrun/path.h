#pragma once
/// Relative names that cannot escape the folder they are resolved in.

#include <string>
#include <string_view>

namespace sealrun {

/// safe_relative_path returns `name` normalized ('/'-separated, no '.'
/// components, no repeated or trailing '/'), or throws Error(invalid_input)
/// naming it when it is empty, absolute, holds a NUL, or has a '..'
/// component. Attachment titles, record file names and tar entries all pass
/// through it.
std::string safe_relative_path(std::string_view name);

}  // namespace sealrun
