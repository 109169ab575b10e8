#pragma once
/// Untrusted text made safe for a terminal or a line-oriented report.

#include <string>
#include <string_view>

namespace sealrun {

/// printable returns `s` with everything that could drive a terminal or
/// forge a line escaped: C0 controls (newline and tab included) and DEL as
/// `\xNN`, C1 controls (U+0080–U+009F) and the bidirectional overrides and
/// isolates (U+202A–U+202E, U+2066–U+2069) as `\uNNNN`, and bytes that are
/// not well-formed UTF-8 as `\xNN`. Everything else passes unchanged. Names,
/// tags, parameter values and error messages from archives and registries
/// pass through it before they are shown (the CLI, validate's text report).
std::string printable(std::string_view s);

}  // namespace sealrun
